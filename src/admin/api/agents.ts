/**
 * The Agents view: each agent's profile, credentials (labels only), limits, budget this month,
 * Cohere key (its config name), open sessions; creating agents and tokens (the token is shown
 * once and stored only as its SHA-256), revoking, ending sessions, resetting or topping up a
 * budget (an adjustment of this month's counter in the store).
 */
import { randomBytes } from "node:crypto";
import type { App } from "../../runtime/app.js";
import { sha256Hex } from "../../identity/static.js";
import { BUDGET_UNITS, type BudgetUnit } from "../../config/budget.js";
import type { ConfigFile } from "../../config/file.js";
import { budgetKey, periodAt } from "../../policy/budget.js";
import { NANOS_PER_USD } from "../../policy/billing.js";
import { hasNoToken } from "../../policy/diff.js";

export interface AgentView {
  name: string;
  profile: string;
  kind: "static";
  tokens: Array<{ label: string; not_after?: string }>;
  limits: Record<string, unknown>;
  budget: Array<{ unit: string; used: number; limit: number; left: number }>;
  key: string;
  /** Open sessions on every replica (with --store), each with the replica that holds it. */
  sessions: Array<{ id: string; opened_at: string; replica: string }>;
}

export const newToken = () => randomBytes(32).toString("base64url");
export const hashToken = (t: string) => sha256Hex(t);

type RawAgent = Record<string, unknown>;

/** Labels of an agent's credentials (never a hash or a token). */
export function tokenLabels(a: RawAgent): Array<{ label: string; not_after?: string }> {
  const out: Array<{ label: string; not_after?: string }> = [];
  // the stand-in of an agent whose last token was revoked is no token
  if (hasNoToken(a as Parameters<typeof hasNoToken>[0])) return out;
  if (typeof a.token_sha256 === "string" || typeof a.token_env === "string" || typeof a.token_sha256_env === "string") out.push({ label: "token" });
  if (Array.isArray(a.tokens)) {
    (a.tokens as Array<Record<string, unknown>>).forEach((t, i) =>
      out.push({ label: String(t.label ?? `token ${i + 1}`), ...(typeof t.not_after === "string" ? { not_after: t.not_after } : {}) }),
    );
  }
  return out;
}

const toUnits = (unit: BudgetUnit, n: number) => (unit === "usd" ? n / NANOS_PER_USD : n);

export async function listAgents(app: App, raw: Record<string, unknown>, config: ConfigFile): Promise<AgentView[]> {
  const sessions = app.sessionFleet
    ? await app.sessionFleet.list().catch(() => (app.openSessions?.() ?? []).map((x) => ({ ...x, replica: app.options.replicaId })))
    : (app.openSessions?.() ?? []).map((x) => ({ ...x, replica: app.options.replicaId }));
  const period = periodAt(Date.now(), app.options.budgetPeriodMs);
  const rawAgents = (raw.agents as RawAgent[] | undefined) ?? [];
  return Promise.all(
    (config.agents ?? []).map(async (a) => {
      const p = config.profiles[a.profile];
      const budget = p?.budget;
      const units = budget ? BUDGET_UNITS.filter((u) => budget[u] !== undefined) : [];
      const readings = units.length ? await app.store.get(units.map((u) => budgetKey(a.name, period.label, u))).catch(() => []) : [];
      return {
        name: a.name,
        profile: a.profile,
        kind: "static" as const,
        tokens: tokenLabels(rawAgents.find((r) => r.name === a.name) ?? {}),
        limits: { ...(p?.rate_limit ?? {}), ...(p?.limits ?? {}), ...(p?.arguments ? { arguments: p.arguments } : {}) },
        budget: units.map((u, i) => {
          const used = toUnits(u, readings[i]?.count ?? 0);
          const limit = budget![u]!;
          return { unit: u, used, limit, left: Math.max(0, limit - used) };
        }),
        key: p?.cohere_key ?? "default",
        sessions: sessions.filter((s) => s.agent === a.name).map((s) => ({ id: s.id, opened_at: new Date(s.openedAt).toISOString(), replica: s.replica })),
      };
    }),
  );
}

/** Budget adjustment: reset this month's usage to 0, or give back `amount` units. */
export async function adjustBudget(
  app: App,
  config: ConfigFile,
  agent: string,
  action: "reset" | "top_up",
  amount: number | undefined,
  unitAsked: string | undefined,
): Promise<string> {
  const a = config.agents?.find((x) => x.name === agent);
  const budget = a ? config.profiles[a.profile]?.budget : undefined;
  if (!a) throw new Error(`no agent "${agent}"`);
  if (!budget) throw new Error(`${agent}'s profile "${a.profile}" has no budget`);
  const units = BUDGET_UNITS.filter((u) => budget[u] !== undefined);
  const period = periodAt(Date.now(), app.options.budgetPeriodMs);
  const ttl = period.end - Date.now() + 24 * 3600_000;
  if (action === "reset") {
    const readings = await app.store.get(units.map((u) => budgetKey(agent, period.label, u)));
    await Promise.all(units.map((u, i) => (readings[i]!.count ? app.store.add(budgetKey(agent, period.label, u), -readings[i]!.count, ttl) : undefined)));
    return `reset ${agent}'s budget for ${period.label} (${units.join(", ")} used back to 0)`;
  }
  const unit = (unitAsked ?? units[0]) as BudgetUnit;
  if (!units.includes(unit)) throw new Error(`${agent}'s budget has no unit "${unitAsked}"; it has ${units.join(", ")}`);
  const stored = unit === "usd" ? Math.round(amount! * NANOS_PER_USD) : amount!;
  await app.store.add(budgetKey(agent, period.label, unit), -stored, ttl);
  return `topped up ${agent}'s budget for ${period.label} by ${amount} ${unit}`;
}
