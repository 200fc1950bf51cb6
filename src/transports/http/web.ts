/**
 * node:http ↔ the SDK v2's web-standard HTTP surface. v2 serves Streamable HTTP with
 * `Request`/`Response` (WebStandardStreamableHTTPServerTransport, createMcpHandler); we keep
 * plain node:http (our own checks run before the SDK sees a request, and the body is read once,
 * bounded, by io.ts). So: a `Request` made of the incoming headers (the body goes separately, as
 * `parsedBody`), and a `Response` written back with its stream piped, cancelled when the client
 * goes away.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type WebStandardStreamableHTTPServerTransportOptions,
} from "@modelcontextprotocol/server";

/** The request's headers and target as a web `Request` without a body (aborted when the client goes). */
export function webRequest(req: IncomingMessage, res: ServerResponse, cancel?: AbortSignal): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    headers.set(k, Array.isArray(v) ? v.join(", ") : v);
  }
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  const host = req.headers.host ?? "localhost";
  const signal = cancel ? AbortSignal.any([abort.signal, cancel]) : abort.signal;
  return new Request(`http://${host}${req.url ?? "/"}`, { method: req.method ?? "GET", headers, signal });
}

/** Write a web `Response` to node's `res`: status, headers, then the body as it comes. */
export async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  if (res.headersSent) {
    await response.body?.cancel().catch(() => undefined);
    return;
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => {
    headers[k] = v;
  });
  if (!response.body) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  if (!(headers["content-type"] ?? "").includes("text/event-stream")) {
    // a JSON answer: read whole, written once with its length (one write, no chunked framing)
    let body: Buffer;
    try {
      body = Buffer.from(await response.arrayBuffer());
    } catch {
      if (!res.destroyed) res.destroy();
      return;
    }
    if (res.destroyed) return;
    res.writeHead(response.status, { ...headers, "content-length": String(body.length) });
    res.end(body);
    return;
  }
  res.writeHead(response.status, headers);
  // A stream (SSE) may stay quiet for a long time: its status and headers go now.
  res.flushHeaders();
  const reader = response.body.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  res.once("close", stop);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) break;
      // SSE frames must reach the client as they are written, not when a buffer fills.
      if (!res.write(value)) await new Promise<void>((r) => res.once("drain", r).once("close", r));
    }
  } catch {
    /* the stream was cancelled (client gone) or failed: end what we have */
  } finally {
    res.off("close", stop);
    if (!res.writableEnded) res.end();
  }
}

/** The authInfo our OAuth check left on the request (admission/oauth.ts), as the SDK's handlers read it. */
export const authOf = (req: IncomingMessage): AuthInfo | undefined => (req as IncomingMessage & { auth?: AuthInfo }).auth;

/**
 * The SDK's Streamable HTTP server transport on node:http: `handleRequest(req, res, body)` as v1's
 * Node transport had it. No SSE keep-alive comments (none were sent before; a stream's idle
 * time is bounded by our own timers).
 */
export class NodeHttpTransport extends WebStandardStreamableHTTPServerTransport {
  constructor(options: WebStandardStreamableHTTPServerTransportOptions = {}) {
    super({ keepAliveMs: 0, ...options });
  }

  async handleNodeRequest(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const response = await this.handleRequest(webRequest(req, res), {
      parsedBody: req.method === "POST" ? body : undefined,
      authInfo: authOf(req),
    });
    await sendResponse(res, response);
  }
}
