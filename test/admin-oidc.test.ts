/**
 * Console sign-in with the identity provider: OpenID Connect authorization code + PKCE against a
 * real oidc-provider on loopback. A user whose `groups` claim holds "platform" becomes an admin,
 * "auditors" a viewer, anyone else is refused. The browser is played by a small cookie-keeping
 * HTTP client following the redirects (the provider's own login form is posted).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { freePort } from "../bench/lib.js";
import { TEST_KEY } from "./helpers.js";
import { writeConfig } from "./http-support.js";
import { api, startConsole, teamConfig, type Console } from "./admin-support.js";

const USERS: Record<string, { groups: string[] }> = {
  alice: { groups: ["platform", "staff"] },
  bob: { groups: ["auditors"] },
  mallory: { groups: ["staff"] },
};

let emu: CohereEmulator;
let idp: { issuer: string; stop(): Promise<void> };
let c: Console;

async function startIdp(redirect: string): Promise<typeof idp> {
  let handler: http.RequestListener = (_q, s) => void s.writeHead(503).end();
  const server = http.createServer((q, s) => handler(q, s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: "console", client_secret: "console-secret-5f1a9c", redirect_uris: [redirect], grant_types: ["authorization_code"], response_types: ["code"] }],
    pkce: { required: () => true },
    claims: { openid: ["sub"], profile: ["preferred_username", "groups"] },
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) =>
      USERS[sub] ? { accountId: sub, claims: () => ({ sub, preferred_username: sub, groups: USERS[sub]!.groups }) } : undefined,
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope("openid profile email");
      await grant.save();
      return grant;
    },
    features: { devInteractions: { enabled: true } },
  });
  handler = provider.callback();
  return {
    issuer,
    stop: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** A browser: follows redirects, keeps cookies per host, posts the provider's login form. */
async function signIn(user: string): Promise<{ status: number; cookie?: string; body: string }> {
  const jar = new Map<string, Map<string, string>>();
  const send = async (url: string, init: RequestInit = {}) => {
    const u = new URL(url);
    const cookies = jar.get(u.host) ?? new Map();
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set("cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const sc of res.headers.getSetCookie()) {
      const [kv] = sc.split(";");
      const i = kv!.indexOf("=");
      cookies.set(kv!.slice(0, i), kv!.slice(i + 1));
    }
    jar.set(u.host, cookies);
    return res;
  };
  let url = `${c.base}/admin/oidc/login`;
  let posted = false;
  for (let hop = 0; hop < 15; hop++) {
    const res = await send(url);
    const loc = res.headers.get("location");
    if (loc) {
      url = new URL(loc, url).href;
      continue;
    }
    const body = await res.text();
    const form = /<form[^>]*action="([^"]+)"/.exec(body);
    if (form && !posted && new URL(url).host !== new URL(c.base).host) {
      posted = true;
      const action = new URL(form[1]!, url).href;
      const post = await send(action, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ prompt: "login", login: user, password: "any" }).toString(),
      });
      url = new URL(post.headers.get("location") ?? action, action).href;
      continue;
    }
    const mine = jar.get(new URL(c.base).host)?.get("cohere_mcp_admin");
    return { status: res.status, cookie: mine ? `cohere_mcp_admin=${mine}` : undefined, body };
  }
  throw new Error("too many redirects");
}

beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  const port = await freePort();
  const redirect = `http://127.0.0.1:${port}/admin/oidc/callback`;
  idp = await startIdp(redirect);
  const config = teamConfig({
    oauth: {
      issuer: idp.issuer,
      resource: "http://127.0.0.1:9/mcp",
      default_profile: "search",
      admin_client: { client_id: "console", client_secret_env: "CONSOLE_SECRET", redirect_uri: redirect },
      admin_rules: [
        { claim: "groups", includes: "platform", role: "admin" },
        { claim: "groups", includes: "auditors", role: "viewer" },
      ],
    },
  });
  c = await startConsole(emu.url, ["--config", writeConfig(config), "--admin-port", String(port)], { CONSOLE_SECRET: "console-secret-5f1a9c" });
}, 30_000);
afterAll(async () => {
  await c?.srv.stop();
  await idp?.stop();
  await emu?.stop();
});

describe("single sign-on", () => {
  it("the 401 of GET session says where to sign in with the identity provider", async () => {
    const r = await api(c, "GET", "session");
    expect(r.status).toBe(401);
    expect(r.json.oidc.login_url).toBe("/admin/oidc/login");
  });

  it("a user in the platform group signs in as an admin; auditors as viewers; anyone else is refused", async () => {
    const alice = await signIn("alice");
    expect(alice.status, alice.body).toBe(200);
    expect(alice.cookie).toBeDefined();
    const s = await api(c, "GET", "session", { session: { cookie: alice.cookie!, csrf: "" } });
    expect(s.json.admin).toEqual({ name: "alice", role: "admin" });
    const bob = await signIn("bob");
    const sb = await api(c, "GET", "session", { session: { cookie: bob.cookie!, csrf: "" } });
    expect(sb.json.admin).toEqual({ name: "bob", role: "viewer" });
    const mallory = await signIn("mallory");
    expect(mallory.status).toBe(403);
    expect(mallory.cookie).toBeUndefined();
    expect(mallory.body).toMatch(/no oauth.admin_rules entry/);
    expect(c.srv.stderr()).not.toContain("console-secret-5f1a9c");
  });
});
