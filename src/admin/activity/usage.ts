/**
 * Usage for a month, per agent and per Cohere key: calls, refusals, billed units, USD (where
 * prices are configured) and a day-by-day series — read from the durable usage counters
 * (./usage-counters.ts: every call each replica recorded, whatever the activity stream still
 * holds), plus each agent's budget reading.
 */
import type { App } from "../../runtime/app.js";
import type { ConfigFile } from "../../config/file.js";
import { NANOS_PER_USD } from "../../policy/billing.js";
import { listAgents } from "../api/agents.js";
import { emptyTally, readUsage, type UsageTally } from "./usage-counters.js";

const usd = (nanos: number) => Math.round((nanos / NANOS_PER_USD) * 1e6) / 1e6;

export async function usage(app: App, raw: Record<string, unknown>, config: ConfigFile, month: string) {
  const { agents, keys } = await readUsage(app, month);
  const views = await listAgents(app, raw, config);
  const budgets = new Map(views.map((v) => [v.name, v.budget]));
  for (const v of views) if (!agents.has(v.name)) agents.set(v.name, emptyTally());
  const shape = (t: UsageTally) => ({
    calls: t.calls,
    denied: t.denied,
    units: t.units,
    ...(t.usdNanos !== undefined ? { usd: usd(t.usdNanos) } : {}),
    days: [...t.days]
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([day, v]) => ({ day, calls: v.calls, ...(v.usdNanos !== undefined ? { usd: usd(v.usdNanos) } : {}) })),
  });
  const byName = <T>(m: Map<string, T>) => [...m].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return {
    month,
    agents: byName(agents).map(([agent, t]) => ({ agent, ...shape(t), ...(budgets.get(agent)?.length ? { budget: budgets.get(agent) } : {}) })),
    keys: byName(keys).map(([key, t]) => ({ key, ...shape(t) })),
  };
}
