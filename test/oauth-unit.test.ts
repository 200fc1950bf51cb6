/**
 * Issue 12, the parts that need no network: the oauth config section (https only off loopback,
 * asymmetric algorithms only, one of includes/equals, profile names), claim rules (first match
 * wins, includes on arrays and space-separated strings, equals, dotted paths, default profile),
 * scopes → access classes, the metadata URL (the SDK helper's rule), challenge quoting, and what
 * counts as a JWT. Start-up refusals go through the real CLI.
 */
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getOAuthProtectedResourceMetadataUrl } from "@modelcontextprotocol/sdk/server/auth/router.js";
import { configFileSchema, formatZodIssues } from "../src/config/file.js";
import { oauthSchema, type OAuthConfig } from "../src/config/oauth.js";
import { mapClaims, ruleMatches, tokenScopes, claimAt } from "../src/oauth/mapping.js";
import { bearerChallenge, metadataPaths, protectedResourceMetadata, resourceMetadataUrl } from "../src/oauth/metadata.js";
import { looksLikeJwt } from "../src/oauth/verify.js";
import { runCli, TEST_KEY } from "./helpers.js";

const BASE: OAuthConfig = { issuer: "https://idp.example.com/realms/team", resource: "https://mcp.example.com/mcp" };
const parse = (o: Record<string, unknown>) => oauthSchema.safeParse({ ...BASE, ...o });
const problems = (o: Record<string, unknown>) => {
  const r = parse(o);
  return r.success ? "" : formatZodIssues(r.error);
};

describe("oauth config section", () => {
  it("accepts the issue's example as written", () => {
    const r = configFileSchema.safeParse({
      profiles: { search: {}, curator: {} },
      oauth: {
        issuer: "https://idp.example.com/realms/team",
        resource: "https://mcp.example.com/mcp",
        agent_claim: "client_id",
        rules: [
          { claim: "groups", includes: "search-team", profile: "search" },
          { claim: "client_id", equals: "curator-bot", profile: "curator" },
        ],
        default_profile: "search",
        scopes: { read: "cohere:read", write: "cohere:write", destructive: "cohere:destructive" },
      },
    });
    expect(r.success, r.success ? "" : formatZodIssues(r.error)).toBe(true);
  });

  it("plain http:// only on loopback; no fragments, no credentials", () => {
    expect(problems({ issuer: "http://idp.example.com" })).toMatch(/oauth.issuer must be https:\/\/ .*loopback/);
    expect(problems({ resource: "http://mcp.example.com/mcp" })).toMatch(/oauth.resource must be https:\/\//);
    expect(problems({ jwks_uri: "http://10.0.0.5/jwks" })).toMatch(/jwks_uri must be https/);
    expect(problems({ issuer: "ftp://idp.example.com" })).toMatch(/must be an https:\/\/ URL/);
    expect(problems({ resource: "https://mcp.example.com/mcp#x" })).toMatch(/fragment/);
    expect(problems({ issuer: "https://u:p@idp.example.com" })).toMatch(/credentials/);
    for (const host of ["127.0.0.1:8080", "localhost:3000", "[::1]:9000", "127.1.2.3"]) {
      expect(problems({ issuer: `http://${host}`, resource: `http://${host}/mcp` }), host).toBe("");
    }
    expect(problems({ issuer: "http://127.0.0.1.example.com" })).toMatch(/https/);
  });

  it("only asymmetric algorithms: none and HMAC are refused", () => {
    expect(problems({ algorithms: ["RS256", "ES256", "EdDSA"] })).toBe("");
    for (const alg of ["none", "HS256", "HS384", "HS512", "rs256"]) expect(problems({ algorithms: [alg] }), alg).toMatch(/algorithms/);
    expect(problems({ algorithms: [] })).toMatch(/algorithms/);
  });

  it("a rule needs exactly one of includes / equals; unknown keys and bad scopes are refused", () => {
    expect(problems({ rules: [{ claim: "groups", profile: "p" }] })).toMatch(/exactly one of includes or equals/);
    expect(problems({ rules: [{ claim: "groups", includes: "a", equals: "b", profile: "p" }] })).toMatch(/exactly one/);
    expect(problems({ rules: [{ claim: "groups", contains: "a", profile: "p" }] })).toMatch(/Unrecognized/);
    expect(problems({ scopes: { read: "has space" } })).toMatch(/scope token/);
    expect(problems({ issuer_url: "x" })).toMatch(/Unrecognized/);
  });

  it("rules and default_profile must name profiles; the three scopes must differ", () => {
    const r = configFileSchema.safeParse({
      profiles: { search: {} },
      oauth: { ...BASE, rules: [{ claim: "groups", includes: "x", profile: "nope" }], default_profile: "gone", scopes: { read: "s", write: "s" } },
    });
    expect(r.success).toBe(false);
    const text = r.success ? "" : formatZodIssues(r.error);
    expect(text).toContain('oauth.rules.0.profile: no profile named "nope"');
    expect(text).toContain('oauth.default_profile: no profile named "gone"');
    expect(text).toContain("three different scopes");
  });
});

describe("claims → agent, profile and access classes", () => {
  const cfg: OAuthConfig = {
    ...BASE,
    rules: [
      { claim: "groups", includes: "search-team", profile: "search" },
      { claim: "client_id", equals: "curator-bot", profile: "curator" },
      { claim: "realm_access.roles", includes: "admin", profile: "admin" },
    ],
  };
  const claims = (o: Record<string, unknown>) => ({ iss: BASE.issuer, sub: "u1", jti: "j1", client_id: "bot", ...o });

  it("the first matching rule wins", () => {
    const m = mapClaims(claims({ client_id: "curator-bot", groups: ["search-team"], scope: "cohere:read" }), cfg, new Set());
    expect(m).toMatchObject({ ok: true, agent: "curator-bot", profile: "search" });
    const c = mapClaims(claims({ client_id: "curator-bot", groups: ["other"], scope: "cohere:read" }), cfg, new Set());
    expect(c).toMatchObject({ ok: true, profile: "curator" });
  });

  it("includes matches arrays and space-separated strings, never substrings; equals matches scalars; dotted paths reach nested claims", () => {
    const r = cfg.rules![0]!;
    expect(ruleMatches(r, { groups: ["a", "search-team"] })).toBe(true);
    expect(ruleMatches(r, { groups: "a search-team b" })).toBe(true);
    expect(ruleMatches(r, { groups: ["search-team-2"] })).toBe(false);
    expect(ruleMatches(r, { groups: "search-teams" })).toBe(false);
    expect(ruleMatches(r, { groups: { "search-team": true } })).toBe(false);
    expect(ruleMatches({ claim: "n", equals: "3", profile: "p" }, { n: 3 })).toBe(true);
    expect(ruleMatches({ claim: "n", equals: "3", profile: "p" }, { n: [3] })).toBe(false);
    expect(mapClaims(claims({ realm_access: { roles: ["admin"] }, scope: "cohere:read" }), cfg, new Set())).toMatchObject({ profile: "admin" });
    expect(claimAt({ "https://x.example/groups": ["g"] }, "https://x.example/groups")).toEqual(["g"]);
    expect(claimAt({ a: { b: 1 } }, "a.b.c")).toBeUndefined();
    expect(claimAt({ __proto__: { x: 1 } } as Record<string, unknown>, "x")).toBeUndefined();
  });

  it("no rule and no default → refused; a default profile catches the rest", () => {
    expect(mapClaims(claims({ scope: "cohere:read" }), cfg, new Set())).toMatchObject({ ok: false, message: expect.stringMatching(/no oauth rule/) });
    expect(mapClaims(claims({ scope: "cohere:read" }), { ...cfg, default_profile: "search" }, new Set())).toMatchObject({ ok: true, profile: "search" });
  });

  it("the agent claim is configurable, must be a usable name, and may not take a static agent's name", () => {
    const c = { ...cfg, default_profile: "search" };
    expect(mapClaims(claims({ azp: "vscode" }), { ...c, agent_claim: "azp" }, new Set())).toMatchObject({ agent: "vscode" });
    expect(mapClaims(claims({}), { ...c, agent_claim: "sub" }, new Set())).toMatchObject({ agent: "u1" });
    expect(mapClaims(claims({ client_id: undefined }), c, new Set())).toMatchObject({ ok: false, message: expect.stringMatching(/no "client_id" claim/) });
    expect(mapClaims(claims({ client_id: 'a"b, c' }), c, new Set())).toMatchObject({ ok: false, message: expect.stringMatching(/usable agent name/) });
    expect(mapClaims(claims({ client_id: "reader" }), c, new Set(["reader"]))).toMatchObject({ ok: false, message: expect.stringMatching(/static-token agent/) });
  });

  it("scopes grant their own access class only; scp arrays and custom claims are read", () => {
    const c = { ...cfg, default_profile: "search" };
    const classes = (o: Record<string, unknown>, x: Partial<OAuthConfig> = {}) => {
      const m = mapClaims(claims(o), { ...c, ...x }, new Set());
      return m.ok ? [...m.classes].sort() : m.message;
    };
    expect(classes({ scope: "openid cohere:read" })).toEqual(["read"]);
    expect(classes({ scope: "cohere:write" })).toEqual(["write"]);
    expect(classes({ scope: "cohere:read cohere:write cohere:destructive" })).toEqual(["destructive", "read", "write"]);
    expect(classes({ scope: "cohere:readx cohere" })).toEqual([]);
    expect(classes({ scp: ["cohere:read"] })).toEqual(["read"]);
    expect(classes({ roles: ["Cohere.Read"] }, { scope_claims: ["roles"], scopes: { read: "Cohere.Read" } })).toEqual(["read"]);
    expect(tokenScopes({ scope: "a  b" }, ["scope"])).toEqual(["a", "b"]);
  });
});

describe("protected resource metadata and challenges", () => {
  it("the metadata URL follows the SDK's getOAuthProtectedResourceMetadataUrl", () => {
    for (const resource of ["https://mcp.example.com/mcp", "https://mcp.example.com", "https://mcp.example.com/", "http://127.0.0.1:8080/cohere/mcp", "https://x.example:8443/a/b?q=1"]) {
      expect(resourceMetadataUrl({ ...BASE, resource }), resource).toBe(getOAuthProtectedResourceMetadataUrl(new URL(resource)));
    }
    expect([...metadataPaths({ ...BASE, resource: "https://x.example/cohere/mcp" }, "/mcp")].sort()).toEqual([
      "/.well-known/oauth-protected-resource",
      "/.well-known/oauth-protected-resource/cohere/mcp",
      "/.well-known/oauth-protected-resource/mcp",
    ]);
  });

  it("the document lists the resource, the issuer, the three scopes and the header method", () => {
    expect(protectedResourceMetadata({ ...BASE, scopes: { write: "w" } })).toEqual({
      resource: BASE.resource,
      authorization_servers: [BASE.issuer],
      scopes_supported: ["cohere:read", "w", "cohere:destructive"],
      bearer_methods_supported: ["header"],
      resource_name: "cohere-mcp",
    });
  });

  it("challenge values are quoted and cannot smuggle a parameter", () => {
    const h = bearerChallenge(BASE, { error: "invalid_token", description: 'bad "x", scope="admin" \\ é' });
    expect(h).toMatch(/^Bearer realm="cohere-mcp", error="invalid_token", error_description="[^"]*", resource_metadata="https:\/\/mcp\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"$/);
    expect(h).not.toMatch(/scope=/);
  });

  it("what counts as a JWT: three base64url parts and a JSON header with alg", () => {
    expect(looksLikeJwt("eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfQ.c2ln")).toBe(true);
    expect(looksLikeJwt("eyJhbGciOiJub25lIn0.eyJhIjoxfQ.")).toBe(true);
    expect(looksLikeJwt("static-token-with.two.dots")).toBe(false);
    expect(looksLikeJwt("0123456789abcdef0123456789abcdef")).toBe(false);
    expect(looksLikeJwt("eyJhIjoxfQ.eyJhIjoxfQ.c2ln")).toBe(false); // no alg
  });
});

describe("start-up refusals (real CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "cohere-mcp-oauth-unit-"));
  const start = (cfg: unknown, env: Record<string, string> = {}, args: string[] = []) => {
    const file = join(dir, `cfg-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(cfg));
    return runCli(["--http", "--port", "0", "--config", file, ...args], { CO_API_KEY: TEST_KEY, CO_API_URL: "http://127.0.0.1:9", ...env });
  };

  it("refuses a plain-http issuer that is not on loopback, and says what to do", async () => {
    const r = await start({ profiles: { p: {} }, oauth: { issuer: "http://idp.example.com", resource: "http://127.0.0.1:1/mcp", default_profile: "p" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/oauth\.issuer: oauth\.issuer must be https:\/\/ \(plain http:\/\/ is accepted only on loopback/);
  });

  it("refuses a static token that looks like a JWT when oauth is on, and an unset introspection secret", async () => {
    const jwtLike = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz";
    const cfg = {
      profiles: { p: {} },
      agents: [{ name: "a", profile: "p", token_env: "A_TOKEN" }],
      oauth: { issuer: "http://127.0.0.1:9", resource: "http://127.0.0.1:9/mcp", jwks_uri: "http://127.0.0.1:9/jwks", default_profile: "p" },
    };
    const r = await start(cfg, { A_TOKEN: jwtLike });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/may not look like a JWT/);
    expect(r.stderr).not.toContain(jwtLike);
    const i = await start({ ...cfg, agents: undefined, oauth: { ...cfg.oauth, introspection: { client_id: "rs", client_secret_env: "RS_SECRET" } } });
    expect(i.code).toBe(2);
    expect(i.stderr).toMatch(/RS_SECRET is not set/);
  });

  it("OAuth alone is enough to listen beyond loopback (with --allowed-hosts); without it or agents, still refused", async () => {
    const oauth = { issuer: "https://idp.example.com", resource: "https://mcp.example.com/mcp", default_profile: "p" };
    const none = await start({ profiles: { p: {} } }, {}, ["--host", "0.0.0.0", "--allowed-hosts", "mcp.example.com"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Refusing to listen on 0\.0\.0\.0/);
    const file = join(dir, "oauth-only.json");
    writeFileSync(file, JSON.stringify({ profiles: { p: {} }, oauth }));
    const { spawn } = await import("node:child_process");
    const { ENTRY } = await import("./helpers.js");
    const child = spawn(process.execPath, [ENTRY, "--http", "--host", "0.0.0.0", "--port", "0", "--allowed-hosts", "mcp.example.com", "--config", file], {
      env: { PATH: process.env.PATH ?? "", CO_API_KEY: TEST_KEY, CO_API_URL: "http://127.0.0.1:9" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let err = "";
      const t = setTimeout(() => reject(new Error(`did not start: ${err}`)), 10_000);
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        const m = /listening on (\S+)/.exec(err);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
      child.once("exit", (c) => reject(new Error(`exited ${c}: ${err}`)));
    });
    child.kill("SIGTERM");
    expect(line).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/mcp$/);
  });
});
