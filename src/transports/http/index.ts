/**
 * Streamable HTTP at /mcp on plain node:http, with the SDK's StreamableHTTPServerTransport.
 *
 * Every request to /mcp goes through, in order:
 *   Host / Origin allowlist (403, origin.ts)  →  draining (503)  →  bearer token (401, audited;
 *   unauthenticated.ts)  →  body size (413) and JSON (400)  →  the agent's scope (scopes.ts)  →
 *   the stateless fast path (fastpath.ts), a fresh SDK server per POST, or a session
 *   (sessions.ts).
 *
 * Stateless by default, so replicas need no shared state beyond counters (src/store). Probes
 * (probes.ts) skip the Host check and auth. Shutdown (lifecycle.ts) drains in-flight calls.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net from "node:net";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpServer } from "../../server.js";
import type { App } from "../../app.js";
import { ConfigError } from "../../config/file.js";
import { corsHeaders, hostAllowed, originAllowed } from "./origin.js";
import { DISCARD_SLACK, headerValue, readBody, remoteOf, rpcError, sendJson } from "./io.js";
import { inspectBody, plainCall, type RpcRequestInfo } from "./rpc.js";
import { ANONYMOUS } from "./plan.js";
import type { ScopeResolver } from "./scopes.js";
import { liveHttp, retireSessions } from "./reload.js";
import { InFlightRequests } from "./inflight.js";
import { runPlainCall } from "./fastpath.js";
import { createSessionTable } from "./sessions.js";
import { answerProbe, PROBE_PATHS } from "./probes.js";
import { refuseUnauthenticated } from "./unauthenticated.js";
import { installShutdown } from "./lifecycle.js";

export { ANONYMOUS, planHttp, type HttpPlan } from "./plan.js";
export { hostAllowed, isLoopbackHost, originAllowed, splitHost } from "./origin.js";

export const MCP_PATH = "/mcp";

export interface HttpHandle {
  url: string;
  port: number;
  shutdown(): Promise<void>;
}

export async function serveHttp(app: App, env: NodeJS.ProcessEnv = process.env): Promise<HttpHandle> {
  const o = app.options;
  const log = app.logger;
  // Plan (ceilings, authenticator) and scopes of the current configuration; swapped on reload.
  const current = liveHttp(app, env);
  const { plan } = current();
  const auth = plan.auth;

  if (o.requestTimeoutMs < o.maxWaitS * 1000) {
    log.warn("--request-timeout-ms is shorter than --max-wait-s: long wait_for_* calls will be cut short", {
      requestTimeoutMs: o.requestTimeoutMs,
      maxWaitS: o.maxWaitS,
    });
  }

  const requests = new InFlightRequests(log, o.requestTimeoutMs);
  const scopeFor: ScopeResolver = (agent, header, query) => current().scopeFor(agent, header, query);
  const sessions = o.sessions ? createSessionTable(app, requests, scopeFor) : undefined;
  retireSessions(app, sessions);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const method = req.method ?? "GET";

    if (PROBE_PATHS.has(path)) return answerProbe(app, req, res, path, requests.draining);

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
    for (const [k, v] of Object.entries(corsHeaders(origin))) res.setHeader(k, v);
    res.setHeader("X-Content-Type-Options", "nosniff");

    if (path !== MCP_PATH) return sendJson(res, 404, { error: `not found; MCP is served at ${MCP_PATH}` });
    if (method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Allow-Headers":
          "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, X-MCP-Tools",
        "Access-Control-Max-Age": "600",
      });
      return void res.end();
    }
    if (requests.draining) {
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
    const live = current();
    const verdict = live.plan.auth?.authenticate(headerValue(req, "authorization"));
    if (verdict && !verdict.ok) return refuseUnauthenticated(app, req, res, verdict, MCP_PATH, started);
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

    if (sessions) return sessions.handle(req, res, agent, body, info, url);

    // Stateless: the fast path, or a fresh server and transport for this one POST.
    const scope = live.scopeFor(agent, headerValue(req, "x-mcp-tools"), url.searchParams.get("tools") ?? undefined);
    const plain = plainCall(req, body);
    if (plain) return runPlainCall(app, requests, req, res, scope, plain);
    const server = createMcpServer(app, scope);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    await requests.runTransport(req, res, transport, body, info, () => {
      void transport.close();
      void server.close();
    });
  };

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
  const shutdown = installShutdown(app, httpServer, requests, sessions);

  // Announced only once signals are handled: a supervisor may stop us as soon as it reads this.
  const addr = httpServer.address() as net.AddressInfo;
  const bare = o.host.replace(/^\[|\]$/g, "");
  const shownHost = net.isIPv6(bare) ? `[${bare}]` : o.host;
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
