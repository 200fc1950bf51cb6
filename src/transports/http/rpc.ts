/** What a POST body asks for: the ids to cancel, whether it initializes, a label for the audit,
 *  and whether the stateless fast path may answer it. */
import type { IncomingMessage } from "node:http";
import { SUPPORTED_PROTOCOL_VERSIONS, type RequestId } from "@modelcontextprotocol/server";
import { headerValue } from "./io.js";
import { malformedCall } from "../../server.js";

export interface RpcRequestInfo {
  ids: RequestId[];
  isInitialize: boolean;
  /** For audit lines about refused requests: the tool a tools/call names, or "(method)". */
  label: string;
}

export function inspectBody(body: unknown): RpcRequestInfo {
  const msgs = Array.isArray(body) ? body : [body];
  const ids: RequestId[] = [];
  let isInitialize = false;
  let label = "(request)";
  let labelled = false;
  for (const m of msgs) {
    if (!m || typeof m !== "object") continue;
    const msg = m as { id?: unknown; method?: unknown; params?: { name?: unknown } };
    if (typeof msg.method !== "string") continue;
    if ((typeof msg.id === "string" || typeof msg.id === "number") && msg.id !== null) ids.push(msg.id);
    if (msg.method === "initialize") isInitialize = true;
    if (!labelled) {
      if (msg.method === "tools/call" && typeof msg.params?.name === "string") {
        label = msg.params.name.slice(0, 100);
        labelled = true;
      } else {
        label = `(${msg.method.slice(0, 60)})`;
        labelled = msg.method !== "notifications/initialized";
      }
    }
  }
  return { ids, isInitialize, label };
}

export interface PlainCall {
  id: RequestId;
  method: "tools/list" | "tools/call";
  name?: string;
  arguments?: Record<string, unknown>;
  /** A tools/call whose params are not a call (server.ts malformedCall): answered -32602, audited. */
  malformed?: { problem: string; params: unknown };
}

/**
 * A POST the fast path may answer: a single JSON-RPC request for tools/list, or tools/call
 * with a string name, object arguments and no progress token, from a client that accepts
 * both JSON and SSE (what the SDK transport requires) and speaks a supported protocol version.
 */
export function plainCall(req: IncomingMessage, body: unknown): PlainCall | undefined {
  if (req.method !== "POST" || !body || typeof body !== "object" || Array.isArray(body)) return undefined;
  const accept = headerValue(req, "accept") ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) return undefined;
  if (!(headerValue(req, "content-type") ?? "").includes("application/json")) return undefined;
  const version = headerValue(req, "mcp-protocol-version");
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
  const m = body as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  if (m.jsonrpc !== "2.0" || !(typeof m.id === "string" || (typeof m.id === "number" && Number.isFinite(m.id)))) return undefined;
  const keys = Object.keys(m);
  if (keys.some((k) => !["jsonrpc", "id", "method", "params"].includes(k))) return undefined;
  const params = m.params;
  if (params !== undefined && (!params || typeof params !== "object" || Array.isArray(params))) return undefined;
  const p = (params ?? {}) as { name?: unknown; arguments?: unknown; _meta?: unknown; cursor?: unknown };
  if (m.method === "tools/list") {
    return Object.keys(p).length === 0 ? { id: m.id, method: "tools/list" } : undefined;
  }
  if (m.method !== "tools/call") return undefined;
  if (Object.keys(p).some((k) => k !== "name" && k !== "arguments")) return undefined; // _meta (progress) → SDK path
  const problem = malformedCall(params);
  if (problem) return { id: m.id, method: "tools/call", malformed: { problem, params } };
  return { id: m.id, method: "tools/call", name: p.name as string, arguments: p.arguments as Record<string, unknown> | undefined };
}

