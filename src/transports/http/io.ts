/** Small HTTP helpers: JSON answers, JSON-RPC errors, bounded body reads, header access. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { peerOf } from "./admission/forwarded.js";

/** Retry-After (s) of a new session or listen stream refused while draining: the load balancer retries at once elsewhere. */
export const DRAINING_RETRY_AFTER_S = 1;

/** Beyond the limit, a body is read and discarded up to this much more so the 413 reaches the client. */
export const DISCARD_SLACK = 8 * 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(text);
}

export function rpcError(code: number, message: string): unknown {
  return { jsonrpc: "2.0", error: { code, message }, id: null };
}

export type BodyResult = { ok: true; text: string } | { ok: false; status: 413 | 400; message: string };

/** Read a request body up to `limit` bytes. Over the limit, discard (up to a slack) and say 413. */
export function readBody(req: IncomingMessage, limit: number, slack = DISCARD_SLACK): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    let done = false;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    const tooLarge = `Request body larger than ${limit} bytes`;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        if (size > limit + slack) {
          finish({ ok: false, status: 413, message: tooLarge });
          req.destroy();
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () =>
      finish(over ? { ok: false, status: 413, message: tooLarge } : { ok: true, text: Buffer.concat(chunks).toString("utf8") }),
    );
    req.on("error", () => finish({ ok: false, status: 400, message: "Request body could not be read" }));
    req.on("close", () => finish({ ok: false, status: 400, message: "Request body was cut short" }));
  });
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

const clients = new WeakMap<IncomingMessage, string>();

/** Remember the request's client address (behind a trusted proxy: from X-Forwarded-For, admission/forwarded.ts). */
export function setRemote(req: IncomingMessage, address: string): void {
  clients.set(req, address);
}

/** The request's client address: as set by setRemote, else the socket's peer. */
export function remoteOf(req: IncomingMessage): string {
  return clients.get(req) ?? peerOf(req);
}

