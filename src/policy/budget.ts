/**
 * A profile's `budget`: per agent, per calendar month (UTC), caps on calls, on each of Cohere's
 * billed units, and on US dollars priced with the config's `prices_usd_per_million`.
 *
 * How a call is counted (all through the CounterStore, so replicas sharing a store share it):
 *   1. Before anything is sent, the call RESERVES what it may bill: 1 call; for each budgeted unit
 *      the tool can bill, its reservation (billing.ts: max_tokens for output tokens, one search
 *      unit per 100 documents, one classification per input, else the profile's `reserve` or 1);
 *      and their price. One atomic `take` over every budgeted counter: the call is refused, with
 *      nothing added, when any counter has no room for its reservation.
 *   2. When the call ends, each counter is corrected from the reservation to what Cohere billed
 *      (`billed_units` in the answer; nothing when nothing was sent).
 *
 * So the sum of what was billed and what calls in flight hold never passes a limit when a call is
 * admitted. A budget is overshot only by what calls bill beyond their reservation: at most, per
 * counter, the sum over the calls in flight of (billed − reserved). With max_tokens on every call
 * (the `arguments.max_tokens` rule makes it required), output tokens never overshoot.
 */
import type { ToolDef } from "../catalog/types.js";
import { BILLED_UNITS, type BilledUnit, type Budget, type BudgetUnit } from "../config/budget.js";
import { ConfigError, type ConfigFile } from "../config/file.js";
import type { CallOutcome } from "../call/executor.js";
import type { Logger } from "../runtime/logger.js";
import type { CounterStore, WindowSpec } from "../store/types.js";
import { billedUnitsOf, costNanos, estimatedBill, modelOf, NANOS_PER_USD, priceFor, reservation, reservationWhy, usdText } from "./billing.js";
import { monthEnd } from "./ratelimit.js";
import type { AgentScope, Guard, GuardVerdict, SettleNote } from "./types.js";
import { keyPart } from "../store/keys.js";

export interface BudgetOptions {
  now?: () => number;
  /** Tests only: budgets renew every this many ms instead of every calendar month. */
  periodMs?: number;
  logger?: Logger;
}

export interface Period {
  /** "2026-01", or "p12345" for a test period. */
  label: string;
  start: number;
  end: number;
  /** "this month (2026-01, UTC)" */
  text: string;
}

export function periodAt(t: number, periodMs?: number): Period {
  if (periodMs) {
    const n = Math.floor(t / periodMs);
    return { label: `p${n}`, start: n * periodMs, end: (n + 1) * periodMs, text: `this period (${periodMs} ms)` };
  }
  const d = new Date(t);
  const label = d.toISOString().slice(0, 7);
  return { label, start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: monthEnd(t), text: `this month (${label}, UTC)` };
}

const UNIT_TEXT: Record<BudgetUnit, [string, string]> = {
  calls: ["call", "calls"],
  input_tokens: ["input token", "input tokens"],
  output_tokens: ["output token", "output tokens"],
  search_units: ["search unit", "search units"],
  classifications: ["classification", "classifications"],
  pages: ["page", "pages"],
  usd: ["USD", "USD"],
};

/** `1,200`, `$3.20` */
export function numberText(unit: BudgetUnit, n: number): string {
  return unit === "usd" ? usdText(n) : n.toLocaleString("en-US");
}

/** `1,200 output tokens`, `$3.20` */
export function amountText(unit: BudgetUnit, n: number): string {
  if (unit === "usd") return usdText(n);
  const [one, many] = UNIT_TEXT[unit];
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** `3 d 4 h`, `12 min`, `40 s` */
export function durationText(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.floor(s / 3600);
  if (h < 48) return `${h} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A limit in store units (USD → nano-dollars). */
export function limitOf(budget: Budget, unit: BudgetUnit): number | undefined {
  const v = budget[unit];
  if (v === undefined) return undefined;
  return unit === "usd" ? Math.round(v * NANOS_PER_USD) : v;
}

export const budgetKey = (agent: string, period: string, unit: BudgetUnit) => `budget:${keyPart(agent)}:${period}:${unit}`;
/** The gateway-wide budget's counters (no agent name can make this key: it has no `budget:` prefix). */
export const gatewayBudgetKey = (period: string, unit: BudgetUnit) => `gateway-budget:${period}:${unit}`;

/** Start-up and reload checks: a USD budget needs a price table. */
export function checkBudgetConfig(config: ConfigFile | undefined): void {
  const problems: string[] = [];
  const prices = config?.prices_usd_per_million;
  for (const [name, p] of Object.entries(config?.profiles ?? {})) {
    if (p.budget?.usd !== undefined && (!prices || Object.keys(prices).length === 0)) {
      problems.push(
        `profiles.${name}.budget.usd needs a price table: add "prices_usd_per_million" with your prices per model (USD per 1,000,000 units)`,
      );
    }
  }
  if (config?.budget?.usd !== undefined && (!prices || Object.keys(prices).length === 0)) {
    problems.push(
      `budget.usd (the gateway-wide budget) needs a price table: add "prices_usd_per_million" with your prices per model (USD per 1,000,000 units)`,
    );
  }
  if (problems.length) throw new ConfigError(`Invalid budgets:\n  - ${problems.join("\n  - ")}`);
}

interface Held extends WindowSpec {
  unit: BudgetUnit;
  cost: number;
  account: Account;
}

/** A budget a call is counted against: its agent's (from its profile), or the gateway's. */
interface Account {
  budget: Budget;
  key(unit: BudgetUnit): string;
  /** `agent "a"` / `the gateway (all agents together)` */
  who: string;
  /** `profile "p", budget.usd` / `the config's top-level budget.usd` */
  where(unit: BudgetUnit): string;
  /** For the audit: `budget.usd of profile "p"` / `gateway budget.usd` */
  field(unit: BudgetUnit): string;
}

export interface BudgetReading {
  unit: BudgetUnit;
  /** In store units (nano-dollars for usd). */
  used: number;
  limit: number;
}

export interface BudgetGuard extends Guard {
  /** What an agent has used of each budgeted unit in the current period (metrics). */
  usage(agent: string, profile: string | undefined): Promise<BudgetReading[]>;
  /** What all agents together have used of the gateway-wide budget (metrics); [] without one. */
  gatewayUsage(): Promise<BudgetReading[]>;
}

export function budgetGuard(config: ConfigFile | undefined, store: CounterStore, opts: BudgetOptions = {}): BudgetGuard {
  const now = opts.now ?? Date.now;
  const prices = config?.prices_usd_per_million;
  const warned = new Set<string>();
  const budgetOf = (profile: string | undefined) => (profile ? config?.profiles[profile]?.budget : undefined);

  const refuse = (message: string, detail: string): GuardVerdict => ({ ok: false, reason: "budget", message, detail });

  const gateway = config?.budget;
  const readings = async (budget: Budget, key: (u: BudgetUnit) => string): Promise<BudgetReading[]> => {
    const units = (["calls", ...BILLED_UNITS, "usd"] as const).filter((u) => budget[u] !== undefined);
    const got = await store.get(units.map(key));
    return units.map((u, i) => ({ unit: u, used: Math.max(0, got[i]!.count), limit: limitOf(budget, u)! }));
  };

  return {
    async usage(agent, profile) {
      const budget = budgetOf(profile);
      if (!budget) return [];
      const p = periodAt(now(), opts.periodMs);
      return readings(budget, (u) => budgetKey(agent, p.label, u));
    },

    async gatewayUsage() {
      if (!gateway) return [];
      const p = periodAt(now(), opts.periodMs);
      return readings(gateway, (u) => gatewayBudgetKey(p.label, u));
    },

    async check(scope: AgentScope, tool: ToolDef, input: Record<string, unknown>): Promise<GuardVerdict> {
      const own = budgetOf(scope.profile);
      if (!own && !gateway) return { ok: true };
      const t = now();
      const period = periodAt(t, opts.periodMs);
      const ttlMs = Math.max(1, period.end - t);
      const billed = billedUnitsOf(tool);
      const agent = scope.agent;
      const accounts: Account[] = [];
      if (own) {
        accounts.push({
          budget: own,
          key: (u) => budgetKey(agent, period.label, u),
          who: `agent "${agent}"`,
          where: (u) => `profile "${scope.profile}", budget.${u}`,
          field: (u) => `budget.${u} of profile "${scope.profile}"`,
        });
      }
      if (gateway) {
        accounts.push({
          budget: gateway,
          key: (u) => gatewayBudgetKey(period.label, u),
          who: "the gateway (all agents together)",
          where: (u) => `the config's top-level budget.${u}, shared by all agents`,
          field: (u) => `gateway budget.${u}`,
        });
      }
      // Both budgets are reserved in one atomic take: a call fits both, or neither counts it.
      const held: Held[] = [];
      /** What the call reserves, by unit (its agent's budget's `reserve` when it has one): a bill-less call's estimate starts here. */
      let reservedFirst: Partial<Record<BilledUnit, number>> | undefined;
      const model = modelOf(input);
      const entry = billed.length && accounts.some((a) => a.budget.usd !== undefined) ? priceFor(prices, model) : undefined;
      for (const a of accounts) {
        const budget = a.budget;
        const hold = (unit: BudgetUnit, cost: number) => held.push({ unit, cost, account: a, key: a.key(unit), limit: limitOf(budget, unit)!, ttlMs });
        if (budget.calls !== undefined) hold("calls", 1);
        const reserved: Partial<Record<BilledUnit, number>> = {};
        for (const u of billed) reserved[u] = reservation(tool, input, u, budget.reserve);
        reservedFirst ??= reserved;
        for (const u of billed) if (budget[u] !== undefined) hold(u, reserved[u]!);

        // USD: priced with the entry for the call's model; a call that bills nothing costs nothing.
        if (budget.usd !== undefined && billed.length) {
          if (!entry) {
            const message =
              `Budget: ${a.who} has a USD budget (${a.where("usd")}) but the price table has no entry for model "${model}", ` +
              `so the cost of this call cannot be counted; nothing was sent to Cohere. An operator can add "${model}" (or a "*" entry) ` +
              'to "prices_usd_per_million" in the config file.';
            return refuse(message, `no price for model "${model}" in prices_usd_per_million (${a.field("usd")})`);
          }
          const unpriced = billed.filter((u) => entry.prices[u] === undefined);
          if (unpriced.length) {
            const message =
              `Budget: the price table entry "${entry.pattern}" has no price for ${unpriced.join(", ")}, which ${tool.name} bills, so ` +
              `${a.who}'s USD budget (${a.where("usd")}) cannot count this call; nothing was sent to Cohere. An operator can add ` +
              `${unpriced.map((u) => `"${u}"`).join(" and ")} to prices_usd_per_million."${entry.pattern}".`;
            return refuse(message, `prices_usd_per_million."${entry.pattern}" lacks ${unpriced.join(", ")}`);
          }
          hold("usd", Math.max(1, costNanos(reserved, entry.prices)));
        }
      }
      if (!held.length) return { ok: true };
      // Every figure a budget counts is a whole number the store holds exactly (max_tokens 1e308 ×
      // num_generations 5 is Infinity; at a price of 0, NaN): refused here, before anything is
      // counted or sent, so one call's figures can never poison a counter or look like an outage.
      const wild = held.find((h) => !Number.isSafeInteger(h.cost) || h.cost < 0);
      if (wild) {
        const why = wild.unit === "usd" ? "its price" : reservationWhy(tool, input, wild.unit as BilledUnit);
        const hint = wild.unit === "output_tokens" ? " Give a max_tokens (× num_generations) of at most a few hundred thousand." : "";
        return refuse(
          `Budget: this call may bill ${String(wild.cost)} ${wild.unit === "usd" ? "nano-dollars" : UNIT_TEXT[wild.unit][1]} (${why}), ` +
            `more than ${wild.account.who}'s budget (${wild.account.where(wild.unit)}) can count; nothing was sent to Cohere.${hint}`,
          `${wild.account.field(wild.unit)}: reservation ${String(wild.cost)} is not a finite whole number`,
        );
      }

      const taken = await store.take(held);
      if (!taken.ok) {
        const h = held[taken.index]!;
        const a = h.account;
        const used = Math.max(0, taken.count);
        const resets = `${new Date(period.end).toISOString()} (in ${durationText(period.end - t)})`;
        if (used >= h.limit) {
          return refuse(
            `Budget spent: ${a.who} has used ${numberText(h.unit, used)} of its ${amountText(h.unit, h.limit)} ` +
              `${period.text} (${a.where(h.unit)}; calls still in flight count with what they may bill); nothing was sent to Cohere. ` +
              `The budget resets at ${resets}.`,
            `${a.field(h.unit)}: ${amountText(h.unit, used)} of ${amountText(h.unit, h.limit)} used ${period.text}; resets ${resets}`,
          );
        }
        const why = h.unit === "usd" ? "at its price" : reservationWhy(tool, input, h.unit as BilledUnit);
        const hint = h.unit === "output_tokens" && why.startsWith("its max_tokens") ? "Lower max_tokens, or wait: " : "";
        return refuse(
          `Budget too low for this call: it may bill up to ${amountText(h.unit, h.cost)} (${why}) and ${a.who} has only ` +
            `${numberText(h.unit, h.limit - used)} of its ${amountText(h.unit, h.limit)} left ${period.text} (${a.where(h.unit)}); ` +
            `nothing was sent to Cohere. ${hint}The budget resets at ${resets}.`,
          `${a.field(h.unit)}: needs ${amountText(h.unit, h.cost)}, ${amountText(h.unit, h.limit - used)} left`,
        );
      }

      return {
        ok: true,
        after: async (outcome: CallOutcome): Promise<SettleNote | undefined> => {
          // A sent call is charged what Cohere billed. Without a bill (cancelled, cut by
          // --request-timeout-ms, a stream cut before its last event, a 200 without usage),
          // Cohere may well have generated and billed it: it keeps its whole reservation, and a
          // cut stream at least what it delivered (estimated) — never less. Only Cohere's own
          // error answer (an HTTP error status: Cohere bills no failed request) gives it back.
          const estimate = outcome.sent && !outcome.billedUnits && outcome.failure !== "cohere_error" && billed.length > 0;
          const bill = outcome.sent ? (estimate ? estimatedBill(tool, input, reservedFirst ?? {}, outcome) : (outcome.billedUnits ?? {})) : {};
          const actual = (u: BudgetUnit, h: Held): number => {
            if (!outcome.sent) return 0;
            if (u === "calls") return 1;
            if (u === "usd") return entry ? Math.max(estimate ? h.cost : 0, costNanos(bill, entry.prices)) : 0;
            return Math.ceil(bill[u] ?? 0);
          };
          const late = Math.max(1, period.end - now());
          const adds: Promise<unknown>[] = [];
          const charged: Record<string, number> = {};
          for (const h of held) {
            const a = actual(h.unit, h);
            if (estimate && h.unit !== "calls") charged[h.unit] = a;
            const delta = a - h.cost;
            if (delta !== 0) adds.push(store.add(h.key, delta, late));
          }
          for (const a of accounts) {
            const budget = a.budget;
            const mine = held.filter((h) => h.account === a);
            // Units the call billed that it was not expected to (no reservation): charged as they come.
            for (const u of BILLED_UNITS) {
              if (budget[u] !== undefined && !mine.some((h) => h.unit === u) && (bill[u] ?? 0) > 0) {
                adds.push(store.add(a.key(u), Math.ceil(bill[u]!), late));
              }
            }
            if (budget.usd !== undefined && !mine.some((h) => h.unit === "usd") && Object.keys(bill).length) {
              const e = priceFor(prices, model);
              const cost = e ? costNanos(bill, e.prices) : 0;
              if (cost > 0) adds.push(store.add(a.key("usd"), cost, late));
              else if (!e && !warned.has(model)) {
                warned.add(model);
                opts.logger?.warn("a call billed units that no price covers; the USD budget did not count them", { model, tool: tool.name });
              }
            }
          }
          await Promise.all(adds);
          return estimate && Object.keys(charged).length ? { charge: "estimated", charged } : undefined;
        },
      };
    },
  };
}
