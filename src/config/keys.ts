/**
 * Several Cohere keys, each named in the config by the environment variable that holds it and its
 * type. Cohere limits each key per minute per endpoint, and a Trial key to 1,000 calls a month;
 * the defaults below are Cohere's published rate-limit table (docs/operating.md), and a
 * key's `per_minute` / `per_month` override them.
 */
import { z } from "zod/v3";

/** What the per-minute limits are counted over: Cohere's endpoints, as cohere-mcp's tools reach them. */
export const COHERE_ENDPOINTS = [
  "chat",
  "embed",
  "embed_images",
  "rerank",
  "classify",
  "tokenize",
  "detokenize",
  "generate",
  "summarize",
  "embed_jobs",
  "other",
] as const;
export type CohereEndpoint = (typeof COHERE_ENDPOINTS)[number];
export type KeyType = "trial" | "production";

/** Cohere's limits per minute; `embed` counts text inputs, `embed_images` images; the rest calls. */
export const DEFAULT_PER_MINUTE: Record<KeyType, Partial<Record<CohereEndpoint, number>>> = {
  trial: { chat: 20, classify: 500, embed: 2000, embed_images: 5, rerank: 10, tokenize: 100, embed_jobs: 5 },
  production: { chat: 500, classify: 500, embed: 2000, embed_images: 400, rerank: 1000, tokenize: 2000, embed_jobs: 50 },
};
export const DEFAULT_PER_MONTH: Record<KeyType, number | undefined> = { trial: 1000, production: undefined };
/** How long a call over a per-minute limit may wait for the window by default. */
export const DEFAULT_KEY_WAIT_MS = 3_000;

export const cohereKeySchema = z
  .object({
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")
      .describe("Environment variable holding the key (never the key itself)"),
    type: z.enum(["trial", "production"]).describe("Cohere key type: sets the default limits"),
    per_minute: z
      .object(Object.fromEntries(COHERE_ENDPOINTS.map((e) => [e, z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional()])) as Record<
        CohereEndpoint,
        z.ZodOptional<z.ZodNumber>
      >)
      .strict()
      .optional()
      .describe("Override Cohere's per-minute limits by endpoint (embed: text inputs; embed_images: images; others: calls)"),
    per_month: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().describe("Calls per calendar month (UTC); Trial default 1000"),
    max_wait_ms: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .optional()
      .describe(`A call over a per-minute limit waits this long at most for the window, then is refused (default ${DEFAULT_KEY_WAIT_MS}; 0: refuse at once)`),
  })
  .strict();

export const cohereKeysSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, . _ - (1–64)"), cohereKeySchema)
  .describe("Cohere keys by name; a profile picks one with cohere_key (default: the key in CO_API_KEY)");

export const profileKeySchema = z
  .string()
  .optional()
  .describe("Name of the cohere_keys entry this profile's agents call Cohere with (default: the key in CO_API_KEY)");

export type CohereKeyConfig = z.infer<typeof cohereKeySchema>;
export type CohereKeysConfig = z.infer<typeof cohereKeysSchema>;
