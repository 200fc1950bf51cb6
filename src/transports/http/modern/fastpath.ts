/**
 * The modern era's fast path (MCP 2026-07-28 over HTTP): one plain tools/list or tools/call,
 * answered by the same decision path as the SDK's (callTool, the same scope, the same MRTR first
 * round) and encoded as the SDK encodes a 2026-07-28 result (`resultType`, the list's cache
 * hints, the server's identity in `_meta`), without building an SDK server, transport and web
 * Request/Response for it. Profiled (issue 26): that per-request machinery, with the SDK's schema
 * validation of the request and result, cost ~650 µs of CPU per call on top of the ~330 µs the
 * legacy fast path spends.
 *
 * Only a request whose every part is plain qualifies (modernPlainCall below): the standard
 * headers agree with the body exactly, the envelope has nothing the SDK would have to judge, no
 * progress token (the SDK path streams progress as SSE), no MRTR retry (requestState,
 * inputResponses: the SDK path checks them), no destructive call from a client that cannot
 * elicit (refused with a protocol error). Anything else goes to the SDK's handler, which stays
 * the reference: test/eras-fast.test.ts sends the same requests both ways and compares the bytes.
 * `COHERE_MCP_MODERN_FAST=off` sends everything to the SDK path.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { SERVER_INFO_META_KEY, type RequestId } from "@modelcontextprotocol/server";
import { askToConfirm, callTool, MODERN_LIST_HINTS, SERVER_INFO } from "../../../server.js";
import { InputNeeded } from "../../../call/mrtr.js";
import type { App } from "../../../runtime/app.js";
import type { AgentScope } from "../../../policy/types.js";
import type { Identity } from "../../../identity/index.js";
import type { InFlightRequests } from "../inflight.js";
import { headerValue, rpcError, sendJson } from "../io.js";
import { accessOf } from "../admission/scopes.js";
import { inRequestSpan } from "../../../telemetry/request.js";
import type { SpanHandle } from "../../../telemetry/index.js";

export const MODERN_REVISION = "2026-07-28";
const VERSION_KEY = "io.modelcontextprotocol/protocolVersion";
const CAPS_KEY = "io.modelcontextprotocol/clientCapabilities";
const INFO_KEY = "io.modelcontextprotocol/clientInfo";
/** The envelope's keys, and the W3C trace context a caller may add (telemetry reads it). */
const META_KEYS = new Set([VERSION_KEY, CAPS_KEY, INFO_KEY, "traceparent", "tracestate"]);

export interface ModernPlainCall {
  id: RequestId;
  method: "tools/list" | "tools/call";
  name?: string;
  arguments?: Record<string, unknown>;
  meta: Record<string, unknown>;
  /** The envelope declares form elicitation: a destructive call answers input_required. */
  canElicit: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * A POST the modern fast path may answer, or undefined (→ the SDK's handler): a single request
 * for tools/list (no cursor) or tools/call (a string name, object arguments), its
 * MCP-Protocol-Version, Mcp-Method and Mcp-Name headers equal to what the body says, a
 * well-formed 2026-07-28 envelope (clientInfo with a string name and version, capabilities whose
 * every entry is an object) and nothing else in `_meta` but a trace context.
 */
export function modernPlainCall(req: IncomingMessage, body: unknown): ModernPlainCall | undefined {
  // the protocol header first: a legacy request (most of them) is let go at once
  if (headerValue(req, "mcp-protocol-version") !== MODERN_REVISION || req.method !== "POST" || !isObject(body)) return undefined;
  const accept = headerValue(req, "accept") ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) return undefined;
  if ((headerValue(req, "content-type") ?? "").split(";")[0]!.trim().toLowerCase() !== "application/json") return undefined;
  const m = body as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  if (m.jsonrpc !== "2.0" || !(typeof m.id === "string" || (typeof m.id === "number" && Number.isSafeInteger(m.id)))) return undefined;
  for (const k in m) if (k !== "jsonrpc" && k !== "id" && k !== "method" && k !== "params") return undefined;
  if ((m.method !== "tools/list" && m.method !== "tools/call") || headerValue(req, "mcp-method") !== m.method) return undefined;
  const p = m.params;
  if (!isObject(p)) return undefined;
  const meta = p._meta;
  if (!isObject(meta) || meta[VERSION_KEY] !== MODERN_REVISION) return undefined;
  for (const k in meta) {
    if (!META_KEYS.has(k)) return undefined;
    if ((k === "traceparent" || k === "tracestate") && typeof meta[k] !== "string") return undefined;
  }
  const info = meta[INFO_KEY];
  if (!isObject(info) || typeof info.name !== "string" || typeof info.version !== "string") return undefined;
  const caps = meta[CAPS_KEY];
  if (!isObject(caps) || !Object.values(caps).every(isObject)) return undefined;
  const elicitation = caps.elicitation as { form?: unknown; url?: unknown } | undefined;
  const canElicit = elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined);
  const name = headerValue(req, "mcp-name");
  if (m.method === "tools/list") {
    if (name !== undefined || Object.keys(p).length !== 1) return undefined;
    return { id: m.id, method: "tools/list", meta, canElicit };
  }
  for (const k in p) if (k !== "name" && k !== "arguments" && k !== "_meta") return undefined;
  if (typeof p.name !== "string" || name !== p.name) return undefined;
  // a destructive call from a client that cannot be asked is refused with a protocol error
  // (-32021, HTTP 400: server.ts modernRefusal), which the SDK's handler writes
  if (!canElicit && accessOf(p.name) === "destructive") return undefined;
  if (p.arguments !== undefined && !isObject(p.arguments)) return undefined;
  return { id: m.id, method: "tools/call", name: p.name, arguments: p.arguments as Record<string, unknown> | undefined, meta, canElicit };
}

/**
 * A 2026-07-28 result as the SDK's encode seam writes it: `resultType` ("complete" unless the
 * handler said otherwise), a complete list's cache hints, then the server's identity in `_meta`.
 */
export function encodeModernResult(method: string, result: Record<string, unknown>): Record<string, unknown> {
  let r: Record<string, unknown> = result.resultType === undefined ? { ...result, resultType: "complete" } : { ...result };
  if (method === "tools/list" && r.resultType === "complete") r = { ...r, ...MODERN_LIST_HINTS };
  const meta = r._meta;
  if (meta === undefined) r._meta = { [SERVER_INFO_META_KEY]: SERVER_INFO };
  else if (isObject(meta) && meta[SERVER_INFO_META_KEY] === undefined) r._meta = { ...meta, [SERVER_INFO_META_KEY]: SERVER_INFO };
  return r;
}

/** Written as the SDK's handler writes a JSON answer: the message's key order, content-type and length only. */
function send(res: ServerResponse, message: Record<string, unknown>): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(message);
  res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
  res.end(text);
}

export function runModernPlainCall(
  app: App,
  requests: InFlightRequests,
  req: IncomingMessage,
  res: ServerResponse,
  scope: AgentScope,
  call: ModernPlainCall,
  who: Pick<Identity, "agent" | "kind">,
): Promise<void> {
  const facts = { requestId: call.id, headers: req.headers, meta: call.meta };
  const span = { transport: "http" as const, agent: scope.agent, tools: app.tools, tool: call.name };
  // as the SDK path's factory does (server.ts): a modern client is asked in the call's own exchange
  const modern: AgentScope = { ...scope, era: "modern", stateless: false };
  return inRequestSpan(call.method, facts, span, (s) => serve(app, requests, res, modern, call, who, s));
}

async function serve(
  app: App,
  requests: InFlightRequests,
  res: ServerResponse,
  scope: AgentScope,
  call: ModernPlainCall,
  who: Pick<Identity, "agent" | "kind">,
  span: SpanHandle,
): Promise<void> {
  if (call.method === "tools/list") {
    setImmediate(() => void app.loadTool("")); // as the SDK path's handler does
    return send(res, { result: encodeModernResult("tools/list", { tools: app.descriptorsFor(scope.visible) }), jsonrpc: "2.0", id: call.id });
  }
  // An AbortError when cut by the client (the modern era's cancellation) or --request-timeout-ms:
  // audited as "cancelled", as on the SDK path; the timeout's answer is the SDK path's (modern.ts).
  const tracked = requests.trackCall(res, who, (message) => sendJson(res, 200, { ...(rpcError(-32001, message) as object), id: call.id }));
  const answer = (message: Record<string, unknown>) => {
    if (tracked.claim()) send(res, message);
  };
  const name = call.name!;
  try {
    const elicit = call.canElicit
      ? async (question: string): Promise<never> => {
          throw new InputNeeded(question);
        }
      : undefined;
    let result: Record<string, unknown>;
    try {
      result = (await callTool(app, scope, name, call.arguments, { signal: tracked.signal, elicit, span })) as unknown as Record<string, unknown>;
      if (result.isError) span.fail("tool_error");
    } catch (err) {
      if (!(err instanceof InputNeeded)) throw err;
      result = (await askToConfirm(app, scope, name, call.arguments, err.question)) as unknown as Record<string, unknown>;
    }
    answer({ result: encodeModernResult("tools/call", result), jsonrpc: "2.0", id: call.id });
  } catch (err) {
    span.fail("-32603", "JSON-RPC error");
    // the SDK's answer to a handler that threw
    answer({ jsonrpc: "2.0", id: call.id, error: { code: -32603, message: (err as Error)?.message ?? "Internal error" } });
  }
}
