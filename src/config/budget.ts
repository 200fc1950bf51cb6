/**
 * A profile's `budget`: caps per calendar month (UTC) on what Cohere bills (its `billed_units`),
 * on calls, and on US dollars when the config has a price table. Each agent of the profile has
 * its own budget; counters live in the CounterStore, so replicas sharing a store share them.
 *
 * Prices are the operator's: nothing is built in. `prices_usd_per_million` maps a model name (or
 * a glob, "*" for any) to USD per 1,000,000 units of each billed unit.
 */
import { z } from "zod/v3";

/** The units a budget can cap, in Cohere's `billed_units` names (plus calls and usd). */
export const BILLED_UNITS = ["input_tokens", "output_tokens", "search_units", "classifications", "pages"] as const;
export type BilledUnit = (typeof BILLED_UNITS)[number];
export const BUDGET_UNITS = ["calls", ...BILLED_UNITS, "usd"] as const;
export type BudgetUnit = (typeof BUDGET_UNITS)[number];

const count = (what: string) => z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().describe(`${what} per calendar month (UTC)`);

export const budgetSchema = z
  .object({
    calls: count("Calls sent to Cohere"),
    input_tokens: count("Billed input tokens"),
    output_tokens: count("Billed output tokens"),
    search_units: count("Billed search units (rerank)"),
    classifications: count("Billed classifications"),
    pages: count("Billed pages (parse)"),
    usd: z
      .number()
      .positive()
      .max(9_000_000) // counted in nano-dollars: whole numbers the store holds exactly
      .optional()
      .describe("US dollars per calendar month (UTC), priced with prices_usd_per_million (required with this)"),
    reserve: z
      .object({
        input_tokens: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
        output_tokens: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
      })
      .strict()
      .optional()
      .describe(
        "Units each call in flight holds until its bill is known (default 1; output tokens: the call's max_tokens when it sets one). " +
          "Larger reservations make concurrent calls overshoot less",
      ),
  })
  .strict()
  .refine((b) => BUDGET_UNITS.some((u) => b[u] !== undefined), { message: "name at least one of " + BUDGET_UNITS.join(", ") });

export const unitPricesSchema = z
  .object(Object.fromEntries(BILLED_UNITS.map((u) => [u, z.number().nonnegative().max(1e9).optional()])) as Record<BilledUnit, z.ZodOptional<z.ZodNumber>>)
  .strict();

export const pricesSchema = z
  .record(unitPricesSchema)
  .describe(
    'USD per 1,000,000 billed units, by model name or glob ("*" matches any model, and calls that name none). ' +
      "The operator's own figures: cohere-mcp ships no prices",
  );

export type Budget = z.infer<typeof budgetSchema>;
export type UnitPrices = z.infer<typeof unitPricesSchema>;
export type Prices = z.infer<typeof pricesSchema>;
