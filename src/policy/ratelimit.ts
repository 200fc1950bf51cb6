/**
 * Per-agent call limits from a profile's `rate_limit`: calls per minute (all tools), calls per
 * minute to one tool, and a monthly call budget. A Guard in callTool, run after the argument
 * rules, so only calls that would be sent count.
 *
 * Counters live in a CounterStore (src/store), keyed by agent name; every limit that applies to
 * a call is taken in one atomic step, so a store shared by replicas keeps the limit across all
 * of them. Windows are fixed and start at a key's first hit: a minute limit of 2 allows 2 calls in
 * the minute after the first, then refuses with the seconds left until that minute ends.
 */
import { ConfigError, type ConfigFile } from "../config/file.js";
import type { ToolDef } from "../catalog/types.js";
import type { CounterStore, WindowSpec } from "../store/types.js";
import type { AgentScope, Guard } from "./types.js";
import { keyPart } from "../store/keys.js";

export { MemoryCounterStore } from "../store/memory.js";

export interface RateLimitOptions {
  /** Length of a "minute" (tests shorten it). */
  windowMs?: number;
  now?: () => number;
}

/** First instant of the next calendar month, UTC. */
export function monthEnd(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function monthLabel(t: number): string {
  return new Date(t).toISOString().slice(0, 7);
}

/** Refuse per_tool_per_minute keys that name no tool (a typo would silently not limit). */
export function checkRateLimitConfig(config: ConfigFile | undefined, toolNames: ReadonlySet<string>): void {
  const problems: string[] = [];
  for (const [name, p] of Object.entries(config?.profiles ?? {})) {
    for (const tool of Object.keys(p.rate_limit?.per_tool_per_minute ?? {})) {
      if (!toolNames.has(tool)) problems.push(`profiles.${name}.rate_limit.per_tool_per_minute: "${tool}" is not a tool name`);
    }
  }
  if (problems.length) throw new ConfigError(`Invalid rate limits:\n  - ${problems.join("\n  - ")}`);
}

/** The agent's per_minute window (refused calls are charged to it too: src/policy/refusals.ts). */
export const minuteKey = (agent: string): string => `rl:${keyPart(agent)}:minute`;

interface Limit extends WindowSpec {
  what: string;
  rule: string;
}

export function rateLimitGuard(config: ConfigFile | undefined, store: CounterStore, opts: RateLimitOptions = {}): Guard {
  const windowMs = opts.windowMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const per = windowMs === 60_000 ? "per minute" : `per ${windowMs / 1000} s`;
  return {
    async check(scope: AgentScope, tool: ToolDef) {
      const rl = scope.profile ? config?.profiles[scope.profile]?.rate_limit : undefined;
      if (!rl) return { ok: true };
      const t = now();
      const a = scope.agent;
      const limits: Limit[] = [];
      if (rl.per_minute !== undefined) {
        limits.push({ key: minuteKey(a), limit: rl.per_minute, ttlMs: windowMs, what: `calls ${per}`, rule: "per_minute" });
      }
      const perTool = rl.per_tool_per_minute?.[tool.name];
      if (perTool !== undefined) {
        limits.push({
          key: `rl:${keyPart(a)}:tool:${keyPart(tool.name)}:minute`,
          limit: perTool,
          ttlMs: windowMs,
          what: `${tool.name} calls ${per}`,
          rule: `per_tool_per_minute.${tool.name}`,
        });
      }
      if (rl.per_month !== undefined) {
        limits.push({
          key: `rl:${keyPart(a)}:month:${monthLabel(t)}`,
          limit: rl.per_month,
          ttlMs: monthEnd(t) - t,
          what: "calls this month (UTC)",
          rule: "per_month",
        });
      }
      if (!limits.length) return { ok: true };
      const taken = await store.take(limits);
      if (!taken.ok) {
        const l = limits[taken.index]!;
        const retryS = Math.max(1, Math.ceil((taken.resetAt - now()) / 1000));
        const when = l.rule === "per_month" ? ` (the budget renews ${new Date(taken.resetAt).toISOString()})` : "";
        return {
          ok: false,
          reason: "rate_limit",
          message:
            `Rate limited (429): agent "${a}" has used its ${l.limit} ${l.what} ` +
            `(profile "${scope.profile}", rate_limit.${l.rule}); nothing was sent to Cohere. ` +
            `Retry in ${retryS} s${when}.`,
          detail: `rate_limit.${l.rule} of profile "${scope.profile}": ${l.limit} ${l.what} used; retry in ${retryS} s`,
        };
      }
      return { ok: true };
    },
  };
}
