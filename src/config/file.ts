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
import { adminsSchema } from "./admins.js";

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

/** A token's SHA-256 as 64 hex digits, either case (the server compares it in lowercase). */
const tokenHash = z
  .string()
  .regex(/^[A-Fa-f0-9]{64}$/, "a hex SHA-256 (64 hex digits; `cohere-mcp hash-token` makes one)")
  .transform((s) => s.toLowerCase());
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name");

export const agentTokenSchema = z
  .object({
    sha256: tokenHash.optional().describe("SHA-256 (hex) of the token"),
    env: envName.optional().describe("Name of an environment variable holding the token"),
    sha256_env: envName
      .optional()
      .describe("Name of an environment variable holding the token's SHA-256 (hex), e.g. from a Kubernetes Secret: the token itself is then nowhere on the server"),
    label: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "letters, digits, . _ : - (1–64)")
      .describe("Names the token in the audit (token_label) and in `cohere-mcp access`; never the token itself"),
    not_after: z
      .string()
      .datetime({ offset: true })
      .optional()
      .describe("From this time on (ISO 8601) the token is refused with 401, its error_description saying it expired"),
  })
  .strict()
  .refine((t) => (t.sha256 ? 1 : 0) + (t.env ? 1 : 0) + (t.sha256_env ? 1 : 0) === 1, {
    message: "give exactly one of sha256, env or sha256_env (never a plain token)",
  });

export const agentSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, . _ - (1–64)"),
    profile: z.string(),
    token_sha256: tokenHash.optional().describe("SHA-256 (hex) of the agent's bearer token"),
    token_env: envName.optional().describe("Name of an environment variable holding the agent's bearer token"),
    token_sha256_env: envName
      .optional()
      .describe(
        "Name of an environment variable holding the SHA-256 (hex) of the agent's bearer token, e.g. from a Kubernetes Secret: the token itself is then nowhere on the server",
      ),
    tokens: z
      .array(agentTokenSchema)
      .min(1)
      .optional()
      .describe("Several tokens, each labelled, so a rotation can overlap: add the new one, hand it out, then remove (or let expire) the old one"),
    description: z.string().optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    const single = (a.token_sha256 ? 1 : 0) + (a.token_env ? 1 : 0) + (a.token_sha256_env ? 1 : 0);
    if (single > 1 || single + (a.tokens?.length ?? 0) === 0) {
      ctx.addIssue({ code: "custom", message: "give one of token_sha256, token_env, token_sha256_env or tokens (never a plain token)" });
    }
    const labels = new Set<string>();
    a.tokens?.forEach((t, i) => {
      if (labels.has(t.label)) ctx.addIssue({ code: "custom", path: ["tokens", i, "label"], message: `duplicate token label "${t.label}"` });
      labels.add(t.label);
    });
  });

export const otelSchema = z
  .object({
    enabled: z.boolean().optional().describe("Export traces and metrics over OTLP (like --otel)"),
    endpoint: z
      .string()
      .url()
      .optional()
      .describe("The collector's OTLP/HTTP base URL, e.g. http://otel-collector:4318 (OTEL_EXPORTER_OTLP_ENDPOINT wins)"),
    protocol: z.enum(["http/protobuf", "http/json"]).optional().describe("OTLP encoding (default http/protobuf; OTEL_EXPORTER_OTLP_PROTOCOL wins)"),
    service_name: z.string().min(1).max(200).optional().describe("service.name (default cohere-mcp; OTEL_SERVICE_NAME wins)"),
    sample_ratio: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe("Share of traces started here that are recorded, 0 to 1 (default 1; a caller's sampled flag is followed; OTEL_TRACES_SAMPLER wins)"),
    audit_queue: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe("With audit_otlp: most audit records waiting for the collector; beyond, new ones are dropped and counted (default 2048)"),
  })
  .strict();

export const configFileSchema = z
  .object({
    $schema: z.string().optional(),
    profiles: z.record(profileSchema).default({}),
    default_profile: z.string().optional().describe("Profile used when --profile is not given"),
    agents: z.array(agentSchema).optional().describe("HTTP agents: each with its own credential and profile"),
    oauth: oauthSchema.optional().describe("HTTP: accept access tokens from your identity provider (OAuth 2.1 resource server)"),
    cohere_keys: cohereKeysSchema.optional(),
    prices_usd_per_million: pricesSchema.optional(),
    budget: budgetSchema
      .optional()
      .describe(
        "Gateway-wide monthly caps for all agents together (same units as a profile's budget; usd needs prices_usd_per_million). " +
          "A call must fit both its agent's budget and this one",
      ),
    admins: adminsSchema.optional(),
    otel: otelSchema.optional().describe("OpenTelemetry export (docs/tracing.md); the standard OTEL_* variables win over these. Read at start, not on reload"),
    audit_otlp: z
      .boolean()
      .optional()
      .describe("Also send each audit line as an OTLP log record (in addition to --audit-log, never instead); turns OpenTelemetry export on. Read at start"),
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
    const admins = new Set<string>();
    cfg.admins?.forEach((a, i) => {
      if (admins.has(a.name)) ctx.addIssue({ code: "custom", path: ["admins", i, "name"], message: `duplicate admin "${a.name}"` });
      admins.add(a.name);
    });
    if (cfg.oauth) for (const p of oauthProfileProblems(cfg.oauth, names)) ctx.addIssue({ code: "custom", ...p });
  });

export type Profile = z.infer<typeof profileSchema>;
export type ArgumentRules = z.infer<typeof argumentRulesSchema>;
export type AgentConfig = z.infer<typeof agentSchema>;
export type AgentToken = z.infer<typeof agentTokenSchema>;
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
