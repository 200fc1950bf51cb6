/**
 * Everything that can make HTTP start-up refuse, checked before listening: a non-loopback bind
 * without agents (static or OAuth) or without --allowed-hosts, bad --allowed-origins; and each
 * agent's ceiling (static agents by name, OAuth agents by the profile their token maps to).
 */
import { ConfigError } from "../../config/file.js";
import { createAuthenticator } from "../../auth.js";
import { createIdentityAuthenticator, type IdentityAuthenticator } from "../../identity.js";
import type { OAuthResource } from "../../oauth/index.js";
import { resolveVisible } from "../../policy/allowlist.js";
import { policyTools, type App } from "../../app.js";
import { isLoopbackHost, normaliseOrigin } from "./origin.js";

export const ANONYMOUS = "anonymous";

export interface Ceiling {
  visible: ReadonlySet<string>;
  profile?: string;
}

export interface HttpPlan {
  auth?: IdentityAuthenticator;
  /** Ceiling per static agent name (the anonymous agent when no agents are configured). */
  ceilings: Map<string, Ceiling>;
  /** Ceiling of a profile (OAuth agents): the profile's tools minus --exclude-tools. */
  profileCeiling(profile: string): Ceiling;
}

export async function planHttp(app: App, env: NodeJS.ProcessEnv): Promise<HttpPlan> {
  const o = app.options;
  const agents = app.config?.agents ?? [];
  const oauth = app.config?.oauth;
  const loopback = isLoopbackHost(o.host);
  if (!loopback && agents.length === 0 && !oauth) {
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
  const byProfile = new Map<string, Ceiling>();
  const profileCeiling = (profile: string): Ceiling => {
    let c = byProfile.get(profile);
    if (!c) {
      const visible = new Set(app.profileVisible(profile));
      for (const n of exclude) visible.delete(n);
      c = { visible, profile };
      byProfile.set(profile, c);
    }
    return c;
  };
  if (agents.length === 0 && !oauth) {
    ceilings.set(ANONYMOUS, { visible: app.visible, profile: o.profile ?? app.config?.default_profile });
    return { ceilings, profileCeiling };
  }
  if (o.tools || o.profile) {
    app.logger.warn("--tools and --profile do not apply to HTTP agents: each agent's profile sets its tools", {
      agents: agents.length,
    });
  }
  for (const a of agents) ceilings.set(a.name, profileCeiling(a.profile));
  const staticAuth = createAuthenticator(agents, env, (t) => app.logger.addSecret(t));
  let resource: OAuthResource | undefined;
  if (oauth) {
    // Loaded only when configured: jose and the SDK's discovery are not needed otherwise.
    const { createOAuth } = await import("../../oauth/index.js");
    resource = createOAuth(oauth, {
      env,
      logger: app.logger,
      mcpPath: "/mcp",
      staticAgents: new Set(agents.map((a) => a.name)),
      staticTokens: staticAuth.secrets(),
    });
    for (const r of oauth.rules ?? []) profileCeiling(r.profile);
    if (oauth.default_profile) profileCeiling(oauth.default_profile);
  }
  return { auth: createIdentityAuthenticator(staticAuth, resource), ceilings, profileCeiling };
}
