/**
 * Who can call what. The ONE place an agent's tool set is computed from a configuration: the
 * server's generations (src/runtime/live.ts profileVisible), the HTTP plan's per-agent ceilings
 * (transports/http/plan.ts), the OAuth scope narrowing (transports/http/admission/scopes.ts) and the
 * `cohere-mcp access` command (accessMatrix) all call the functions below, so what the command
 * prints is what the server lists.
 *
 * accessMatrix() never carries a token, a token hash or a key value: credentials are described
 * by kind and label, Cohere keys by their config name.
 */
import { TOOL_INDEX } from "../catalog/light.js";
import type { Access, Group } from "../catalog/types.js";
import type { ArgumentRules, ConfigFile, Profile } from "../config/file.js";
import type { Budget } from "../config/budget.js";
import { DEFAULT_SCOPES } from "../config/oauth.js";
import { parseList, resolveVisible, type PolicySpec, type PolicyTool } from "./allowlist.js";

export const policyTools: readonly PolicyTool[] = TOOL_INDEX.map((t) => t.policy);
const BY_NAME = new Map(policyTools.map((t) => [t.name, t]));

/** A profile as the allowlist pipeline reads it. */
export function profileSpec(p: Profile): PolicySpec {
  return {
    tools: parseList(p.tools),
    exclude: parseList(p.exclude_tools),
    allowWrite: p.allow_write ?? false,
    allowDestructive: p.allow_destructive ?? false,
  };
}

/** The tools a profile selects (throws PolicyError on an item that names nothing). */
export function profileTools(p: Profile): Set<string> {
  return resolveVisible(policyTools, profileSpec(p));
}

/** What the server's --exclude-tools removes from every agent (any class). */
export function excludedByFlags(excludeTools: readonly string[] | undefined): Set<string> {
  return excludeTools?.length ? resolveVisible(policyTools, { tools: excludeTools, allowWrite: true, allowDestructive: true }) : new Set();
}

/** An agent's ceiling: its profile's tools minus what --exclude-tools removes. */
export function ceilingOf(profileVisible: ReadonlySet<string>, excluded: ReadonlySet<string>): Set<string> {
  const visible = new Set(profileVisible);
  for (const n of excluded) visible.delete(n);
  return visible;
}

/** OAuth: only the tools whose class the token's scopes grant. */
export function withClasses(visible: ReadonlySet<string>, classes: ReadonlySet<Access>): Set<string> {
  return new Set([...visible].filter((n) => classes.has(BY_NAME.get(n)!.access)));
}

export interface AccessTool {
  tool: string;
  group: Group;
  class: Access;
  /** OAuth agents: the scope a token needs to call it. */
  scope?: string;
}

export type AgentKind = "static" | "oauth" | "anonymous";

export interface AgentAccess {
  /** Static agents: their name; OAuth: "oauth:<profile>"; no agents: "anonymous". */
  agent: string;
  kind: AgentKind;
  profile?: string;
  /** How an agent gets this profile: "token_sha256", "token_env NAME", "tokens: a, b", an OAuth rule… */
  credential: string;
  /** The cohere_keys entry its calls use, or "default" (the key in CO_API_KEY). */
  cohereKey: string;
  argumentRules?: ArgumentRules;
  rateLimit?: Profile["rate_limit"];
  budget?: Budget;
  /** OAuth: a token's scopes narrow the profile by class; the scope each class needs. */
  scopes?: Record<Access, string>;
  tools: AccessTool[];
}

export interface AccessMatrix {
  agents: AgentAccess[];
}

export interface AccessOptions {
  /** The server's --exclude-tools (removed from every agent). */
  excludeTools?: readonly string[];
  /** No agents and no oauth: the anonymous agent's profile (--profile); default: default_profile. */
  profile?: string;
}

function credentialOf(a: NonNullable<ConfigFile["agents"]>[number]): string {
  const parts: string[] = [];
  if (a.token_sha256) parts.push("token_sha256");
  if (a.token_env) parts.push(`token_env ${a.token_env}`);
  if (a.token_sha256_env) parts.push(`token_sha256_env ${a.token_sha256_env}`);
  for (const t of a.tokens ?? []) {
    const what = t.env ? `env ${t.env}` : t.sha256_env ? `sha256_env ${t.sha256_env}` : "sha256";
    parts.push(`token "${t.label}" (${what}${t.not_after ? `, until ${t.not_after}` : ""})`);
  }
  return parts.join("; ");
}

function ruleText(r: NonNullable<NonNullable<ConfigFile["oauth"]>["rules"]>[number], i: number): string {
  return `oauth rule ${i + 1}: ${r.claim} ${r.includes !== undefined ? `includes "${r.includes}"` : `equals "${r.equals}"`}`;
}

/**
 * Every agent of a configuration × every tool it can call, with the rules that apply to its
 * calls. Static agents by name; each OAuth rule (and oauth.default_profile) as "oauth:<profile>"
 * (several rules with one profile make one row, listing them all); without agents or oauth, the
 * anonymous agent. Throws PolicyError when a profile names no tool (run `check` first).
 */
export function accessMatrix(config: ConfigFile | undefined, opts: AccessOptions = {}): AccessMatrix {
  const excluded = excludedByFlags(opts.excludeTools);
  const cache = new Map<string, Set<string>>();
  const toolsOf = (profile: string | undefined): Set<string> => {
    const key = profile ?? "\u0000default";
    let v = cache.get(key);
    if (!v) {
      const p = profile !== undefined ? config?.profiles[profile] : undefined;
      v = ceilingOf(p ? profileTools(p) : resolveVisible(policyTools, {}), excluded);
      cache.set(key, v);
    }
    return v;
  };
  const list = (visible: ReadonlySet<string>, scopes?: Record<Access, string>): AccessTool[] =>
    policyTools
      .filter((t) => visible.has(t.name))
      .map((t) => ({ tool: t.name, group: t.group, class: t.access, ...(scopes ? { scope: scopes[t.access] } : {}) }));
  const rulesOf = (profile: string | undefined) => {
    const p = profile !== undefined ? config?.profiles[profile] : undefined;
    return {
      cohereKey: p?.cohere_key ?? "default",
      ...(p?.arguments ? { argumentRules: p.arguments } : {}),
      ...(p?.rate_limit ? { rateLimit: p.rate_limit } : {}),
      ...(p?.budget ? { budget: p.budget } : {}),
    };
  };
  const agents: AgentAccess[] = [];
  for (const a of config?.agents ?? []) {
    agents.push({ agent: a.name, kind: "static", profile: a.profile, credential: credentialOf(a), ...rulesOf(a.profile), tools: list(toolsOf(a.profile)) });
  }
  const oauth = config?.oauth;
  if (oauth) {
    const scopes: Record<Access, string> = { ...DEFAULT_SCOPES, ...oauth.scopes };
    const via = new Map<string, string[]>();
    oauth.rules?.forEach((r, i) => via.set(r.profile, [...(via.get(r.profile) ?? []), ruleText(r, i)]));
    if (oauth.default_profile) via.set(oauth.default_profile, [...(via.get(oauth.default_profile) ?? []), "oauth default_profile"]);
    for (const [profile, how] of via) {
      agents.push({ agent: `oauth:${profile}`, kind: "oauth", profile, credential: how.join("; "), ...rulesOf(profile), scopes, tools: list(toolsOf(profile), scopes) });
    }
  }
  if (!config?.agents?.length && !oauth) {
    const profile = opts.profile ?? config?.default_profile;
    agents.push({ agent: "anonymous", kind: "anonymous", profile, credential: "none (loopback only)", ...rulesOf(profile), tools: list(toolsOf(profile)) });
  }
  return { agents };
}

/** One flat row per (agent, tool): what table, CSV and Markdown print. */
export interface AccessRow {
  agent: string;
  kind: AgentKind;
  profile: string;
  tool: string;
  group: Group;
  class: Access;
  scope?: string;
}

export function accessRows(m: AccessMatrix): AccessRow[] {
  return m.agents.flatMap((a) =>
    a.tools.map((t) => ({ agent: a.agent, kind: a.kind, profile: a.profile ?? "", tool: t.tool, group: t.group, class: t.class, scope: t.scope })),
  );
}
