/**
 * Streamable HTTP at /mcp on plain node:http, with the SDK's StreamableHTTPServerTransport.
 *
 * Every request to /mcp goes through, in order:
 *   the client address (X-Forwarded-For from a trusted proxy only, admission/forwarded.ts)  →
 *   Host / Origin allowlist (403, admission/origin.ts)  →  draining (503 for a request that would open a
 *   session, lifecycle.ts)  →  credential: a static token or
 *   an OAuth access token (401/403, audited; admission/unauthenticated.ts, src/identity/index.ts)  →  body size
 *   (413) and JSON (400)  →  OAuth scopes of the calls (403 insufficient_scope, admission/oauth.ts)  →  the
 *   agent's scope (admission/scopes.ts)  →  a modern-era (2026-07-28) request to the SDK's per-request
 *   handler (modern/handler.ts); a legacy one to the stateless fast path (legacy/fastpath.ts), a fresh SDK
 *   server per POST, or a session (legacy/sessions.ts).
 *
 * With `oauth` configured, the protected resource metadata (RFC 9728) is public, like probes.
 *
 * Stateless by default, so replicas need no shared state beyond counters (src/store). Probes
 * (probes.ts) skip the Host check and auth. Shutdown (lifecycle.ts) drains in-flight calls.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net from "node:net";
import type { AuthInfo } from "@modelcontextprotocol/server";
import { NodeHttpTransport } from "./web.js";
import { createModernLeg } from "./modern/handler.js";
import type { AgentScope } from "../../policy/types.js";
import { createMcpServer } from "../../server.js";
import type { App } from "../../runtime/app.js";
import { ConfigError } from "../../config/file.js";
import { corsHeaders, hostAllowed, originAllowed } from "./admission/origin.js";
import { DISCARD_SLACK, headerValue, readBody, remoteOf, rpcError, sendJson, setRemote } from "./io.js";
import { inspectBody, plainCall, type RpcRequestInfo } from "./rpc.js";
import { ANONYMOUS, loadOAuthFor } from "./plan.js";
import type { ScopeResolver } from "./admission/scopes.js";
import { liveHttp, retireSessions } from "./reload.js";
import { InFlightRequests } from "./inflight.js";
import { refuseUnstructuredCalls, runPlainCall } from "./legacy/fastpath.js";
import { createSessionTable } from "./legacy/sessions.js";
import { answerProbe, PROBE_PATHS } from "./probes.js";
import { refuseLargeBatch, refuseUnauthenticated } from "./admission/unauthenticated.js";
import { installShutdown, refuseNewSessionWhileDraining } from "./lifecycle.js";
import { notFound } from "./admission/challenge.js";
import { answerResourceMetadata, authInfoOf, refuseInsufficientScope, scopeShortfall } from "./admission/oauth.js";
import { anonymousIdentity, type Identity } from "../../identity/index.js";
import { createAuthThrottle } from "./admission/auththrottle.js";
import { capConnectionsPerAddress, probeDetail, requestUrl } from "./admission/clients.js";
import { clientAddress, peerOf } from "./admission/forwarded.js";
import { proxyMatcher } from "../../config/proxies.js";
import { telemetry, type HttpSpanFacts } from "../../telemetry/index.js";

export { ANONYMOUS, planHttp, type HttpPlan } from "./plan.js";
export { hostAllowed, isLoopbackHost, originAllowed, splitHost } from "./admission/origin.js";

export const MCP_PATH = "/mcp";

/** What the HTTP server span is told of a request (src/telemetry/http-server.ts). */
const SPAN_FACTS: HttpSpanFacts = { route: MCP_PATH, skip: PROBE_PATHS, client: remoteOf };

export interface HttpHandle {
  url: string;
  port: number;
  shutdown(): Promise<void>;
}

export async function serveHttp(app: App, env: NodeJS.ProcessEnv = process.env): Promise<HttpHandle> {
  const o = app.options;
  const log = app.logger;
  // Plan (ceilings, authenticator) and scopes of the current configuration; swapped on reload
  // (./reload.ts). A request reads them once, at its start.
  await loadOAuthFor(app.config);
  const current = liveHttp(app, env);

  if (o.requestTimeoutMs < o.maxWaitS * 1000) {
    log.warn("--request-timeout-ms is shorter than --max-wait-s: long wait_for_* calls will be cut short", {
      requestTimeoutMs: o.requestTimeoutMs,
      maxWaitS: o.maxWaitS,
    });
  }

  const requests = new InFlightRequests(log, o.requestTimeoutMs);
  const scopeFor: ScopeResolver = (agent, header, query) => current().scopeFor(agent, header, query);
  const sessions = o.sessions ? createSessionTable(app, requests, scopeFor) : undefined;
  // --eras: the modern leg (2026-07-28) beside the legacy one; each can be turned off.
  const modern = o.eras.has("modern") ? createModernLeg(app, requests, env) : undefined;
  const legacy = o.eras.has("legacy");
  retireSessions(app, sessions, requests, modern);

  // Created whatever the configuration: a reload may add agents to a server that had none.
  const authThrottle = createAuthThrottle(app);
  // Behind a load balancer: the client address comes from X-Forwarded-For (admission/forwarded.ts).
  const trusted = proxyMatcher(o.trustedProxies);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    if (o.trustedProxies.length) setRemote(req, clientAddress(peerOf(req), headerValue(req, "x-forwarded-for"), trusted));
    const url = requestUrl(req);
    if (!url) {
      log.warn("refused a request whose target is not a valid URL", { target: (req.url ?? "").slice(0, 200), remote: remoteOf(req) });
      return sendJson(res, 400, rpcError(-32600, "Bad Request: the request target is not a valid URL path"), { Connection: "close" });
    }
    const path = url.pathname;
    const method = req.method ?? "GET";
    const live = current();
    const { plan } = live;
    const auth = plan.auth;

    if (PROBE_PATHS.has(path)) {
      return answerProbe(app, req, res, path, requests.draining, await probeDetail(req, auth, authThrottle));
    }
    if (auth?.oauth?.metadataPaths.has(path)) return answerResourceMetadata(auth.oauth, req, res);

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

    if (path !== MCP_PATH) {
      // With OAuth on, the protected resource metadata names the real authorization server.
      return sendJson(res, 404, auth?.oauth ? { error: `not found; MCP is served at ${MCP_PATH}` } : notFound(path, MCP_PATH));
    }
    if (method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Allow-Headers":
          "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, X-MCP-Tools",
        "Access-Control-Max-Age": "600",
      });
      return void res.end();
    }
    // Draining (SIGTERM): no new connections are accepted, but a request that arrives on an open
    // keep-alive connection is served (a load balancer may have sent it as the signal came, and
    // may not retry a POST elsewhere), and that connection then closes. Except a request that
    // would open a session (--sessions): its session would end with this process, so it is
    // refused, 503 + Retry-After, before anything else (lifecycle.ts; nginx retries it elsewhere).
    if (requests.draining) {
      if (refuseNewSessionWhileDraining(app, req, res)) return;
      res.setHeader("Connection", "close");
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
    // A valid credential is served even from an address over its failed authentications: the
    // throttle (admission/auththrottle.ts) bounds what failures cost, not who may enter.
    let who: Identity = anonymousIdentity(ANONYMOUS, plan.ceilings.get(ANONYMOUS)?.profile);
    const authorization = headerValue(req, "authorization");
    const verdict = await auth?.authenticate(authorization);
    if (verdict && !verdict.ok) {
      const handling = await authThrottle.refused(req, res, verdict, authorization);
      if (handling === "answered") return;
      return refuseUnauthenticated(app, req, res, verdict, MCP_PATH, started, handling === "quiet");
    }
    if (verdict?.ok) who = verdict.identity;
    const agent = who.agent;

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
      // A batch carries at most --max-batch-calls messages (issue 20, finding 2): refused whole.
      if (Array.isArray(body) && body.length > o.limits.maxBatchCalls) return refuseLargeBatch(app, req, res, who, body.length, started);
      info = inspectBody(body);
    }
    res.setHeader("X-MCP-Agent", agent);
    if (auth?.oauth && who.kind === "oauth") {
      const short = scopeShortfall(plan, who, body);
      if (short.length) return void (await refuseInsufficientScope(app, auth.oauth, req, res, who, short, started));
      (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfoOf(auth.oauth, who);
    }
    // the client address (after --trusted-proxies) goes with the request's scope into its audit lines
    const scope: AgentScope = { ...live.scopeFor(who, headerValue(req, "x-mcp-tools"), url.searchParams.get("tools") ?? undefined), remote: remoteOf(req) };
    // A tools/call whose params are not an object: refused and audited here (the SDK would not audit it).
    if (method === "POST" && (await refuseUnstructuredCalls(app, res, scope, body))) return;

    // Modern era: a plain tools/list or tools/call is answered without the SDK (modern/fastpath.ts);
    const fast = modern && method === "POST" ? modern.fast(req, res, { ...scope, era: "modern" }, who, body) : false;
    if (fast) return fast;
    // anything else modern is claimed by the request's envelope; with legacy off, everything goes
    // there (and a legacy request is answered with the revisions this server speaks).
    if (modern && (!legacy || (method === "POST" && (await modern.claims(req, res, body))))) {
      return modern.serve(req, res, { ...scope, era: "modern" }, who, body, info);
    }
    scope.era = "legacy";

    if (sessions) return sessions.handle(req, res, who, body, info, url);

    // Stateless: the fast path, or a fresh server and transport for this one POST.
    const plain = plainCall(req, body);
    if (plain) return runPlainCall(app, requests, req, res, scope, plain, who);
    const server = createMcpServer(app, scope);
    const transport = new NodeHttpTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    await requests.runTransport(
      req,
      res,
      transport,
      body,
      info,
      () => {
        void transport.close();
        void server.close();
      },
      who,
    );
  };

  const limits = o.limits;
  const httpServer = http.createServer(
    {
      // Slow clients (finding 9): headers within a few seconds, checked every second (Node's
      // default is 60 s, checked every 30 s); an unauthenticated body has --body-timeout-ms
      // (admission/unauthenticated.ts).
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(300_000, limits.headersTimeoutMs),
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2))),
    },
    (req, res) => {
    // its HTTP server span when telemetry is on; the request's MCP spans are its children (src/telemetry/http-server.ts)
    const tel = telemetry();
    if (tel.enabled) tel.httpRequest(req, res, SPAN_FACTS);
    handle(req, res).catch((err: unknown) => {
      log.error("HTTP request failed", { error: (err as Error)?.message ?? String(err) });
      if (!res.headersSent) sendJson(res, 500, rpcError(-32603, "Internal error"));
      else if (!res.writableEnded) res.destroy();
    });
    },
  );
  capConnectionsPerAddress(httpServer, limits.maxConnectionsPerAddress, log, trusted);
  httpServer.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // Closed, not just half-closed: a client that keeps trickling bytes must not keep the socket.
    const timedOut = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
    if (socket.writable) {
      socket.end(`HTTP/1.1 ${timedOut ? "408 Request Timeout" : "400 Bad Request"}\r\nConnection: close\r\n\r\n`);
      setTimeout(() => socket.destroy(), 250).unref();
    } else socket.destroy();
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
  const shutdown = installShutdown(app, httpServer, requests, sessions, modern);

  // Announced only once signals are handled: a supervisor may stop us as soon as it reads this.
  const addr = httpServer.address() as net.AddressInfo;
  const bare = o.host.replace(/^\[|\]$/g, "");
  const shownHost = net.isIPv6(bare) ? `[${bare}]` : o.host;
  const url = `http://${shownHost}:${addr.port}${MCP_PATH}`;
  process.stderr.write(`cohere-mcp listening on ${url}\n`);
  const { plan } = current();
  log.info("cohere-mcp ready on HTTP", {
    config: app.live.current.hash,
    mode: o.sessions ? "sessions" : "stateless",
    agents: plan.auth ? plan.auth.agents.map((a) => a.name) : [ANONYMOUS],
    oauth: plan.auth?.oauth ? "on" : undefined,
    tools: Object.fromEntries([...plan.ceilings].map(([n, c]) => [n, c.visible.size])),
    key: o.apiKey ? `from ${o.apiKeySource}` : "missing (calls will fail until CO_API_KEY is set)",
  });

  return { url, port: addr.port, shutdown };
}
