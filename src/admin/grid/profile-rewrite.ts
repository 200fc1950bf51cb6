/**
 * A grid edit rewrites one group of a profile and keeps the rest as the operator wrote it: items
 * (group names, globs, exact names, "default") that select nothing of the edited group stay as
 * they are, in their order, and so do the edited group's items that bring only tools the agent
 * keeps ("*_batch*" when create_batch is turned on); what they do not cover is added as the group
 * name when that brings only wanted tools (Read), plus the exact names of the others (Full use:
 * "datasets", "create_dataset", "delete_dataset"), where the first dropped item stood.
 *
 * An item that spans the edited group and others (a glob like "list_*", "default") stays, and the
 * edited group's tools it would bring but the agent must not get are excluded by exact name; an
 * exclusion that would hide a tool the agent must now get is dropped (one spanning other groups
 * is replaced by the exact names it excluded there). The result is checked with the resolver the
 * server decides with; when it does not give exactly the chosen tools, undefined (the caller
 * writes the exact list instead).
 */
import { matchItem, parseList, resolveVisible, sameTools, DEFAULT_ITEM, type PolicyTool } from "../../policy/allowlist.js";

type Raw = Record<string, unknown>;
/** Where the edited group's new part goes in the list. */
const PART = Symbol("part");

/** The tools an item brings in a profile with these class flags (exact names pass the gate). */
function brings(item: string, tools: readonly PolicyTool[], allowWrite: boolean, allowDestructive: boolean): PolicyTool[] {
  const m = matchItem(item, tools);
  if (m.kind === "exact") return m.tools;
  return m.tools.filter((t) => t.access === "read" || (t.access === "write" ? allowWrite : allowDestructive));
}

export function rewriteProfileGroup(profile: Raw, group: string, target: ReadonlySet<string>, tools: readonly PolicyTool[]): Raw | undefined {
  const allowWrite = profile.allow_write === true;
  const allowDestructive = profile.allow_destructive === true;
  let items: string[];
  let excludes: string[];
  try {
    items = parseList(profile.tools as string | string[] | undefined) ?? [DEFAULT_ITEM];
    excludes = parseList(profile.exclude_tools as string | string[] | undefined) ?? [];
  } catch {
    return undefined;
  }
  const inGroup = new Set(tools.filter((t) => t.group === group).map((t) => t.name));
  const want = new Set([...target].filter((n) => inGroup.has(n)));

  const next: Array<string | typeof PART> = [];
  const extraExcludes = new Set<string>();
  /** The edited group's wanted tools that kept items already bring. */
  const covered = new Set<string>();
  let placed = false;
  for (const item of items) {
    const got = brings(item, tools, allowWrite, allowDestructive).map((t) => t.name);
    const touches = got.filter((n) => inGroup.has(n));
    if (!touches.length) {
      next.push(item); // untouched: kept as written
      continue;
    }
    if (got.every((n) => inGroup.has(n)) && !touches.every((n) => want.has(n))) {
      // only the edited group's, and brings what the agent must no longer get: replaced by the
      // group's new part (where the first such item stood)
      if (!placed) next.push(PART);
      placed = true;
      continue;
    }
    // brings only wanted tools of the group, or spans other groups: kept as written; what a
    // spanning item brings of the group but must not, excluded by name
    next.push(item);
    for (const n of touches) {
      if (want.has(n)) covered.add(n);
      else extraExcludes.add(n);
    }
  }

  // The rest of the group's part: its group name when that brings only wanted tools, plus exact names.
  const rest = [...want].filter((n) => !covered.has(n));
  const byGroupName = brings(group, tools, allowWrite, allowDestructive).map((t) => t.name);
  const useName =
    !tools.some((t) => t.name === group) && byGroupName.length > 0 && byGroupName.every((n) => want.has(n)) && byGroupName.some((n) => rest.includes(n));
  const part: string[] = useName ? [group] : [];
  for (const t of tools) if (rest.includes(t.name) && !(useName && byGroupName.includes(t.name))) part.push(t.name);
  if (!placed) next.push(PART);
  // an exact name the group name now brings is said once, by the group name
  const redundant = (x: string) => useName && byGroupName.includes(x) && matchItem(x, tools).kind === "exact";
  const written = next.flatMap((x) => (x === PART ? part : redundant(x) ? [] : [x]));

  const nextExcludes: string[] = [];
  for (const item of excludes) {
    const hit = matchItem(item, tools).tools.map((t) => t.name);
    if (!hit.some((n) => want.has(n))) {
      nextExcludes.push(item);
      continue;
    }
    // it would hide a tool the agent must now get: dropped; what it hid outside the group stays hidden
    for (const n of hit) if (!inGroup.has(n)) nextExcludes.push(n);
  }
  for (const n of extraExcludes) if (!nextExcludes.includes(n)) nextExcludes.push(n);

  const out: Raw = { ...profile, tools: [...new Set(written)] };
  if (nextExcludes.length) out.exclude_tools = [...new Set(nextExcludes)];
  else delete out.exclude_tools;
  try {
    const got = resolveVisible(tools, {
      tools: out.tools as string[],
      exclude: out.exclude_tools as string[] | undefined,
      allowWrite,
      allowDestructive,
    });
    return sameTools(got, target) ? out : undefined;
  } catch {
    return undefined;
  }
}
