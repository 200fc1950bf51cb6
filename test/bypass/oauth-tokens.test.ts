/**
 * Allowlist bypass with OAuth (issue 12): access-token shapes over HTTP, stateless and with
 * --sessions: another audience, expired, another key, alg none, HS256 with the issuer's public
 * key, another issuer, embedded or remote keys, tampered claims, a token anywhere but the
 * Authorization header. A refused token reaches nothing at all; a valid one only its profile
 * narrowed by its scopes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_KEY, freePort } from "../../bench/lib.js";
import { generateKeyPair, exportJWK, SignJWT, UnsecuredJWT, base64url } from "jose";
import { startHttp, type HttpServerProc } from "../http-support.js";
import { startIdp, type Idp } from "../oauth-idp.js";
import { INIT, READER_TOKEN, callMsg, dir, emu, expectRefused, note, rpc, useBypassWorld, type Channel, type Rpc } from "./support.js";

useBypassWorld("OAuth tokens");

// HTTP with OAuth (issue 12): access-token shapes. A refused token reaches nothing, visible tools
// included; a valid token reaches only its profile narrowed by its scopes.

describe.each([
  ["stateless", [] as string[]],
  ["--sessions", ["--sessions"]],
])("over HTTP with oauth (%s): access-token shapes", (mode, extra) => {
  const channel: Channel = mode === "stateless" ? "HTTP stateless" : "HTTP --sessions";
  const audit = join(dir, `bypass-oauth-audit-${mode.replace(/\W/g, "")}-${process.pid}.jsonl`);
  let idp: Idp;
  let other: Idp;
  let srv: HttpServerProc;
  let resource: string;
  const tokens: string[] = [];
  let refusedAttempts = 0;

  beforeAll(async () => {
    const client = (id: string, scope: string, groups: string[]) => ({ client_id: id, client_secret: `${id}-secret-SECRET-0a1b2c3d`, scope, groups });
    idp = await startIdp([client("reader-bot", "cohere:read", ["readers"]), client("curator-bot", "cohere:read cohere:write cohere:destructive", ["curators"])]);
    other = await startIdp([client("curator-bot", "cohere:read cohere:write cohere:destructive", ["curators"])]);
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    for (const i of [idp, other]) i.resources.add(resource).add("http://127.0.0.1:9/elsewhere");
    const cfg = join(dir, `bypass-oauth-${mode.replace(/\W/g, "")}-${process.pid}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: { reader: { tools: ["rerank", "embed", "create_dataset"] }, curator: { tools: "datasets", allow_write: true, allow_destructive: true } },
        agents: [{ name: "static-reader", profile: "reader", token_env: "READER_TOKEN" }],
        oauth: {
          issuer: idp.issuer,
          resource,
          rules: [
            { claim: "groups", includes: "readers", profile: "reader" },
            { claim: "groups", includes: "curators", profile: "curator" },
          ],
          jwks_cooldown_s: 1,
        },
      }),
    );
    // every refused token must be audited one by one here: the failed-login throttle stays off
    srv = await startHttp(emu.url, ["--port", String(port), "--config", cfg, "--audit-log", audit, "--confirm-destructive", "never", "--max-auth-failures", "0", "--max-refusals-per-minute", "0", ...extra], {
      READER_TOKEN,
      CO_API_KEY: BENCH_KEY,
    });
  });
  afterAll(async () => {
    await srv?.stop();
    await idp?.stop();
    await other?.stop();
  });

  /** Claims a reader token would carry; the shape changes what it tests. */
  const claims = (over: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: idp.issuer, aud: resource, sub: "reader-bot", client_id: "reader-bot", groups: ["readers"], scope: "cohere:read", jti: `j-${Math.random()}`, iat: now, exp: now + 300, ...over };
  };

  /** Stateless: one POST. Sessions: the call on a session opened with the same credential (when it opens). */
  async function tryToken(shape: string, authorization: string | undefined, query = "", body: unknown = callMsg("rerank", { model: "rerank-v3.5", query: "q", documents: ["a"] })): Promise<Rpc> {
    note(channel, `oauth: ${shape}`);
    const h: Record<string, string> = authorization === undefined ? {} : { authorization };
    let sid: string | null = null;
    if (mode === "--sessions") {
      const init = await rpc(srv.url + query, INIT, h);
      sid = init.headers.get("mcp-session-id");
      if (!sid) {
        expect(init.status, shape).toBeGreaterThanOrEqual(400);
        refusedAttempts++;
        return init;
      }
    }
    const r = await rpc(srv.url + query, body, sid ? { ...h, "mcp-session-id": sid } : h);
    if (r.status >= 400) refusedAttempts++;
    return r;
  }

  it("forged, foreign and tampered tokens are refused with 401 and reach nothing", async () => {
    const { privateKey: attacker, publicKey: attackerPub } = await generateKeyPair("RS256", { extractable: true });
    const k = idp.signingKey();
    const pem = await idp.publicPem();
    const real = await idp.sign(claims());
    const [h, p] = real.split(".") as [string, string, string];
    const widened = base64url.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(base64url.decode(p))), scope: "cohere:read cohere:write cohere:destructive", groups: ["curators"] }));
    const foreignSameKid = await new SignJWT(claims()).setProtectedHeader({ alg: "RS256", kid: k.kid }).sign(attacker);
    const shapes: Array<[string, string]> = [
      ["token for another audience (same issuer)", (await idp.token("reader-bot", "http://127.0.0.1:9/elsewhere", "cohere:read")).access_token],
      ["token from another issuer for this resource", (await other.token("curator-bot", resource, "cohere:read cohere:write cohere:destructive")).access_token],
      ["issuer's key, expired", await idp.sign(claims({ exp: Math.floor(Date.now() / 1000) - 120 }))],
      ["issuer's key, nbf in the future", await idp.sign(claims({ nbf: Math.floor(Date.now() / 1000) + 600 }))],
      ["issuer's key, iss with a trailing slash", await idp.sign(claims({ iss: `${idp.issuer}/` }))],
      ["issuer's key, aud array without this resource", await idp.sign(claims({ aud: ["http://127.0.0.1:9/elsewhere", `${resource}x`] }))],
      ["issuer's key, aud as a prefix of this resource", await idp.sign(claims({ aud: resource.replace(/\/mcp$/, "") }))],
      ["issuer's key, no exp", await idp.sign(claims({ exp: undefined }))],
      ["issuer's key, unknown crit header", await idp.sign(claims(), { crit: ["x-bypass"], "x-bypass": true }, { "x-bypass": true })],
      ["signed by another key, issuer's kid", foreignSameKid],
      ["signed by another key, unknown kid", await new SignJWT(claims()).setProtectedHeader({ alg: "RS256", kid: "attacker" }).sign(attacker)],
      ["signed by another key, no kid", await new SignJWT(claims()).setProtectedHeader({ alg: "RS256" }).sign(attacker)],
      ["another key embedded in the header (jwk)", await new SignJWT(claims()).setProtectedHeader({ alg: "RS256", jwk: await exportJWK(attackerPub) }).sign(attacker)],
      ["another key by URL in the header (jku / x5u)", await new SignJWT(claims()).setProtectedHeader({ alg: "RS256", kid: "attacker", jku: "http://127.0.0.1:9/jwks", x5u: "http://127.0.0.1:9/x5c" }).sign(attacker)],
      ["alg none", new UnsecuredJWT(claims()).encode()],
      ["alg None (other case)", `${base64url.encode(JSON.stringify({ alg: "None", typ: "JWT" }))}.${p}.`],
      ["alg none with the real signature kept", `${base64url.encode(JSON.stringify({ alg: "none", kid: k.kid }))}.${p}.${real.split(".")[2]}`],
      ["HS256 keyed with the issuer's public key (PEM)", await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: k.kid }).sign(new TextEncoder().encode(pem))],
      ["HS256 keyed with the issuer's public JWK", await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: k.kid }).sign(new TextEncoder().encode(JSON.stringify({ e: k.e, kty: k.kty, n: k.n })))],
      ["HS256 with kid path traversal and an empty-ish key", await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: "../../../../dev/null" }).sign(new Uint8Array(32))],
      ["real token, claims widened (signature kept)", `${h}.${widened}.${real.split(".")[2]}`],
      ["real token, signature stripped", `${h}.${p}.`],
      ["real token, header swapped to another kid", `${base64url.encode(JSON.stringify({ alg: "RS256", kid: "k999" }))}.${p}.${real.split(".")[2]}`],
      ["real token with the static token appended", `${real}${READER_TOKEN}`],
      ["JWE-shaped (five parts)", `${h}.${p}.${p}.${p}.${p}`],
      // issue 20, finding 11: an access token (RFC 9068), issued in the past, for a sane lifetime
      ["issuer's key, typ JWT (an ID token, say)", await idp.sign(claims(), { typ: "JWT" })],
      ["issuer's key, no typ", await idp.sign(claims(), { typ: undefined })],
      ["issuer's key, typ application/jwt", await idp.sign(claims(), { typ: "application/jwt" })],
      ["issuer's key, iat ten minutes ahead", await idp.sign(claims({ iat: Math.floor(Date.now() / 1000) + 600, exp: Math.floor(Date.now() / 1000) + 900 }))],
      ["issuer's key, a lifetime of a year", await idp.sign(claims({ exp: Math.floor(Date.now() / 1000) + 365 * 86400 }))],
    ];
    tokens.push(real, ...shapes.map(([, t]) => t));
    for (const [shape, token] of shapes) {
      const r = await tryToken(shape, `Bearer ${token}`);
      expect(r.status, shape).toBe(401);
      expect(r.headers.get("www-authenticate"), shape).toContain('error="invalid_token"');
    }
    expect(emu.requests).toEqual([]);
    // the control: the real token (same claims) is accepted
    const ok = await rpc(srv.url, { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }, { authorization: `Bearer ${real}` });
    expect(ok.status === 200 || ok.status === 400, `control: ${ok.status}`).toBe(true);
  });

  it("a token anywhere but the Authorization header, or two credentials at once, is refused", async () => {
    const real = await idp.sign(claims());
    tokens.push(real);
    const list = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
    for (const [shape, auth, query, body] of [
      ["token in ?access_token= (no header)", undefined, `?access_token=${real}`, undefined],
      ["token in the JSON body (no header)", undefined, "", { ...list, access_token: real, params: { _meta: { authorization: `Bearer ${real}` } } }],
      ["two bearer tokens in one header", `Bearer ${real} ${READER_TOKEN}`, "", undefined],
      ["static token and JWT, comma-joined", `Bearer ${READER_TOKEN}, Bearer ${real}`, "", undefined],
      ["DPoP scheme with a bearer token", `DPoP ${real}`, "", undefined],
      ["Basic with the token as password", `Basic ${Buffer.from(`reader-bot:${real}`).toString("base64")}`, "", undefined],
    ] as Array<[string, string | undefined, string, unknown]>) {
      const r = await tryToken(shape, auth, query, body);
      expect(r.status, shape).toBe(401);
    }
    expect(emu.requests).toEqual([]);
  });

  it("a valid token reaches only its profile narrowed by its scopes: claims naming other profiles, agents or tools widen nothing", async () => {
    const widen: Array<[string, Record<string, unknown>, Record<string, string>]> = [
      ["valid token, extra claim profile=curator", { profile: "curator", agent: "curator-bot", tools: "*" }, {}],
      ["valid token, client_id of another agent, groups kept", { client_id: "curator-bot" }, {}],
      ["valid token, X-MCP-Tools: * and X-MCP-Profile", {}, { "x-mcp-tools": "*", "x-mcp-profile": "curator" }],
      ["valid token, scope claim as an array (not read by default)", { scope: undefined, scopes: ["cohere:destructive"], scp: "cohere:read" }, {}],
    ];
    for (const [shape, over, headers] of widen) {
      const token = await idp.sign(claims(over));
      tokens.push(token);
      for (const name of ["delete_dataset", "list_datasets"]) {
        const r = await tryToken(`${shape} → ${name}`, `Bearer ${token}`, "", callMsg(name, { id: "ds-1" }));
        if (r.status < 400) expectRefused(r, shape);
        // the headers variant: header narrowing never widens
        if (Object.keys(headers).length) {
          const h = await rpc(srv.url, callMsg(name, { id: "ds-1" }), { authorization: `Bearer ${token}`, ...headers });
          expectRefused(h, shape);
        }
      }
    }
    // a read-scope token and a write tool inside its profile: 403 insufficient_scope
    const token = await idp.sign(claims());
    tokens.push(token);
    const r = await tryToken("read-scope token → write tool in its profile", `Bearer ${token}`, "", callMsg("create_dataset", { name: "x", type: "embed-input", data_text: "{}" }));
    expect(r.status).toBe(403);
    expect(r.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    // issue 20, finding 2: the same in a batch of 100 (the cap): one 403 for the whole request;
    // one message more than --max-batch-calls: refused whole, -32600, nothing run
    const batch = (n: number) => Array.from({ length: n }, (_, i) => callMsg(i % 2 ? "create_dataset" : "rerank", { name: "x", type: "embed-input", data_text: "{}", model: "rerank-v3.5", query: "q", documents: ["a"] }, i + 1));
    note(channel, "oauth: read-scope token, batch of 100 write and read calls");
    const full = await rpc(srv.url, batch(100), { authorization: `Bearer ${token}` });
    expect(full.status).toBe(403);
    note(channel, "oauth: batch of 101 calls (over --max-batch-calls)");
    const over = await rpc(srv.url, batch(101), { authorization: `Bearer ${token}` });
    expect(over.status).toBe(400);
    expect(JSON.stringify(over.messages)).toMatch(/-32600.*--max-batch-calls/);
    // a reserved agent name (finding 7): 403 at mapping
    const reserved = await idp.sign(claims({ client_id: "anonymous", sub: "anonymous" }));
    tokens.push(reserved);
    const named = await tryToken("valid token whose agent claim is 'anonymous'", `Bearer ${reserved}`, "", callMsg("rerank", { model: "rerank-v3.5", query: "q", documents: ["a"] }));
    expect(named.status).toBe(403);
    expect(emu.requests).toEqual([]);
  });

  it("one denied audit line per refused token; no token in the audit or the server's stderr", async () => {
    const text = readFileSync(audit, "utf8");
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as { decision: string; tool: string; reason?: string });
    expect(lines.filter((l) => l.decision === "allowed" && l.tool !== "rerank" && l.tool !== "embed")).toEqual([]);
    expect(lines.filter((l) => l.decision === "denied" && (l.reason === "auth" || l.reason === "insufficient_scope")).length).toBeGreaterThanOrEqual(refusedAttempts);
    for (const t of tokens) {
      expect(text).not.toContain(t);
      expect(srv.stderr()).not.toContain(t);
    }
    expect(text).not.toContain(READER_TOKEN);
  });
});
