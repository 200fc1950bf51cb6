/**
 * Issue 12, sessions and issuer outages: a session belongs to the identity that opened it, a
 * token expiring mid-session gets a 401 the client refreshes on, a stepped-up token widens the
 * session; an issuer that cannot be reached makes 503s, and keys fetched before are kept.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, sleep } from "../bench/lib.js";
import { startHttp } from "./http-support.js";
import { startIdp } from "./oauth-idp.js";
import {
  STATIC_TOKEN, RERANK, CREATE_DATASET, SEARCH_TOOLS, ALL_SCOPES, call, INIT, emu, idp, dir, tokensSeen, startOurs, sdkClient, post, tokenFor, claimsFor, secret, useOAuthWorld, type Started,
} from "./oauth-support.js";

useOAuthWorld();

describe("cohere-mcp --http --sessions with oauth", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startOurs("sessions", ["--sessions"]);
  });
  afterAll(async () => s?.srv.stop());

  async function openSession(token: string): Promise<string> {
    const init = await post(s.srv.url, INIT, token);
    expect(init.status).toBe(200);
    const sid = init.headers.get("mcp-session-id")!;
    expect(sid).toBeTruthy();
    expect((await post(s.srv.url, { jsonrpc: "2.0", method: "notifications/initialized" }, token, { "mcp-session-id": sid })).status).toBe(202);
    return sid;
  }

  it("a session belongs to the identity that opened it: another identity's token on it is refused", async () => {
    const search = await tokenFor("search-bot", s.resource);
    const sid = await openSession(search);
    const curator = await tokenFor("curator-bot", s.resource);
    const r = await post(s.srv.url, call("list_datasets", {}), curator, { "mcp-session-id": sid });
    expect(r.status).toBe(404);
    const st = await post(s.srv.url, call("rerank", RERANK), STATIC_TOKEN, { "mcp-session-id": sid });
    expect(st.status).toBe(404);
    expect(emu.requests).toEqual([]);
    // same agent (client_id), another subject: a valid token, but not the session's identity
    const otherSub = await idp.sign(claimsFor(s.resource, { sub: "another-user" }));
    tokensSeen.add(otherSub);
    expect((await post(s.srv.url, call("rerank", RERANK), otherSub, { "mcp-session-id": sid })).status).toBe(404);
    expect((await post(s.srv.url, INIT, otherSub)).status).toBe(200); // the token itself is fine
    expect(emu.requests).toEqual([]);
    // the owner, with a new token of its own, keeps using the session
    const again = await tokenFor("search-bot", s.resource);
    const ok = await post(s.srv.url, call("rerank", RERANK), again, { "mcp-session-id": sid });
    expect(ok.status).toBe(200);
    expect(emu.requests.length).toBe(1);
  });

  it("a token that expires mid-session gets a 401 the client can refresh on; the session goes on with the new token", async () => {
    const short = await tokenFor("short-bot", s.resource);
    const sid = await openSession(short);
    expect((await post(s.srv.url, call("rerank", RERANK), short, { "mcp-session-id": sid })).status).toBe(200);
    const exp = JSON.parse(Buffer.from(short.split(".")[1]!, "base64url").toString()).exp as number;
    await sleep(Math.max(0, exp * 1000 + 1_000 - Date.now() + 300));
    emu.reset();
    const late = await post(s.srv.url, call("rerank", RERANK), short, { "mcp-session-id": sid });
    expect(late.status).toBe(401);
    expect(late.headers.get("www-authenticate")).toContain('error="invalid_token"');
    expect(late.headers.get("www-authenticate")).toContain("resource_metadata=");
    expect(emu.requests).toEqual([]);
    const fresh = await tokenFor("short-bot", s.resource);
    const r = await post(s.srv.url, call("rerank", RERANK), fresh, { "mcp-session-id": sid });
    expect(r.status).toBe(200);
    expect(emu.requests.length).toBe(1);
  });

  it("the SDK client works over sessions, and a stepped-up token widens the same session's tools", async () => {
    const readOnly = await tokenFor("search-writer", s.resource, "cohere:read");
    const c = await sdkClient(s.srv.url, "search-writer", readOnly);
    try {
      expect((await c.client.listTools()).tools.map((t) => t.name)).not.toContain("create_dataset");
      const r = await c.client.callTool({ name: "create_dataset", arguments: CREATE_DATASET });
      expect(r.isError, JSON.stringify(r)).toBeFalsy();
      expect((await c.client.listTools()).tools.map((t) => t.name)).toContain("create_dataset");
    } finally {
      await c.close();
    }
  });
});

describe("when the issuer cannot be reached", () => {
  it("a token is answered 503 (retry later), not 401; keys fetched before are kept while the issuer is down", async () => {
    const own = await startIdp([{ client_id: "search-bot", client_secret: secret("search-bot"), scope: "cohere:read", groups: ["search-team"] }]);
    const port = await freePort();
    const resource = `http://127.0.0.1:${port}/mcp`;
    own.resources.add(resource);
    const deadPort = await freePort();
    const cfg = join(dir, `oauth-down-${process.pid}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: { search: { tools: SEARCH_TOOLS } },
        oauth: { issuer: own.issuer, resource, default_profile: "search", jwks_max_age_s: 1, jwks_cooldown_s: 1, fetch_timeout_ms: 1000 },
      }),
    );
    const srv = await startHttp(emu.url, ["--port", String(port), "--config", cfg]);
    const cfgDead = join(dir, `oauth-dead-${process.pid}.json`);
    const deadIssuer = `http://127.0.0.1:${deadPort}`;
    writeFileSync(cfgDead, JSON.stringify({ profiles: { search: { tools: SEARCH_TOOLS } }, oauth: { issuer: deadIssuer, resource: `http://127.0.0.1:${deadPort + 1}/mcp`, default_profile: "search" } }));
    const dead = await startHttp(emu.url, ["--config", cfgDead]);
    try {
      // an issuer that never answered: 503 with Retry-After, nothing sent
      const forged = new UnsecuredJWT({ iss: deadIssuer, aud: `http://127.0.0.1:${deadPort + 1}/mcp`, exp: Math.floor(Date.now() / 1000) + 60 }).encode();
      const withKid = `${Buffer.from(JSON.stringify({ alg: "RS256", kid: "k1" })).toString("base64url")}.${forged.split(".")[1]}.c2ln`;
      const r = await post(dead.url, call("rerank", RERANK), withKid);
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toBe("5");
      expect(JSON.stringify(r.json)).toMatch(/retry/);
      // an issuer that answered once, then went down: the keys it published still verify its tokens
      const token = (await own.token("search-bot", resource, ALL_SCOPES)).access_token;
      tokensSeen.add(token);
      expect((await post(srv.url, call("rerank", RERANK), token)).status).toBe(200);
      await own.stop();
      await sleep(1_200); // past jwks_max_age_s: the key set is stale and cannot be refreshed
      expect((await post(srv.url, call("rerank", RERANK), token)).status).toBe(200);
      // ...but nothing new is trusted: a key the last set did not hold is refused
      const { privateKey } = await generateKeyPair("RS256");
      const stranger = await new SignJWT({ iss: own.issuer, aud: resource, client_id: "search-bot", scope: "cohere:read", exp: Math.floor(Date.now() / 1000) + 60 })
        .setProtectedHeader({ alg: "RS256", kid: "k9" })
        .sign(privateKey);
      expect((await post(srv.url, call("rerank", RERANK), stranger)).status).toBe(401);
      expect(emu.requests.length).toBe(2);
    } finally {
      await srv.stop();
      await dead.stop();
    }
  });
});
