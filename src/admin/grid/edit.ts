/**
 * Changes to the access grid, applied to the policy document (the config as JSON):
 *
 *  - {agent, group, level: off|read|full, confirm_destructive?}: the group's tools in the agent's
 *    profile become exactly that level (Full use of a group with destructive tools needs
 *    confirm_destructive: true, else nothing changes and the answer names them);
 *  - {agent, tool, on, confirm_destructive?}: one tool on or off (the advanced view).
 *
 * A profile shared with other agents (or OAuth rules) is forked first: the agent gets its own
 * copy named after it, and the preview says so — an edit of one row never changes another row.
 * Only the edited group of the profile is rewritten (profile-rewrite.ts): its other items — group
 * names, globs, exact names — and exclusions stay as written; the group's part becomes its group
 * name (Read) plus exact names (exact names pass the class gate, so no allow_write /
 * allow_destructive flag is needed). Where that cannot express the result, the profile's `tools`
 * becomes the exact list of names. Either way the result is checked with the same resolver the
 * server uses to decide.
 */
import type { App } from "../../runtime/app.js";
import { policyTools, profileSpec } from "../../runtime/app.js";
import type { Access } from "../../catalog/types.js";
import { configFileSchema, formatZodIssues, type ConfigFile, type Profile } from "../../config/file.js";
import { resolveVisible, sameTools } from "../../policy/allowlist.js";
import { groupLabel, groupSets, rowRefs, type RowRef } from "./grid.js";
import { rewriteProfileGroup } from "./profile-rewrite.js";

export type GridChange =
  | { agent: string; group: string; level: "off" | "read" | "full"; confirm_destructive?: boolean }
  | { agent: string; tool: string; on: boolean; confirm_destructive?: boolean };

export interface ToolChange {
  agent: string;
  tool: string;
  class: Access;
}

export interface EditResult {
  raw: Record<string, unknown>;
  config: ConfigFile;
  sentences: string[];
  /** Short form for the audit: "set search-agent's Manage datasets to Full use". */
  actions: string[];
  gains: ToolChange[];
  loses: ToolChange[];
  needs_confirmation: string[];
}

export class EditError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = "EditError";
  }
}

const LEVEL_TEXT = { off: "Off", read: "Read", full: "Full use" } as const;

type Raw = Record<string, unknown>;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export function parseConfig(raw: unknown): ConfigFile {
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) throw new EditError(`the resulting configuration is invalid: ${formatZodIssues(parsed.error)}`);
  return parsed.data;
}

function visibleOf(profile: Profile | undefined): Set<string> {
  if (!profile) return new Set();
  return resolveVisible(policyTools, profileSpec(profile));
}

function usersOf(config: ConfigFile, profile: string): number {
  let n = rowRefs(config).filter((r) => r.profile === profile).length;
  if (config.default_profile === profile) n++;
  return n;
}

function setRowProfile(raw: Raw, ref: RowRef, profile: string): void {
  if (ref.kind === "static") {
    const agents = raw.agents as Array<Raw>;
    const a = agents.find((x) => x.name === ref.agent);
    if (a) a.profile = profile;
    return;
  }
  const oauth = raw.oauth as Raw;
  if (ref.rule === -1) oauth.default_profile = profile;
  else (oauth.rules as Array<Raw>)[ref.rule!]!.profile = profile;
}

function forkName(raw: Raw, ref: RowRef): string {
  const profiles = raw.profiles as Raw;
  const base = (ref.kind === "static" ? ref.agent : `oauth-${ref.rule === -1 ? "default" : `rule-${ref.rule! + 1}`}`).replace(/[^A-Za-z0-9_.-]/g, "-");
  if (!Object.hasOwn(profiles, base)) return base;
  for (let i = 2; ; i++) if (!Object.hasOwn(profiles, `${base}-${i}`)) return `${base}-${i}`;
}

export function applyChanges(app: App, source: Raw, changes: readonly GridChange[], opts: { confirmRequired: boolean }): EditResult {
  if (!Array.isArray(changes) || !changes.length) throw new EditError("changes must be a non-empty array");
  const raw = clone(source);
  if (!raw.profiles || typeof raw.profiles !== "object") raw.profiles = {};
  const before = parseConfig(source);
  const sets = groupSets(app.tools);
  const byName = new Map(app.tools.map((t) => [t.name, t]));
  const sentences: string[] = [];
  const actions: string[] = [];
  const needs = new Set<string>();
  const missing: string[] = [];

  for (const change of changes) {
    const current = parseConfig(raw);
    const refs = rowRefs(current);
    const ref = refs.find((r) => r.agent === change?.agent);
    if (!ref) throw new EditError(`no agent "${String(change?.agent).slice(0, 100)}" in the grid; rows: ${refs.map((r) => r.agent).join(", ") || "(none)"}`);
    let target: Set<string>;
    let what: string;
    /** The group the change is about. */
    let group: string;
    const profileName = ref.profile;
    const visible = visibleOf(current.profiles[profileName]);
    if ("group" in change) {
      const s = sets.get(change.group);
      if (!s) throw new EditError(`no tool group "${String(change.group).slice(0, 100)}"; groups: ${[...sets.keys()].join(", ")}`);
      if (!["off", "read", "full"].includes(change.level)) throw new EditError(`level must be off, read or full, got "${String(change.level).slice(0, 40)}"`);
      group = change.group;
      target = new Set([...visible].filter((n) => !s.all.has(n)));
      if (change.level !== "off") for (const n of s.read) target.add(n);
      if (change.level === "full") {
        for (const n of s.write) target.add(n);
        for (const n of s.destructive) {
          target.add(n);
          if (!visible.has(n) && change.confirm_destructive !== true) {
            needs.add(n);
            missing.push(n);
          }
        }
      }
      what = `set ${ref.agent}'s ${groupLabel(change.group)} to ${LEVEL_TEXT[change.level as keyof typeof LEVEL_TEXT]}`;
    } else if ("tool" in change) {
      const t = byName.get(change.tool);
      if (!t) throw new EditError(`no tool "${String(change.tool).slice(0, 100)}"`);
      if (typeof change.on !== "boolean") throw new EditError("on must be true or false");
      group = t.group;
      target = new Set(visible);
      if (change.on) {
        target.add(t.name);
        if (t.access === "destructive" && !visible.has(t.name) && change.confirm_destructive !== true) {
          needs.add(t.name);
          missing.push(t.name);
        }
      } else target.delete(t.name);
      what = `turned ${change.on ? "on" : "off"} ${t.name} for ${ref.agent}`;
    } else {
      throw new EditError("each change is {agent, group, level} or {agent, tool, on}");
    }
    actions.push(what);
    if (sameTools(target, visible)) continue;
    let editName = profileName;
    if (usersOf(current, profileName) > 1) {
      editName = forkName(raw, ref);
      (raw.profiles as Raw)[editName] = clone((raw.profiles as Raw)[profileName] ?? {});
      setRowProfile(raw, ref, editName);
      sentences.push(
        `${ref.agent} shared the profile "${profileName}" with other agents: it gets its own copy, "${editName}", so this change applies to ${ref.agent} only`,
      );
    }
    const profile = ((raw.profiles as Raw)[editName] ?? {}) as Raw;
    // Keep the profile as written where it can (its other groups' items, globs, exclusions);
    // else the exact list of names.
    const kept = rewriteProfileGroup(profile, group, target, policyTools);
    if (kept) (raw.profiles as Raw)[editName] = kept;
    else {
      profile.tools = app.tools.filter((t) => target.has(t.name)).map((t) => t.name);
      delete profile.exclude_tools;
      (raw.profiles as Raw)[editName] = profile;
    }
    const check = visibleOf(parseConfig(raw).profiles[editName]);
    if (!sameTools(check, target)) throw new EditError("internal: the edited profile does not resolve to the chosen tools", 500);
  }
  if (opts.confirmRequired && missing.length) {
    throw new EditError(
      `Full use here includes destructive tools that cannot be undone: ${[...new Set(missing)].join(", ")}. ` +
        "Confirm them explicitly (confirm_destructive: true) to turn them on",
    );
  }
  const after = parseConfig(raw);
  const gains: ToolChange[] = [];
  const loses: ToolChange[] = [];
  const beforeRows = new Map(rowRefs(before).map((r) => [r.agent, visibleOf(before.profiles[r.profile])]));
  for (const r of rowRefs(after)) {
    const a = visibleOf(after.profiles[r.profile]);
    const b = beforeRows.get(r.agent) ?? new Set<string>();
    const gained = app.tools.filter((t) => a.has(t.name) && !b.has(t.name));
    const lost = app.tools.filter((t) => b.has(t.name) && !a.has(t.name));
    for (const t of gained) gains.push({ agent: r.agent, tool: t.name, class: t.access });
    for (const t of lost) loses.push({ agent: r.agent, tool: t.name, class: t.access });
    if (gained.length) {
      const destructive = gained.filter((t) => t.access === "destructive").map((t) => t.name);
      sentences.push(
        `${r.agent} will be able to call ${gained.map((t) => `${t.name} (${t.access})`).join(", ")}` +
          (destructive.length ? `; ${destructive.join(", ")} cannot be undone` : ""),
      );
    }
    if (lost.length) sentences.push(`${r.agent} will no longer be able to call ${lost.map((t) => t.name).join(", ")}`);
  }
  if (!gains.length && !loses.length) sentences.push("nothing changes: every agent keeps the tools it has");
  return { raw, config: after, sentences, actions, gains, loses, needs_confirmation: [...needs] };
}
