/**
 * --sessions: Mcp-Session-Id, a GET stream for server messages, DELETE to end, idle expiry and a
 * cap on open sessions. A session belongs to the agent that opened it: another agent's request
 * with its id is answered as for an unknown session.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { createMcpServer } from "../../server.js";
import type { App } from "../../app.js";
import { headerValue, rpcError, sendJson } from "./io.js";
import type { InFlightRequests } from "./inflight.js";
import type { RpcRequestInfo } from "./rpc.js";
import type { ScopeResolver } from "./scopes.js";

interface Session {
  id: string;
  agent: string;
  /** Set by retire(): close when the last request ends. */
  retired?: string;
  transport: StreamableHTTPServerTransport;
  server: Server;
  lastSeen: number;
  active: number;
}

export interface SessionTable {
  handle(req: IncomingMessage, res: ServerResponse, agent: string, body: unknown, info: RpcRequestInfo, url: URL): Promise<void>;
  /** Shutdown: end the GET streams so clients stop waiting on them. */
  closeStreams(): void;
  closeAll(why: string): void;
  /** Reload: sessions of these agents end — at once if idle, else when their last request ends;
   *  their id is unknown from now on (the client gets 404 and initializes again). */
  retire(agentGone: (agent: string) => boolean, why: string): number;
  /** Open sessions per agent (metrics). */
  byAgent(): Map<string, number>;
  readonly size: number;
}

export function createSessionTable(app: App, requests: InFlightRequests, scopeFor: ScopeResolver): SessionTable {
  const o = app.options;
  const log = app.logger;
  const sessions = new Map<string, Session>();

  const closeSession = (s: Session, why: string) => {
    if (!sessions.delete(s.id)) return;
    log.debug("session closed", { session: s.id, agent: s.agent, why });
    void s.transport.close();
    void s.server.close();
  };

  /** Sessions retired by a reload that still had requests running. */
  const retiring = new Set<Session>();
  const endRetired = (s: Session) => {
    if (!retiring.delete(s)) return;
    log.debug("session closed", { session: s.id, agent: s.agent, why: s.retired });
    void s.transport.close();
    void s.server.close();
  };

  const open = async (req: IncomingMessage, res: ServerResponse, agent: string, body: unknown, info: RpcRequestInfo, url: URL) => {
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
    return requests.runTransport(req, res, transport, body, info, () => {
      if (session) {
        session.active--;
        session.lastSeen = Date.now();
        if (session.retired && session.active <= 0) endRetired(session);
      } else {
        // initialize failed before a session existed
        void transport.close();
        void server.close();
      }
    });
  };

  const handle: SessionTable["handle"] = async (req, res, agent, body, info, url) => {
    const sid = headerValue(req, "mcp-session-id");
    if (!sid) {
      if (req.method !== "POST" || !info.isInitialize) {
        return sendJson(res, 400, rpcError(-32000, "Bad Request: Mcp-Session-Id header is required (initialize first)"));
      }
      return open(req, res, agent, body, info, url);
    }
    const s = sessions.get(sid);
    // A session id of another agent is treated as unknown: sessions do not cross agents.
    if (!s || s.agent !== agent) return sendJson(res, 404, rpcError(-32001, "Session not found"));
    s.lastSeen = Date.now();
    const counts = req.method !== "GET";
    if (counts) s.active++;
    return requests.runTransport(req, res, s.transport, body, info, () => {
      if (counts) s.active--;
      s.lastSeen = Date.now();
      if (s.retired && s.active <= 0) endRetired(s);
    });
  };

  // Idle sessions expire.
  const sweep = setInterval(
    () => {
      const cutoff = Date.now() - o.sessionIdleMs;
      for (const s of sessions.values()) if (s.active <= 0 && s.lastSeen < cutoff) closeSession(s, "idle");
    },
    Math.max(50, Math.min(60_000, Math.floor(o.sessionIdleMs / 4))),
  );
  sweep.unref();

  return {
    handle,
    closeStreams() {
      for (const s of sessions.values()) s.transport.closeStandaloneSSEStream();
    },
    closeAll(why) {
      for (const s of [...sessions.values()]) closeSession(s, why);
      for (const s of [...retiring]) endRetired(s);
      clearInterval(sweep);
    },
    retire(agentGone, why) {
      let n = 0;
      for (const s of [...sessions.values()]) {
        if (!agentGone(s.agent)) continue;
        n++;
        if (s.active <= 0) closeSession(s, why);
        else {
          sessions.delete(s.id);
          s.retired = why;
          retiring.add(s);
        }
      }
      return n;
    },
    byAgent() {
      const counts = new Map<string, number>();
      for (const s of sessions.values()) counts.set(s.agent, (counts.get(s.agent) ?? 0) + 1);
      return counts;
    },
    get size() {
      return sessions.size;
    },
  };
}
