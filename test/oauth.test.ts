/**
 * Issue 12: cohere-mcp as an OAuth 2.1 resource server, against a real authorization server
 * (oidc-provider on a free loopback port, client credentials + resource indicators + JWT access
 * tokens) and the Cohere emulator. The SDK's own client (ClientCredentialsProvider) finds its way
 * from a bare 401 to a token; raw requests check statuses and challenges; every refused token
 * must leave the emulator without a request. Static-token agents run on the same server.
 * Sessions and an unreachable issuer: oauth-sessions.test.ts.
 */
import { readFileSync } from "node:fs";
import { generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "../bench/lib.js";
import {
  STATIC_TOKEN, RERANK, CREATE_DATASET, SEARCH_TOOLS, CURATOR_TOOLS, call, LIST, listed, expectedFor, emu, idp, other, tokensSeen, startOurs, sdkClient, post, tokenFor, claimsFor, useOAuthWorld, type Started,
} from "./oauth-support.js";

useOAuthWorld();

describe("cohere-mcp --http with oauth (stateless)", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startOurs("stateless");
  });
  afterAll(async () => s?.srv.stop());

  it("publishes RFC 9728 metadata at both well-known paths, and a bare 401 points to it", async () => {
    for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]) {
      const res = await fetch(`${s.srv.origin}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(await res.json()).toEqual({
        resource: s.resource,
        authorization_servers: [idp.issuer],
        scopes_supported: ["cohere:read", "cohere:write", "cohere:destructive"],
        bearer_methods_supported: ["header"],
        resource_name: "cohere-mcp",
      });
    }
    const bare = await post(s.srv.url, LIST);
    expect(bare.status).toBe(401);
    const challenge = bare.headers.get("www-authenticate")!;
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`resource_metadata="${s.srv.origin}/.well-known/oauth-protected-resource/mcp"`);
    expect(challenge).not.toContain("error=");
    const bad = await post(s.srv.url, LIST, "not-a-token-at-all-0123456789");
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(bad.headers.get("www-authenticate")).toContain("resource_metadata=");
    expect(emu.requests).toEqual([]);
  });

  it("the SDK client follows 401 → metadata → issuer → token, lists exactly its profile narrowed by scopes, and calls a tool", async () => {
    const before = idp.tokenRequests.get("search-bot") ?? 0;
    const c = await sdkClient(s.srv.url, "search-bot");
    try {
      expect(idp.tokenRequests.get("search-bot")).toBe(before + 1);
      const names = (await c.client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(expectedFor(SEARCH_TOOLS, ["read"]));
      expect(names).not.toContain("create_dataset"); // in the profile, but the token has only cohere:read
      const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError).toBeFalsy();
      expect(emu.requests.map((q) => q.path)).toEqual(["/v2/rerank"]);
      expect(c.provider.tokens()?.scope).toBe("cohere:read");
    } finally {
      await c.close();
    }
  });

  it("two clients of different groups see different tool sets", async () => {
    const search = await sdkClient(s.srv.url, "search-bot");
    const curator = await sdkClient(s.srv.url, "curator-bot");
    try {
      const a = (await search.client.listTools()).tools.map((t) => t.name).sort();
      const b = (await curator.client.listTools()).tools.map((t) => t.name).sort();
      expect(a).toEqual(expectedFor(SEARCH_TOOLS, ["read"]));
      expect(b).toEqual([...CURATOR_TOOLS].sort());
      expect(b).toContain("delete_dataset");
      expect(a).not.toContain("get_dataset");
      // the search agent cannot reach a curator tool by name either: a tool error, nothing sent
      const r = await search.client.callTool({ name: "get_dataset", arguments: { id: "ds-1" } });
      expect(r.isError).toBe(true);
      expect(emu.requests).toEqual([]);
    } finally {
      await search.close();
      await curator.close();
    }
  });

  it("a read-scope token cannot call a write tool its profile allows: 403 insufficient_scope, nothing sent", async () => {
    const token = await tokenFor("search-bot", s.resource);
    const r = await post(s.srv.url, call("create_dataset", CREATE_DATASET), token);
    expect(r.status).toBe(403);
    const challenge = r.headers.get("www-authenticate")!;
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="cohere:read cohere:write"');
    expect(challenge).toContain("resource_metadata=");
    expect(JSON.stringify(r.json)).toContain("cohere:write");
    // inside a batch too
    const batch = await post(s.srv.url, [call("rerank", RERANK, 1), call("create_dataset", CREATE_DATASET, 2)], token);
    expect(batch.status).toBe(403);
    // the SDK client tries to step up; the issuer grants this client no more, so the call fails
    const c = await sdkClient(s.srv.url, "search-bot");
    try {
      await expect(c.client.callTool({ name: "create_dataset", arguments: CREATE_DATASET })).rejects.toThrow(/403/);
    } finally {
      await c.close();
    }
    expect(emu.requests).toEqual([]);
  });

  it("step-up: a client the issuer allows to write gets a token with cohere:write after the 403, and the call runs", async () => {
    const readOnly = await tokenFor("search-writer", s.resource, "cohere:read");
    const c = await sdkClient(s.srv.url, "search-writer", readOnly);
    try {
      const before = (await c.client.listTools()).tools.map((t) => t.name);
      expect(before).not.toContain("create_dataset");
      const r = await c.client.callTool({ name: "create_dataset", arguments: CREATE_DATASET });
      expect(r.isError, JSON.stringify(r)).toBeFalsy();
      expect(c.provider.tokens()?.scope).toBe("cohere:read cohere:write");
      expect(emu.requests.filter((q) => q.method === "POST" && q.path.startsWith("/v1/datasets")).length).toBe(1);
      const after = (await c.client.listTools()).tools.map((t) => t.name);
      expect(after).toContain("create_dataset");
    } finally {
      await c.close();
    }
  });

  it("refuses tokens for another audience, expired, signed by another key, alg none, HS256 with the public key, or from another issuer; nothing is sent upstream", async () => {
    const otherResource = "http://127.0.0.1:9/other-mcp";
    idp.resources.add(otherResource);
    const short = await tokenFor("short-bot", s.resource);
    const { privateKey: stranger } = await generateKeyPair("RS256");
    const k = idp.signingKey();
    const pem = await idp.publicPem();
    const shapes: Array<[string, string, RegExp]> = [
      ["another audience (issued by the same issuer for another resource)", await tokenFor("search-bot", otherResource), /another audience/],
      ["another issuer (for this resource)", await tokenFor("search-bot", s.resource, undefined, other), /another issuer/],
      ["signed by another key with the issuer's kid", await new SignJWT(claimsFor(s.resource)).setProtectedHeader({ alg: "RS256", kid: k.kid }).sign(stranger), /signature/],
      ["signed by another key with an unknown kid", await new SignJWT(claimsFor(s.resource)).setProtectedHeader({ alg: "RS256", kid: "not-published" }).sign(stranger), /key the issuer does not publish/],
      ["alg none", new UnsecuredJWT(claimsFor(s.resource)).encode(), /algorithm/],
      ["HS256 re-signed with the issuer's public key (PEM)", await new SignJWT(claimsFor(s.resource)).setProtectedHeader({ alg: "HS256", kid: k.kid }).sign(new TextEncoder().encode(pem)), /algorithm/],
      ["HS256 re-signed with the issuer's public JWK", await new SignJWT(claimsFor(s.resource)).setProtectedHeader({ alg: "HS256", kid: k.kid }).sign(new TextEncoder().encode(JSON.stringify({ kty: k.kty, n: k.n, e: k.e }))), /algorithm/],
    ];
    // the real issuer's own key, but a claim wrong: proves the checks, not just the signature
    shapes.push(
      ["issuer's key, wrong aud", await idp.sign(claimsFor(s.resource, { aud: otherResource })), /another audience/],
      ["issuer's key, expired an hour ago", await idp.sign(claimsFor(s.resource, { exp: Math.floor(Date.now() / 1000) - 3600 })), /expired/],
      ["issuer's key, no exp", await idp.sign(claimsFor(s.resource, { exp: undefined })), /claim exp/],
      ["issuer's key, not valid for an hour (nbf)", await idp.sign(claimsFor(s.resource, { nbf: Math.floor(Date.now() / 1000) + 3600 })), /not valid yet/],
    );
    // the control: the same forging path with every claim right is accepted
    const control = await idp.sign(claimsFor(s.resource));
    expect((await post(s.srv.url, LIST, control)).status).toBe(200);
    // a real token that expires while we wait (2 s lifetime + 1 s skew)
    const exp = JSON.parse(Buffer.from(short.split(".")[1]!, "base64url").toString()).exp as number;
    await sleep(Math.max(0, exp * 1000 + 1_000 - Date.now() + 300));
    shapes.push(["expired (real token, 2 s lifetime)", short, /expired/]);
    for (const [shape, token, why] of shapes) {
      tokensSeen.add(token);
      const r = await post(s.srv.url, call("rerank", RERANK), token);
      expect(r.status, shape).toBe(401);
      const challenge = r.headers.get("www-authenticate") ?? "";
      expect(challenge, shape).toContain('error="invalid_token"');
      expect(challenge, shape).toContain("resource_metadata=");
      expect(challenge, shape).toMatch(why);
    }
    expect(emu.requests).toEqual([]);
  });

  it("a valid token that no rule maps is refused with 403 (audited); a token without any cohere scope gets 403 insufficient_scope", async () => {
    const nobody = await tokenFor("nobody-bot", s.resource);
    const r = await post(s.srv.url, call("rerank", RERANK), nobody);
    expect(r.status).toBe(403);
    expect(r.headers.get("www-authenticate")).toBeNull();
    expect(JSON.stringify(r.json)).toMatch(/no oauth rule/);
    const none = await tokenFor("noscope-bot", s.resource);
    const n = await post(s.srv.url, LIST, none);
    expect(n.status).toBe(403);
    expect(n.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(n.headers.get("www-authenticate")).toContain('scope="cohere:read cohere:write cohere:destructive"');
    expect(emu.requests).toEqual([]);
    const lines = readFileSync(s.audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const denied = lines.find((l) => l.client_id === "nobody-bot");
    expect(denied).toMatchObject({ agent: "nobody-bot", decision: "denied", reason: "auth", tool: "rerank" });
    expect(denied?.jti).toEqual(expect.any(String));
  });

  it("opaque tokens are checked by introspection (RFC 7662); an unknown opaque token is refused", async () => {
    const opaque = await tokenFor("opaque-bot", s.resource);
    expect(opaque.split(".").length).toBe(1);
    const list = await post(s.srv.url, LIST, opaque);
    expect(list.status).toBe(200);
    expect(listed(list)).toEqual(expectedFor(SEARCH_TOOLS, ["read"]));
    const r = await post(s.srv.url, call("rerank", RERANK), opaque);
    expect(r.status).toBe(200);
    expect(emu.requests.length).toBe(1);
    emu.reset();
    const unknown = await post(s.srv.url, call("rerank", RERANK), "Zm9yZ2VkLW9wYXF1ZS10b2tlbi0xMjM0NTY3ODkw");
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(emu.requests).toEqual([]);
  });

  it("static-token agents keep working beside OAuth agents; a static token never takes the OAuth path", async () => {
    const list = await post(s.srv.url, LIST, STATIC_TOKEN);
    expect(list.status).toBe(200);
    expect(listed(list)).toEqual(["rerank"]);
    expect(list.headers.get("x-mcp-agent")).toBe("static-reader");
    const r = await post(s.srv.url, call("rerank", RERANK), STATIC_TOKEN);
    expect(r.status).toBe(200);
    expect(emu.requests.length).toBe(1);
    // a near-miss static token is refused like any bad token
    const near = await post(s.srv.url, LIST, STATIC_TOKEN.slice(0, -1) + "x");
    expect(near.status).toBe(401);
    // an OAuth client whose client_id is a static agent's name does not become that agent
    const clash = await post(s.srv.url, LIST, await tokenFor("static-reader", s.resource));
    expect(clash.status).toBe(403);
    expect(JSON.stringify(clash.json)).toMatch(/belongs to a static-token agent/);
  });

  it("the issuer rotates its signing key while the server runs: new tokens are accepted without a restart", async () => {
    const old = await tokenFor("search-bot", s.resource);
    expect((await post(s.srv.url, LIST, old)).status).toBe(200);
    await idp.rotate();
    const fresh = await tokenFor("search-bot", s.resource);
    const header = JSON.parse(Buffer.from(fresh.split(".")[0]!, "base64url").toString()) as { kid: string };
    expect(header.kid).toBe(idp.signingKey().kid);
    expect(header.kid).not.toBe("k1");
    await sleep(1_100); // the JWKS cool-down (jwks_cooldown_s: 1) since the last fetch
    const r = await post(s.srv.url, call("rerank", RERANK), fresh);
    expect(r.status).toBe(200);
    expect(emu.requests.length).toBe(1);
    // the old key is still published during the rotation: the older token still works
    expect((await post(s.srv.url, LIST, old)).status).toBe(200);
    // and the SDK client connects with a token signed by the new key
    const c = await sdkClient(s.srv.url, "curator-bot");
    try {
      expect((await c.client.listTools()).tools.length).toBe(CURATOR_TOOLS.length);
    } finally {
      await c.close();
    }
  });

  it("audit lines name the mapped agent with sub, client_id and jti, and never hold a token", async () => {
    const text = readFileSync(s.audit, "utf8");
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const rerank = lines.find((l) => l.agent === "search-bot" && l.tool === "rerank" && l.decision === "allowed");
    expect(rerank).toMatchObject({ agent: "search-bot", client_id: "search-bot", sub: "search-bot" });
    expect(rerank?.jti).toEqual(expect.any(String));
    const scopeDenied = lines.find((l) => l.reason === "insufficient_scope" && l.tool === "create_dataset");
    expect(scopeDenied).toMatchObject({ agent: "search-bot", client_id: "search-bot", access: "write", decision: "denied" });
    const staticLine = lines.find((l) => l.agent === "static-reader" && l.decision === "allowed");
    expect(staticLine).toBeDefined();
    expect(staticLine?.client_id).toBeUndefined();
    expect(tokensSeen.size).toBeGreaterThan(10);
    for (const t of tokensSeen) {
      expect(text).not.toContain(t);
      expect(text).not.toContain(t.split(".").pop()!.slice(0, 24) || t);
    }
    expect(text).not.toContain(STATIC_TOKEN);
    const stderr = s.srv.stderr();
    for (const t of tokensSeen) expect(stderr).not.toContain(t);
  });
});
