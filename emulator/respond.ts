/**
 * How the emulator answers once it has decided: Cohere's error body, the API-key check, the
 * faults that answer instead of the route, and the route's reply (JSON, empty or a stream).
 */
import type { ServerResponse } from "node:http";
import { E401 } from "./cohere-errors.js";
import { DEFAULT_STATUS_MESSAGES, type Fault } from "./faults.js";
import { JSON_TYPE, sendJson } from "./http.js";
import type { RecordedRequest } from "./requests.js";
import type { Reply, Route } from "./routes/index.js";
import { writeStream, type StreamSplit } from "./wire.js";
import { echoInto, echoIntoStream, textPath } from "./echo.js";

/** Batches and fine-tuning declare error bodies without an `id` (BatchError, Error). */
const errorBodyHasId = (path: string) => !/^\/v2\/batches(\/|$)|^\/v1\/finetuning\//.test(path);

/** Cohere's error answer: `{message}`, plus the trace id as `id` where the spec's schema has one. */
export function sendError(res: ServerResponse, rec: RecordedRequest, status: number, message: string, headers: Record<string, string> = {}): void {
  const body: Record<string, string> = { message };
  if (errorBodyHasId(rec.path)) body.id = rec.traceId!;
  sendJson(res, status, body, { "x-debug-trace-id": rec.traceId!, ...headers });
}

/** Cohere's 401 message for this Authorization header, or undefined when the key is accepted. */
export function apiKeyProblem(authorization: string | undefined, apiKey: string | undefined): string | undefined {
  const value = (authorization ?? "").trim();
  if (!value) return E401.noKey;
  const m = /^bearer\s+(.*)$/i.exec(value);
  const token = m ? m[1]!.trim() : "";
  if (!m) return E401.invalidKey;
  if (!token) return E401.noKey;
  if (apiKey !== undefined && token !== apiKey) return E401.invalidKey;
  return undefined;
}

function sendPartialThenReset(res: ServerResponse, destroy: () => void): void {
  if (res.destroyed) return;
  res.writeHead(200, { "content-type": JSON_TYPE, "content-length": "4096" });
  res.write('{"id":"emulated-connection-reset","text":"this response is cut', () => destroy());
}

/**
 * A fault that answers in place of the route (a status, a fixed JSON answer, a body that is no
 * JSON, a reset): true when it answered. `refused`: the request already failed (route, auth or
 * contract); `streams`: whether the route would answer with a stream (asked only for cut-stream).
 */
export function answerFault(
  res: ServerResponse,
  rec: RecordedRequest,
  fault: Fault | undefined,
  refused: boolean,
  streams: () => boolean,
  destroy: () => void,
): boolean {
  if (fault?.kind === "status") {
    const extra: Record<string, string> = { ...fault.headers };
    if (fault.retryAfter !== undefined) extra["retry-after"] = fault.retryAfter;
    sendError(res, rec, fault.status, fault.message ?? DEFAULT_STATUS_MESSAGES[fault.status] ?? `emulated ${fault.status} error`, extra);
    return true;
  }
  if (fault?.kind === "json" && !refused) {
    sendJson(res, fault.status ?? 200, fault.body, { "x-debug-trace-id": rec.traceId!, ...fault.headers });
    return true;
  }
  if (fault?.kind === "not-json") {
    const html =
      fault.body ?? "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>upstream connect error</p></body></html>";
    res.writeHead(200, { "content-type": JSON_TYPE, "content-length": String(Buffer.byteLength(html)) });
    res.end(html);
    return true;
  }
  if (fault?.kind === "reset" || (fault?.kind === "cut-stream" && (refused || !streams()))) {
    sendPartialThenReset(res, destroy);
    return true;
  }
  return false;
}

export interface StreamSettings {
  signal: AbortSignal;
  delayMs: number;
  split: StreamSplit | undefined;
  destroy: () => void;
}

/** The route's reply, with what a fault (echo-auth, cut-stream) changes in it. */
export function sendReply(res: ServerResponse, rec: RecordedRequest, route: Route, reply: Reply, fault: Fault | undefined, s: StreamSettings): Promise<void> | void {
  const out: Record<string, string> = { "x-debug-trace-id": rec.traceId!, ...reply.headers };
  if (route.deprecation) out["x-api-warning"] = route.deprecation;
  // echo-auth: a hostile proxy echoes the Authorization header into the answer and its ids
  const echo = fault?.kind === "echo-auth" ? (rec.headers.authorization ?? "") : undefined;
  if (echo !== undefined) Object.assign(out, { "x-request-id": echo, "x-debug-trace-id": echo });
  switch (reply.kind) {
    case "json":
      return sendJson(res, reply.status, echo !== undefined ? echoInto(reply.body, echo) : reply.body, out);
    case "empty":
      res.writeHead(reply.status, { "content-length": "0", ...out });
      res.end();
      return;
    case "stream": {
      const events = fault?.kind === "echo-auth" ? echoIntoStream(reply.events, echo!, fault.splitAt) : reply.events;
      // echo-auth with cut: cut right after the piece holding the echo's first half
      const echoCut = fault?.kind === "echo-auth" && fault.cut ? events.findIndex((ev) => textPath(ev.data)) + 2 : undefined;
      return writeStream(res, {
        format: reply.format,
        events,
        headers: out,
        signal: s.signal,
        delayMs: s.delayMs,
        cutAfter: fault?.kind === "cut-stream" ? fault.afterEvents : echoCut || undefined,
        split: s.split,
        destroy: s.destroy,
      });
    }
  }
}
