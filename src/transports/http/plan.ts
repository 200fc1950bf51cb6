/**
 * Everything that can make HTTP start-up refuse, checked before listening: a non-loopback bind
 * without agents or without --allowed-hosts, bad --allowed-origins; and each agent's ceiling.
 */
import { ConfigError } from "../../config/file.js";
import { createAuthenticator, type Authenticator } from "../../auth.js";
import { resolveVisible } from "../../policy/allowlist.js";
import { policyTools, type App } from "../../app.js";
import { ANONYMOUS, type Generation } from "../../live.js";
import { isLoopbackHost, normaliseOrigin } from "./origin.js";

export { ANONYMOUS };

export interface HttpPlan {
  auth?: Authenticator;
  /** Ceiling per agent name (the anonymous agent when no agents are configured). */
  ceilings: Map<string, { visible: ReadonlySet<string>; profile?: string }>;
}

/** The plan for one configuration: `gen` (default: the current one; a reload passes the new one). */
export function planHttp(app: App, env: NodeJS.ProcessEnv, gen: Generation = app.live.current): HttpPlan {
  const o = app.options;
  const agents = gen.config?.agents ?? [];
  const loopback = isLoopbackHost(o.host);
  if (!loopback && agents.length === 0) {
    throw new ConfigError(
      `Refusing to listen on ${o.host}: that address is reachable from other machines, and with no "agents" ` +
        "in the --config file anyone who reaches it could spend your Cohere key. Add agents, each with its own " +
        'bearer token (see "Remote agents over HTTP" in the README), or listen on 127.0.0.1.',
    );
  }
  if (!loopback && !o.allowedHosts?.length) {
    throw new ConfigError(
      `Refusing to listen on ${o.host} without --allowed-hosts: name the host names clients use to reach this ` +
        "server (e.g. --allowed-hosts mcp.internal.example.com), or '*' to accept any Host header (fine behind " +
        "a proxy, since every agent needs its token).",
    );
  }
  for (const origin of o.allowedOrigins ?? []) {
    if (!normaliseOrigin(origin)) throw new ConfigError(`--allowed-origins: "${origin}" is not an http(s) origin`);
  }
  const exclude = o.excludeTools?.length
    ? resolveVisible(policyTools, { tools: o.excludeTools, allowWrite: true, allowDestructive: true })
    : new Set<string>();
  const ceilings: HttpPlan["ceilings"] = new Map();
  if (agents.length === 0) {
    ceilings.set(ANONYMOUS, { visible: gen.visible, profile: o.profile ?? gen.config?.default_profile });
    return { ceilings };
  }
  if (o.tools || o.profile) {
    app.logger.warn("--tools and --profile do not apply to HTTP agents: each agent's profile sets its tools", {
      agents: agents.length,
    });
  }
  for (const a of agents) {
    const visible = new Set(gen.profileVisible(a.profile));
    for (const n of exclude) visible.delete(n);
    ceilings.set(a.name, { visible, profile: a.profile });
  }
  return { auth: createAuthenticator(agents, env, (t) => app.addSecret(t)), ceilings };
}
