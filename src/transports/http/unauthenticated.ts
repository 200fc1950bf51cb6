/**
 * A request without a valid bearer token: read at most a small body (to name the refused call in
 * the audit), write one audit line, answer 401 with a Bearer challenge. OAuth refusals come here
 * too: 401 (with resource_metadata), 403 (a valid token this server will not serve) and 503 (the
 * identity provider cannot be reached to check the token).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../app.js";
import type { Refusal } from "../../identity.js";
import { UNAUTHENTICATED } from "../../audit.js";
import { headerValue, readBody, remoteOf, rpcError, sendJson } from "./io.js";
import { inspectBody } from "./rpc.js";

/** How much of an unauthenticated body is read, to name the refused call in the audit. */
const AUTH_PEEK_BYTES = 64 * 1024;

export async function refuseUnauthenticated(
  app: App,
  req: IncomingMessage,
  res: ServerResponse,
  verdict: Refusal,
  path: string,
  started: number,
): Promise<void> {
  const method = req.method ?? "GET";
  // Peek at a small body only, to name the refused call in the audit line.
  let label = `(${method} ${path})`;
  const declared = Number(headerValue(req, "content-length") ?? NaN);
  let consumed = method !== "POST";
  if (method === "POST" && declared <= AUTH_PEEK_BYTES) {
    const peek = await readBody(req, AUTH_PEEK_BYTES, 0);
    consumed = true;
    if (peek.ok) {
      try {
        label = inspectBody(JSON.parse(peek.text)).label;
      } catch {
        /* not JSON: keep the generic label */
      }
    }
  }
  app.audit?.record({
    time: new Date().toISOString(),
    agent: verdict.agent ?? UNAUTHENTICATED,
    ...verdict.claims,
    transport: "http",
    tool: label,
    decision: "denied",
    reason: verdict.reason === "insufficient_scope" ? "insufficient_scope" : "auth",
    detail: verdict.message,
    latencyMs: performance.now() - started,
    remote: remoteOf(req),
  });
  app.logger.warn("refused a request without a valid bearer token", { reason: verdict.reason, status: verdict.status, remote: remoteOf(req) });
  const challenge =
    verdict.challenge ?? (verdict.reason === "missing" ? 'Bearer realm="cohere-mcp"' : 'Bearer realm="cohere-mcp", error="invalid_token"');
  const what = verdict.status === 401 ? "Unauthorized" : verdict.status === 403 ? "Forbidden" : "Service unavailable";
  return sendJson(res, verdict.status, rpcError(-32001, `${what}: ${verdict.message}`), {
    ...(challenge ? { "WWW-Authenticate": challenge } : {}),
    ...(verdict.status === 503 ? { "Retry-After": "5" } : {}),
    ...(consumed ? {} : { Connection: "close" }),
  });
}
