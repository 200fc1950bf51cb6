/**
 * How many long-lived things one agent may hold on this replica: legacy sessions (--sessions,
 * legacy/sessions.ts) and modern subscriptions/listen streams (modern/listen.ts) each count against it,
 * separately. Profile `limits.max_sessions`, else --max-sessions-per-agent, else a quarter of
 * --max-sessions (all of it for the one anonymous loopback agent).
 */
import type { App } from "../../runtime/app.js";
import type { Identity } from "../../identity/index.js";

export interface AgentCap {
  cap: number;
  /** Which setting gave the cap, for the refusal's message. */
  source: string;
}

export function agentCap(app: App, kind: Identity["kind"], profile: string | undefined): AgentCap {
  const o = app.options;
  const own = profile ? app.config?.profiles[profile]?.limits?.max_sessions : undefined;
  if (own !== undefined) return { cap: own, source: `profile "${profile}" limits.max_sessions` };
  if (o.limits.maxSessionsPerAgent !== undefined) return { cap: o.limits.maxSessionsPerAgent, source: "--max-sessions-per-agent" };
  // Without agents, the one anonymous (loopback) agent may use them all: by the identity's kind,
  // never by a name a credential could choose (an OAuth agent called "anonymous").
  if (kind === "anonymous") return { cap: o.maxSessions, source: "--max-sessions" };
  return { cap: Math.max(1, Math.floor(o.maxSessions / 4)), source: "a quarter of --max-sessions" };
}
