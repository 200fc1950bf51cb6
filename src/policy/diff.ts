/**
 * What a reload from one configuration to another changes, as typed changes each with a plain
 * English sentence: "search-agent gains delete_dataset (destructive, cannot be undone)",
 * "curator-agent's token was rotated", "budget of search from 100 to 50 calls a month".
 * Used by `cohere-mcp diff` and by the reload's log and audit line (src/runtime/reload.ts).
 *
 * Agents' tools are compared through accessMatrix (src/policy/access.ts), the computation the
 * server uses, so "gains" means the agent will be able to call it. Never carries a token, a
 * hash or a key value: a rotation is reported as such, keys by their config name.
 */
import type { Access } from "../catalog/types.js";
import type { ConfigFile, Profile } from "../config/file.js";
import type { Budget } from "../config/budget.js";
import { accessMatrix, type AccessOptions, type AgentAccess } from "./access.js";

export type ChangeKind =
  | "agent_added"
  | "agent_removed"
  | "agent_profile"
  | "agent_token"
  | "tool_gained"
  | "tool_lost"
  | "profile_added"
  | "profile_removed"
  | "budget"
  | "rate_limit"
  | "arguments"
  | "cohere_key"
  | "profile_other"
  | "key_added"
  | "key_removed"
  | "key_changed"
  | "prices"
  | "default_profile"
  | "oauth";

export interface ConfigChange {
  kind: ChangeKind;
  /** The agent, profile or key the change is about ("" for the whole file). */
  subject: string;
  /** One plain-English sentence. */
  text: string;
  tool?: string;
  class?: Access;
  /** The setting that changed (e.g. "calls", "per_minute", "max_tokens"). */
  field?: string;
  from?: unknown;
  to?: unknown;
}

export interface ConfigDiff {
  changes: ConfigChange[];
  /** The sentences joined; "no changes" when there are none. */
  summary: string;
}

const CLASS_NOTE: Record<Access, string> = {
  read: "read",
  write: "write",
  destructive: "destructive, cannot be undone",
};

const json = (v: unknown) => JSON.stringify(v ?? null);
const UNIT_WORDS: Record<string, string> = {
  calls: "calls",
  input_tokens: "input tokens",
  output_tokens: "output tokens",
  search_units: "search units",
  classifications: "classifications",
};

function amount(unit: string, v: unknown): string {
  if (v === undefined) return "no limit";
  const word = UNIT_WORDS[unit] ?? unit;
  // numbers agree with their nouns: "1 call", "2 calls"
  return unit === "usd" ? `$${String(v)}` : `${String(v)} ${v === 1 ? word.replace(/s$/, "") : word}`;
}

function show(v: unknown): string {
  if (v === undefined) return "(none)";
  if (Array.isArray(v)) return v.join(", ");
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** A budget's changes, unit by unit (a profile's, or the config's top-level one: the gateway's). */
function budgetChanges(name: string, a: Budget | undefined, b: Budget | undefined, out: ConfigChange[]): void {
  const units = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  for (const unit of units) {
    if (unit === "reserve") continue;
    const from = (a as Record<string, unknown> | undefined)?.[unit];
    const to = (b as Record<string, unknown> | undefined)?.[unit];
    if (json(from) === json(to)) continue;
    const text =
      from === undefined
        ? `budget of ${name}: at most ${amount(unit, to)} a month (was unlimited)`
        : to === undefined
          ? `budget of ${name}: no limit on ${UNIT_WORDS[unit] ?? unit} (was ${amount(unit, from)} a month)`
          : unit === "usd"
            ? `budget of ${name} from $${String(from)} to $${String(to)} a month`
            : `budget of ${name} from ${String(from)} to ${amount(unit, to)} a month`;
    out.push({ kind: "budget", subject: name, field: unit, from, to, text });
  }
  if (json(a?.reserve) !== json(b?.reserve)) {
    out.push({ kind: "budget", subject: name, field: "reserve", from: a?.reserve, to: b?.reserve, text: `budget reservations of ${name} changed` });
  }
}

function profileChanges(name: string, a: Profile, b: Profile, out: ConfigChange[]): void {
  // Budget, unit by unit.
  budgetChanges(name, a.budget, b.budget, out);
  // Rate limits.
  const ra = a.rate_limit ?? {};
  const rb = b.rate_limit ?? {};
  for (const [field, per] of [["per_minute", "per minute"], ["per_month", "a month"]] as const) {
    const from = ra[field];
    const to = rb[field];
    if (from === to) continue;
    const text =
      from === undefined
        ? `rate limit of ${name}: at most ${String(to)} calls ${per} (was none)`
        : to === undefined
          ? `rate limit of ${name}: no limit ${per} (was ${String(from)} calls)`
          : `rate limit of ${name} from ${String(from)} to ${String(to)} calls ${per}`;
    out.push({ kind: "rate_limit", subject: name, field, from, to, text });
  }
  const tools = new Set([...Object.keys(ra.per_tool_per_minute ?? {}), ...Object.keys(rb.per_tool_per_minute ?? {})]);
  for (const tool of tools) {
    const from = ra.per_tool_per_minute?.[tool];
    const to = rb.per_tool_per_minute?.[tool];
    if (from === to) continue;
    out.push({
      kind: "rate_limit",
      subject: name,
      tool,
      field: "per_tool_per_minute",
      from,
      to,
      text: `rate limit of ${name} on ${tool} from ${from === undefined ? "none" : `${from}`} to ${to === undefined ? "none" : `${to} calls`} per minute`,
    });
  }
  // Argument rules.
  const rules = new Set([...Object.keys(a.arguments ?? {}), ...Object.keys(b.arguments ?? {})]);
  for (const field of rules) {
    const from = (a.arguments as Record<string, unknown> | undefined)?.[field];
    const to = (b.arguments as Record<string, unknown> | undefined)?.[field];
    if (json(from) === json(to)) continue;
    out.push({ kind: "arguments", subject: name, field, from, to, text: `argument rule ${field} of ${name} from ${show(from)} to ${show(to)}` });
  }
  if (a.cohere_key !== b.cohere_key) {
    out.push({
      kind: "cohere_key",
      subject: name,
      from: a.cohere_key,
      to: b.cohere_key,
      text: `${name} now calls Cohere with key ${b.cohere_key ?? "default (CO_API_KEY)"} (was ${a.cohere_key ?? "default (CO_API_KEY)"})`,
    });
  }
  for (const field of ["allow_file_read", "limits", "description"] as const) {
    if (json(a[field]) !== json(b[field])) {
      out.push({ kind: "profile_other", subject: name, field, from: a[field], to: b[field], text: `${field} of ${name} from ${show(a[field])} to ${show(b[field])}` });
    }
  }
}

type AgentConf = NonNullable<ConfigFile["agents"]>[number];

/** The credential of an agent, for comparison only (never printed). */
function credential(a: AgentConf): string {
  return json([a.token_sha256?.toLowerCase(), a.token_env, a.token_sha256_env, a.tokens]);
}

function tokenLabels(a: AgentConf): string[] {
  return (a.tokens ?? []).map((t) => t.label);
}

/**
 * The label of the stand-in the console writes when an agent's last token is revoked (an agent
 * needs a credential in the config; this one's hash matches a token nobody holds).
 */
export const NO_TOKEN_LABEL = "revoked";

/** The agent has no usable token: only the console's stand-in. */
export function hasNoToken(a: Pick<AgentConf, "token_sha256" | "token_env" | "token_sha256_env" | "tokens">): boolean {
  return !a.token_sha256 && !a.token_env && !a.token_sha256_env && (a.tokens?.length ?? 0) > 0 && a.tokens!.every((t) => t.label === NO_TOKEN_LABEL);
}

/** An agent's tokens by label, the single token_sha256/token_env/token_sha256_env as "token" (the console's name for it). */
function allLabels(a: AgentConf): string[] {
  return [...(a.token_sha256 || a.token_env || a.token_sha256_env ? ["token"] : []), ...tokenLabels(a).filter((l) => l !== NO_TOKEN_LABEL || !hasNoToken(a))];
}

const quoted = (labels: string[]) => labels.map((l) => `'${l}'`).join(", ");

/** Revoking the last token, or adding one to an agent that had none: said as such. */
function noTokenText(name: string, ca: AgentConf, cb: AgentConf): string | undefined {
  const before = hasNoToken(ca);
  const after = hasNoToken(cb);
  if (after && !before) {
    const lost = allLabels(ca);
    return `${name}'s token${lost.length > 1 ? "s" : ""} ${quoted(lost)} ${lost.length > 1 ? "were" : "was"} revoked; ${name} has no token left`;
  }
  if (before && !after) {
    const got = allLabels(cb);
    return `${name} has a token again: ${quoted(got)}`;
  }
  return undefined;
}

function agentChanges(prev: AgentAccess[], next: AgentAccess[], cPrev: ConfigFile | undefined, cNext: ConfigFile | undefined, out: ConfigChange[]): void {
  const before = new Map(prev.map((a) => [a.agent, a]));
  const after = new Map(next.map((a) => [a.agent, a]));
  const confOf = (c: ConfigFile | undefined, name: string) => c?.agents?.find((a) => a.name === name);
  for (const [name, b] of after) {
    const a = before.get(name);
    if (!a) {
      const n = (c: Access) => b.tools.filter((t) => t.class === c).length;
      out.push({
        kind: "agent_added",
        subject: name,
        to: b.profile,
        text: `${name} is added with profile ${b.profile ?? "(default set)"} (${n("read")} read, ${n("write")} write, ${n("destructive")} destructive tools)`,
      });
      continue;
    }
    if (a.profile !== b.profile) {
      out.push({ kind: "agent_profile", subject: name, from: a.profile, to: b.profile, text: `${name} moves from profile ${a.profile ?? "(default set)"} to ${b.profile ?? "(default set)"}` });
    }
    const ca = confOf(cPrev, name);
    const cb = confOf(cNext, name);
    const none = ca && cb && credential(ca) !== credential(cb) ? noTokenText(name, ca, cb) : undefined;
    if (none) out.push({ kind: "agent_token", subject: name, text: none });
    else if (ca && cb && credential(ca) !== credential(cb)) {
      const la = tokenLabels(ca);
      const lb = tokenLabels(cb);
      const gained = lb.filter((l) => !la.includes(l));
      const lost = la.filter((l) => !lb.includes(l));
      const bits: string[] = [];
      if (gained.length) bits.push(`gains token ${gained.join(", ")}`);
      if (lost.length) bits.push(`loses token ${lost.join(", ")}`);
      // a token kept under its label: a new expiry, or a new token under the old label
      for (const tb of cb.tokens ?? []) {
        const ta = ca.tokens?.find((t) => t.label === tb.label);
        if (!ta || json(ta) === json(tb)) continue;
        if (ta.sha256 === tb.sha256 && ta.env === tb.env && ta.sha256_env === tb.sha256_env) bits.push(`token ${tb.label} now ${tb.not_after ? `expires at ${tb.not_after}` : "never expires"}`);
        else bits.push(`token ${tb.label} was replaced`);
      }
      const single = json([ca.token_sha256, ca.token_env, ca.token_sha256_env]) !== json([cb.token_sha256, cb.token_env, cb.token_sha256_env]);
      const text = bits.length && !single ? `${name} ${bits.join(" and ")}` : `${name}'s token was rotated${bits.length ? `; ${name} ${bits.join(" and ")}` : ""}`;
      out.push({ kind: "agent_token", subject: name, text });
    }
    const had = new Set(a.tools.map((t) => t.tool));
    const has = new Set(b.tools.map((t) => t.tool));
    for (const t of b.tools) {
      if (!had.has(t.tool)) out.push({ kind: "tool_gained", subject: name, tool: t.tool, class: t.class, text: `${name} gains ${t.tool} (${CLASS_NOTE[t.class]})` });
    }
    for (const t of a.tools) {
      if (!has.has(t.tool)) out.push({ kind: "tool_lost", subject: name, tool: t.tool, class: t.class, text: `${name} loses ${t.tool} (${t.class})` });
    }
  }
  for (const name of before.keys()) {
    if (after.has(name)) continue;
    const why = before.get(name)!.kind === "oauth" ? "no OAuth rule maps tokens to this profile any more" : "its token no longer works";
    out.push({ kind: "agent_removed", subject: name, text: `${name} is removed (${why})` });
  }
}

/** Every change from `prev` to `next`, agents first, then profiles' rules, keys and the rest. */
export function configDiff(prev: ConfigFile | undefined, next: ConfigFile | undefined, opts: AccessOptions = {}): ConfigDiff {
  const changes: ConfigChange[] = [];
  // OAuth on/off first: it explains the oauth:<profile> agents that follow.
  const oa = prev?.oauth;
  const ob = next?.oauth;
  if (json(oa) !== json(ob)) {
    const text = !oa
      ? `OAuth is turned on (issuer ${ob!.issuer})`
      : !ob
        ? "OAuth is turned off (OAuth tokens no longer work)"
        : `oauth changed: ${Object.keys({ ...oa, ...ob })
            .filter((f) => json((oa as Record<string, unknown>)[f]) !== json((ob as Record<string, unknown>)[f]))
            .join(", ")}`;
    changes.push({ kind: "oauth", subject: "", text });
  }
  agentChanges(accessMatrix(prev, opts).agents, accessMatrix(next, opts).agents, prev, next, changes);
  const pa = prev?.profiles ?? {};
  const pb = next?.profiles ?? {};
  for (const name of Object.keys(pb)) {
    if (!Object.hasOwn(pa, name)) changes.push({ kind: "profile_added", subject: name, text: `profile ${name} is added` });
    else profileChanges(name, pa[name]!, pb[name]!, changes);
  }
  for (const name of Object.keys(pa)) {
    if (!Object.hasOwn(pb, name)) changes.push({ kind: "profile_removed", subject: name, text: `profile ${name} is removed` });
  }
  const ka = prev?.cohere_keys ?? {};
  const kb = next?.cohere_keys ?? {};
  for (const name of Object.keys(kb)) {
    const a = ka[name];
    const b = kb[name]!;
    if (!a) changes.push({ kind: "key_added", subject: name, text: `Cohere key ${name} (${b.type}, from ${b.env}) is added` });
    else if (json(a) !== json(b)) {
      const fields = (Object.keys({ ...a, ...b }) as Array<keyof typeof b>).filter((f) => json(a[f]) !== json(b[f]));
      const bits = fields.map((f) => (f === "per_minute" ? "per-minute limits changed" : `${f} from ${show(a[f])} to ${show(b[f])}`));
      changes.push({ kind: "key_changed", subject: name, field: fields.join(","), text: `Cohere key ${name}: ${bits.join(", ")}` });
    }
  }
  for (const name of Object.keys(ka)) {
    if (!Object.hasOwn(kb, name)) changes.push({ kind: "key_removed", subject: name, text: `Cohere key ${name} is removed` });
  }
  const prices = new Set([...Object.keys(prev?.prices_usd_per_million ?? {}), ...Object.keys(next?.prices_usd_per_million ?? {})]);
  for (const model of prices) {
    const from = prev?.prices_usd_per_million?.[model];
    const to = next?.prices_usd_per_million?.[model];
    if (json(from) !== json(to)) {
      changes.push({ kind: "prices", subject: model, from, to, text: `prices of ${model} from ${show(from)} to ${show(to)} USD per million units` });
    }
  }
  // The gateway-wide budget (the config's top-level budget: all agents together).
  budgetChanges("the gateway (all agents together)", prev?.budget, next?.budget, changes);
  if (prev?.default_profile !== next?.default_profile) {
    changes.push({ kind: "default_profile", subject: "", from: prev?.default_profile, to: next?.default_profile, text: `default_profile from ${show(prev?.default_profile)} to ${show(next?.default_profile)}` });
  }
  return { changes, summary: changes.length ? changes.map((c) => c.text).join("; ") : "no changes" };
}
