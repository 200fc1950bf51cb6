/**
 * The access grid: one row per agent (static agents, and each OAuth rule's profile), one column
 * per tool group, each cell Off / Read / Full use / Custom — computed from the tool sets the
 * server decides with (the profile's visible set as the HTTP plan builds it), so the page cannot
 * drift from what agents get.
 *
 *   Read      = the group's non-deprecated read tools, nothing else of the group
 *   Full use  = Read + the group's non-deprecated write tools (+ its destructive tools, which
 *               need a second confirmation to turn on)
 *   Off       = none of the group's tools
 *   Custom    = anything else (e.g. datasets read and write but not delete, or a deprecated tool)
 */
import type { App } from "../../runtime/app.js";
import type { ToolInfo } from "../../catalog/light.js";
import { GROUPS, type Access, type Group } from "../../catalog/types.js";
import type { ConfigFile } from "../../config/file.js";
import type { Generation } from "../../runtime/live.js";

export type Level = "off" | "read" | "full" | "custom";

export const GROUP_LABELS: Record<Group, string> = {
  chat: "Generate chat replies",
  embed: "Create embeddings",
  rerank: "Rerank documents",
  classify: "Classify text",
  tokenize: "Tokenize text",
  models: "Look up models",
  account: "Check the account",
  audio: "Transcribe audio",
  parse: "Parse documents",
  datasets: "Manage datasets",
  embed_jobs: "Run embed jobs",
  batches: "Run batches",
  finetuning: "Fine-tune models",
  connectors: "Manage connectors",
  legacy: "Legacy v1 methods",
};

export const groupLabel = (g: string) => GROUP_LABELS[g as Group] ?? g.replace(/_/g, " ");

export interface GridTool {
  name: string;
  title: string;
  class: Access;
  deprecated: boolean;
}

export interface GridGroup {
  id: string;
  label: string;
  tools: GridTool[];
}

export interface GridRow {
  agent: string;
  kind: "static" | "oauth_rule";
  profile: string;
  cells: Record<string, Level>;
  /** Groups whose destructive tools are on (Full use with the second confirmation). */
  destructive_on: string[];
  tools: string[];
}

export interface GroupSets {
  read: Set<string>;
  write: Set<string>;
  destructive: Set<string>;
  all: Set<string>;
}

export function groupSets(tools: readonly ToolInfo[]): Map<string, GroupSets> {
  const out = new Map<string, GroupSets>();
  const ids = [...GROUPS, ...new Set(tools.map((t) => t.group).filter((g) => !(GROUPS as readonly string[]).includes(g)))];
  for (const g of ids) out.set(g, { read: new Set(), write: new Set(), destructive: new Set(), all: new Set() });
  for (const t of tools) {
    const s = out.get(t.group)!;
    s.all.add(t.name);
    if (!t.deprecated) s[t.access].add(t.name);
  }
  return out;
}

export function cellOf(visible: ReadonlySet<string>, s: GroupSets): { level: Level; destructive: boolean } {
  const on = [...s.all].filter((n) => visible.has(n));
  if (!on.length) return { level: "off", destructive: false };
  const has = (set: Set<string>) => [...set].every((n) => visible.has(n));
  const only = (allowed: Set<string>[]) => on.every((n) => allowed.some((a) => a.has(n)));
  if (has(s.read) && only([s.read])) return { level: s.read.size ? "read" : "custom", destructive: false };
  if (has(s.read) && has(s.write) && (s.write.size > 0 || s.destructive.size > 0)) {
    if (only([s.read, s.write])) return { level: "full", destructive: false };
    if (has(s.destructive) && only([s.read, s.write, s.destructive])) return { level: "full", destructive: s.destructive.size > 0 };
  }
  return { level: "custom", destructive: false };
}

interface HttpPart {
  plan: { profileCeiling(profile: string): { visible: ReadonlySet<string> } };
}

/** What a profile's agents can call in this generation: the HTTP plan's ceiling when serving HTTP. */
export function profileTools(gen: Generation, profile: string): ReadonlySet<string> {
  const http = gen.parts.get("http") as HttpPart | undefined;
  return http ? http.plan.profileCeiling(profile).visible : gen.profileVisible(profile);
}

export interface RowRef {
  agent: string;
  kind: "static" | "oauth_rule";
  profile: string;
  /** Index in oauth.rules (-1: oauth.default_profile). */
  rule?: number;
}

/** "oauth: groups includes platform", "oauth: default" */
export function ruleName(r: { claim: string; includes?: string; equals?: string }): string {
  return r.includes !== undefined ? `oauth: ${r.claim} includes ${r.includes}` : `oauth: ${r.claim} = ${r.equals}`;
}

export function rowRefs(config: ConfigFile | undefined): RowRef[] {
  const rows: RowRef[] = (config?.agents ?? []).map((a) => ({ agent: a.name, kind: "static", profile: a.profile }));
  config?.oauth?.rules?.forEach((r, i) => rows.push({ agent: ruleName(r), kind: "oauth_rule", profile: r.profile, rule: i }));
  if (config?.oauth?.default_profile) rows.push({ agent: "oauth: default", kind: "oauth_rule", profile: config.oauth.default_profile, rule: -1 });
  return rows;
}

export function gridGroups(app: App): GridGroup[] {
  const sets = groupSets(app.tools);
  return [...sets.keys()].map((id) => ({
    id,
    label: groupLabel(id),
    tools: app.tools
      .filter((t) => t.group === id)
      .map((t) => ({ name: t.name, title: t.descriptor.title ?? t.name, class: t.access, deprecated: t.deprecated })),
  }));
}

export function gridRows(app: App, gen: Generation, tools: (profile: string) => ReadonlySet<string> = (p) => profileTools(gen, p)): GridRow[] {
  const sets = groupSets(app.tools);
  return rowRefs(gen.config).map((r) => {
    const visible = tools(r.profile);
    const cells: Record<string, Level> = {};
    const destructive: string[] = [];
    for (const [g, s] of sets) {
      const c = cellOf(visible, s);
      cells[g] = c.level;
      if (c.destructive) destructive.push(g);
    }
    return {
      agent: r.agent,
      kind: r.kind,
      profile: r.profile,
      cells,
      destructive_on: destructive,
      tools: app.tools.filter((t) => visible.has(t.name)).map((t) => t.name),
    };
  });
}
