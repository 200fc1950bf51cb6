/**
 * How a modern (2026-07-28) client learns that its tools changed: it holds a
 * `subscriptions/listen` stream (served by the SDK's createMcpHandler), and a configuration
 * reload that changes what that client may see sends it `notifications/tools/list_changed` on
 * it. The SDK's own bus tells every subscriber of every change; this one remembers who each
 * subscriber is (its identity and the X-MCP-Tools / ?tools= narrowing of its listen request), so
 * that after a reload each one is re-scoped under the new configuration and only those whose
 * visible tools differ are told. A subscriber whose credential a reload revoked (or whose agent
 * it removed) has its stream ended, as a legacy session's GET stream is.
 *
 * The SDK subscribes a listen stream synchronously inside handler.fetch, so the subscriber is
 * known from the AsyncLocalStorage the modern leg runs each request in (handler.ts).
 *
 * A listen stream lasts, so it is bounded as a legacy session is (legacy/sessions.ts): one agent
 * holds at most its share (agent-cap.ts; 429 beyond) and the replica at most --max-sessions (503
 * beyond), counted per replica, from admission until the response closes, whatever closes it (the client,
 * a reload that revokes it, shutdown, TCP keep-alive finding the peer gone). The refusal comes
 * before the SDK sees the request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServerEvent, ServerEventBus } from "@modelcontextprotocol/server";
import { sameTools } from "../../../policy/allowlist.js";
import type { Identity } from "../../../identity/index.js";
import type { App } from "../../../runtime/app.js";
import { DRAINING_RETRY_AFTER_S, remoteOf, sendJson } from "../io.js";
import { agentCap } from "../agent-cap.js";

/** Who holds a listen stream, and how to end it. */
export interface Listener {
  who: Identity;
  header: string | undefined;
  query: string | undefined;
  visible: ReadonlySet<string>;
  /** End the stream (the request's signal: the SDK tears the subscription down, the response ends). */
  end(): void;
}

/** A reload's verdict on one listener: its tools under the new configuration, or undefined when it may no longer connect. */
export type Rescope = (who: Identity, header: string | undefined, query: string | undefined) => ReadonlySet<string> | undefined;

export class ListenerBus implements ServerEventBus {
  private readonly subs = new Map<(event: ServerEvent) => void, Listener | undefined>();
  /** Open listen streams per agent, and in all (admitted, not yet closed). */
  private readonly held = new Map<string, number>();
  private holding = 0;

  constructor(private readonly current: () => Listener | undefined) {}

  /** The SDK's notifier (handler.notify): every subscriber. */
  publish(event: ServerEvent): void {
    for (const fn of [...this.subs.keys()]) {
      try {
        fn(event);
      } catch {
        /* one subscriber's failure does not stop the others */
      }
    }
  }

  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.subs.set(listener, this.current());
    return () => void this.subs.delete(listener);
  }

  get size(): number {
    return this.subs.size;
  }

  /** Listen streams this agent holds open. */
  heldBy(agent: string): number {
    return this.held.get(agent) ?? 0;
  }

  /** Listen streams open on this replica. */
  get streams(): number {
    return this.holding;
  }

  /** Count a stream of this agent as open; the returned function uncounts it (once, whoever calls it). */
  hold(agent: string): () => void {
    this.held.set(agent, this.heldBy(agent) + 1);
    this.holding++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holding--;
      const left = this.heldBy(agent) - 1;
      if (left > 0) this.held.set(agent, left);
      else this.held.delete(agent);
    };
  }

  /** Open streams per agent (metrics, console). */
  byAgent(): Map<string, number> {
    return new Map(this.held);
  }

  /** After a reload: tell the listeners whose tools changed, end those that were revoked. How many of each. */
  reloaded(rescope: Rescope): { told: number; ended: number } {
    let told = 0;
    let ended = 0;
    for (const [fn, l] of [...this.subs]) {
      if (!l) continue;
      let visible: ReadonlySet<string> | undefined;
      try {
        visible = rescope(l.who, l.header, l.query);
      } catch {
        visible = undefined;
      }
      if (!visible) {
        this.subs.delete(fn);
        l.end();
        ended++;
        continue;
      }
      if (sameTools(visible, l.visible)) continue;
      l.visible = visible;
      try {
        fn({ kind: "tools_list_changed" });
        told++;
      } catch {
        /* the stream is gone */
      }
    }
    return { told, ended };
  }

  /** Shutdown: end every stream. */
  endAll(): void {
    for (const l of this.subs.values()) l?.end();
  }
}

/** Idle time before TCP keep-alive probes start on a listen stream's connection. */
export const LISTEN_KEEPALIVE_IDLE_MS = 60_000;

/**
 * Admit a new listen stream of `who` (profile `profile`), or answer the refusal: 503 while the
 * server drains (the stream would be cut a moment later; a load balancer retries elsewhere), 429
 * when the agent holds its share, 503 when the replica holds --max-sessions streams. Admitted:
 * its slot is freed when `res` closes.
 */
export function admitListener(
  app: App,
  bus: ListenerBus,
  req: IncomingMessage,
  res: ServerResponse,
  who: Identity,
  profile: string | undefined,
  id: unknown,
  draining: boolean,
): boolean {
  const log = app.logger;
  const agent = who.agent;
  if (draining) {
    log.info("refused a subscriptions/listen stream: shutting down", { agent, remote: remoteOf(req) });
    sendJson(
      res,
      503,
      { jsonrpc: "2.0", id: id ?? null, error: { code: -32000, message: "Service Unavailable: this server is shutting down and opens no new subscriptions/listen streams; retry (another replica will answer)" } },
      { "Retry-After": String(DRAINING_RETRY_AFTER_S), Connection: "close" },
    );
    return false;
  }
  const { cap, source } = agentCap(app, who.kind, profile);
  const mine = bus.heldBy(agent);
  const refuse = (status: number, message: string) =>
    sendJson(res, status, { jsonrpc: "2.0", id: id ?? null, error: { code: -32000, message } }, { "Retry-After": "30" });
  if (mine >= cap) {
    log.warn("refused a subscriptions/listen stream: the agent holds its share", { agent, open: mine, cap, remote: remoteOf(req) });
    refuse(
      429,
      `Too many open subscriptions/listen streams for agent "${agent}": it holds ${mine}, its cap is ${cap} (${source}); ` +
        "close one it no longer needs, retry later, or have the operator raise the profile's limits.max_sessions or --max-sessions-per-agent",
    );
    return false;
  }
  const max = app.options.maxSessions;
  if (bus.streams >= max) {
    log.warn("refused a subscriptions/listen stream: too many open", { agent, open: bus.streams, max, remote: remoteOf(req) });
    refuse(503, `Too many open subscriptions/listen streams on this server (${max}, --max-sessions); retry later`);
    return false;
  }
  res.once("close", bus.hold(agent));
  // A client that vanishes without closing (its host or network gone) would hold its slot for
  // good: the stream may stay silent for hours, and nothing written means nothing fails. TCP
  // keep-alive probes find such a peer (Linux: after this idle time, then 9 probes 75 s apart)
  // and the socket's error closes the response, which frees the slot.
  req.socket.setKeepAlive(true, LISTEN_KEEPALIVE_IDLE_MS);
  return true;
}
