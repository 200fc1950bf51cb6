/**
 * A verified token's claims → the agent it is, the profile it gets, and the access classes its
 * scopes grant. Rules are tried in order and the first match wins; default_profile catches the
 * rest; a token no rule matches and with no default is refused (403).
 *
 * The profile is the ceiling; the token's scopes narrow it by access class: `scopes.read` grants
 * read tools, `scopes.write` write tools, `scopes.destructive` destructive tools. Each scope
 * grants its own class only (a token that should read and write carries both).
 */
import type { Access } from "../catalog/types.js";
import { DEFAULT_SCOPES, type OAuthConfig, type OAuthRule } from "../config/oauth.js";
import type { AuditClaims } from "../audit.js";
import type { Claims } from "./verify.js";

export const ACCESS_CLASSES: readonly Access[] = ["read", "write", "destructive"];

/** Agent names taken from a claim: printable ASCII without spaces, quotes, commas or backslashes. */
const AGENT_NAME = /^[A-Za-z0-9_.@:|+/=~-]{1,128}$/;

/** Names the server gives its own identities: no token may take them (issue 20, finding 7). */
export const RESERVED_AGENT_NAMES: ReadonlySet<string> = new Set(["anonymous", "(unauthenticated)", "other"]);

export type Mapped =
  | { ok: true; agent: string; profile: string; scopes: string[]; classes: ReadonlySet<Access>; claims: AuditClaims; sub?: string }
  | { ok: false; message: string; claims: AuditClaims; agent?: string };

export interface ScopeNames {
  read: string;
  write: string;
  destructive: string;
}

export function scopeNames(cfg: OAuthConfig): ScopeNames {
  return { ...DEFAULT_SCOPES, ...cfg.scopes };
}

/** A claim by name, or by dotted path into nested objects when no claim has the whole name. */
export function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(claims, name)) return claims[name];
  let cur: unknown = claims;
  for (const part of name.split(".")) {
    if (!cur || typeof cur !== "object" || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function ruleMatches(rule: OAuthRule, claims: Record<string, unknown>): boolean {
  const v = claimAt(claims, rule.claim);
  if (rule.equals !== undefined) {
    return (typeof v === "string" || typeof v === "number" || typeof v === "boolean") && String(v) === rule.equals;
  }
  const want = rule.includes!;
  if (Array.isArray(v)) return v.some((x) => (typeof x === "string" || typeof x === "number") && String(x) === want);
  // RFC 6749 §3.3: scope-like strings are split on the ASCII space only (not tab, NBSP, …)
  if (typeof v === "string") return v.split(" ").includes(want);
  return false;
}

/** The token's scopes: the first of `scope_claims` present (a space-separated string or an array). */
export function tokenScopes(claims: Record<string, unknown>, scopeClaims: readonly string[]): string[] {
  for (const name of scopeClaims) {
    const v = claims[name];
    if (typeof v === "string") return v.split(" ").filter(Boolean); // ASCII space only (RFC 6749 §3.3)
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  }
  return [];
}

const bounded = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v.slice(0, 200) : undefined);

/** sub, client_id (or azp) and jti, for the audit line: never the token. */
export function auditClaims(claims: Record<string, unknown>): AuditClaims {
  const out: AuditClaims = {};
  const sub = bounded(claims.sub);
  const clientId = bounded(claims.client_id) ?? bounded(claims.azp);
  const jti = bounded(claims.jti);
  if (sub) out.sub = sub;
  if (clientId) out.client_id = clientId;
  if (jti) out.jti = jti;
  return out;
}

export function mapClaims(claims: Claims, cfg: OAuthConfig, staticAgents: ReadonlySet<string>): Mapped {
  const audit = auditClaims(claims);
  const claimName = cfg.agent_claim ?? "client_id";
  const raw = claimAt(claims, claimName);
  const agent = typeof raw === "string" || typeof raw === "number" ? String(raw) : undefined;
  if (agent === undefined) return { ok: false, message: `token has no "${claimName}" claim to name the agent`, claims: audit };
  if (!AGENT_NAME.test(agent)) {
    return { ok: false, message: `the token's "${claimName}" claim is not a usable agent name`, claims: audit };
  }
  if (RESERVED_AGENT_NAMES.has(agent.toLowerCase())) {
    return { ok: false, message: `agent name "${agent}" is reserved by this server; map the token to another name (oauth.agent_claim)`, claims: audit };
  }
  if (staticAgents.has(agent)) {
    // A token must not borrow a static agent's name (and its counters, sessions and audit lines).
    return { ok: false, agent, message: `agent name "${agent}" belongs to a static-token agent`, claims: audit };
  }
  const rule = (cfg.rules ?? []).find((r) => ruleMatches(r, claims));
  const profile = rule?.profile ?? cfg.default_profile;
  if (!profile) return { ok: false, agent, message: "token matches no oauth rule and there is no oauth.default_profile", claims: audit };
  const scopes = tokenScopes(claims, cfg.scope_claims ?? ["scope", "scp"]);
  const names = scopeNames(cfg);
  const classes = new Set<Access>(ACCESS_CLASSES.filter((c) => scopes.includes(names[c])));
  return { ok: true, agent, profile, scopes, classes, claims: audit, sub: bounded(claims.sub) };
}
