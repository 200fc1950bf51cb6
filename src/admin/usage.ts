/**
 * Usage for a month, per agent and per Cohere key: calls, refusals, billed units, USD (where
 * prices are configured) and a day-by-day series — summed from the activity stream (so it covers
 * what the stream still holds: --activity-max events), plus each agent's budget reading.
 */
import type { App } from "../runtime/app.js";
import type { ConfigFile } from "../config/file.js";
import { queryActivity } from "./activity.js";
import { listAgents } from "./agents.js";

interface Tally {
  calls: number;
  denied: number;
  units: Record<string, number>;
  usd?: number;
  days: Map<string, { calls: number; usd?: number }>;
}

const tally = (): Tally => ({ calls: 0, denied: 0, units: {}, days: new Map() });

function priceOf(config: ConfigFile, e: Record<string, unknown>): number | undefined {
  const prices = config.prices_usd_per_million as Record<string, Record<string, number>> | undefined;
  const units = e.billedUnits as Record<string, number> | undefined;
  if (!prices || !units) return undefined;
  const model = typeof e.model === "string" ? e.model : undefined;
  const table = (model && prices[model]) || prices["*"] || prices.default;
  if (!table) return undefined;
  let usd = 0;
  for (const [u, n] of Object.entries(units)) usd += ((table[u] ?? 0) * n) / 1_000_000;
  return usd;
}

function add(t: Tally, e: Record<string, unknown>, day: string, usd: number | undefined): void {
  const denied = e.decision === "denied";
  if (denied) t.denied++;
  else t.calls++;
  for (const [u, n] of Object.entries((e.billedUnits as Record<string, number>) ?? {})) t.units[u] = (t.units[u] ?? 0) + n;
  if (usd !== undefined) t.usd = (t.usd ?? 0) + usd;
  const d = t.days.get(day) ?? { calls: 0 };
  if (!denied) d.calls++;
  if (usd !== undefined) d.usd = (d.usd ?? 0) + usd;
  t.days.set(day, d);
}

export async function usage(app: App, raw: Record<string, unknown>, config: ConfigFile, month: string) {
  const start = Date.parse(`${month}-01T00:00:00Z`);
  const d = new Date(start);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const items = await queryActivity(app, { since: start, until: end }, app.options.activityMax);
  const agents = new Map<string, Tally>();
  const keys = new Map<string, Tally>();
  for (const it of items) {
    const e = it.event;
    if (typeof e.tool !== "string" || typeof e.agent !== "string") continue; // notices
    const day = it.time.slice(0, 10);
    const usd = priceOf(config, e);
    const a = agents.get(e.agent) ?? tally();
    add(a, e, day, usd);
    agents.set(e.agent, a);
    if (e.decision !== "denied") {
      const keyName = typeof e.key === "string" ? e.key : "default";
      const k = keys.get(keyName) ?? tally();
      add(k, e, day, usd);
      keys.set(keyName, k);
    }
  }
  const views = await listAgents(app, raw, config);
  const budgets = new Map(views.map((v) => [v.name, v.budget]));
  for (const v of views) if (!agents.has(v.name)) agents.set(v.name, tally());
  const shape = (t: Tally) => ({
    calls: t.calls,
    denied: t.denied,
    units: t.units,
    ...(t.usd !== undefined ? { usd: Math.round(t.usd * 1e6) / 1e6 } : {}),
    days: [...t.days].sort(([x], [y]) => (x < y ? -1 : 1)).map(([day, v]) => ({ day, calls: v.calls, ...(v.usd !== undefined ? { usd: v.usd } : {}) })),
  });
  return {
    month,
    agents: [...agents].map(([agent, t]) => ({ agent, ...shape(t), ...(budgets.get(agent)?.length ? { budget: budgets.get(agent) } : {}) })),
    keys: [...keys].map(([key, t]) => ({ key, ...shape(t) })),
  };
}
