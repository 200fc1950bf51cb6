/**
 * An agent's scope for one request: its ceiling, narrowed (never widened) by the X-MCP-Tools
 * header and the ?tools= query. Scopes are cached per (agent, narrowing), so the same agent with
 * the same header gets the same object and tools/list descriptors come from the app's cache.
 */
import { narrow, parseList } from "../../policy/allowlist.js";
import { policyTools, type App } from "../../app.js";
import type { AgentScope } from "../../policy/types.js";
import type { HttpPlan } from "./plan.js";

export type ScopeResolver = (agent: string, headerItems: string | undefined, queryItems: string | undefined) => AgentScope;

export function createScopeResolver(app: App, plan: HttpPlan): ScopeResolver {
  const cache = new Map<string, AgentScope>();
  return (agent, headerItems, queryItems) => {
    const key = `${agent}\u0000${headerItems ?? ""}\u0000${queryItems ?? ""}`;
    let scope = cache.get(key);
    if (scope) return scope;
    const ceiling = plan.ceilings.get(agent)!;
    let visible: ReadonlySet<string> = ceiling.visible;
    const ignored: string[] = [];
    for (const raw of [headerItems, queryItems]) {
      const items = parseList(raw ?? "")?.slice(0, 100);
      if (!items?.length) continue;
      const r = narrow(policyTools, visible, items);
      visible = r.visible;
      ignored.push(...r.ignored.map((s) => s.slice(0, 64)));
    }
    scope = {
      agent,
      transport: "http",
      visible,
      ignored: ignored.length ? ignored : undefined,
      profile: ceiling.profile,
      stateless: !app.options.sessions,
    };
    if (cache.size >= 1000) cache.clear();
    cache.set(key, scope);
    return scope;
  };
}
