/**
 * The one wrap at the point an MCP request is dispatched (the SDK's handlers in src/server.ts, the
 * HTTP fast path): its server span, when telemetry is on; a plain call otherwise.
 */
import type { ToolInfo } from "../catalog/light.js";
import { NOOP_SPAN, telemetry, type McpRequestInfo, type SpanHandle } from "./index.js";

/** What a handler knows of its request (the SDK's RequestHandlerExtra, or the fast path's). */
export interface RequestFacts {
  /** Absent for a notification. */
  requestId?: string | number;
  sessionId?: string;
  /** params._meta: a caller's W3C trace context (MCP semantic conventions). */
  meta?: { traceparent?: unknown; tracestate?: unknown };
  /** The HTTP request's headers (streamable HTTP). */
  headers?: Record<string, string | string[] | undefined>;
  /** The protocol revision the server negotiated (initialize, or the modern era's envelope); else the HTTP header's. */
  protocolVersion?: string;
}

/** The facts of a request the SDK dispatched (its RequestHandlerExtra) and its params._meta. */
export function factsOf(
  extra: { requestId?: string | number; sessionId?: string; requestInfo?: { headers?: unknown } },
  meta: unknown,
): RequestFacts {
  return {
    requestId: extra.requestId,
    sessionId: extra.sessionId,
    meta: meta && typeof meta === "object" ? (meta as RequestFacts["meta"]) : undefined,
    headers: extra.requestInfo?.headers as RequestFacts["headers"],
  };
}

const names = new WeakMap<readonly ToolInfo[], ReadonlySet<string>>();

/** A catalog tool's name (low cardinality: it may name the span); anything else a caller wrote is `_OTHER`. */
function toolName(tools: readonly ToolInfo[], name: unknown): string {
  let set = names.get(tools);
  if (!set) names.set(tools, (set = new Set(tools.map((t) => t.name))));
  return typeof name === "string" && set.has(name) ? name : "_OTHER";
}

const header = (h: RequestFacts["headers"], k: string): string | undefined => {
  const v = h?.[k];
  return Array.isArray(v) ? v[0] : v;
};

/** Run one MCP request inside its server span (only built when telemetry is on). */
export function inRequestSpan<T>(
  method: string,
  facts: RequestFacts,
  who: { transport: "stdio" | "http"; agent?: string; tools?: readonly ToolInfo[]; tool?: unknown },
  fn: (span: SpanHandle) => Promise<T>,
): Promise<T> {
  const t = telemetry();
  if (!t.enabled) return fn(NOOP_SPAN);
  const info: McpRequestInfo = {
    method,
    tool: method === "tools/call" && who.tools ? toolName(who.tools, who.tool) : undefined,
    requestId: facts.requestId,
    sessionId: facts.sessionId,
    protocolVersion: facts.protocolVersion ?? header(facts.headers, "mcp-protocol-version"),
    meta: facts.meta,
    headers: facts.headers ? { traceparent: header(facts.headers, "traceparent"), tracestate: header(facts.headers, "tracestate") } : undefined,
    transport: who.transport,
    agent: who.agent,
  };
  return t.request(info, fn);
}
