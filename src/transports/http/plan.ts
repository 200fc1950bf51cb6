/**
 * Everything that can make HTTP start-up (or a reload) refuse, checked before it takes effect: a
 * non-loopback bind without agents (static or OAuth) or without --allowed-hosts, bad
 * --allowed-origins; and each agent's ceiling (static agents by name, OAuth agents by the profile
 * their token maps to). One plan per configuration generation (src/runtime/live.ts, ./reload.ts).
 */
import { ConfigError, type ConfigFile } from "../../config/file.js";
import { createAuthenticator } from "../../identity/static.js";
import { createIdentityAuthenticator, type IdentityAuthenticator } from "../../identity/index.js";
import type { OAuthResource } from "../../oauth/index.js";
import { ceilingOf, excludedByFlags } from "../../policy/access.js";
import type { App } from "../../runtime/app.js";
import { ANONYMOUS, type Generation } from "../../runtime/live.js";
import { isLoopbackHost, normaliseOrigin } from "./admission/origin.js";

export { ANONYMOUS };

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

type OAuthModule = typeof import("../../oauth/index.js");
let oauthModule: OAuthModule | undefined;

/**
 * Load the OAuth module when a configuration needs it: jose and the SDK's discovery are not
 * loaded otherwise. Called before a plan is built (start-up, and each reload).
 */
export async function loadOAuthFor(config: ConfigFile | undefined): Promise<void> {
  if (config?.oauth && !oauthModule) oauthModule = await import("../../oauth/index.js");
}

/** The plan for one configuration: `gen` (default: the current one; a reload passes the new one). */
export function planHttp(app: App, env: NodeJS.ProcessEnv, gen: Generation = app.live.current): HttpPlan {
  const o = app.options;
  const config = gen.config;
  const agents = config?.agents ?? [];
  const oauth = config?.oauth;
  const loopback = isLoopbackHost(o.host);
  if (!loopback && agents.length === 0 && !oauth) {
    throw new ConfigError(
      `Refusing to listen on ${o.host}: that address is reachable from other machines, and with no "agents" ` +
        "in the --config file anyone who reaches it could spend your Cohere key. Add agents, each with its own " +
        'bearer token (see docs/http-agents.md), or listen on 127.0.0.1.',
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
  // The same functions as accessMatrix (src/policy/access.ts): `cohere-mcp access` prints these sets.
  const exclude = excludedByFlags(o.excludeTools);
  const ceilings: HttpPlan["ceilings"] = new Map();
  const byProfile = new Map<string, Ceiling>();
  const profileCeiling = (profile: string): Ceiling => {
    let c = byProfile.get(profile);
    if (!c) {
      c = { visible: ceilingOf(gen.profileVisible(profile), exclude), profile };
      byProfile.set(profile, c);
    }
    return c;
  };
  if (agents.length === 0 && !oauth) {
    ceilings.set(ANONYMOUS, { visible: gen.visible, profile: o.profile ?? config?.default_profile });
    return { ceilings, profileCeiling };
  }
  if ((o.tools || o.profile) && gen.id === 1) {
    app.logger.warn("--tools and --profile do not apply to HTTP agents: each agent's profile sets its tools", {
      agents: agents.length,
    });
  }
  for (const a of agents) ceilings.set(a.name, profileCeiling(a.profile));
  const staticAuth = createAuthenticator(agents, env, (t) => app.addSecret(t));
  let resource: OAuthResource | undefined;
  if (oauth) {
    if (!oauthModule) throw new Error("internal: the OAuth module was not loaded before the plan (loadOAuthFor)");
    resource = oauthModule.createOAuth(oauth, {
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
