/**
 * --sessions: Mcp-Session-Id, a GET stream for server messages, DELETE to end, idle expiry, a
 * cap on open sessions (503 beyond --max-sessions) and a smaller cap per agent (429 beyond
 * profile limits.max_sessions, else --max-sessions-per-agent, else a quarter of --max-sessions),
 * so only several agents together can fill the table.
 *
 * A session belongs to the identity that opened it (a static agent, or an OAuth agent and
 * subject): another identity's request with its id is answered as for an unknown session. Each
 * request on a session is scoped by its own credential (an OAuth client may come back with a
 * refreshed or stepped-up token) and the narrowing headers the session opened with.
 *
 * Ids start with the replica's tag (--replica-id) so that a load balancer can send each session
 * to the replica that holds it (deploy/nginx/cohere-mcp.conf).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server } from "@modelcontextprotocol/server";
import { NodeHttpTransport } from "../web.js";
import { createMcpServer } from "../../../server.js";
import type { App } from "../../../runtime/app.js";
import { headerValue, remoteOf, rpcError, sendJson } from "../io.js";
import type { InFlightRequests } from "../inflight.js";
import type { RpcRequestInfo } from "../rpc.js";
import type { ScopeResolver } from "../admission/scopes.js";
import { resumableStreams } from "./event-store.js";
import type { Identity } from "../../../identity/index.js";
import { identityOf } from "../admission/oauth.js";
import { telemetry } from "../../../telemetry/index.js";
import { agentCap } from "../agent-cap.js";

interface Session {
  id: string;
  agent: string;
  owner: string;
  /** How the agent proved who it is (a reload retires OAuth sessions when OAuth goes or moves). */
  kind: Identity["kind"];
  /** Set by retire(): close when the last request ends. */
  retired?: string;
  transport: NodeHttpTransport;
  server: Server;
  lastSeen: number;
  openedAt: number;
  active: number;
  /** The client address of the session's latest request (after --trusted-proxies), for the audit. */
  remote: string;
}

export interface SessionTable {
  handle(req: IncomingMessage, res: ServerResponse, who: Identity, body: unknown, info: RpcRequestInfo, url: URL): Promise<void>;
  /** Shutdown: end the GET streams so clients stop waiting on them. */
  closeStreams(): void;
  closeAll(why: string): void;
  /** Reload: sessions of these agents end — at once if idle, else when their last request ends;
   *  their id is unknown from now on (the client gets 404 and initializes again). */
  retire(gone: (agent: string, kind: Identity["kind"], id: string) => boolean, why: string): number;
  /** Reload that revoked these identities' credentials: their sessions end at once, GET streams
   *  included (their running calls are cancelled by the caller first). */
  revoke(gone: (agent: string, kind: Identity["kind"]) => boolean, why: string): number;
  /** Tell these agents' open sessions that their tool list changed (notifications/tools/list_changed). */
  notifyToolsChanged(agents: ReadonlySet<string>): number;
  /** The open sessions (the console lists them). */
  list(): Array<{ id: string; agent: string; openedAt: number }>;
  /** Open sessions per agent (metrics). */
  byAgent(): Map<string, number>;
  readonly size: number;
}

export function createSessionTable(app: App, requests: InFlightRequests, scopeFor: ScopeResolver): SessionTable {
  const o = app.options;
  const log = app.logger;
  const sessions = new Map<string, Session>();
  /** Sessions per agent, those still initializing included. */
  const held = new Map<string, number>();
  const hold = (agent: string, n: number) => {
    const v = (held.get(agent) ?? 0) + n;
    if (v > 0) held.set(agent, v);
    else held.delete(agent);
  };
  let opening = 0;
  // mcp.server.session.duration (telemetry on)
  const ended = (s: Session) =>
    telemetry().sessionEnded({ transport: "http", startedAt: s.openedAt, endedAt: Date.now(), protocolVersion: s.server.getNegotiatedProtocolVersion() });

  const closeSession = (s: Session, why: string) => {
    if (!sessions.delete(s.id)) return;
    ended(s);
    hold(s.agent, -1);
    log.debug("session closed", { session: s.id, agent: s.agent, why });
    void s.transport.close();
    void s.server.close();
  };

  /** Sessions retired by a reload that still had requests running. */
  const retiring = new Set<Session>();
  const endRetired = (s: Session) => {
    if (!retiring.delete(s)) return;
    ended(s);
    hold(s.agent, -1);
    log.debug("session closed", { session: s.id, agent: s.agent, why: s.retired });
    void s.transport.close();
    void s.server.close();
  };

  const open = async (req: IncomingMessage, res: ServerResponse, who: Identity, body: unknown, info: RpcRequestInfo, url: URL) => {
    const agent = who.agent;
    const headerItems = headerValue(req, "x-mcp-tools");
    const queryItems = url.searchParams.get("tools") ?? undefined;
    const scope = scopeFor(who, headerItems, queryItems);
    const { cap, source } = agentCap(app, who.kind, scope.profile);
    const mine = held.get(agent) ?? 0;
    if (mine >= cap) {
      log.warn("refused a new session: the agent holds its share", { agent, open: mine, cap });
      return sendJson(
        res,
        429,
        rpcError(
          -32000,
          `Too many open sessions for agent "${agent}": it holds ${mine}, its cap is ${cap} (${source}); ` +
            "end unused ones with DELETE or retry later",
        ),
        { "Retry-After": "30" },
      );
    }
    if (sessions.size + opening >= o.maxSessions) {
      log.warn("refused a new session: too many open", { open: sessions.size, max: o.maxSessions });
      return sendJson(
        res,
        503,
        rpcError(-32000, `Too many open sessions (${o.maxSessions}); end unused ones with DELETE or retry later`),
        { "Retry-After": "30" },
      );
    }
    hold(agent, 1);
    opening++;
    let pending = true;
    const opened = () => {
      if (pending) opening--;
      pending = false;
    };
    const firstRemote = remoteOf(req);
    let session: Session | undefined;
    // the audit names the session and the client address of the request that carried the call
    const server = createMcpServer(app, (authInfo) => ({
      ...scopeFor(identityOf(authInfo) ?? who, headerItems, queryItems),
      remote: session?.remote ?? firstRemote,
      session: session?.id,
    }));
    const transport = new NodeHttpTransport({
      ...resumableStreams(o.sseReplayBytes, o.sseRetryMs), // SSE priming event + retry (SEP-1699)
      // `<replica tag>.<uuid>`: a load balancer routes a session's requests by its tag (deploy/).
      sessionIdGenerator: () => `${o.replicaId}.${randomUUID()}`,
      onsessioninitialized: (id) => {
        opened();
        session = { id, agent, owner: who.owner, kind: who.kind, transport, server, lastSeen: Date.now(), openedAt: Date.now(), active: 1, remote: firstRemote };
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
    return requests.runTransport(
      req,
      res,
      transport,
      body,
      info,
      () => {
      if (session) {
        session.active--;
        session.lastSeen = Date.now();
        if (session.retired && session.active <= 0) endRetired(session);
      } else {
        // initialize failed before a session existed
        opened();
        hold(agent, -1);
        void transport.close();
        void server.close();
      }
      },
      who,
    );
  };

  const handle: SessionTable["handle"] = async (req, res, who, body, info, url) => {
    const sid = headerValue(req, "mcp-session-id");
    if (!sid) {
      if (req.method !== "POST" || !info.isInitialize) {
        return sendJson(res, 400, rpcError(-32000, "Bad Request: Mcp-Session-Id header is required (initialize first)"));
      }
      return open(req, res, who, body, info, url);
    }
    const s = sessions.get(sid);
    // A session id of another identity is treated as unknown: sessions do not cross identities.
    if (!s || s.owner !== who.owner) return sendJson(res, 404, rpcError(-32001, "Session not found"));
    s.lastSeen = Date.now();
    s.remote = remoteOf(req);
    const counts = req.method !== "GET";
    if (counts) s.active++;
    return requests.runTransport(
      req,
      res,
      s.transport,
      body,
      info,
      () => {
        if (counts) s.active--;
        s.lastSeen = Date.now();
        if (s.retired && s.active <= 0) endRetired(s);
      },
      who,
    );
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
    retire(gone, why) {
      let n = 0;
      for (const s of [...sessions.values()]) {
        if (!gone(s.agent, s.kind, s.id)) continue;
        n++;
        if (s.active <= 0) closeSession(s, why);
        else {
          // unknown from now on; closed (and its share given back) when its last request ends
          sessions.delete(s.id);
          s.retired = why;
          retiring.add(s);
        }
      }
      return n;
    },
    revoke(gone, why) {
      let n = 0;
      for (const s of [...sessions.values()]) {
        if (!gone(s.agent, s.kind)) continue;
        n++;
        if (s.active <= 0) {
          closeSession(s, why);
          continue;
        }
        // unknown from now on, its GET stream ended now; closed once the cancelled calls have
        // written their answers (a moment), or when its last request ends
        sessions.delete(s.id);
        s.retired = why;
        retiring.add(s);
        s.transport.closeStandaloneSSEStream();
        setTimeout(() => endRetired(s), 250).unref();
      }
      for (const s of [...retiring]) {
        if (!gone(s.agent, s.kind)) continue;
        s.transport.closeStandaloneSSEStream();
        setTimeout(() => endRetired(s), 250).unref();
      }
      return n;
    },
    notifyToolsChanged(agents) {
      let n = 0;
      for (const s of sessions.values()) {
        if (!agents.has(s.agent)) continue;
        n++;
        s.server.sendToolListChanged().catch(() => undefined);
      }
      return n;
    },
    list() {
      return [...sessions.values()].map((s) => ({ id: s.id, agent: s.agent, openedAt: s.openedAt }));
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
