/**
 * The output budget: nothing a tool returns may flood the agent's context. Text is cut with a
 * marker; structured results are shrunk by dropping whole trailing items of their biggest arrays
 * (never half a vector or half a record), cutting long strings, and saying exactly what was cut
 * and how to get it in a top-level `truncated` note. Secrets are redacted before any cut, and a
 * cut's end is checked for a secret's prefix (src/redact.ts).
 */
import { redactDeep, redactTail, redactText, type Secrets } from "../redact.js";

/** Keep a text inside the budget, saying what was cut and how to get the rest. */
export function budgetText(text: string, max: number, hint: string, secrets: Secrets = []): string {
  text = redactText(text, secrets);
  if (text.length <= max) return text;
  const marker = `\n[truncated: ${text.length - max} of ${text.length} characters cut by the server's output budget. ${hint}]`;
  return redactTail(text.slice(0, Math.max(0, max - marker.length)), secrets) + marker;
}

export interface Cut {
  path: string;
  kept: number;
  total: number;
  unit: "items" | "characters" | "keys";
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const size = (v: unknown): number => JSON.stringify(v)?.length ?? 0;

/** Room kept for the `truncated` note itself. */
const NOTE_MAX = 300;
/** Strings shorter than this are never cut (ids, names, statuses). */
const MIN_CUT_STRING = 80;

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Walk down from the root through objects towards the biggest child until an array or a long string. */
function findTarget(root: Record<string, Json>): { parent: Record<string, Json> | Json[]; key: string | number; path: string } | undefined {
  let node: Json = root;
  let parent: Record<string, Json> | Json[] | undefined;
  let key: string | number = "";
  let path = "";
  for (let depth = 0; depth < 32; depth++) {
    if (Array.isArray(node) || typeof node === "string") {
      return parent === undefined ? undefined : { parent, key, path };
    }
    if (!isObject(node)) return undefined;
    let best: { k: string; s: number } | undefined;
    for (const [k, v] of Object.entries(node)) {
      const cuttable = Array.isArray(v) ? v.length > 0 : isObject(v) ? Object.keys(v).length > 0 : typeof v === "string" && v.length > MIN_CUT_STRING;
      if (!cuttable) continue;
      const s = size(v);
      if (!best || s > best.s) best = { k, s };
    }
    if (!best) {
      // an object of small values: drop its trailing keys (never the top level's)
      return parent === undefined ? undefined : { parent, key, path };
    }
    parent = node;
    key = best.k;
    path = path ? `${path}.${best.k}` : best.k;
    node = node[best.k]!;
  }
  return undefined;
}

function record(cuts: Cut[], cut: Cut): void {
  const prev = cuts.find((c) => c.path === cut.path);
  if (prev) prev.kept = cut.kept;
  else cuts.push(cut);
}

/** Remove about `need` characters from the target; returns false when nothing could be removed. */
function cutTarget(
  t: { parent: Record<string, Json> | Json[]; key: string | number; path: string },
  need: number,
  cuts: Cut[],
  totals: Map<string, number>,
  secrets: Secrets,
): boolean {
  const value = (t.parent as Record<string | number, Json>)[t.key]!;
  if (typeof value === "string") {
    const total = totals.get(t.path) ?? value.length;
    totals.set(t.path, total);
    const keep = Math.max(0, value.length - need - 1);
    if (keep >= value.length) return false;
    (t.parent as Record<string | number, Json>)[t.key] = redactTail(value.slice(0, keep), secrets) + "…";
    record(cuts, { path: t.path, kept: keep, total, unit: "characters" });
    return true;
  }
  if (Array.isArray(value)) {
    if (!value.length) return false;
    const total = totals.get(t.path) ?? value.length;
    totals.set(t.path, total);
    let removed = 0;
    while (value.length && removed < need) removed += size(value.pop()) + 1;
    record(cuts, { path: t.path, kept: value.length, total, unit: "items" });
    return true;
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (!keys.length) return false;
    const total = totals.get(t.path) ?? keys.length;
    totals.set(t.path, total);
    let removed = 0;
    while (keys.length && removed < need) {
      const k = keys.pop()!;
      removed += size(k) + size(value[k]) + 2;
      delete value[k];
    }
    record(cuts, { path: t.path, kept: keys.length, total, unit: "keys" });
    return true;
  }
  return false;
}

export function describeCuts(cuts: Cut[], max: number, hint: string, secrets: Secrets = []): string {
  const parts = cuts.slice(0, 4).map((c) => `${c.path}: kept ${c.kept} of ${c.total} ${c.unit}`);
  if (cuts.length > 4) parts.push(`${cuts.length - 4} more cuts`);
  const note = redactText(`Cut to fit the server's output budget (${max} characters): ${parts.join("; ")}. ${hint}`, secrets);
  return note.length > NOTE_MAX ? redactTail(note.slice(0, NOTE_MAX - 1), secrets) + "…" : note;
}

/**
 * Shrink a structured result to at most `max` characters of JSON. Returns the value (a copy when
 * anything was cut) with a top-level `truncated` note, or the value itself when it already fits.
 */
export function fitJson(
  value: Record<string, unknown>,
  max: number,
  hint: string,
  /** The budget named in the note (the whole result's, when this part gets a share of it). */
  shownMax = max,
  /** Redacted before any cut; a cut string's end is checked for a secret's prefix. */
  secrets: Secrets = [],
): { value: Record<string, unknown>; cuts: Cut[]; json?: string } {
  // what fits is returned as is, with the JSON it was measured by (the caller may reuse it)
  const json = JSON.stringify(value) as string | undefined;
  if ((json?.length ?? 0) <= max) return { value, cuts: [], json };
  const copy = redactDeep(JSON.parse(JSON.stringify(value)) as Record<string, Json>, secrets);
  const cuts: Cut[] = [];
  const totals = new Map<string, number>();
  const room = Math.max(0, max - NOTE_MAX - 20);
  for (let i = 0; i < 200; i++) {
    const current = size(copy);
    if (current <= room) break;
    const target = findTarget(copy);
    if (!target || !cutTarget(target, current - room, cuts, totals, secrets)) break;
  }
  const note = describeCuts(cuts, shownMax, hint, secrets);
  if (size(copy) + note.length + 20 > max) {
    // nothing left that can be cut (e.g. hundreds of top-level scalars): say so instead of flooding
    return { value: { truncated: `The result was too large for the server's output budget (${shownMax} characters) and was left out. ${hint}` }, cuts };
  }
  copy.truncated = note;
  return { value: copy, cuts };
}
