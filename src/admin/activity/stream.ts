/**
 * GET activity/stream: Server-Sent Events of new activity (same filters), polled from the shared
 * stream every 500 ms (so a call on any replica shows within a second); `Last-Event-ID` resumes.
 * A comment every 15 s keeps proxies from closing an idle stream.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../runtime/app.js";
import { activitySince, newestId, type ActivityFilter } from "./activity.js";
import { headerValue } from "../../transports/http/io.js";

export const STREAM_POLL_MS = 500;

const open = new Set<ServerResponse>();
/** Live streams open on this process (closed on shutdown). */
export function closeStreams(): void {
  for (const res of open) res.end();
  open.clear();
}

export async function streamActivity(app: App, req: IncomingMessage, res: ServerResponse, f: ActivityFilter): Promise<void> {
  const resume = headerValue(req, "last-event-id");
  let last = resume && /^\d+-\d+$/.test(resume) ? resume : await newestId(app);
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  res.write("retry: 2000\n\n");
  open.add(res);
  let busy = false;
  let beat = Date.now();
  const tick = async () => {
    if (busy || res.writableEnded) return;
    busy = true;
    try {
      const r = await activitySince(app, last, f);
      last = r.last;
      for (const i of r.items) {
        res.write(`id: ${i.id}\nevent: activity\ndata: ${JSON.stringify({ id: i.id, time: i.time, replica: i.replica, sentence: i.sentence, event: i.event })}\n\n`);
      }
      if (Date.now() - beat > 15_000) {
        res.write(": keep-alive\n\n");
        beat = Date.now();
      }
    } catch {
      /* the store is down for a moment: try again at the next tick */
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), STREAM_POLL_MS);
  const stop = () => {
    clearInterval(timer);
    open.delete(res);
  };
  req.once("close", stop);
  res.once("close", stop);
  await tick();
}
