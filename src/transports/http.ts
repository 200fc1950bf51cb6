/**
 * Streamable HTTP at /mcp on plain node:http, with the SDK's StreamableHTTPServerTransport.
 *
 * Every request to /mcp goes through, in order:
 *   Host / Origin allowlist (403)  →  draining (503)  →  bearer token (401, audited; only a
 *   small body is read to name the call)  →  body size (413) and JSON (400)  →  the agent's
 *   scope (profile ceiling, narrowed by X-MCP-Tools / ?tools=)  →  the MCP server for that scope.
 *
 * Stateless by default: a fresh Server + transport per POST (construction is cheap: tool
 * descriptors are cached by the app), so replicas need no shared state beyond rate-limit
 * counters. With --sessions: Mcp-Session-Id, a GET stream for server messages, DELETE to end,
 * idle expiry and a cap on open sessions; a session belongs to the agent that opened it.
 *
 * /healthz and /readyz answer GET without auth and without the Host check (orchestrators probe
 * by pod IP); they say nothing about agents or tools.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { lookup } from "node:dns/promises";
import net from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/sdk/types.js";
import { callTool, createMcpServer, type AgentScope } from "../server.js";
import { createAuthenticator, type Authenticator } from "../auth.js";
import { narrow, parseList, resolveVisible } from "../policy/allowlist.js";
import { policyTools, type App } from "../app.js";
import { ConfigError } from "../config/file.js";
import { UNAUTHENTICATED } from "../audit.js";
import { notFound, unauthorized } from "./http-challenge.js";
import { resumableStreams } from "./event-store.js";

export const ANONYMOUS = "anonymous";
const MCP_PATH = "/mcp";
const DEFAULT_HOSTS = ["localhost", "127.0.0.1", "[::1]"];
const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);
/** Beyond the limit, a body is read and discarded up to this much more so the 413 reaches the client. */
const DISCARD_SLACK = 8 * 1024 * 1024;
/** How much of an unauthenticated body is read, to name the refused call in the audit. */
const AUTH_PEEK_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Host, Origin and bind-address checks (pure; unit-tested)

/** Is this bind address reachable only from this machine? */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  return net.isIPv4(v4) && v4.startsWith("127.");
}

/** `example.com:8080` → {name: "example.com", port: "8080"}; `[::1]:3000` → {name: "[::1]", port: "3000"}. */
export function splitHost(value: string): { name: string; port?: string } {
  const v = value.trim().toLowerCase();
  if (v.startsWith("[")) {
    const end = v.indexOf("]");
    if (end < 0) return { name: v };
    const rest = v.slice(end + 1);
    if (rest && !rest.startsWith(":")) return { name: "" };
    return { name: v.slice(0, end + 1), port: rest ? rest.slice(1) : undefined };
  }
  const i = v.lastIndexOf(":");
  if (i >= 0 && v.indexOf(":") === i) return { name: v.slice(0, i), port: v.slice(i + 1) };
  return { name: v };
}

/**
 * Host header check. Entries are `name` (any port), `name:port`, or `*` (any Host: only for
 * servers behind a proxy that sets it, with agents configured). Default: loopback names.
 */
export function hostAllowed(header: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (!header) return false;
  const got = splitHost(header);
  if (!got.name || (got.port !== undefined && !/^\d{1,5}$/.test(got.port))) return false;
  for (const entry of allowed ?? DEFAULT_HOSTS) {
    if (entry === "*") return true;
    const want = splitHost(entry);
    if (want.name === got.name && (want.port === undefined || want.port === got.port)) return true;
  }
  return false;
}

function normaliseOrigin(value: string): string | undefined {
  try {
    const u = new URL(value);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/**
 * Origin header check. No Origin (not a browser) passes. Default: http(s) origins on a loopback
 * name, any port. Configured: exact origins (`https://app.example.com`).
 */
export function originAllowed(header: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (header === undefined) return true;
  const origin = normaliseOrigin(header);
  if (!origin) return false; // "null", file:, garbage
  if (!allowed) return LOOPBACK_NAMES.has(new URL(origin).hostname);
  return allowed.some((a) => normaliseOrigin(a) === origin);
}

// ---------------------------------------------------------------------------------------------
// Small HTTP helpers

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
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

function rpcError(code: number, message: string): unknown {
  return { jsonrpc: "2.0", error: { code, message }, id: null };
}

type BodyResult = { ok: true; text: string } | { ok: false; status: 413 | 400; message: string };

/** Read a request body up to `limit` bytes. Over the limit, discard (up to a slack) and say 413. */
function readBody(req: IncomingMessage, limit: number, slack = DISCARD_SLACK): Promise<BodyResult> {
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

interface RpcRequestInfo {
  ids: RequestId[];
  isInitialize: boolean;
  /** For audit lines about refused requests: the tool a tools/call names, or "(method)". */
  label: string;
}

function inspectBody(body: unknown): RpcRequestInfo {
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

interface PlainCall {
  id: RequestId;
  method: "tools/list" | "tools/call";
  name?: string;
  arguments?: Record<string, unknown>;
}

/**
 * A POST the fast path may answer: a single JSON-RPC request for tools/list, or tools/call
 * with a string name, object arguments and no progress token, from a client that accepts
 * both JSON and SSE (what the SDK transport requires) and speaks a supported protocol version.
 */
function plainCall(req: IncomingMessage, body: unknown): PlainCall | undefined {
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
  if (m.method !== "tools/call" || typeof p.name !== "string") return undefined;
  if (Object.keys(p).some((k) => k !== "name" && k !== "arguments")) return undefined; // _meta (progress) → SDK path
  const args = p.arguments;
  if (args !== undefined && (!args || typeof args !== "object" || Array.isArray(args))) return undefined;
  return { id: m.id, method: "tools/call", name: p.name, arguments: args as Record<string, unknown> | undefined };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(",") : v;
}

function remoteOf(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? "unknown";
  return a.startsWith("::ffff:") ? a.slice(7) : a;
}

// ---------------------------------------------------------------------------------------------
// The server

interface Session {
  id: string;
  agent: string;
  transport: StreamableHTTPServerTransport;
  server: Server;
  lastSeen: number;
  active: number;
}

/** One POST being handled: what to cancel if it outlives its timeout or the shutdown grace. */
interface InFlight {
  res: ServerResponse;
  /** Answer every open call of this request with an error and stop its work. */
  cancel(message: string): void;
}

export interface HttpPlan {
  auth?: Authenticator;
  /** Ceiling per agent name (the anonymous agent when no agents are configured). */
  ceilings: Map<string, { visible: ReadonlySet<string>; profile?: string }>;
}

/** Everything that can make startup refuse, checked before listening. */
export function planHttp(app: App, env: NodeJS.ProcessEnv): HttpPlan {
  const o = app.options;
  const agents = app.config?.agents ?? [];
  const loopback = isLoopbackHost(o.host);
  if (!loopback && agents.length === 0) {
    throw new ConfigError(
      `Refusing to listen on ${o.host}: that address is reachable from other machines, and with no "agents" ` +
        "in the --config file anyone who reaches it could spend your Cohere key. Add agents, each with its own " +
        'bearer token (see "Remote agents over HTTP" in the README), or listen on 127.0.0.1.',
    );
  }
  if (!loopback && !o.allowedHosts?.length) {
    throw new ConfigError(
      `Refusing to listen on ${o.host} without --allowed-hosts: name the host names clients use to reach this ` +
        "server (e.g. --allowed-hosts mcp.internal.example.com), or '*' to accept any Host header (fine behind " +
        "a proxy, since every agent needs its token).",
    );
  }
  for (const origin of o.allowedOrigins ?? []) {
    if (!normaliseOrigin(origin)) throw new ConfigError(`--allowed-origins: "${origin}" is not an http(s) origin`);
  }
  const exclude = o.excludeTools?.length
    ? resolveVisible(policyTools, { tools: o.excludeTools, allowWrite: true, allowDestructive: true })
    : new Set<string>();
  const ceilings: HttpPlan["ceilings"] = new Map();
  if (agents.length === 0) {
    ceilings.set(ANONYMOUS, { visible: app.visible, profile: o.profile ?? app.config?.default_profile });
    return { ceilings };
  }
  if (o.tools || o.profile) {
    app.logger.warn("--tools and --profile do not apply to HTTP agents: each agent's profile sets its tools", {
      agents: agents.length,
    });
  }
  for (const a of agents) {
    const visible = new Set(app.profileVisible(a.profile));
    for (const n of exclude) visible.delete(n);
    ceilings.set(a.name, { visible, profile: a.profile });
  }
  return { auth: createAuthenticator(agents, env, (t) => app.logger.addSecret(t)), ceilings };
}

export interface HttpHandle {
  url: string;
  port: number;
  shutdown(): Promise<void>;
}

export async function serveHttp(app: App, env: NodeJS.ProcessEnv = process.env): Promise<HttpHandle> {
  const o = app.options;
  const log = app.logger;
  const plan = planHttp(app, env);
  const auth = plan.auth;
  if (auth) {
    const before = app.secrets;
    app.secrets = () => [...before(), ...auth.secrets()];
  }

  if (o.requestTimeoutMs < o.maxWaitS * 1000) {
    log.warn("--request-timeout-ms is shorter than --max-wait-s: long wait_for_* calls will be cut short", {
      requestTimeoutMs: o.requestTimeoutMs,
      maxWaitS: o.maxWaitS,
    });
  }

  const sessions = new Map<string, Session>();
  const inflight = new Set<InFlight>();
  let draining = false;

  // Scopes per (agent, narrowing) are cached: the same agent with the same header gets the
  // same object, so tools/list descriptors come straight from the app's cache.
  const scopeCache = new Map<string, AgentScope>();
  const scopeFor = (agent: string, headerItems: string | undefined, queryItems: string | undefined): AgentScope => {
    const key = `${agent}\u0000${headerItems ?? ""}\u0000${queryItems ?? ""}`;
    let scope = scopeCache.get(key);
    if (scope) return scope;
    const ceiling = plan.ceilings.get(agent)!;
    let visible: ReadonlySet<string> = ceiling.visible;
    const ignored: string[] = [];
    for (const raw of [headerItems, queryItems]) {
      const items = parseList(raw ?? "")?.slice(0, 100);
      if (!items?.length) continue;
      const r = narrow(policyTools, visible, items);
      visible = r.visible;
      ignored.push(...r.ignored.map((s) => s.slice(0, 64)));
    }
    scope = {
      agent,
      transport: "http",
      visible,
      ignored: ignored.length ? ignored : undefined,
      profile: ceiling.profile,
      stateless: !app.options.sessions,
    };
    if (scopeCache.size >= 1000) scopeCache.clear();
    scopeCache.set(key, scope);
    return scope;
  };

  /** Cancel a POST's calls and answer each with a JSON-RPC error (timeout, shutdown). */
  /** Cancel the calls of a request served by the SDK transport. */
  const cancelTransportCalls = (transport: StreamableHTTPServerTransport, ids: RequestId[], res: ServerResponse, message: string) => {
    for (const id of ids) {
      try {
        transport.onmessage?.({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: id, reason: message },
        } as JSONRPCMessage);
      } catch {
        /* already finished */
      }
      transport
        .send({ jsonrpc: "2.0", id, error: { code: -32001, message } } as JSONRPCMessage)
        .catch(() => undefined);
    }
    // Whatever did not get an answer is cut after a moment.
    setTimeout(() => {
      if (!res.writableEnded) res.destroy();
    }, 1_000).unref();
  };
  const cancelInFlight = (f: InFlight, message: string) => f.cancel(message);

  const corsHeaders = (origin: string | undefined): Record<string, string> =>
    origin
      ? {
          "Access-Control-Allow-Origin": origin,
          Vary: "Origin",
          "Access-Control-Expose-Headers": "Mcp-Session-Id, WWW-Authenticate, Retry-After",
        }
      : {};

  const readiness = async (): Promise<{ ok: boolean; checks: Record<string, string> }> => {
    const checks: Record<string, string> = { config: app.config ? "loaded" : "none (flags only)" };
    if (draining) return { ok: false, checks: { ...checks, server: "shutting down" } };
    const host = new URL(app.client.options.baseUrl).hostname.replace(/^\[|\]$/g, "");
    if (net.isIP(host)) return { ok: true, checks: { ...checks, cohere: `${host} (address)` } };
    let timer: NodeJS.Timeout | undefined;
    try {
      const addr = await Promise.race([
        lookup(host),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("DNS lookup timed out after 2 s")), 2_000);
        }),
      ]);
      return { ok: true, checks: { ...checks, cohere: `${host} resolves to ${addr.address}` } };
    } catch (err) {
      return { ok: false, checks: { ...checks, cohere: `${host} does not resolve: ${(err as Error).message}` } };
    } finally {
      clearTimeout(timer);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const method = req.method ?? "GET";

    if (path === "/healthz" || path === "/readyz") {
      if (method !== "GET" && method !== "HEAD") return sendJson(res, 405, { error: "method not allowed" }, { Allow: "GET, HEAD" });
      if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
      const r = await readiness();
      return sendJson(res, r.ok ? 200 : 503, { status: r.ok ? "ready" : "not ready", checks: r.checks });
    }

    // DNS-rebinding protection first: nothing else is looked at for a foreign Host or Origin.
    const hostHeader = headerValue(req, "host");
    const origin = headerValue(req, "origin");
    if (!hostAllowed(hostHeader, o.allowedHosts)) {
      log.warn("refused a request with a Host not on the allowlist", { host: hostHeader?.slice(0, 200), remote: remoteOf(req) });
      return sendJson(res, 403, rpcError(-32000, `Forbidden: Host "${(hostHeader ?? "").slice(0, 200)}" is not allowed`));
    }
    if (!originAllowed(origin, o.allowedOrigins)) {
      log.warn("refused a request with an Origin not on the allowlist", { origin: origin?.slice(0, 200), remote: remoteOf(req) });
      return sendJson(res, 403, rpcError(-32000, `Forbidden: Origin "${(origin ?? "").slice(0, 200)}" is not allowed`));
    }
    const cors = corsHeaders(origin);
    for (const [k, v] of Object.entries(cors)) res.setHeader(k, v);
    res.setHeader("X-Content-Type-Options", "nosniff");

    if (path !== MCP_PATH) return sendJson(res, 404, notFound(path, MCP_PATH));
    if (method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Allow-Headers":
          "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, X-MCP-Tools",
        "Access-Control-Max-Age": "600",
      });
      return void res.end();
    }
    if (draining) {
      return sendJson(res, 503, rpcError(-32000, "Server is shutting down; retry on another replica"), {
        Connection: "close",
        "Retry-After": "1",
      });
    }
    if (method !== "POST" && method !== "GET" && method !== "DELETE") {
      return sendJson(res, 405, rpcError(-32000, "Method not allowed"), { Allow: "GET, POST, DELETE" });
    }
    if (!o.sessions && method !== "POST") {
      return sendJson(res, 405, rpcError(-32000, "Method not allowed: this server is stateless (no sessions, no GET stream)"), {
        Allow: "POST",
      });
    }

    // Who is calling: checked on the headers, before an unauthenticated body is read in full.
    let agent = ANONYMOUS;
    const verdict = auth?.authenticate(headerValue(req, "authorization"));
    if (verdict && !verdict.ok) {
      // Peek at a small body only, to name the refused call in the audit line.
      let label = `(${method} ${MCP_PATH})`;
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
        agent: UNAUTHENTICATED,
        transport: "http",
        tool: label,
        decision: "denied",
        reason: "auth",
        detail: verdict.message,
        latencyMs: performance.now() - started,
        remote: remoteOf(req),
      });
      log.warn("refused a request without a valid bearer token", { reason: verdict.reason, remote: remoteOf(req) });
      const refusal = unauthorized({ reason: verdict.reason });
      return sendJson(res, refusal.status, refusal.body, { ...refusal.headers, ...(consumed ? {} : { Connection: "close" }) });
    }
    if (verdict?.ok) agent = verdict.agent.name;

    // Body: size first, then JSON.
    let body: unknown;
    let info: RpcRequestInfo = { ids: [], isInitialize: false, label: `(${method} ${MCP_PATH})` };
    if (method === "POST") {
      const declared = Number(headerValue(req, "content-length") ?? NaN);
      if (Number.isFinite(declared) && declared > o.maxBodyBytes + DISCARD_SLACK) {
        log.warn("refused an oversized request body", { bytes: declared, limit: o.maxBodyBytes, agent, remote: remoteOf(req) });
        return sendJson(res, 413, rpcError(-32000, `Request body larger than ${o.maxBodyBytes} bytes`), { Connection: "close" });
      }
      const read = await readBody(req, o.maxBodyBytes);
      if (!read.ok) {
        if (read.status === 413) log.warn("refused an oversized request body", { limit: o.maxBodyBytes, agent, remote: remoteOf(req) });
        return sendJson(res, read.status, rpcError(-32000, read.message), read.status === 413 ? { Connection: "close" } : {});
      }
      try {
        body = JSON.parse(read.text);
      } catch {
        return sendJson(res, 400, rpcError(-32700, "Parse error: Invalid JSON"));
      }
      info = inspectBody(body);
    }
    res.setHeader("X-MCP-Agent", agent);

    if (o.sessions) return handleSession(req, res, agent, body, info, url);

    // Stateless: a fresh server and transport for this one POST.
    const scope = scopeFor(agent, headerValue(req, "x-mcp-tools"), url.searchParams.get("tools") ?? undefined);
    const plain = plainCall(req, body);
    if (plain) return runPlainCall(req, res, scope, plain);
    const server = createMcpServer(app, scope);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    await runPost(req, res, transport, body, info, () => {
      void transport.close();
      void server.close();
    });
  };

  /**
   * The stateless fast path: one tools/list or tools/call, answered as JSON by the same
   * decision path (callTool: visibility, validation, guards, audit) without building an SDK
   * server and transport for it. Measured by bench/run.ts: the SDK path spent ~1.4 ms of CPU
   * per call in the transport alone. Anything else (initialize, batches, notifications,
   * progress tokens, odd headers) goes through the SDK transport as before.
   */
  const runPlainCall = async (req: IncomingMessage, res: ServerResponse, scope: AgentScope, call: PlainCall): Promise<void> => {
    if (call.method === "tools/list") {
      return sendJson(res, 200, { jsonrpc: "2.0", id: call.id, result: { tools: app.descriptorsFor(scope.visible) } });
    }
    const ac = new AbortController();
    let answered = false;
    const answer = (status: number, payload: unknown) => {
      if (answered) return;
      answered = true;
      sendJson(res, status, payload);
    };
    const f: InFlight = {
      res,
      cancel: (message) => {
        ac.abort(new Error(message));
        answer(200, { jsonrpc: "2.0", id: call.id, error: { code: -32001, message } });
      },
    };
    inflight.add(f);
    const timer = setTimeout(() => {
      log.warn("request timed out; cancelling its calls", { ms: o.requestTimeoutMs });
      f.cancel(`Request timed out after ${o.requestTimeoutMs} ms (--request-timeout-ms); the call was cancelled`);
    }, o.requestTimeoutMs);
    timer.unref();
    res.once("close", () => {
      clearTimeout(timer);
      if (!answered) ac.abort(new Error("the client closed the connection")); // cancel upstream at once
      inflight.delete(f);
      drained();
    });
    try {
      const result = await callTool(app, scope, call.name!, call.arguments, { signal: ac.signal });
      answer(200, { jsonrpc: "2.0", id: call.id, result });
    } catch (err) {
      answer(200, { jsonrpc: "2.0", id: call.id, error: { code: -32603, message: `Internal error: ${(err as Error).message}` } });
    }
  };

  /** Hand a POST (or GET/DELETE) to a transport, tracking it for timeout and shutdown. */
  const runPost = async (
    req: IncomingMessage,
    res: ServerResponse,
    transport: StreamableHTTPServerTransport,
    body: unknown,
    info: RpcRequestInfo,
    onDone: () => void,
  ): Promise<void> => {
    const f: InFlight = { res, cancel: (message) => cancelTransportCalls(transport, info.ids, res, message) };
    const tracked = req.method !== "GET";
    if (tracked) inflight.add(f);
    const timer =
      tracked && info.ids.length
        ? setTimeout(() => {
            log.warn("request timed out; cancelling its calls", { ms: o.requestTimeoutMs });
            cancelInFlight(f, `Request timed out after ${o.requestTimeoutMs} ms (--request-timeout-ms); the call was cancelled`);
          }, o.requestTimeoutMs)
        : undefined;
    timer?.unref();
    res.once("close", () => {
      clearTimeout(timer);
      inflight.delete(f);
      onDone();
      drained();
    });
    await transport.handleRequest(req, res, body);
  };

  const closeSession = (s: Session, why: string) => {
    if (!sessions.delete(s.id)) return;
    log.debug("session closed", { session: s.id, agent: s.agent, why });
    void s.transport.close();
    void s.server.close();
  };

  const handleSession = async (
    req: IncomingMessage,
    res: ServerResponse,
    agent: string,
    body: unknown,
    info: RpcRequestInfo,
    url: URL,
  ): Promise<void> => {
    const sid = headerValue(req, "mcp-session-id");
    if (!sid) {
      if (req.method !== "POST" || !info.isInitialize) {
        return sendJson(res, 400, rpcError(-32000, "Bad Request: Mcp-Session-Id header is required (initialize first)"));
      }
      if (sessions.size >= o.maxSessions) {
        log.warn("refused a new session: too many open", { open: sessions.size, max: o.maxSessions });
        return sendJson(
          res,
          503,
          rpcError(-32000, `Too many open sessions (${o.maxSessions}); end unused ones with DELETE or retry later`),
          { "Retry-After": "30" },
        );
      }
      const scope = scopeFor(agent, headerValue(req, "x-mcp-tools"), url.searchParams.get("tools") ?? undefined);
      const server = createMcpServer(app, scope);
      let session: Session | undefined;
      const transport = new StreamableHTTPServerTransport({
        ...resumableStreams(o.sseReplayBytes, o.sseRetryMs), // SSE priming event + retry (SEP-1699)
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          session = { id, agent, transport, server, lastSeen: Date.now(), active: 1 };
          sessions.set(id, session);
          log.debug("session opened", { session: id, agent, tools: scope.visible.size });
        },
        onsessionclosed: (id) => {
          const s = sessions.get(id);
          if (s) closeSession(s, "ended by the client");
        },
      });
      transport.onclose = () => {
        if (session) closeSession(session, "transport closed");
      };
      await server.connect(transport);
      return runPost(req, res, transport, body, info, () => {
        if (session) {
          session.active--;
          session.lastSeen = Date.now();
        } else {
          // initialize failed before a session existed
          void transport.close();
          void server.close();
        }
      });
    }
    const s = sessions.get(sid);
    // A session id of another agent is treated as unknown: sessions do not cross agents.
    if (!s || s.agent !== agent) return sendJson(res, 404, rpcError(-32001, "Session not found"));
    s.lastSeen = Date.now();
    const counts = req.method !== "GET";
    if (counts) s.active++;
    return runPost(req, res, s.transport, body, info, () => {
      if (counts) s.active--;
      s.lastSeen = Date.now();
    });
  };

  // Idle sessions expire.
  const sweep = o.sessions
    ? setInterval(
        () => {
          const cutoff = Date.now() - o.sessionIdleMs;
          for (const s of sessions.values()) if (s.active <= 0 && s.lastSeen < cutoff) closeSession(s, "idle");
        },
        Math.max(50, Math.min(60_000, Math.floor(o.sessionIdleMs / 4))),
      )
    : undefined;
  sweep?.unref();

  const httpServer = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error("HTTP request failed", { error: (err as Error)?.message ?? String(err) });
      if (!res.headersSent) sendJson(res, 500, rpcError(-32603, "Internal error"));
      else if (!res.writableEnded) res.destroy();
    });
  });
  httpServer.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  if (log.level === "debug") {
    httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
      const t0 = performance.now();
      res.once("finish", () =>
        log.debug("http", {
          method: req.method,
          path: (req.url ?? "").split("?")[0],
          status: res.statusCode,
          agent: res.getHeader("X-MCP-Agent"),
          ms: Math.round(performance.now() - t0),
        }),
      );
    });
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", (err: NodeJS.ErrnoException) =>
      reject(new ConfigError(`Cannot listen on ${o.host}:${o.port}: ${err.code === "EADDRINUSE" ? "the port is in use" : err.message}`)),
    );
    httpServer.listen(o.port, o.host, () => {
      httpServer.removeAllListeners("error");
      resolve();
    });
  });
  // Graceful shutdown: stop accepting, let in-flight calls finish up to the grace, exit 0.
  let onDrained: (() => void) | undefined;
  function drained(): void {
    if (draining && inflight.size === 0) onDrained?.();
  }
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    if (shuttingDown) return shuttingDown;
    draining = true;
    shuttingDown = (async () => {
      log.info("shutting down: no new requests; waiting for in-flight calls", {
        inFlight: inflight.size,
        graceMs: o.shutdownGraceMs,
      });
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      for (const s of sessions.values()) s.transport.closeStandaloneSSEStream();
      if (inflight.size > 0) {
        await new Promise<void>((resolve) => {
          onDrained = resolve;
          const t = setTimeout(resolve, o.shutdownGraceMs);
          t.unref();
          const idle = setInterval(() => httpServer.closeIdleConnections(), 100);
          idle.unref();
          void closed.finally(() => clearInterval(idle));
          drained();
        });
      }
      if (inflight.size > 0) {
        log.warn("shutdown grace over: cancelling the calls still running", { count: inflight.size });
        for (const f of inflight) cancelInFlight(f, "Server shut down before the call finished; it was cancelled");
        await new Promise((r) => setTimeout(r, 200).unref());
      }
      for (const s of [...sessions.values()]) closeSession(s, "server shutdown");
      clearInterval(sweep);
      httpServer.closeAllConnections();
      await closed;
      await app.close();
      log.info("shut down");
    })();
    return shuttingDown;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      log.warn(`${signal} again: exiting now`);
      process.exit(0);
    }
    void shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("shutdown failed", { error: (err as Error)?.message });
        process.exit(0);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  // Announced only once signals are handled: a supervisor may stop us as soon as it reads this.
  const addr = httpServer.address() as net.AddressInfo;
  const shownHost = net.isIPv6(o.host.replace(/^\[|\]$/g, "")) ? `[${o.host.replace(/^\[|\]$/g, "")}]` : o.host;
  const url = `http://${shownHost}:${addr.port}${MCP_PATH}`;
  process.stderr.write(`cohere-mcp listening on ${url}\n`);
  log.info("cohere-mcp ready on HTTP", {
    mode: o.sessions ? "sessions" : "stateless",
    agents: auth ? auth.agents.map((a) => a.name) : [ANONYMOUS],
    tools: Object.fromEntries([...plan.ceilings].map(([n, c]) => [n, c.visible.size])),
    key: o.apiKey ? `from ${o.apiKeySource}` : "missing (calls will fail until CO_API_KEY is set)",
  });

  return { url, port: addr.port, shutdown };
}
