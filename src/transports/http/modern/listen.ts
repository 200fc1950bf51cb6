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
 * known from the AsyncLocalStorage the modern leg runs each request in (modern.ts).
 */
import type { ServerEvent, ServerEventBus } from "@modelcontextprotocol/server";
import { sameTools } from "../../../policy/allowlist.js";
import type { Identity } from "../../../identity/index.js";

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
