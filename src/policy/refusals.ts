/**
 * Refused calls are not free (issue 8, finding 3). Every refused tools/call — unknown tool, not
 * in the profile, invalid input, malformed params, an argument rule, no confirmation — is
 *
 *   1. charged to the agent's rate_limit.per_minute window when its profile has one (the same
 *      window allowed calls take from; a call refused by the rate limit itself is not charged
 *      twice), so an agent cannot repeat refused calls faster than good ones;
 *   2. counted by a per-agent refusal throttle (--max-refusals-per-minute, profile
 *      limits.refusals_per_minute; 0 turns it off): past it, refusals get a short 429-style
 *      error and are not audited one by one; one summary line per window says how many were
 *      suppressed, so even an agent without a rate_limit cannot fill the disk.
 *
 * Counters go through the app's CounterStore (shared by replicas).
 */
import type { ConfigFile } from "../config/file.js";
import type { AuditSink, DenyReason } from "../audit/index.js";
import type { Logger } from "../runtime/logger.js";
import type { CounterStore } from "../store/types.js";
import { minuteKey } from "./ratelimit.js";
import { WindowThrottle } from "./throttle.js";
import type { AgentScope } from "./types.js";

export interface RefusalVerdict {
  /** Write this refusal's audit line (false: it is counted in the window's summary instead). */
  write: boolean;
  /** Throttled: said to the agent before the refusal's own message (which still says why, and
   *  when a limit renews). */
  prefix?: string;
}

export interface RefusalPolicy {
  refused(scope: Pick<AgentScope, "agent" | "profile" | "transport">, reason: DenyReason): Promise<RefusalVerdict>;
  /** Write pending summaries (shutdown). */
  close(): Promise<void>;
}

export interface RefusalOptions {
  /** The current configuration (read at each refusal: a reload may change the limits). */
  config: () => ConfigFile | undefined;
  /** Read at each use (the app may swap its store after start-up). */
  store: () => CounterStore;
  /** Server default (--max-refusals-per-minute); 0: off. */
  maxPerMinute: number;
  /** Length of a "minute" (tests shorten it). */
  windowMs: number;
  audit: () => AuditSink | undefined;
  logger: Logger;
  now?: () => number;
}

interface Meta {
  transport: AgentScope["transport"];
  limit: number;
  source: string;
}

export function createRefusalPolicy(o: RefusalOptions): RefusalPolicy {
  const now = o.now ?? Date.now;
  const per = o.windowMs === 60_000 ? "a minute" : `per ${o.windowMs / 1000} s`;
  const throttle = new WindowThrottle<Meta>(
    o.store,
    "rf",
    o.windowMs,
    (s) => {
      const from = new Date(s.from).toISOString();
      const to = new Date(s.to).toISOString();
      o.audit()?.record({
        time: to,
        agent: s.subject,
        transport: s.meta.transport,
        tool: "(refused calls)",
        decision: "denied",
        reason: "throttled",
        detail: `past ${s.meta.limit} ${per}, ${s.meta.source}`,
        suppressed: s.suppressed,
        windowFrom: from,
        windowTo: to,
        latencyMs: 0,
      });
      o.logger.warn("refused calls past the refusal throttle were not audited one by one", {
        agent: s.subject,
        suppressed: s.suppressed,
        from,
        to,
      });
    },
    now,
  );
  return {
    async refused(scope, reason) {
      const profile = scope.profile ? o.config()?.profiles[scope.profile] : undefined;
      try {
        const perMinute = profile?.rate_limit?.per_minute;
        if (perMinute !== undefined && reason !== "rate_limit" && reason !== "throttled") {
          // The call is refused anyway: a store that cannot be reached only loses this charge.
          await o.store().take([{ key: minuteKey(scope.agent), limit: perMinute, ttlMs: o.windowMs }]).catch(() => undefined);
        }
        const own = profile?.limits?.refusals_per_minute;
        const limit = own ?? o.maxPerMinute;
        if (limit <= 0) return { write: true };
        const source = own !== undefined ? `profile "${scope.profile}" limits.refusals_per_minute` : "--max-refusals-per-minute";
        const hit = await throttle.hit(scope.agent, limit, { transport: scope.transport, limit, source });
        if (hit.allowed) return { write: true };
        const retryS = Math.max(1, Math.ceil((hit.resetAt - now()) / 1000));
        return {
          write: false,
          prefix:
            `Refused (${reason.replace(/_/g, " ")}), and rate limited (429): agent "${scope.agent}" has had more than ` +
            `${limit} refused calls ${per} (${source}). Nothing was sent to Cohere. Fix the calls; retry in ${retryS} s.`,
        };
      } catch (err) {
        // Not expected (the throttle counts in this process while the store is down): audit rather than lose the line.
        o.logger.error("the refusal throttle could not count a refusal", { agent: scope.agent, error: (err as Error)?.message });
        return { write: true };
      }
    },
    close: () => throttle.close(),
  };
}
