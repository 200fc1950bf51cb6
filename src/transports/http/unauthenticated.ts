/**
 * A request without a valid bearer token: read at most a small body (to name the refused call in
 * the audit), write one audit line, answer 401 with a Bearer challenge.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../app.js";
import type { AuthResult } from "../../auth.js";
import { UNAUTHENTICATED } from "../../audit.js";
import { headerValue, readBody, remoteOf, rpcError, sendJson } from "./io.js";
import { inspectBody } from "./rpc.js";

/** How much of an unauthenticated body is read, to name the refused call in the audit. */
const AUTH_PEEK_BYTES = 64 * 1024;

export async function refuseUnauthenticated(
  app: App,
  req: IncomingMessage,
  res: ServerResponse,
  verdict: Extract<AuthResult, { ok: false }>,
  path: string,
  started: number,
  /** Past the throttle (auththrottle.ts): counted in a summary line, not audited or logged one by one. */
  quiet = false,
): Promise<void> {
  const method = req.method ?? "GET";
  // Peek at a small body only, to name the refused call in the audit line.
  let label = `(${method} ${path})`;
  const declared = Number(headerValue(req, "content-length") ?? NaN);
  let consumed = method !== "POST";
  if (method === "POST" && declared <= AUTH_PEEK_BYTES && !quiet) {
    // A slow body is not waited for: --body-timeout-ms, then the answer and the socket closed.
    let timer: NodeJS.Timeout | undefined;
    const peek = await Promise.race([
      readBody(req, AUTH_PEEK_BYTES, 0),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), app.options.limits.bodyTimeoutMs))),
    ]);
    clearTimeout(timer);
    consumed = peek !== undefined;
    if (!consumed) {
      app.logger.warn("an unauthenticated request's body did not arrive within --body-timeout-ms; closing", {
        ms: app.options.limits.bodyTimeoutMs,
        remote: remoteOf(req),
      });
      res.once("finish", () => req.socket.destroy());
    }
    if (peek?.ok) {
      try {
        label = inspectBody(JSON.parse(peek.text)).label;
      } catch {
        /* not JSON: keep the generic label */
      }
    }
  }
  if (!quiet) {
    app.audit?.record({
      time: new Date().toISOString(),
      agent: UNAUTHENTICATED,
      transport: "http",
      tool: label,
      decision: "denied",
      reason: "auth",
      detail: verdict.message,
      latencyMs: performance.now() - started,
      remote: remoteOf(req),
    });
    app.logger.warn("refused a request without a valid bearer token", { reason: verdict.reason, remote: remoteOf(req) });
  }
  const challenge = verdict.reason === "missing" ? 'Bearer realm="cohere-mcp"' : 'Bearer realm="cohere-mcp", error="invalid_token"';
  return sendJson(res, 401, rpcError(-32001, `Unauthorized: ${verdict.message}`), {
    "WWW-Authenticate": challenge,
    ...(consumed ? {} : { Connection: "close" }),
  });
}
