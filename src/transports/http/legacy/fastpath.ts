/**
 * The stateless fast path: one tools/list or tools/call, answered as JSON by the same decision
 * path (callTool: visibility, validation, guards, audit) without building an SDK server and
 * transport for it. Measured by bench/run.ts: the SDK path spent ~1.4 ms of CPU per call in the
 * transport alone. Anything else (initialize, batches, notifications, progress tokens, odd
 * headers) goes through the SDK transport (see plainCall in rpc.ts for what qualifies).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { callTool, malformedCall, refuseMalformedCall } from "../../../server.js";
import type { App } from "../../../runtime/app.js";
import type { AgentScope } from "../../../policy/types.js";
import { sendJson } from "../io.js";
import type { InFlightRequests } from "../inflight.js";
import type { Identity } from "../../../identity/index.js";
import type { PlainCall } from "../rpc.js";
import { inRequestSpan } from "../../../telemetry/request.js";
import type { SpanHandle } from "../../../telemetry/index.js";

export function runPlainCall(
  app: App,
  requests: InFlightRequests,
  req: IncomingMessage,
  res: ServerResponse,
  scope: AgentScope,
  call: PlainCall,
  who?: Pick<Identity, "agent" | "kind">,
): Promise<void> {
  // its server span when --otel is on (src/telemetry/request.ts)
  const facts = { requestId: call.id, sessionId: scope.session, headers: req.headers };
  const span = { transport: "http" as const, agent: scope.agent, tools: app.tools, tool: call.name };
  return inRequestSpan(call.method, facts, span, (s) => plainCall(app, requests, res, scope, call, who, s));
}

async function plainCall(
  app: App,
  requests: InFlightRequests,
  res: ServerResponse,
  scope: AgentScope,
  call: PlainCall,
  who: Pick<Identity, "agent" | "kind"> | undefined,
  span: SpanHandle,
): Promise<void> {
  if (call.method === "tools/list") {
    return sendJson(res, 200, { jsonrpc: "2.0", id: call.id, result: { tools: app.descriptorsFor(scope.visible) } });
  }
  if (call.malformed) {
    const message = await refuseMalformedCall(app, scope, call.malformed.params, call.malformed.problem);
    span.fail("-32602", "JSON-RPC error");
    return sendJson(res, 200, { jsonrpc: "2.0", id: call.id, error: { code: -32602, message } });
  }
  // An AbortError when cut by the client or --request-timeout-ms: audited as "cancelled" (as on
  // the SDK path), not "internal".
  const tracked = requests.trackCall(res, who, (message) =>
    sendJson(res, 200, { jsonrpc: "2.0", id: call.id, error: { code: -32001, message } }),
  );
  const answer = (status: number, payload: unknown) => {
    if (tracked.claim()) sendJson(res, status, payload);
  };
  try {
    const result = await callTool(app, scope, call.name!, call.arguments, { signal: tracked.signal, span });
    if (result.isError) span.fail("tool_error");
    answer(200, { jsonrpc: "2.0", id: call.id, result });
  } catch (err) {
    span.fail("-32603", "JSON-RPC error");
    answer(200, { jsonrpc: "2.0", id: call.id, error: { code: -32603, message: `Internal error: ${(err as Error).message}` } });
  }
}

/**
 * tools/call messages whose params are not an object at all (a string, a number, an array): the
 * SDK refuses such a POST as invalid JSON-RPC before any handler runs, so no audit line would
 * say that the agent tried. They are answered here, the whole POST refused (-32602; in a batch,
 * nothing in it runs, as the SDK would do), with one audit line for each tools/call in it.
 */
export async function refuseUnstructuredCalls(app: App, res: ServerResponse, scope: AgentScope, body: unknown): Promise<boolean> {
  const msgs: unknown[] = Array.isArray(body) ? body : [body];
  const calls = msgs.filter(
    (m): m is { id?: unknown; method: string; params?: unknown } =>
      !!m && typeof m === "object" && (m as { method?: unknown }).method === "tools/call",
  );
  const bad = (p: unknown) => p !== undefined && (p === null || typeof p !== "object" || Array.isArray(p));
  if (!calls.some((c) => bad(c.params))) return false;
  const errors: unknown[] = [];
  for (const c of calls) {
    const problem = bad(c.params)
      ? malformedCall(c.params)!
      : "refused with its batch: another tools/call in the same POST had params that are not an object";
    const message = await refuseMalformedCall(app, scope, c.params, problem);
    const id = typeof c.id === "string" || typeof c.id === "number" ? c.id : null;
    errors.push({ jsonrpc: "2.0", id, error: { code: -32602, message } });
  }
  sendJson(res, 200, Array.isArray(body) ? errors : errors[0]);
  return true;
}
