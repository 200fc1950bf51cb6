/**
 * The --config file: named profiles (and, for HTTP, agents mapped to them).
 * Validated by zod; `npm run manifest` writes config.schema.json from this for editors.
 */
import { readFileSync } from "node:fs";
import { z } from "zod/v3";
import { oauthProfileProblems, oauthSchema } from "./oauth.js";
import { agentLimitsSchema } from "./limits.js";
import { budgetSchema, pricesSchema } from "./budget.js";
import { cohereKeysSchema, profileKeySchema } from "./keys.js";

const list = z
  .union([z.string(), z.array(z.string())])
  .describe("Tool names, group names or globs; an array or a comma-separated string");

export const argumentRulesSchema = z
  .object({
    models: z.array(z.string()).optional().describe("Allowed `model` values (globs, e.g. \"command-*\")"),
    max_documents: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().describe("Maximum rerank documents per call"),
    max_inputs: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().describe("Maximum embed texts/images/inputs per call"),
    max_tokens: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().describe("Maximum `max_tokens` a call may request"),
    max_input_chars: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Maximum total characters of text per call: every string value in the arguments (texts, documents, messages, inline file content)"),
    max_content_parts: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Maximum content parts per call: items of every `content` array (embed inputs, chat messages); a plain-string content is one"),
    dataset_ids: z.array(z.string()).optional().describe("Allowed dataset ids (globs)"),
    job_ids: z.array(z.string()).optional().describe("Allowed embed-job / batch / fine-tune ids (globs)"),
  })
  .strict();

export const profileSchema = z
  .object({
    description: z.string().optional(),
    tools: list.optional().describe("What this profile selects (default: the default read set)"),
    exclude_tools: list.optional().describe("Always removed, whatever else selects them"),
    allow_write: z.boolean().optional().describe("Let groups and globs select write tools"),
    allow_destructive: z.boolean().optional().describe("Let groups and globs select destructive tools"),
    arguments: argumentRulesSchema.optional().describe("Limits on arguments, checked before anything is sent"),
    rate_limit: z
      .object({
        per_minute: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional().describe("Calls per minute by one agent, all tools together"),
        per_tool_per_minute: z
          .record(z.number().int().positive().max(Number.MAX_SAFE_INTEGER))
          .optional()
          .describe("Calls per minute by one agent to one tool, keyed by tool name"),
        per_month: z
          .number()
          .int()
          .positive()
          .max(Number.MAX_SAFE_INTEGER)
          .optional()
          .describe("Calls per calendar month (UTC) by one agent; the in-memory counter restarts with the process"),
      })
      .strict()
      .optional()
      .describe("Per-agent call limits"),
    allow_file_read: z.boolean().optional().describe("May tools read files from --allow-file-read directories"),
    limits: agentLimitsSchema.optional().describe("The agent's share of sessions, upstream connections and audited refusals"),
    budget: budgetSchema.optional().describe("Per-agent monthly caps on what Cohere bills (and on USD with prices_usd_per_million)"),
    cohere_key: profileKeySchema,
  })
  .strict();

export const agentSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, . _ - (1–64)"),
    profile: z.string(),
    token_sha256: z
      .string()
      .regex(/^[a-f0-9]{64}$/i, "a hex SHA-256")
      .optional()
      .describe("SHA-256 (hex) of the agent's bearer token"),
    token_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")
      .optional()
      .describe("Name of an environment variable holding the agent's bearer token"),
    description: z.string().optional(),
  })
  .strict()
  .refine((a) => (a.token_sha256 ? 1 : 0) + (a.token_env ? 1 : 0) === 1, {
    message: "give exactly one of token_sha256 or token_env (never a plain token)",
  });

export const configFileSchema = z
  .object({
    $schema: z.string().optional(),
    profiles: z.record(profileSchema).default({}),
    default_profile: z.string().optional().describe("Profile used when --profile is not given"),
    agents: z.array(agentSchema).optional().describe("HTTP agents: each with its own credential and profile"),
    oauth: oauthSchema.optional().describe("HTTP: accept access tokens from your identity provider (OAuth 2.1 resource server)"),
    cohere_keys: cohereKeysSchema.optional(),
    prices_usd_per_million: pricesSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const names = new Set(Object.keys(cfg.profiles));
    if (cfg.default_profile && !names.has(cfg.default_profile)) {
      ctx.addIssue({ code: "custom", path: ["default_profile"], message: `no profile named "${cfg.default_profile}"` });
    }
    const seen = new Set<string>();
    cfg.agents?.forEach((a, i) => {
      if (!names.has(a.profile)) {
        ctx.addIssue({ code: "custom", path: ["agents", i, "profile"], message: `no profile named "${a.profile}"` });
      }
      if (seen.has(a.name)) ctx.addIssue({ code: "custom", path: ["agents", i, "name"], message: `duplicate agent "${a.name}"` });
      seen.add(a.name);
    });
    if (cfg.oauth) for (const p of oauthProfileProblems(cfg.oauth, names)) ctx.addIssue({ code: "custom", ...p });
  });

export type Profile = z.infer<typeof profileSchema>;
export type ArgumentRules = z.infer<typeof argumentRulesSchema>;
export type AgentConfig = z.infer<typeof agentSchema>;
export type ConfigFile = z.infer<typeof configFileSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function formatZodIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join(".") : "(top)"}: ${i.message}`).join("; ");
}

export function loadConfigFile(path: string): ConfigFile {
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    // V8's message quotes the text around the error: a file swapped (through a symlink) for a
    // secret would put its first characters into the log and the reload's audit line. Only
    // where it failed is said.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new ConfigError(`Config file ${path} is not JSON${at !== undefined ? ` (the error is at byte offset ${at})` : ""}; none of its content is shown`);
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(`Config file ${path} is invalid: ${formatZodIssues(parsed.error)}`);
  return parsed.data;
}
