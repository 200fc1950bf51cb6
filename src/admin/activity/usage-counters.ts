/**
 * Durable usage: per agent and per Cohere key, per day of the month — calls, refusals, billed
 * units by unit, USD (nano-dollars, priced with the configuration of the moment) — as counters in
 * the shared state (src/store/shared.ts `addFields`: one atomic step per call; a Redis hash with
 * --store, this process's memory otherwise; gathered for 200 ms and written in one step). One source: each replica counts the audit events it
 * records itself (the activity fan-out, activity/activity.ts), so a call is counted once, whatever the
 * activity stream still holds. A month's map lives until the end of the month after next, so the
 * current and the previous month are always there.
 */
import type { App } from "../../runtime/app.js";
import type { AuditEvent } from "../../audit/index.js";
import type { ConfigFile } from "../../config/file.js";
import { costNanos, priceFor } from "../../policy/billing.js";

export const USAGE_KEY_PREFIX = "usage:";
export const usageKey = (month: string) => `${USAGE_KEY_PREFIX}${month}`;

/** Who a counter is about: an agent ("a") or a Cohere key ("k"). */
type Kind = "a" | "k";
/** "calls", "denied", "usd" (nano-dollars) or "u:<billed unit>". */
type Metric = string;

/** A field names its subject as JSON, so no agent or key name can spell another field. */
const fieldOf = (kind: Kind, name: string, day: string, metric: Metric) => JSON.stringify([kind, name, day, metric]);

function parseField(f: string): [Kind, string, string, Metric] | undefined {
  try {
    const v = JSON.parse(f) as unknown;
    if (Array.isArray(v) && v.length === 4 && (v[0] === "a" || v[0] === "k") && v.every((x) => typeof x === "string")) return v as [Kind, string, string, Metric];
  } catch {
    /* not ours */
  }
  return undefined;
}

/** Until the first day of the month after next (UTC), from `now`. */
export function usageTtlMs(month: string, now: number): number {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return Math.max(60_000, Date.UTC(y, m - 1 + 2, 1) - now);
}

/** What one audit event adds; undefined for notices and lines that are not a call's. */
export function usageIncrements(e: AuditEvent, config: ConfigFile | undefined): { month: string; add: Record<string, number> } | undefined {
  if (typeof e.tool !== "string" || typeof e.agent !== "string" || typeof e.time !== "string") return undefined;
  const month = e.time.slice(0, 7);
  const day = e.time.slice(8, 10);
  if (!/^\d{4}-\d{2}$/.test(month) || !/^\d{2}$/.test(day)) return undefined;
  const add: Record<string, number> = {};
  const inc = (kind: Kind, name: string, metric: Metric, n: number) => {
    if (!Number.isSafeInteger(n) || n === 0) return;
    const f = fieldOf(kind, name, day, metric);
    add[f] = (add[f] ?? 0) + n;
  };
  const denied = e.decision === "denied";
  if (denied) {
    // a throttle summary line stands for the refusals it left out
    const n = e.reason === "throttled" && typeof e.suppressed === "number" ? e.suppressed : 1;
    inc("a", e.agent, "denied", n);
    return { month, add };
  }
  const key = typeof e.key === "string" ? e.key : "default";
  const units = e.billedUnits ?? {};
  const prices = config?.prices_usd_per_million;
  const model = typeof (e as { model?: unknown }).model === "string" ? String((e as { model?: unknown }).model) : "";
  const entry = prices && Object.keys(units).length ? priceFor(prices, model) : undefined;
  const usd = entry ? costNanos(units, entry.prices) : undefined;
  for (const [kind, name] of [["a", e.agent], ["k", key]] as const) {
    inc(kind, name, "calls", 1);
    for (const [u, n] of Object.entries(units)) if (typeof n === "number") inc(kind, name, `u:${u}`, Math.round(n));
    if (usd !== undefined) inc(kind, name, "usd", usd);
  }
  return { month, add };
}

/** How long counts are gathered before one atomic write (per month) to the shared state. */
export const USAGE_FLUSH_MS = 200;

/**
 * Count audit events: each call's increments are gathered in this process and written every
 * USAGE_FLUSH_MS in one atomic step per month (one HINCRBY script on Redis instead of one per
 * call), and on close. Never awaited by a call; a failed write is kept and retried at the next
 * flush, and logged once per outage.
 */
export function usageRecorder(app: App, flushMs = USAGE_FLUSH_MS): { count(e: AuditEvent): void; flush(): Promise<void> } {
  let failing = false;
  const pending = new Map<string, Record<string, number>>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;

  const merge = (month: string, add: Readonly<Record<string, number>>) => {
    const into = pending.get(month) ?? {};
    for (const [f, n] of Object.entries(add)) into[f] = (into[f] ?? 0) + n;
    pending.set(month, into);
  };

  const flush = async (): Promise<void> => {
    timer = undefined;
    if (flushing) await flushing;
    if (!pending.size) return;
    const batch = [...pending];
    pending.clear();
    flushing = (async () => {
      for (const [month, add] of batch) {
        try {
          await app.shared.addFields(usageKey(month), add, usageTtlMs(month, Date.now()));
          failing = false;
        } catch (err) {
          merge(month, add); // kept for the next flush
          if (!failing) app.logger.warn("could not count calls in the console's usage; retrying", { error: (err as Error)?.message });
          failing = true;
        }
      }
    })();
    try {
      await flushing;
    } finally {
      flushing = undefined;
    }
    if (pending.size && !timer) schedule(Math.max(flushMs, 1_000));
  };

  const schedule = (ms: number) => {
    timer = setTimeout(() => void flush(), ms);
    timer.unref();
  };

  return {
    count(e) {
      let inc: ReturnType<typeof usageIncrements>;
      try {
        inc = usageIncrements(e, app.live.current.config);
      } catch {
        return;
      }
      if (!inc || !Object.keys(inc.add).length) return;
      merge(inc.month, inc.add);
      if (!timer) schedule(flushMs);
    },
    async flush() {
      if (timer) clearTimeout(timer);
      await flush();
    },
  };
}

export interface UsageTally {
  calls: number;
  denied: number;
  units: Record<string, number>;
  /** nano-dollars; undefined when nothing was priced */
  usdNanos?: number;
  /** day of the month "YYYY-MM-DD" → calls, nano-dollars */
  days: Map<string, { calls: number; usdNanos?: number }>;
}

export const emptyTally = (): UsageTally => ({ calls: 0, denied: 0, units: {}, days: new Map() });

/** A month's counters, per agent and per key. */
export async function readUsage(app: App, month: string): Promise<{ agents: Map<string, UsageTally>; keys: Map<string, UsageTally> }> {
  const raw = await app.shared.fields(usageKey(month));
  const agents = new Map<string, UsageTally>();
  const keys = new Map<string, UsageTally>();
  for (const [f, v] of Object.entries(raw)) {
    const p = parseField(f);
    const n = Number(v);
    if (!p || !Number.isFinite(n)) continue;
    const [kind, name, dd, metric] = p;
    const map = kind === "a" ? agents : keys;
    const t = map.get(name) ?? emptyTally();
    map.set(name, t);
    const day = `${month}-${dd}`;
    const d = t.days.get(day) ?? { calls: 0 };
    if (metric === "calls") {
      t.calls += n;
      d.calls += n;
    } else if (metric === "denied") t.denied += n;
    else if (metric === "usd") {
      t.usdNanos = (t.usdNanos ?? 0) + n;
      d.usdNanos = (d.usdNanos ?? 0) + n;
    } else if (metric.startsWith("u:")) t.units[metric.slice(2)] = (t.units[metric.slice(2)] ?? 0) + n;
    if (metric === "calls" || metric === "usd") t.days.set(day, d);
  }
  return { agents, keys };
}
