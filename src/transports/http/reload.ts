/**
 * The HTTP transport's share of a configuration reload (src/live.ts, src/reload.ts), kept to two
 * small functions so it can be re-applied over changes to auth and sessions:
 *
 *  - liveHttp: the plan (per-agent ceilings, authenticator) and the scope resolver are derived
 *    from each configuration generation. A request reads them once, at its start: a rotated or
 *    removed token is refused from the next request on.
 *  - retireSessions: after a swap, the sessions of agents that were removed, or whose profile or
 *    tools changed, end (when their running requests finish); their next request gets 404, and
 *    an MCP client then initializes again under the new configuration.
 */
import type { App } from "../../app.js";
import { loadOAuthFor, planHttp, type HttpPlan } from "./plan.js";
import { createScopeResolver, type ScopeResolver } from "./scopes.js";
import type { SessionTable } from "./sessions.js";
import type { InFlightRequests } from "./inflight.js";
import type { Identity } from "../../identity.js";
import { diffConfigs } from "../../reload.js";
import { sameTools } from "../../policy/allowlist.js";

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
 * After a swap: the agents a reload removed, or whose credential it changed (and every OAuth
 * identity when OAuth was turned off or moved to another issuer, resource or audience), are
 * revoked at once (issue 20, finding 11): their running calls are cancelled (stateless or not) and
 * their sessions end, GET streams included. Agents whose profile or tools changed keep their
 * running calls; their sessions end when those finish.
 */
export function retireSessions(app: App, sessions: SessionTable | undefined, requests: InFlightRequests): void {
  app.live.onSwap(({ prev, next }) => {
    const d = diffConfigs(prev.config, next.config);
    const revoked = new Set(d.agentsRevoked);
    const isRevoked = (agent: string, kind: Identity["kind"]) => (kind === "oauth" ? d.oauthRevoked : kind === "static" && revoked.has(agent));
    if (revoked.size || d.oauthRevoked) {
      const message = "Cancelled: this agent's credential was removed or replaced by a configuration reload; nothing more is sent to Cohere for this call.";
      const calls = requests.cancelWhere((w) => isRevoked(w.agent, w.kind), message);
      const ended = sessions?.revoke(isRevoked, "its credential was revoked by a reload") ?? 0;
      app.logger.info("reload revoked credentials", { agents: [...revoked], oauth: d.oauthRevoked || undefined, calls, sessions: ended });
    }
    if (!sessions) return;
    const before = (prev.parts.get(PART) as HttpLive | undefined)?.plan.ceilings;
    const after = (next.parts.get(PART) as HttpLive | undefined)?.plan.ceilings;
    if (!before || !after) return;
    const gone = new Set<string>();
    for (const [agent, c] of before) {
      const n = after.get(agent);
      if (!n || n.profile !== c.profile || !sameTools(n.visible, c.visible)) gone.add(agent);
    }
    if (!gone.size) return;
    const closed = sessions.retire((agent, kind) => kind !== "oauth" && gone.has(agent), "its agent was removed or its tools changed by a reload");
    if (closed) app.logger.info("reload closed sessions", { sessions: closed, agents: [...gone] });
  });
  if (sessions) app.sessionCounts = () => sessions.byAgent();
}
