/**
 * What a call may bill, before Cohere answers: which of Cohere's billed units each tool's answer
 * carries, how much of each a call holds while in flight (its reservation), and what it costs in
 * the operator's price table. Shared by the budget guard and the metrics.
 */
import type { ToolDef } from "../catalog/types.js";
import { BILLED_UNITS, type BilledUnit, type Budget, type Prices, type UnitPrices } from "../config/budget.js";
import { matchesAny } from "./guards.js";

const TOKENS: readonly BilledUnit[] = ["input_tokens", "output_tokens"];
const BILLS: Record<string, readonly BilledUnit[]> = {
  chat: TOKENS,
  chat_v1: TOKENS,
  generate: TOKENS,
  summarize: TOKENS,
  embed: ["input_tokens"],
  embed_v1: ["input_tokens"],
  rerank: ["search_units"],
  rerank_v1: ["search_units"],
  classify: ["classifications"],
  parse: ["pages"],
};

/** The billed units a tool's answer can carry (none for lookups, lists and jobs billed later). */
export function billedUnitsOf(tool: Pick<ToolDef, "name">): readonly BilledUnit[] {
  return BILLS[tool.name] ?? [];
}

/** Tools whose `max_tokens` caps the output tokens billed. */
const OUTPUT_CAPPED = new Set(["chat", "chat_v1", "generate"]);
const capped = (tool: ToolDef, input: Record<string, unknown>) => OUTPUT_CAPPED.has(tool.name) && typeof input.max_tokens === "number";

const len = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/**
 * Units of `unit` a call holds until its bill is known. Exact where the input says it: output
 * tokens are at most max_tokens (× num_generations for generate); rerank bills a search unit per
 * 100 documents; classify one classification per input; parse one page per image. Otherwise the profile's `reserve`, or 1.
 */
export function reservation(tool: ToolDef, input: Record<string, unknown>, unit: BilledUnit, reserve?: Budget["reserve"]): number {
  switch (unit) {
    case "output_tokens": {
      if (capped(tool, input)) {
        const n = typeof input.num_generations === "number" ? input.num_generations : 1;
        return Math.max(1, (input.max_tokens as number) * n);
      }
      return reserve?.output_tokens ?? 1;
    }
    case "input_tokens":
      return reserve?.input_tokens ?? 1;
    case "search_units":
      return Math.max(1, Math.ceil(len(input.documents) / 100));
    case "classifications":
      return Math.max(1, len(input.inputs));
    case "pages":
      return 1; // parse takes one image: one page
  }
}

/** UTF-8 bytes per token assumed for streamed text Cohere never billed (conservative: English runs ~4.5 characters a token). */
export const BYTES_PER_TOKEN_ESTIMATE = 3;

/**
 * What a sent call is charged when Cohere's answer carried no bill: each unit's reservation,
 * and for output tokens at least what a cut stream delivered (its pieces, or its UTF-8 bytes /
 * 3, whichever is more) — capped by max_tokens (× num_generations) when the call set it, since
 * Cohere cannot bill more.
 */
export function estimatedBill(
  tool: ToolDef,
  input: Record<string, unknown>,
  reserved: Partial<Record<BilledUnit, number>>,
  outcome: { streamed?: { pieces: number; bytes: number } },
): Partial<Record<BilledUnit, number>> {
  const out: Partial<Record<BilledUnit, number>> = { ...reserved };
  const s = outcome.streamed;
  if (s && reserved.output_tokens !== undefined) {
    const delivered = Math.max(s.pieces, Math.ceil(s.bytes / BYTES_PER_TOKEN_ESTIMATE));
    out.output_tokens = capped(tool, input) ? reserved.output_tokens : Math.max(reserved.output_tokens, delivered);
  }
  return out;
}

/** Why a reservation is what it is, for refusal messages. */
export function reservationWhy(tool: ToolDef, input: Record<string, unknown>, unit: BilledUnit): string {
  if (unit === "output_tokens" && capped(tool, input)) {
    return typeof input.num_generations === "number" ? "its max_tokens × num_generations" : "its max_tokens";
  }
  if (unit === "search_units") return "one per 100 documents";
  if (unit === "classifications") return "one per input";
  if (unit === "pages") return "one per document image";
  return "the profile's budget.reserve, default 1";
}

/** The model a call names, or "(default)" when Cohere picks one. */
export function modelOf(input: Record<string, unknown>): string {
  return typeof input.model === "string" && input.model ? input.model : "(default)";
}

/** The price entry for a model: its exact name first, then the first glob that matches, in order. */
export function priceFor(prices: Prices | undefined, model: string): { pattern: string; prices: UnitPrices } | undefined {
  if (!prices) return undefined;
  const exact = Object.hasOwn(prices, model) ? prices[model] : undefined;
  if (exact) return { pattern: model, prices: exact };
  for (const [pattern, p] of Object.entries(prices)) {
    if (/[*?]/.test(pattern) && matchesAny(model, [pattern])) return { pattern, prices: p };
  }
  return undefined;
}

/** Budgets in US dollars are counted in nano-dollars, so that every store counter is an integer. */
export const NANOS_PER_USD = 1e9;

/** The cost of some units, in nano-dollars, rounded up. Units without a price cost nothing. */
export function costNanos(units: Partial<Record<string, number>>, prices: UnitPrices): number {
  let nanos = 0;
  for (const u of BILLED_UNITS) {
    const n = units[u];
    const p = prices[u];
    if (typeof n === "number" && n > 0 && p !== undefined) nanos += n * p * 1000; // USD per million × n × 1e9 / 1e6
  }
  return Math.ceil(nanos - 1e-6);
}

export function usdText(nanos: number): string {
  const usd = nanos / NANOS_PER_USD;
  return `$${usd < 0.01 && usd > 0 ? usd.toPrecision(2) : usd.toFixed(2)}`;
}
