/**
 * Writing a streamed answer: SSE (`event:` + `data:` lines, blank line between events) or
 * NDJSON (one JSON per line), with an optional delay between events, a cut after N events
 * (fault), and — the `split` option — the bytes delivered as networks deliver them: in chunks of
 * arbitrary size, always including a cut inside every multi-byte UTF-8 character and between
 * every \r and \n (with `crlf`, lines end in \r\n, which SSE allows).
 */
import type { ServerResponse } from "node:http";
import type { StreamEvent } from "./routes/types.js";
import { prng } from "./util.js";
import { sleep } from "./http.js";

export interface StreamSplit {
  /** Largest chunk in bytes (default 7). */
  maxChunkBytes?: number;
  /** PRNG seed for the chunk sizes (default 1): the same seed gives the same cuts. */
  seed?: number;
  /** End lines with \r\n instead of \n. */
  crlf?: boolean;
}

export function encodeEvent(format: "sse" | "ndjson", ev: StreamEvent, crlf = false): Buffer {
  const nl = crlf ? "\r\n" : "\n";
  const text = format === "sse" ? `event: ${ev.name}${nl}data: ${JSON.stringify(ev.data)}${nl}${nl}` : `${JSON.stringify(ev.data)}${nl}`;
  return Buffer.from(text, "utf8");
}

/**
 * Where to cut a buffer: random chunk sizes up to `max`, plus a cut just after the first byte
 * of each multi-byte UTF-8 character and between each \r\n. `forced` marks the cuts that must
 * reach the reader as separate reads.
 */
export function cutPoints(buf: Buffer, rnd: () => number, max: number): Array<{ at: number; forced: boolean }> {
  const cuts = new Map<number, boolean>();
  for (let i = 0; i < buf.length - 1; i++) {
    const b = buf[i]!;
    if (b >= 0xc0 || (b === 0x0d && buf[i + 1] === 0x0a)) cuts.set(i + 1, true);
  }
  for (let at = 1 + Math.floor(rnd() * max); at < buf.length; at += 1 + Math.floor(rnd() * max)) if (!cuts.has(at)) cuts.set(at, false);
  return [...cuts].map(([at, forced]) => ({ at, forced })).sort((a, b) => a.at - b.at);
}

function write(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise<void>((resolve) => {
    const ok = res.write(chunk, () => {
      if (ok) resolve();
    });
    if (!ok) {
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    }
  });
}

export interface StreamWrite {
  format: "sse" | "ndjson";
  events: StreamEvent[];
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Delay between events. */
  delayMs: number;
  /** Cut the connection after this many events (cut-stream fault). */
  cutAfter?: number;
  split?: StreamSplit;
  destroy: () => void;
}

export async function writeStream(res: ServerResponse, o: StreamWrite): Promise<void> {
  res.writeHead(200, {
    "content-type": o.format === "sse" ? "text/event-stream" : "application/stream+json",
    "cache-control": "no-cache",
    ...o.headers,
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const rnd = prng(o.split?.seed ?? 1);
  const gone = () => o.signal.aborted || res.destroyed;
  for (let i = 0; i < o.events.length; i++) {
    if (gone()) return;
    if (o.cutAfter !== undefined && i >= o.cutAfter) {
      o.destroy();
      return;
    }
    if (i > 0 && o.delayMs > 0) {
      await sleep(o.delayMs, o.signal);
      if (gone()) return;
    }
    const buf = encodeEvent(o.format, o.events[i]!, o.split?.crlf);
    if (!o.split) {
      await write(res, buf);
      continue;
    }
    let from = 0;
    for (const cut of [...cutPoints(buf, rnd, o.split.maxChunkBytes ?? 7), { at: buf.length, forced: false }]) {
      await write(res, buf.subarray(from, cut.at));
      from = cut.at;
      if (gone()) return;
      // a forced cut must arrive as its own read: give the reader time to take it
      if (cut.forced) await sleep(1, o.signal);
    }
  }
  if (o.cutAfter !== undefined && o.cutAfter < o.events.length) return;
  if (!res.destroyed) res.end();
}
