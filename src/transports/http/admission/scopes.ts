/**
 * An agent's scope for one request: its ceiling, narrowed (never widened) by the X-MCP-Tools
 * header and the ?tools= query, and for an OAuth agent by the access classes its token's scopes
 * grant. Scopes are cached per (agent, profile, classes, narrowing), so the same agent with the
 * same header gets the same visible set and tools/list descriptors come from the app's cache;
 * an OAuth request's own audit claims (sub, client_id, jti) are added on a shallow copy.
 */
import { narrow, parseList } from "../../../policy/allowlist.js";
import { policyTools, type App } from "../../../runtime/app.js";
import { withClasses } from "../../../policy/access.js";
import type { Access } from "../../../catalog/types.js";
import type { AgentScope } from "../../../policy/types.js";
import type { Identity } from "../../../identity/index.js";
import type { HttpPlan } from "../plan.js";

export type ScopeResolver = (who: Identity, headerItems: string | undefined, queryItems: string | undefined) => AgentScope;

const ACCESS = new Map<string, Access>(policyTools.map((t) => [t.name, t.access]));

/** The access class of a tool (undefined for an unknown name). */
export function accessOf(name: string): Access | undefined {
  return ACCESS.get(name);
}

export function createScopeResolver(app: App, plan: HttpPlan): ScopeResolver {
  const cache = new Map<string, AgentScope>();
  return (who, headerItems, queryItems) => {
    const classes = who.classes.size === 3 ? "" : [...who.classes].sort().join(",");
    const key = `${who.kind}\u0000${who.agent}\u0000${who.profile ?? ""}\u0000${classes}\u0000${headerItems ?? ""}\u0000${queryItems ?? ""}`;
    let scope = cache.get(key);
    if (!scope) {
      const ceiling = who.kind === "oauth" ? plan.profileCeiling(who.profile!) : plan.ceilings.get(who.agent)!;
      let visible: ReadonlySet<string> = ceiling.visible;
      const ignored: string[] = [];
      for (const raw of [headerItems, queryItems]) {
        const items = parseList(raw ?? "")?.slice(0, 100);
        if (!items?.length) continue;
        const r = narrow(policyTools, visible, items);
        visible = r.visible;
        ignored.push(...r.ignored.map((s) => s.slice(0, 64)));
      }
      if (classes) visible = withClasses(visible, who.classes);
      scope = {
        agent: who.agent,
        transport: "http",
        visible,
        ignored: ignored.length ? ignored : undefined,
        profile: ceiling.profile,
        stateless: !app.options.sessions,
      };
      if (cache.size >= 1000) cache.clear();
      cache.set(key, scope);
    }
    return who.claims ? { ...scope, claims: who.claims } : scope;
  };
}
