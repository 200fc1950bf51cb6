/**
 * Issue 20 (second outside review), the OAuth findings, against a real oidc-provider and the
 * real server:
 *
 *  - finding 2: a 40,000-call batch from a read-only token writes ONE audit line (403
 *    insufficient_scope, the count in its detail), refusals go through the refusal throttle, and a
 *    batch over --max-batch-calls is refused whole with -32600;
 *  - finding 3: a token whose key id is not fetched yet (the issuer just rotated, the JWKS
 *    cooldown runs) is 401 with Retry-After and an error_description saying so, and is no guess;
 *  - finding 7: no token may take a reserved agent name ("anonymous");
 *  - finding 8: a SIGHUP while the issuer is down keeps the keys already fetched;
 *  - finding 9: with the issuer's JWKS failing, 500 junk tokens make a handful of key fetches, and
 *    their 503s are audited only up to the refusal throttle, then summarised.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, eventually, MCP_HEADERS, rawRequest } from "./http-support.js";
import { call, claimsFor, emu, idp, LIST, post, RERANK, startOurs, tokenFor, useOAuthWorld, type Started } from "./oauth-support.js";

useOAuthWorld();

type Line = Record<string, unknown> & { reason?: string; tool?: string; detail?: string; agent?: string; suppressed?: number; event?: string };
const lines = (audit: string): Line[] => {
  try {
    return readFileSync(audit, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line);
  } catch {
    return [];
  }
};

/** `n` tools/call messages for create_dataset (a write tool of the search profile) in one batch. */
function batchOf(n: number): string {
  const one = (id: number) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"create_dataset","arguments":{}}}`;
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(one(i + 1));
  return `[${parts.join(",")}]`;
}

describe("finding 2: a refused batch writes a bounded number of audit lines", () => {
  let s: Started;
  let capped: Started;
  beforeAll(async () => {
    s = await startOurs("batch", ["--max-batch-calls", "50000", "--max-refusals-per-minute", "3"]);
    capped = await startOurs("batchcap");
  });
  afterAll(async () => {
    await s?.srv.stop();
    await capped?.srv.stop();
  });

  it("40,000 write calls with a read-only token: 403 insufficient_scope and ONE audit line; ten more: the refusal throttle (3 lines, then a summary)", async () => {
    const token = await tokenFor("search-bot", s.resource); // cohere:read only
    const body = batchOf(40_000);
    const r = await rawRequest(s.srv.url, { headers: { ...MCP_HEADERS, ...bearer(token) }, body });
    expect(r.status).toBe(403);
    expect(String(r.headers["www-authenticate"])).toMatch(/insufficient_scope/);
    const first = lines(s.audit).filter((l) => l.reason === "insufficient_scope");
    console.log(`finding 2: audit lines for one refused 40,000-call batch: ${first.length}`);
    expect(first).toHaveLength(1);
    expect(first[0]!.detail).toMatch(/40000 such calls/);
    for (let i = 0; i < 10; i++) {
      expect((await rawRequest(s.srv.url, { headers: { ...MCP_HEADERS, ...bearer(token) }, body })).status).toBe(403);
    }
    expect(lines(s.audit).filter((l) => l.reason === "insufficient_scope")).toHaveLength(3);
    expect(emu.requests).toEqual([]);
    await s.srv.stop(); // pending summaries are written on the way out
    const summary = lines(s.audit).find((l) => l.reason === "throttled");
    expect(summary).toMatchObject({ agent: "search-bot", tool: "(refused calls)", suppressed: 8 });
    const all = lines(s.audit).filter((l) => !l.event);
    console.log(`finding 2: audit lines for 11 refused 40,000-call batches (440,000 calls): ${all.length}`);
    expect(all.length).toBeLessThanOrEqual(4);
  }, 120_000);

  it("a batch over --max-batch-calls (default 100) is refused whole: 400, -32600 naming the flag, one audit line, nothing run", async () => {
    const token = await tokenFor("search-bot", capped.resource);
    const r = await rawRequest(capped.srv.url, { headers: { ...MCP_HEADERS, ...bearer(token) }, body: batchOf(40_000) });
    expect(r.status).toBe(400);
    const err = (JSON.parse(r.body) as { error: { code: number; message: string } }).error;
    expect(err.code).toBe(-32600);
    expect(err.message).toMatch(/40000 messages.*at most 100.*--max-batch-calls/);
    const mine = lines(capped.audit).filter((l) => l.agent === "search-bot");
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ tool: "(batch)", reason: "invalid_input" });
    // a batch within the cap is served as before
    const small = `[${JSON.stringify(call("rerank", RERANK, 1))},${JSON.stringify({ ...LIST, id: 2 })}]`;
    const ok = await rawRequest(capped.srv.url, { headers: { ...MCP_HEADERS, ...bearer(token) }, body: small });
    expect(ok.status).toBe(200);
    expect(emu.requests.map((q) => q.path)).toEqual(["/v2/rerank"]);
  }, 60_000);
});

describe("finding 3: a key id not fetched yet during the JWKS cooldown is 401 + Retry-After, and no guess", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startOurs("kid", ["--max-auth-failures", "3"], { oauth: { jwks_cooldown_s: 30 } });
  });
  afterAll(async () => s?.srv.stop());

  it("10 tokens signed with a new key: 401 with Retry-After and 'not fetched yet', never 429; wrong tokens still count; a valid token is served throughout", async () => {
    const good = await tokenFor("search-bot", s.resource);
    const from = "127.0.0.21";
    const send = (t: string) => rawRequest(s.srv.url, { headers: { ...MCP_HEADERS, ...bearer(t) }, body: JSON.stringify(LIST), localAddress: from });
    expect((await send(good)).status).toBe(200); // the keys are fetched now; the cooldown runs
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: "rotated-2", alg: "RS256" };
    const rotated = await new SignJWT(claimsFor(s.resource)).setProtectedHeader({ alg: "RS256", kid: jwk.kid, typ: "at+jwt" }).sign(privateKey);
    for (let i = 0; i < 10; i++) {
      const r = await send(rotated);
      expect(r.status).toBe(401);
      const after = Number(r.headers["retry-after"]);
      expect(after).toBeGreaterThanOrEqual(1);
      expect(after).toBeLessThanOrEqual(30);
      expect(String(r.headers["www-authenticate"])).toMatch(/error="invalid_token".*error_description="[^"]*key id this server has not fetched yet/);
    }
    // not counted as guesses: three wrong tokens are still 401, the fourth 429
    const wrong = (i: number) => `kid-wrong-${i}-abcdefghijklmnopqrstuvwxyz`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(wrong(i))).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    // and the valid token from the same address is served
    expect((await send(good)).status).toBe(200);
  }, 60_000);

  it("one stale token repeated 30 times costs one counted failure: 401 each, never 429", async () => {
    const from = "127.0.0.22";
    const stale = "stale-token-retried-by-a-client-0123456789";
    const got: number[] = [];
    for (let i = 0; i < 30; i++) {
      got.push((await rawRequest(s.srv.url, { headers: { ...MCP_HEADERS, ...bearer(stale) }, body: JSON.stringify(LIST), localAddress: from })).status);
    }
    expect(got).toEqual(Array(30).fill(401));
    // two further different wrong tokens reach the limit of 3; the next is 429
    const more: number[] = [];
    for (let i = 0; i < 3; i++) {
      more.push((await rawRequest(s.srv.url, { headers: { ...MCP_HEADERS, ...bearer(`another-wrong-${i}-abcdefghijklmnop`) }, body: JSON.stringify(LIST), localAddress: from })).status);
    }
    expect(more).toEqual([401, 401, 429]);
  }, 60_000);
});

describe("finding 7: reserved agent names", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startOurs("reserved", ["--max-refusals-per-minute", "3"]);
  });
  afterAll(async () => s?.srv.stop());

  it("a valid token whose agent claim is 'anonymous' is refused 403 at mapping", async () => {
    for (const name of ["anonymous", "Anonymous"]) {
      const token = await idp.sign(claimsFor(s.resource, { client_id: name, sub: name }));
      const r = await post(s.srv.url, LIST, token);
      expect(r.status).toBe(403);
      expect(r.text).toMatch(/reserved/);
    }
  });

  it("finding 11: a valid token that maps to no profile, 20 times: 403 each, 3 audit lines, then one summary", async () => {
    const nobody = await tokenFor("nobody-bot", s.resource);
    for (let i = 0; i < 20; i++) {
      const r = await rawRequest(s.srv.url, { headers: { ...MCP_HEADERS, ...bearer(nobody) }, body: JSON.stringify(LIST), localAddress: "127.0.0.24" });
      expect(r.status).toBe(403);
    }
    const mine = () => lines(s.audit).filter((l) => l.remote === "127.0.0.24");
    expect(mine().filter((l) => l.reason === "auth")).toHaveLength(3);
    await s.srv.stop();
    expect(mine().find((l) => l.reason === "throttled")).toMatchObject({ tool: "(refused credentials)", suppressed: 17 });
  });
});

describe("finding 8: a reload while the issuer is down keeps the keys already fetched", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startOurs("reload-down");
  });
  afterAll(async () => {
    idp.failing.clear();
    await s?.srv.stop();
  });

  it("IdP down, SIGHUP: tokens signed with the cached key are still accepted", async () => {
    const token = await tokenFor("search-bot", s.resource);
    const forged = await idp.sign(claimsFor(s.resource)); // signed with the key the server fetched
    expect((await post(s.srv.url, LIST, token)).status).toBe(200);
    idp.failing.add("*");
    try {
      const before = lines(s.audit).filter((l) => l.event === "config_reload").length;
      s.srv.child.kill("SIGHUP");
      await eventually(() => expect(lines(s.audit).filter((l) => l.event === "config_reload")).toHaveLength(before + 1), 10_000);
      const after = await post(s.srv.url, LIST, token);
      console.log(`finding 8: a cached-key token after SIGHUP with the IdP down: ${after.status}`);
      expect(after.status).toBe(200);
      expect((await post(s.srv.url, call("rerank", RERANK), forged)).status).toBe(200);
    } finally {
      idp.failing.clear();
    }
  }, 30_000);
});

describe("finding 9: a failing JWKS endpoint is not hammered", () => {
  let s: Started;
  beforeAll(async () => {
    idp.failing.add("/jwks"); // discovery works, the keys cannot be fetched
    s = await startOurs("jwks-down", ["--max-refusals-per-minute", "5"]);
  });
  afterAll(async () => {
    idp.failing.clear();
    await s?.srv.stop();
  });

  it("500 junk tokens (right iss and aud, any kid) with no cached keys: a handful of JWKS fetches, 503 each, 5 audit lines then a summary", async () => {
    const junk: string[] = [];
    for (let i = 0; i < 500; i++) junk.push(await idp.sign(claimsFor(s.resource), { kid: `junk-${i}` }));
    const fetchesBefore = idp.hits.get("/jwks") ?? 0;
    const statuses = new Map<number, number>();
    for (const t of junk) {
      const r = await rawRequest(s.srv.url, { headers: { ...MCP_HEADERS, ...bearer(t) }, body: JSON.stringify(LIST), localAddress: "127.0.0.23" });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    const fetches = (idp.hits.get("/jwks") ?? 0) - fetchesBefore;
    console.log(`finding 9: JWKS fetches for 500 junk tokens: ${fetches}; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(statuses.get(503)).toBe(500);
    expect(fetches).toBeGreaterThanOrEqual(1);
    expect(fetches).toBeLessThanOrEqual(10);
    const refused = lines(s.audit).filter((l) => l.reason === "auth");
    expect(refused).toHaveLength(5);
    await s.srv.stop();
    const summary = lines(s.audit).find((l) => l.reason === "throttled");
    expect(summary).toMatchObject({ agent: "(unauthenticated)", remote: "127.0.0.23", suppressed: 495 });
    const logged = s.srv.stderr().split("\n").filter((l) => /issuer's keys are unavailable/.test(l));
    expect(logged.length).toBeLessThanOrEqual(10);
  }, 120_000);
});

describe("finding 11: access tokens (RFC 9068 typ, iat, lifetime) and where the issuer's metadata may send us", () => {
  let s: Started;
  let fake: http.Server;
  let fakeIssuer: string;
  let pinned: Started;
  let named: Started;
  beforeAll(async () => {
    s = await startOurs("claims", [], { oauth: { max_token_lifetime_s: 3600 } });
    // an issuer whose metadata points its jwks_uri at another origin
    fake = http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ issuer: fakeIssuer, jwks_uri: `${idp.issuer}/jwks`, authorization_endpoint: `${fakeIssuer}/authorize`, token_endpoint: `${fakeIssuer}/token`, response_types_supported: ["code"] }));
    });
    await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
    fakeIssuer = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    pinned = await startOurs("pinned", [], { oauth: { issuer: fakeIssuer, introspection: undefined } });
    named = await startOurs("named", [], { oauth: { issuer: fakeIssuer, introspection: undefined, jwks_uri: `${idp.issuer}/jwks` } });
  });
  afterAll(async () => {
    await s?.srv.stop();
    await pinned?.srv.stop();
    await named?.srv.stop();
    await new Promise((r) => fake?.close(r));
  });

  it("typ other than at+jwt, iat in the future, a lifetime over oauth.max_token_lifetime_s: 401 each, saying why", async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, string, RegExp]> = [
      ["typ JWT (an ID token, say)", await idp.sign(claimsFor(s.resource), { typ: "JWT" }), /not an access token/],
      ["no typ", await idp.sign(claimsFor(s.resource), { typ: undefined }), /not an access token/],
      ["iat two minutes ahead", await idp.sign(claimsFor(s.resource, { iat: now + 120, exp: now + 600 })), /issued in the future/],
      ["a ten-day lifetime", await idp.sign(claimsFor(s.resource, { exp: now + 10 * 86400 })), /lifetime is longer/],
    ];
    for (const [what, token, why] of cases) {
      const r = await post(s.srv.url, LIST, token);
      expect(r.status, what).toBe(401);
      expect(r.headers.get("www-authenticate"), what).toMatch(why);
    }
    // the same claims, right typ, sane times: accepted
    expect((await post(s.srv.url, LIST, await idp.sign(claimsFor(s.resource)))).status).toBe(200);
    expect((await post(s.srv.url, LIST, await tokenFor("search-bot", s.resource))).status).toBe(200);
  });

  it("a jwks_uri on another origin, from the issuer's metadata, is not used (503, logged); named in the config, it is", async () => {
    const before = idp.hits.get("/jwks") ?? 0;
    const r = await post(pinned.srv.url, LIST, await idp.sign(claimsFor(pinned.resource, { iss: fakeIssuer })));
    expect(r.status).toBe(503);
    expect(idp.hits.get("/jwks") ?? 0).toBe(before);
    expect(pinned.srv.stderr()).toMatch(/jwks_uri \(http:\/\/127\.0\.0\.1:\d+\) outside the issuer's origin; set oauth\.jwks_uri/);
    const ok = await post(named.srv.url, LIST, await idp.sign(claimsFor(named.resource, { iss: fakeIssuer })));
    expect(ok.status).toBe(200);
  });
});
