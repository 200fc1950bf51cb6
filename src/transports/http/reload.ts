/**
 * The HTTP transport's share of a configuration reload (src/runtime/live.ts, src/runtime/reload.ts), kept to two
 * small functions so it can be re-applied over changes to auth and sessions:
 *
 *  - liveHttp: the plan (per-agent ceilings, authenticator) and the scope resolver are derived
 *    from each configuration generation. A request reads them once, at its start: a rotated or
 *    removed token is refused from the next request on.
 *  - retireSessions: after a swap, the sessions of agents that were removed, or moved to another
 *    profile, end (when their running requests finish); their next request gets 404, and an MCP
 *    client then initializes again under the new configuration. Sessions of agents whose profile
 *    now gives other tools carry on and are sent notifications/tools/list_changed (each request
 *    is scoped by the current configuration; calls in flight finish under their old rules).
 */
import type { App } from "../../runtime/app.js";
import { loadOAuthFor, planHttp, type HttpPlan } from "./plan.js";
import { createScopeResolver, type ScopeResolver } from "./admission/scopes.js";
import type { SessionTable } from "./legacy/sessions.js";
import type { InFlightRequests } from "./inflight.js";
import type { Identity } from "../../identity/index.js";
import { revokedBy } from "../../runtime/reload.js";
import { sameTools } from "../../policy/allowlist.js";
import type { ModernLeg } from "./modern/handler.js";

export interface HttpLive {
  plan: HttpPlan;
  scopeFor: ScopeResolver;
}

const PART = "http";

/** Build the HTTP part for the current configuration now (start-up errors throw here), and for every reload. */
export function liveHttp(app: App, env: NodeJS.ProcessEnv): () => HttpLive {
  app.live.beforeBuild(loadOAuthFor); // a reload that turns OAuth on loads its module first
  return app.live.derive<HttpLive>(PART, (gen) => {
    const plan = planHttp(app, env, gen);
    // tokens from the environment, an introspection secret: redacted everywhere from now on
    for (const secret of plan.auth?.secrets() ?? []) app.addSecret(secret);
    return { plan, scopeFor: createScopeResolver(app, plan) };
  });
}

/**
 * After a swap. Removal is revocation (issue 20, finding 11): the agents a reload removed, or
 * whose credential it changed (and every OAuth identity when OAuth was turned off or moved to
 * another issuer, resource or audience), lose their running calls at once (stateless or not) and
 * their sessions end, GET streams included. Agents moved to another profile keep their running
 * calls; their sessions end when those finish. Sessions whose tools changed carry on and are
 * told to list them again. Modern clients holding a subscriptions/listen stream are re-scoped under
 * the new configuration: those whose tools changed are told (tools/list_changed on the stream),
 * those revoked or removed have the stream ended (modern/listen.ts).
 */
export function retireSessions(app: App, sessions: SessionTable | undefined, requests: InFlightRequests, modern?: ModernLeg): void {
  app.live.onSwap(({ prev, next }) => {
    const r = revokedBy(prev.config, next.config);
    const revoked = new Set(r.agents);
    const isRevoked = (agent: string, kind: Identity["kind"]) => (kind === "oauth" ? r.oauth : kind === "static" && revoked.has(agent));
    if (revoked.size || r.oauth) {
      const message = "Cancelled: this agent's credential was removed or replaced by a configuration reload; nothing more is sent to Cohere for this call.";
      const calls = requests.cancelWhere((w) => isRevoked(w.agent, w.kind), message);
      const ended = sessions?.revoke(isRevoked, "its credential was revoked by a reload") ?? 0;
      app.logger.info("reload revoked credentials", { agents: [...revoked], oauth: r.oauth || undefined, calls, sessions: ended });
    }
    const nextLive = next.parts.get(PART) as HttpLive | undefined;
    if (modern && nextLive) {
      const { told, ended } = modern.reloaded((who, header, query) =>
        isRevoked(who.agent, who.kind) || (who.kind !== "oauth" && !nextLive.plan.ceilings.has(who.agent))
          ? undefined
          : nextLive.scopeFor(who, header, query).visible,
      );
      if (told || ended) app.logger.info("reload reached the modern clients listening for changes", { told, ended });
    }
    if (!sessions) return;
    const before = (prev.parts.get(PART) as HttpLive | undefined)?.plan.ceilings;
    const after = (next.parts.get(PART) as HttpLive | undefined)?.plan.ceilings;
    if (!before || !after) return;
    const gone = new Set<string>();
    const changed = new Set<string>();
    for (const [agent, c] of before) {
      const n = after.get(agent);
      if (!n || n.profile !== c.profile) gone.add(agent);
      // Same profile, other tools: the session carries on (each request is scoped by the current
      // configuration) and is told to list its tools again.
      else if (!sameTools(n.visible, c.visible)) changed.add(agent);
    }
    if (changed.size) {
      const told = sessions.notifyToolsChanged(changed);
      if (told) app.logger.info("reload changed the tools of open sessions; they were sent tools/list_changed", { sessions: told, agents: [...changed] });
    }
    if (!gone.size) return;
    const closed = sessions.retire((agent, kind) => kind !== "oauth" && gone.has(agent), "its agent was removed or moved to another profile by a reload");
    if (closed) app.logger.info("reload closed sessions", { sessions: closed, agents: [...gone] });
  });
  if (!sessions) return;
  app.sessionCounts = () => sessions.byAgent();
  app.openSessions = () => sessions.list();
  app.endSessions = (match, why) => sessions.retire((agent, _kind, id) => match({ id, agent }), why);
}
