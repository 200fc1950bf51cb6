/**
 * Each agent's share of the upstream connections (issue 8, finding 6). All agents share one pool
 * of 64 connections to Cohere: without a share, one agent holding 150 slow calls made another
 * agent's fast call wait 14–15 s. A Guard: a call takes one of its agent's slots before anything
 * is sent and gives it back in `after`, exactly once, however the call ends. A call over the
 * limit waits (first come, first served) up to --concurrency-wait-ms for a slot, then is refused
 * with a clear message and nothing sent.
 *
 * The limit is profile `limits.max_concurrent_calls`, else --max-concurrent-calls for HTTP
 * agents (stdio has one agent: no default limit there). Slots are a gauge of this process's own
 * connections, so they are counted in memory, not in the shared CounterStore.
 */
import type { ConfigFile } from "../config/file.js";
import type { AgentScope, Guard, GuardVerdict } from "./types.js";

export interface ConcurrencyOptions {
  /** The current configuration (read per call: a reload may change the profile's share). */
  config: () => ConfigFile | undefined;
  /** Default limit for HTTP agents (--max-concurrent-calls). */
  httpDefault: number;
  /** How long a call over the limit waits for a slot (--concurrency-wait-ms). */
  waitMs: number;
}

interface Slots {
  active: number;
  waiting: Array<() => void>;
}

export function concurrencyGuard(o: ConcurrencyOptions): Guard & { active(agent: string): number } {
  const agents = new Map<string, Slots>();
  const limitOf = (scope: AgentScope): { limit: number; source: string } | undefined => {
    const own = scope.profile ? o.config()?.profiles[scope.profile]?.limits?.max_concurrent_calls : undefined;
    if (own !== undefined) return { limit: own, source: `profile "${scope.profile}" limits.max_concurrent_calls` };
    return scope.transport === "http" ? { limit: o.httpDefault, source: "--max-concurrent-calls" } : undefined;
  };
  const release = (agent: string, slots: Slots) => {
    const next = slots.waiting.shift();
    if (next) return next(); // the slot passes to the first waiter
    slots.active--;
    if (slots.active === 0) agents.delete(agent);
  };
  return {
    active: (agent) => agents.get(agent)?.active ?? 0,
    // no limit (stdio without one): no async function run
    check(scope): Promise<GuardVerdict> {
      const l = limitOf(scope);
      return l ? acquire(scope, l) : Promise.resolve({ ok: true });
    },
  };
  async function acquire(scope: AgentScope, l: { limit: number; source: string }): Promise<GuardVerdict> {
    let slots = agents.get(scope.agent);
    if (!slots) agents.set(scope.agent, (slots = { active: 0, waiting: [] }));
    const s = slots;
    let released = false;
    const after = () => {
      if (released) return;
      released = true;
      release(scope.agent, s);
    };
    if (s.active < l.limit) {
      s.active++;
      return { ok: true, after };
    }
    const got = await new Promise<boolean>((resolve) => {
      const take = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = s.waiting.indexOf(take);
        if (i >= 0) s.waiting.splice(i, 1);
        resolve(false);
      }, o.waitMs);
      timer.unref();
      s.waiting.push(take);
    });
    if (got) return { ok: true, after };
    return {
      ok: false,
      reason: "concurrency",
      message:
        `Too many calls in flight (429): agent "${scope.agent}" already has ${l.limit} calls running at Cohere, its limit ` +
        `(${l.source}); this call waited ${o.waitMs} ms for one to finish. Nothing was sent to Cohere. ` +
        "Wait for a running call to finish, then retry.",
      detail: `${l.limit} calls in flight (${l.source}); waited ${o.waitMs} ms`,
    };
  }
}
