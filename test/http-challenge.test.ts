/**
 * A wrong token that says so (issue 14): the 401 of a static-token server carries an RFC 6750
 * challenge with error="invalid_token" and an error_description, and a JSON-RPC body naming the
 * problem; the paths an OAuth client probes after a 401 answer 404 with a body that says this
 * server takes a static token (mcp-remote prints that body). What mcp-remote itself prints is
 * checked by scripts/real-clients.sh.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { notFound, unauthorized } from "../src/transports/http/admission/challenge.js";
import { INIT, rawRequest, rpc, startHttp, writeConfig, type HttpServerProc } from "./http-support.js";
import { TEST_KEY } from "./helpers.js";

const TOKEN = "challenge-token-5b7c9d1e3f";

/** Parse `Bearer a="x", b="y \"q\""` into its auth-params. */
function params(header: string | undefined): Record<string, string> {
  expect(header).toMatch(/^Bearer /);
  const out: Record<string, string> = {};
  for (const m of header!.slice(7).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!.replace(/\\(.)/g, "$1");
  return out;
}

describe("the challenge builder", () => {
  it("invalid token: realm, error and description in the header; the same in the body", () => {
    const r = unauthorized({ reason: "invalid" });
    expect(r.status).toBe(401);
    const p = params(r.headers["WWW-Authenticate"]);
    expect(p).toMatchObject({ realm: "cohere-mcp", error: "invalid_token" });
    expect(p.error_description).toMatch(/not accepted/);
    expect(r.body.error.data).toEqual({ error: "invalid_token", error_description: p.error_description });
    expect(r.body.error.message).toBe(`Unauthorized: ${p.error_description}`);
  });

  it("no token: only the realm in the header (RFC 6750 §3.1), and the body says what to send", () => {
    const r = unauthorized({ reason: "missing" });
    expect(r.headers["WWW-Authenticate"]).toBe('Bearer realm="cohere-mcp"');
    expect(r.body.error.message).toMatch(/Authorization: Bearer <token>/);
  });

  it("takes further parameters (e.g. RFC 9728 resource_metadata), quoted and escaped", () => {
    const r = unauthorized({ reason: "invalid", extra: { resource_metadata: "https://mcp.example.com/.well-known/oauth-protected-resource", odd: 'a"b\\c' } });
    const h = r.headers["WWW-Authenticate"];
    expect(h).toMatch(/, resource_metadata="https:\/\/mcp\.example\.com\/\.well-known\/oauth-protected-resource", odd="a\\"b\\\\c"$/);
    expect(params(h)).toMatchObject({ error: "invalid_token", resource_metadata: "https://mcp.example.com/.well-known/oauth-protected-resource", odd: 'a"b\\c' });
  });

  it("the 404 of an OAuth discovery or registration path explains the static token; other paths stay short", () => {
    for (const p of ["/register", "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/authorize", "/token"]) {
      expect(notFound(p, "/mcp").error_description, p).toMatch(/static bearer token/);
    }
    expect(notFound("/elsewhere", "/mcp")).toEqual({ error: "not found; MCP is served at /mcp" });
  });
});

describe("over HTTP, against a server with agents", () => {
  let emu: CohereEmulator;
  let srv: HttpServerProc;
  beforeAll(async () => {
    emu = await startEmulator({ apiKey: TEST_KEY });
    const config = writeConfig({
      profiles: { p: { tools: ["rerank"] } },
      agents: [{ name: "a1", profile: "p", token_env: "A1_TOKEN" }],
    });
    srv = await startHttp(emu.url, ["--config", config], { A1_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await srv.stop();
    await emu.stop();
  });

  it("a wrong token: 401, invalid_token with a description, a JSON body naming the problem, nothing upstream", async () => {
    const r = await rpc(srv.url, INIT, { Authorization: `Bearer ${TOKEN}x` });
    expect(r.status).toBe(401);
    expect(r.headers["content-type"]).toMatch(/application\/json/);
    const p = params(r.headers["www-authenticate"]);
    expect(p).toMatchObject({ realm: "cohere-mcp", error: "invalid_token" });
    expect(p.error_description).toMatch(/matches no agent/);
    const body = JSON.parse(r.body) as { error: { code: number; message: string; data: { error: string; error_description: string } } };
    expect(body.error.data).toEqual({ error: "invalid_token", error_description: p.error_description });
    expect(body.error.message).toMatch(/^Unauthorized: The bearer token was not accepted/);
    expect(r.body).not.toContain(TOKEN);
    expect(emu.requests).toHaveLength(0);
  });

  it("not a bearer token (Basic …): invalid_token, with its own description", async () => {
    const r = await rpc(srv.url, INIT, { Authorization: `Basic ${TOKEN}` });
    expect(r.status).toBe(401);
    const p = params(r.headers["www-authenticate"]);
    expect(p.error).toBe("invalid_token");
    expect(p.error_description).toMatch(/is not 'Bearer <token>'/);
  });

  it("no token: the realm alone, and a body that says which header to send", async () => {
    const r = await rpc(srv.url, INIT);
    expect(r.status).toBe(401);
    expect(r.headers["www-authenticate"]).toBe('Bearer realm="cohere-mcp"');
    expect(r.body).toMatch(/Authorization: Bearer <token>/);
  });

  it("what an OAuth client tries next (/register) answers 404 with the explanation; the right token works", async () => {
    const reg = await rawRequest(`${srv.origin}/register`, {
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ redirect_uris: ["http://localhost:1/cb"] }),
    });
    expect(reg.status).toBe(404);
    expect((JSON.parse(reg.body) as { error_description: string }).error_description).toMatch(/static bearer token/);
    const ok = await rpc(srv.url, INIT, { Authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
  });
});
