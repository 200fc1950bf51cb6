/**
 * What the emulator remembers of each request: the recorded request (what tests assert on), a
 * bounded log of them, and the waiters for a request that its client aborts.
 */
import type { IncomingMessage } from "node:http";
import { parseQuery } from "./http.js";

export interface RecordedRequest {
  id: number;
  method: string;
  /** no query string */
  path: string;
  query: Record<string, string | string[]>;
  /** lower-cased names */
  headers: Record<string, string>;
  /** parsed JSON */
  body?: unknown;
  multipart?: {
    fields: Record<string, string>;
    files: Record<string, { filename?: string; contentType?: string; size: number; text: string }>;
  };
  rawBody: string;
  valid: boolean;
  validationError?: string;
  /** client closed the socket before the response finished */
  aborted?: boolean;
  /** the x-debug-trace-id the answer carried */
  traceId?: string;
}

/** A request as received: lower-cased headers (repeated ones joined), the query parsed, the body as text. */
export function recordOf(req: IncomingMessage, method: string, url: URL, raw: Buffer, id: number, traceId: string): RecordedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  return {
    id,
    method,
    path: url.pathname,
    query: parseQuery(url.searchParams),
    headers,
    rawBody: raw.toString("utf8"),
    valid: true,
    traceId,
  };
}

interface AbortWaiter {
  pred: (r: RecordedRequest) => boolean;
  resolve: (r: RecordedRequest) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** The recorded requests (the oldest dropped beyond `max`) and who waits for an aborted one. */
export class RequestLog {
  readonly requests: RecordedRequest[] = [];
  private waiters: AbortWaiter[] = [];

  constructor(private readonly max: number) {}

  add(rec: RecordedRequest): void {
    this.requests.push(rec);
    if (this.requests.length > this.max) this.requests.splice(0, this.requests.length - this.max);
  }

  clear(): void {
    this.requests.length = 0;
  }

  markAborted(rec: RecordedRequest): void {
    rec.aborted = true;
    const hit = this.waiters.filter((w) => w.pred(rec));
    if (!hit.length) return;
    this.waiters = this.waiters.filter((w) => !hit.includes(w));
    for (const w of hit) {
      clearTimeout(w.timer);
      w.resolve(rec);
    }
  }

  waitForAbort(pred: (r: RecordedRequest) => boolean, timeoutMs: number): Promise<RecordedRequest> {
    const already = this.requests.find((r) => r.aborted && pred(r));
    if (already) return Promise.resolve(already);
    return new Promise<RecordedRequest>((resolve, reject) => {
      const waiter: AbortWaiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`no aborted request seen within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** The emulator stops: every waiter fails. */
  rejectWaiters(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error("emulator stopped"));
    }
    this.waiters = [];
  }
}
