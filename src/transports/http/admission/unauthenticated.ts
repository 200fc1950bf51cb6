/**
 * A request without a valid bearer token: read at most a small body (to name the refused call in
 * the audit), write one audit line, answer 401 with a Bearer challenge. OAuth refusals come here
 * too: 401 (with resource_metadata), 403 (a valid token this server will not serve) and 503 (the
 * identity provider cannot be reached to check the token).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../../runtime/app.js";
import type { Identity, Refusal } from "../../../identity/index.js";
import type { AuthFailure } from "../../../identity/static.js";
import { UNAUTHENTICATED } from "../../../audit/index.js";
import { headerValue, readBody, remoteOf, rpcError, sendJson } from "../io.js";
import { inspectBody } from "../rpc.js";
import { unauthorized } from "./challenge.js";

/** How much of an unauthenticated body is read, to name the refused call in the audit. */
const AUTH_PEEK_BYTES = 64 * 1024;

export async function refuseUnauthenticated(
  app: App,
  req: IncomingMessage,
  res: ServerResponse,
  verdict: Refusal,
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
  }
  const close: Record<string, string> = consumed ? {} : { Connection: "close" };
  if (verdict.challenge === undefined && verdict.status === 401 && isStaticFailure(verdict.reason)) {
    // A static-token server: a challenge and body that say what was wrong (challenge.ts).
    const refusal = unauthorized({ reason: verdict.reason, description: verdict.reason === "expired" ? verdict.message : undefined });
    return sendJson(res, refusal.status, refusal.body, { ...refusal.headers, ...close });
  }
  const what = verdict.status === 401 ? "Unauthorized" : verdict.status === 403 ? "Forbidden" : "Service unavailable";
  return sendJson(res, verdict.status, rpcError(-32001, `${what}: ${verdict.message}`), {
    ...(verdict.challenge ? { "WWW-Authenticate": verdict.challenge } : {}),
    ...(verdict.retryAfterS !== undefined ? { "Retry-After": String(verdict.retryAfterS) } : verdict.status === 503 ? { "Retry-After": "5" } : {}),
    ...close,
  });
}

function isStaticFailure(reason: Refusal["reason"]): reason is AuthFailure {
  return reason === "missing" || reason === "malformed" || reason === "invalid" || reason === "expired";
}

/**
 * A JSON-RPC batch over --max-batch-calls: 400 with -32600 for the whole request, nothing run.
 * One audit line, through the agent's refusal throttle.
 */
export async function refuseLargeBatch(app: App, req: IncomingMessage, res: ServerResponse, who: Identity, size: number, started: number): Promise<void> {
  const max = app.options.limits.maxBatchCalls;
  const verdict = await app.refusals.refused({ agent: who.agent, profile: who.profile, transport: "http" }, "invalid_input");
  if (verdict.write) {
    app.audit?.record({
      time: new Date().toISOString(),
      agent: who.agent,
      ...who.claims,
      transport: "http",
      tool: "(batch)",
      decision: "denied",
      reason: "invalid_input",
      detail: `a batch of ${size} messages, over --max-batch-calls ${max}`,
      latencyMs: performance.now() - started,
      remote: remoteOf(req),
    });
  }
  sendJson(
    res,
    400,
    rpcError(
      -32600,
      `Invalid Request: this batch holds ${size} messages; this server takes at most ${max} in one request (--max-batch-calls). ` +
        "Nothing was run and nothing was sent to Cohere: send the calls in smaller batches.",
    ),
    { "X-MCP-Agent": who.agent },
  );
}
