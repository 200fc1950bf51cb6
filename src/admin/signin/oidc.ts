/**
 * Console sign-in with the team's identity provider: OpenID Connect authorization code + PKCE
 * (openid-client). Configured by `oauth.issuer`, `oauth.admin_client` and `oauth.admin_rules`:
 *
 *   GET /admin/oidc/login     → a state, nonce and PKCE verifier kept 10 minutes in the shared
 *                               state (any replica can finish the sign-in), then a redirect to the
 *                               issuer's authorization endpoint;
 *   GET /admin/oidc/callback  → the code exchanged (PKCE, state and nonce checked by openid-client),
 *                               the ID token's claims matched against admin_rules (first match
 *                               wins; the agents' claim matching), a console session, back to /.
 *
 * A user no rule matches is refused (403) and the refusal is logged; nothing else is kept.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../runtime/app.js";
import type { OAuthRule } from "../../config/oauth.js";
import { ruleMatches } from "../../oauth/mapping.js";
import type { Admin } from "./auth.js";
import { HttpError } from "../http.js";

export const OIDC_LOGIN = "/admin/oidc/login";
export const OIDC_CALLBACK = "/admin/oidc/callback";
const FLOW_TTL_MS = 10 * 60_000;

type Client = typeof import("openid-client");
let lib: Client | undefined;
const configs = new Map<string, Promise<import("openid-client").Configuration>>();

export function oidcConfigured(app: App): boolean {
  const o = app.config?.oauth;
  return Boolean(o?.issuer && o.admin_client && o.admin_rules?.length);
}

async function configuration(app: App, env: NodeJS.ProcessEnv): Promise<import("openid-client").Configuration> {
  const o = app.config!.oauth!;
  const c = o.admin_client!;
  const secret = c.client_secret_env ? env[c.client_secret_env] : undefined;
  if (secret) app.addSecret(secret);
  const key = `${o.issuer}|${c.client_id}|${secret ? "s" : "p"}`;
  let p = configs.get(key);
  if (!p) {
    lib ??= await import("openid-client");
    const l = lib;
    const issuer = new URL(o.issuer);
    const loopbackHttp = issuer.protocol === "http:"; // the schema allows http:// only on loopback
    p = l.discovery(issuer, c.client_id, secret, secret ? undefined : l.None(), loopbackHttp ? { execute: [l.allowInsecureRequests] } : undefined);
    p.catch(() => configs.delete(key));
    configs.set(key, p);
  }
  return p;
}

function redirectUri(app: App, origin: string): string {
  return app.config?.oauth?.admin_client?.redirect_uri ?? `${origin}${OIDC_CALLBACK}`;
}

export async function startOidc(app: App, env: NodeJS.ProcessEnv, res: ServerResponse, origin: string): Promise<void> {
  if (!oidcConfigured(app)) throw new HttpError(404, "single sign-on is not configured (oauth.admin_client and oauth.admin_rules)");
  const cfg = await configuration(app, env).catch((err: unknown) => {
    throw new HttpError(503, `the identity provider cannot be reached: ${(err as Error).message}`);
  });
  const l = lib!;
  const verifier = l.randomPKCECodeVerifier();
  const state = l.randomState();
  const nonce = l.randomNonce();
  await app.shared.put(`admin:oidc:${state}`, JSON.stringify({ verifier, nonce }), FLOW_TTL_MS);
  const url = l.buildAuthorizationUrl(cfg, {
    redirect_uri: redirectUri(app, origin),
    scope: "openid profile email",
    code_challenge: await l.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  res.writeHead(302, { Location: url.href, "Cache-Control": "no-store" });
  res.end();
}

export async function finishOidc(app: App, env: NodeJS.ProcessEnv, req: IncomingMessage, origin: string): Promise<Admin> {
  if (!oidcConfigured(app)) throw new HttpError(404, "single sign-on is not configured");
  const here = new URL(req.url ?? "/", origin);
  const state = here.searchParams.get("state") ?? "";
  if (!/^[A-Za-z0-9_-]{8,128}$/.test(state)) throw new HttpError(400, "the sign-in came back without a valid state: start again");
  const raw = await app.shared.fetch(`admin:oidc:${state}`);
  if (!raw) throw new HttpError(400, "this sign-in expired or was already used: start again");
  await app.shared.remove(`admin:oidc:${state}`);
  const { verifier, nonce } = JSON.parse(raw) as { verifier: string; nonce: string };
  const cfg = await configuration(app, env);
  const callback = new URL(redirectUri(app, origin));
  callback.search = here.search;
  let claims: Record<string, unknown>;
  try {
    const tokens = await lib!.authorizationCodeGrant(cfg, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
    claims = (tokens.claims() ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new HttpError(401, `the identity provider's answer was refused: ${(err as Error).message}`);
  }
  const rules = app.config?.oauth?.admin_rules ?? [];
  const rule = rules.find((r) => ruleMatches({ ...r, profile: "" } as OAuthRule, claims));
  const name = String(claims.preferred_username ?? claims.email ?? claims.sub ?? "unknown").slice(0, 64);
  if (!rule) {
    app.logger.warn("refused a console sign-in: no oauth.admin_rules entry matches the user's claims", { user: name });
    throw new HttpError(403, `${name} signed in, but no oauth.admin_rules entry makes them an admin or a viewer`);
  }
  return { name, role: rule.role, via: "oidc" };
}
