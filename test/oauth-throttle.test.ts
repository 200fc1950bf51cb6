/**
 * The failed-login throttle (--max-auth-failures) counts guesses only: a 401 (no token, a
 * malformed or a wrong one). A valid OAuth token that this server will not serve (403: no rule
 * maps it, or it carries no cohere scope) and a token that cannot be checked because the issuer
 * is unreachable (503) are no guesses: repeated well past the limit, they never get the address
 * 429-throttled (on /mcp, nor through /readyz), while wrong tokens do. Real oidc-provider, real
 * server, requests from their own loopback source addresses.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../bench/lib.js";
import { bearer, MCP_HEADERS, rawRequest, startHttp, type HttpServerProc } from "./http-support.js";
import { call, claimsFor, dir, emu, idp, LIST, RERANK, STATIC_TOKEN, startOurs, tokenFor, useOAuthWorld, type Started } from "./oauth-support.js";

useOAuthWorld();

const LIMIT = 3;
const TRIES = 3 * LIMIT;
const BODY = JSON.stringify(call("rerank", RERANK));

async function statuses(url: string, from: string, tokens: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const t of tokens) out.push((await rawRequest(url, { headers: { ...MCP_HEADERS, ...bearer(t) }, body: BODY, localAddress: from })).status);
  return out;
}
const wrongTokens = (label: string) => Array.from({ length: TRIES }, (_, i) => `wrong-${label}-${i}-abcdefghijklmnop`);

describe("403 from a valid OAuth token is not a failed login", () => {
  let s: Started;
  beforeAll(async () => {
    // --trusted-proxies: /readyz is also checked for a client that is not loopback (named in X-Forwarded-For)
    s = await startOurs("throttle", ["--max-auth-failures", String(LIMIT), "--trusted-proxies", "127.0.0.1"]);
  });
  afterAll(async () => s?.srv.stop());

  it(`a token no rule maps, or without any cohere scope, ${TRIES} times: 403 each, never 429; wrong tokens from another address: 429 past ${LIMIT}`, async () => {
    const nobody = await tokenFor("nobody-bot", s.resource); // valid, maps to no rule
    const noscope = await tokenFor("noscope-bot", s.resource); // valid, no cohere scope
    expect(await statuses(s.srv.url, "127.0.0.2", Array(TRIES).fill(nobody))).toEqual(Array(TRIES).fill(403));
    expect(await statuses(s.srv.url, "127.0.0.2", Array(TRIES).fill(noscope))).toEqual(Array(TRIES).fill(403));
    // the address is not throttled: a good token from it is served
    const good = await tokenFor("search-bot", s.resource);
    expect(await statuses(s.srv.url, "127.0.0.2", [good])).toEqual([200]);

    // nor by /readyz, where a token is checked to show details to a remote client
    const remote = { "X-Forwarded-For": "198.51.100.61" };
    for (let i = 0; i < TRIES; i++) {
      const r = await rawRequest(`${s.srv.origin}/readyz`, { method: "GET", headers: { ...remote, ...bearer(nobody) } });
      expect(r.status).toBe(200);
      expect(r.body).not.toMatch(/127\.0\.0\.1/); // no details for a token that is not served
    }
    expect((await rawRequest(s.srv.url, { headers: { ...MCP_HEADERS, ...remote, ...bearer(good) }, body: BODY })).status).toBe(200);
    // while wrong tokens there count as they do on /mcp
    const wrongRemote = { "X-Forwarded-For": "198.51.100.62" };
    for (const t of wrongTokens("readyz")) await rawRequest(`${s.srv.origin}/readyz`, { method: "GET", headers: { ...wrongRemote, ...bearer(t) } });
    // (wrong tokens after the limit: 429; a valid token from that address is still served)
    expect((await rawRequest(s.srv.url, { headers: { ...MCP_HEADERS, ...wrongRemote, ...bearer("wrong-after-readyz-abcdefgh") }, body: BODY })).status).toBe(429);
    expect((await rawRequest(s.srv.url, { headers: { ...MCP_HEADERS, ...wrongRemote, ...bearer(good) }, body: BODY })).status).toBe(200);

    // the throttle is on: wrong tokens (a forged JWT, a garbage value) are counted
    const forged = await idp.sign(claimsFor(s.resource, { aud: "http://127.0.0.1:9/elsewhere" }));
    const tries = await statuses(s.srv.url, "127.0.0.3", [forged, ...wrongTokens("oauth").slice(1)]);
    expect(tries.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(401));
    expect(tries.slice(LIMIT)).toEqual(Array(TRIES - LIMIT).fill(429));
    expect(await statuses(s.srv.url, "127.0.0.3", [good])).toEqual([200]);
    expect(emu.requests.map((r) => r.path)).toEqual(["/v2/rerank", "/v2/rerank", "/v2/rerank", "/v2/rerank"]);
  });
});

describe("503 from an issuer that cannot be reached is not a failed login", () => {
  let srv: HttpServerProc;
  let resource: string;
  let deadIssuer: string;
  beforeAll(async () => {
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    deadIssuer = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    const cfg = join(dir, `oauth-throttle-dead-${process.pid}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: { reader: { tools: ["rerank"] } },
        agents: [{ name: "static-reader", profile: "reader", token_env: "STATIC_READER_TOKEN" }],
        oauth: { issuer: deadIssuer, resource, rules: [{ claim: "groups", includes: "search-team", profile: "reader" }], fetch_timeout_ms: 500 },
      }),
    );
    srv = await startHttp(emu.url, ["--port", String(port), "--config", cfg, "--max-auth-failures", String(LIMIT)], { STATIC_READER_TOKEN: STATIC_TOKEN });
  });
  afterAll(async () => srv?.stop());

  it(`a token whose issuer cannot be reached, ${TRIES} times: 503 each, never 429; wrong tokens from another address: 429 past ${LIMIT}`, async () => {
    // well formed, for this resource and this issuer: only the issuer can say whether it is good
    const token = await idp.sign(claimsFor(resource, { iss: deadIssuer }));
    const got = await statuses(srv.url, "127.0.0.4", Array(TRIES).fill(token));
    expect(got).toEqual(Array(TRIES).fill(503));
    // the address is not throttled: the static agent's token from it is served
    const ok = await rawRequest(srv.url, { headers: { ...MCP_HEADERS, ...bearer(STATIC_TOKEN) }, body: JSON.stringify(LIST), localAddress: "127.0.0.4" });
    expect(ok.status).toBe(200);

    const tries = await statuses(srv.url, "127.0.0.5", wrongTokens("dead"));
    expect(tries.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(401));
    expect(tries.slice(LIMIT)).toEqual(Array(TRIES - LIMIT).fill(429));
    expect(emu.requests).toEqual([]);
  });
});
