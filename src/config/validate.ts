/**
 * Is a configuration usable? ONE function for start-up, SIGHUP reload (both build a generation:
 * src/runtime/live.ts buildGeneration) and `cohere-mcp check`. Every problem is collected, not only the
 * first, each as one line naming its JSON path.
 *
 * Checked: every profile's tool selection (whether or not an agent uses it), per-tool rate limits,
 * budgets and price tables, Cohere keys (declared env variables set, profiles naming declared
 * keys), and for HTTP (and `check`) agents' credentials (token env variables set and usable, no
 * two agents with one token, token expiry dates) and the oauth section's environment (the
 * introspection client secret).
 */
import { createAuthenticator } from "../identity/static.js";
import { keyRingProblems } from "../cohere/keyring.js";
import { profileTools, policyTools } from "../policy/access.js";
import { checkRateLimitConfig } from "../policy/ratelimit.js";
import { checkBudgetConfig } from "../policy/budget.js";
import { ConfigError, type ConfigFile } from "./file.js";

export interface CheckContext {
  /** Where environment variables are read; undefined: skip everything that depends on them (`diff`). */
  env: NodeJS.ProcessEnv | undefined;
  /** Check agents' credentials and the oauth section's secrets (HTTP start-up and `check`). */
  agents: boolean;
  /** The process's own Cohere key (CO_API_KEY / COHERE_API_KEY), for warnings. */
  apiKey?: string;
  now?: () => number;
}

export interface ConfigReport {
  /** Each a line "path: what is wrong, and the fix". Start-up and reload refuse when any. */
  errors: string[];
  /** Worth knowing, not fatal (`check` prints them; start-up does not refuse). */
  warnings: string[];
}

/** The lines of a thrown multi-line problem ("Title:\n  - a\n  - b" → ["a", "b"]). */
function lines(err: unknown, prefix = ""): string[] {
  const msg = (err as Error)?.message ?? String(err);
  const parts = msg.split("\n").slice(1).map((l) => l.replace(/^\s*-\s*/, "").trim()).filter(Boolean);
  return (parts.length ? parts : [msg]).map((l) => prefix + l);
}

/** As src/oauth/verify.ts looksLikeJwt: three base64url parts, the first a JSON header with an alg. */
function jwtShaped(token: string): boolean {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token)) return false;
  try {
    const header = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString("utf8")) as { alg?: unknown };
    return typeof header?.alg === "string";
  } catch {
    return false;
  }
}

const toolNames = new Set(policyTools.map((t) => t.name));

export function configProblems(config: ConfigFile | undefined, ctx: CheckContext): ConfigReport {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!config) return { errors, warnings };
  for (const [name, p] of Object.entries(config.profiles)) {
    try {
      profileTools(p);
    } catch (err) {
      errors.push(...lines(err, `profiles.${name}.tools: `));
    }
  }
  for (const check of [() => checkRateLimitConfig(config, toolNames), () => checkBudgetConfig(config)]) {
    try {
      check();
    } catch (err) {
      errors.push(...lines(err));
    }
  }
  errors.push(...keyRingProblems(config, ctx.env));
  if (ctx.agents && ctx.env) {
    try {
      createAuthenticator(config.agents ?? [], ctx.env, () => undefined, { now: ctx.now });
    } catch (err) {
      errors.push(...lines(err));
    }
    // With OAuth on, a static token shaped like a JWT would make "which path does this credential
    // take" a guess (src/oauth/index.ts refuses it at start too; this is the same rule, without jose).
    if (config.oauth) {
      for (const a of config.agents ?? []) {
        const envs = [a.token_env, ...(a.tokens ?? []).map((t) => t.env)].filter((e): e is string => e !== undefined);
        if (envs.some((e) => jwtShaped(ctx.env![e] ?? ""))) {
          errors.push(`agent "${a.name}": with oauth configured, a static token may not look like a JWT (three base64url parts); make a new one with \`cohere-mcp hash-token --new\``);
        }
      }
    }
    const intro = config.oauth?.introspection;
    if (intro && !ctx.env[intro.client_secret_env]) {
      errors.push(`oauth.introspection: environment variable ${intro.client_secret_env} is not set or empty`);
    }
  }
  // Warnings: what start-up accepts but an operator should know.
  const now = (ctx.now ?? Date.now)();
  for (const a of config.agents ?? []) {
    const expired = (a.tokens ?? []).filter((t) => t.not_after !== undefined && Date.parse(t.not_after) <= now);
    for (const t of expired) warnings.push(`agent "${a.name}": token "${t.label}" expired at ${t.not_after} (remove it from the file)`);
    if (expired.length && expired.length === a.tokens!.length && !a.token_sha256 && !a.token_env && !a.token_sha256_env) {
      warnings.push(`agent "${a.name}": every token has expired; the agent cannot sign in`);
    }
  }
  const used = new Set<string>([
    ...(config.agents ?? []).map((a) => a.profile),
    ...(config.oauth?.rules ?? []).map((r) => r.profile),
    ...(config.oauth?.default_profile ? [config.oauth.default_profile] : []),
    ...(config.default_profile ? [config.default_profile] : []),
  ]);
  for (const name of Object.keys(config.profiles)) {
    if ((config.agents?.length || config.oauth) && !used.has(name)) warnings.push(`profiles.${name}: no agent uses this profile`);
  }
  if (ctx.env && !ctx.apiKey) {
    const keyless = Object.entries(config.profiles).filter(([, p]) => p.cohere_key === undefined).map(([n]) => n);
    if (keyless.length) {
      warnings.push(`CO_API_KEY is not set here, and profiles ${keyless.join(", ")} call Cohere with it (no cohere_key): set it where the server runs`);
    }
  }
  return { errors, warnings };
}

/** Throw one ConfigError listing every problem, or return. Start-up and reload call this. */
export function assertConfigUsable(config: ConfigFile | undefined, ctx: CheckContext): void {
  const { errors } = configProblems(config, ctx);
  if (errors.length) throw new ConfigError(`The configuration is not usable:\n  - ${errors.join("\n  - ")}`);
}
