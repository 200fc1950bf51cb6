/**
 * Which tools an agent sees. A small pipeline, each step tested on its own:
 *
 *   select (items: exact name | group | glob | "default")  →  class gate (write/destructive
 *   need their flag unless named exactly)  →  exclude (always wins)  →  ceiling (a profile
 *   caps what a request or a --tools list may add).
 *
 * A tool that is not in the resulting set is neither listed nor callable.
 */
import { GROUPS, type Access, type Group } from "../catalog/types.js";

/** The few facts the policy needs about a tool. */
export interface PolicyTool {
  name: string;
  group: Group;
  access: Access;
  deprecated: boolean;
}

export interface PolicySpec {
  /** Items to select; undefined means the default set. */
  tools?: readonly string[];
  exclude?: readonly string[];
  allowWrite?: boolean;
  allowDestructive?: boolean;
}

export class PolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyError";
  }
}

export const DEFAULT_ITEM = "default";

/** Do two visible sets hold the same tools? (A reload compares a profile's before and after.) */
export function sameTools(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** Split "a, b ,c" or an array of such strings into trimmed, non-empty items. */
export function parseList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const raw = typeof value === "string" ? [value] : value;
  return raw
    .flatMap((v) => v.split(","))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

const isGlob = (item: string) => /[*?]/.test(item);
const isGroup = (item: string): item is Group => (GROUPS as readonly string[]).includes(item);

export type MatchKind = "exact" | "group" | "glob" | "default";

/** The tools an item names, ignoring class flags. Exact names are case-sensitive. */
export function matchItem(item: string, tools: readonly PolicyTool[]): { kind: MatchKind; tools: PolicyTool[] } {
  if (item === DEFAULT_ITEM) return { kind: "default", tools: tools.filter((t) => !t.deprecated) };
  const exact = tools.find((t) => t.name === item);
  if (exact) return { kind: "exact", tools: [exact] };
  if (isGroup(item)) return { kind: "group", tools: tools.filter((t) => t.group === item) };
  if (isGlob(item)) {
    const re = globToRegExp(item);
    return { kind: "glob", tools: tools.filter((t) => re.test(t.name)) };
  }
  return { kind: "exact", tools: [] };
}

/** Does the class gate let a tool through for a non-exact selection? */
function classAllowed(t: PolicyTool, spec: PolicySpec): boolean {
  if (t.access === "read") return true;
  if (t.access === "write") return spec.allowWrite === true;
  return spec.allowDestructive === true;
}

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** The names closest to a mistyped item (tool and group names), best first. */
export function closestNames(item: string, tools: readonly PolicyTool[], n = 3): string[] {
  const lower = item.toLowerCase();
  const candidates = [...tools.map((t) => t.name), ...GROUPS];
  return candidates
    .map((name) => {
      const l = name.toLowerCase();
      const d = levenshtein(lower, l) - (l.includes(lower) || lower.includes(l) ? 2 : 0);
      return { name, d };
    })
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .slice(0, n)
    .map((c) => c.name);
}

/**
 * Resolve a spec to the set of visible tool names. Throws PolicyError when an item matches no
 * tool at all, or matches only tools its class flags keep out (so the operator learns why).
 */
export function resolveVisible(tools: readonly PolicyTool[], spec: PolicySpec): Set<string> {
  const items = spec.tools ?? [DEFAULT_ITEM];
  const selected = new Set<string>();
  const problems: string[] = [];
  for (const item of items) {
    const m = matchItem(item, tools);
    if (m.tools.length === 0) {
      problems.push(`"${item}" matches no tool; closest: ${closestNames(item, tools).join(", ")}`);
      continue;
    }
    if (m.kind === "exact") {
      selected.add(m.tools[0]!.name);
      continue;
    }
    const allowed = m.tools.filter((t) => classAllowed(t, spec));
    if (allowed.length === 0) {
      const needs = new Set(m.tools.map((t) => (t.access === "write" ? "--allow-write" : "--allow-destructive")));
      problems.push(
        `"${item}" matches only ${[...new Set(m.tools.map((t) => t.access))].join("/")} tools (${m.tools
          .map((t) => t.name)
          .join(", ")}); add ${[...needs].join(" and ")} or name the tools exactly`,
      );
      continue;
    }
    for (const t of allowed) selected.add(t.name);
  }
  for (const item of spec.exclude ?? []) {
    const m = matchItem(item, tools);
    if (m.tools.length === 0) {
      problems.push(`exclude "${item}" matches no tool; closest: ${closestNames(item, tools).join(", ")}`);
      continue;
    }
    for (const t of m.tools) selected.delete(t.name);
  }
  if (problems.length) throw new PolicyError(`Invalid tool selection:\n  - ${problems.join("\n  - ")}`);
  return selected;
}

/**
 * Narrow a visible set with extra items (a request header, or --tools under a --profile).
 * Items are matched against the ceiling only: nothing outside it can be added.
 * Returns the narrowed set and the items that named nothing inside the ceiling.
 */
export function narrow(
  tools: readonly PolicyTool[],
  ceiling: ReadonlySet<string>,
  items: readonly string[],
): { visible: Set<string>; ignored: string[] } {
  const inside = tools.filter((t) => ceiling.has(t.name));
  const visible = new Set<string>();
  const ignored: string[] = [];
  for (const item of items) {
    const m = item === DEFAULT_ITEM ? { tools: inside } : matchItem(item, inside);
    if (m.tools.length === 0) ignored.push(item);
    for (const t of m.tools) visible.add(t.name);
  }
  return { visible, ignored };
}

/** How an operator makes a hidden tool visible: the exact flag to add. */
/**
 * How an operator could make a tool visible. Over HTTP the agent's tools come from its profile on
 * a shared gateway: it asks for the profile to be changed (a restart with --tools is not its
 * remedy); over stdio the user who starts the server can pass --tools.
 */
export function howToEnable(t: Pick<PolicyTool, "name">, transport: "stdio" | "http" = "stdio", profile?: string): string {
  if (transport === "http") {
    return (
      `ask the gateway's operator to add "${t.name}" to ${profile ? `profile "${profile}"` : "this agent's profile"} ` +
      "(its \"tools\" in the config file; a reload applies it)"
    );
  }
  return `start cohere-mcp with --tools ${t.name} (or add "${t.name}" to the agent's profile "tools" in the config file)`;
}
