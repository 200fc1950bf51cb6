/**
 * What each console save changed, kept so that an admin whose save is refused as stale (409) is
 * told what the other admin changed: who, when, which agents and groups, old → new.
 *
 * Each save appends one record to the capped stream `policy:changes` of the shared state (Redis
 * with --store, so any replica's console sees every replica's saves; memory otherwise): the
 * version it replaced and the one it wrote, the admin, the time, its audit sentence and the
 * cells of the grid that changed. A 409 walks the records back from the newest to the one that
 * replaced the version the admin had loaded. A change made outside the console (the file edited
 * by hand and reloaded) has no record: the answer says so.
 */
import type { App } from "../../runtime/app.js";
import type { ConfigFile } from "../../config/file.js";
import { policyTools, profileSpec } from "../../runtime/app.js";
import { resolveVisible } from "../../policy/allowlist.js";
import { cellOf, groupLabel, groupSets, rowRefs, type Level } from "./grid.js";

export const CHANGES_STREAM = "policy:changes";
const CHANGES_MAX = 500;

export interface CellChange {
  agent: string;
  group: string;
  /** "absent": the row did not exist (a new agent) or no longer does. */
  from: Level | "absent";
  to: Level | "absent";
}

export interface ChangeRecord {
  from_version: string;
  to_version: string;
  admin: string;
  admin_role: string;
  time: string;
  action: string;
  /** The audit sentence ("team-lead (admin) set curator's Manage datasets to Full use; …"). */
  text: string;
  cells: CellChange[];
}

const LEVEL_WORD: Record<CellChange["from"], string> = { off: "Off", read: "Read", full: "Full use", custom: "Custom", absent: "(no such agent)" };

/** The grid cells whose level differs between two configurations, row by row. */
export function cellChanges(app: App, before: ConfigFile, after: ConfigFile): CellChange[] {
  const sets = groupSets(app.tools);
  const cells = (config: ConfigFile) => {
    const out = new Map<string, Map<string, Level>>();
    for (const r of rowRefs(config)) {
      const p = config.profiles[r.profile];
      const visible = p ? resolveVisible(policyTools, profileSpec(p)) : new Set<string>();
      const row = new Map<string, Level>();
      for (const [g, s] of sets) row.set(g, cellOf(visible, s).level);
      out.set(r.agent, row);
    }
    return out;
  };
  const b = cells(before);
  const a = cells(after);
  const out: CellChange[] = [];
  for (const agent of new Set([...b.keys(), ...a.keys()])) {
    for (const g of sets.keys()) {
      const from = b.get(agent)?.get(g) ?? "absent";
      const to = a.get(agent)?.get(g) ?? "absent";
      // a new or removed row: only the groups it has on are worth naming
      if (from === to || ((from === "absent" || from === "off") && (to === "absent" || to === "off"))) continue;
      out.push({ agent, group: g, from, to });
    }
  }
  return out;
}

export async function recordChange(app: App, rec: ChangeRecord): Promise<void> {
  try {
    await app.shared.append(CHANGES_STREAM, JSON.stringify(rec), CHANGES_MAX);
  } catch (err) {
    app.logger.warn("could not record a console change for conflict reports", { error: (err as Error)?.message });
  }
}

/** One record in plain English: "team-lead (admin) at 2026-…Z: curator's Manage datasets Read → Full use (set …)". */
export function changeSentence(r: ChangeRecord): string {
  const cells = r.cells.map((c) => `${c.agent}'s ${groupLabel(c.group)} ${LEVEL_WORD[c.from]} → ${LEVEL_WORD[c.to]}`);
  const what = r.text.startsWith(`${r.admin} (${r.admin_role}) `) ? r.text.slice(r.admin.length + r.admin_role.length + 4) : r.text;
  return `${r.admin} (${r.admin_role}) at ${r.time}: ${cells.length ? cells.join(", ") : "no access change"} (${what})`;
}

/**
 * The records since the admin loaded `version`, oldest first; `complete` is false when the chain
 * back to it is not in the stream (a change made outside the console, or records trimmed away).
 */
export async function changesSince(app: App, version: string, current: string): Promise<{ records: ChangeRecord[]; complete: boolean }> {
  const entries = await app.shared.latest(CHANGES_STREAM, CHANGES_MAX).catch(() => []);
  const byTo = new Map<string, ChangeRecord>();
  for (const e of entries) {
    try {
      const r = JSON.parse(e.value) as ChangeRecord;
      if (!byTo.has(r.to_version)) byTo.set(r.to_version, r);
    } catch {
      /* not ours */
    }
  }
  // Follow the chain from the current version back to the admin's.
  const records: ChangeRecord[] = [];
  let at = current;
  const seen = new Set<string>();
  while (at !== version && !seen.has(at)) {
    seen.add(at);
    const r = byTo.get(at);
    if (!r) return { records: records.reverse(), complete: false };
    records.push(r);
    at = r.from_version;
  }
  return { records: records.reverse(), complete: at === version };
}
