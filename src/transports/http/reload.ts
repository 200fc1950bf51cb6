/**
 * The HTTP transport's share of a configuration reload (src/live.ts, src/reload.ts), kept to two
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
import type { App } from "../../app.js";
import type { ConfigFile } from "../../config/file.js";
import { loadOAuthFor, planHttp, type HttpPlan } from "./plan.js";
import { createScopeResolver, type ScopeResolver } from "./scopes.js";
import type { SessionTable } from "./sessions.js";
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

export function retireSessions(app: App, sessions: SessionTable | undefined): void {
  if (!sessions) return;
  app.live.onSwap(({ prev, next }) => {
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
    // OAuth turned off, or another issuer or resource: its sessions' tokens can no longer be
    // accepted, so their slots are given back now rather than when they expire idle. (A change
    // of claim rules keeps them: each request is scoped by its own token.)
    const oauthGone = oauthIdentityChanged(prev.config?.oauth, next.config?.oauth);
    if (!gone.size && !oauthGone) return;
    const closed = sessions.retire(
      (agent, kind) => (kind === "oauth" ? oauthGone : gone.has(agent)),
      "its agent was removed, its tools changed, or OAuth was turned off or moved by a reload",
    );
    if (closed) app.logger.info("reload closed sessions", { sessions: closed, agents: [...gone], oauth: oauthGone || undefined });
  });
  app.sessionCounts = () => sessions.byAgent();
  app.openSessions = () => sessions.list();
  app.endSessions = (match, why) => sessions.retire((agent, _kind, id) => match({ id, agent }), why);
}

type OAuthSection = NonNullable<ConfigFile["oauth"]>;

/** Do tokens accepted under `prev` stop being accepted under `next` (off, or another issuer, resource or audience)? */
function oauthIdentityChanged(prev: OAuthSection | undefined, next: OAuthSection | undefined): boolean {
  if (!prev) return false;
  if (!next) return true;
  return prev.issuer !== next.issuer || prev.resource !== next.resource || JSON.stringify(prev.audience) !== JSON.stringify(next.audience);
}
