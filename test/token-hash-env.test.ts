/**
 * Token hashes from the environment (issue 25, item 2): `token_sha256_env` (an agent's or an
 * admin's single token) and a `tokens` entry's `sha256_env` name an environment variable holding
 * the token's SHA-256, so a Kubernetes Secret can hold hashes instead of tokens. The hash works
 * like an inline token_sha256; a variable that is missing or does not hold 64 hex digits stops
 * the start, naming the agent (or admin) and the variable, never printing the value.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { api, startConsole, teamConfig, LEAD_TOKEN, type Console } from "./admin-support.js";
import { runCli } from "./helpers.js";
import { bearer, INIT, MCP_HEADERS, rpc, sha256Hex, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";

const HASHED = "hashed-agent-token-4f2a9c7e1b3d5f70";
const ROTATED = "rotated-agent-token-8e6c4a2b0d1f3a5c";
const OTHER = "some-other-token-0a1b2c3d4e5f6a7b";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu?.stop();
});

const config = () =>
  writeConfig({
    profiles: { p: { tools: ["tokenize"] } },
    agents: [
      { name: "hashed", profile: "p", token_sha256_env: "HASHED_SHA256" },
      { name: "rotating", profile: "p", tokens: [{ sha256_env: "ROTATED_SHA256", label: "2026-12" }] },
    ],
  });

/** The exit code and stderr of a server that must refuse to start. */
async function refused(env: Record<string, string | undefined>): Promise<{ code: number | string | null; stderr: string }> {
  try {
    const srv = await startHttp(emu.url, ["--config", config()], env);
    await srv.stop();
    throw new Error(`started although it should not have:\n${srv.stderr()}`);
  } catch (err) {
    const m = /exited \((.*?)\) before listening:\n([\s\S]*)$/.exec((err as Error).message);
    if (!m) throw err;
    return { code: m[1] === "null" ? null : Number(m[1]), stderr: m[2]! };
  }
}

describe("token_sha256_env and sha256_env", () => {
  let srv: HttpServerProc;
  let audit: string;
  beforeAll(async () => {
    audit = tempFile("audit.jsonl");
    srv = await startHttp(emu.url, ["--config", config(), "--audit-log", audit], {
      // either case; a trailing newline (a Secret made from a file) is ignored
      HASHED_SHA256: `${sha256Hex(HASHED).toUpperCase()}\n`,
      ROTATED_SHA256: sha256Hex(ROTATED),
    });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it("the token whose hash the variable holds signs the agent in; another token gets 401; no hash is logged", async () => {
    for (const token of [HASHED, ROTATED]) {
      expect((await rpc(srv.url, INIT, { ...MCP_HEADERS, ...bearer(token) })).status).toBe(200);
    }
    expect((await rpc(srv.url, INIT, { ...MCP_HEADERS, ...bearer(OTHER) })).status).toBe(401);
    const call = await rpc(
      srv.url,
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "tokenize", arguments: { model: "command-a-03-2025", text: "hi" } } },
      { ...MCP_HEADERS, ...bearer(HASHED) },
    );
    expect(call.status).toBe(200);
    const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.tool === "tokenize")).toMatchObject({ agent: "hashed", decision: "allowed" });
    const seen = readFileSync(audit, "utf8") + srv.stderr();
    for (const t of [HASHED, ROTATED]) {
      expect(seen).not.toContain(t);
      expect(seen.toLowerCase()).not.toContain(sha256Hex(t));
    }
  });

  it("a missing variable stops the start, naming the agent and the variable", async () => {
    const r = await refused({ HASHED_SHA256: sha256Hex(HASHED), ROTATED_SHA256: undefined });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('agent "rotating", token "2026-12": environment variable ROTATED_SHA256 is not set or empty');
  });

  it("a variable holding the token instead of its hash stops the start, without printing it", async () => {
    const r = await refused({ HASHED_SHA256: HASHED, ROTATED_SHA256: sha256Hex(ROTATED) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('agent "hashed": environment variable HASHED_SHA256 does not hold a token\'s SHA-256 (64 hex digits');
    expect(r.stderr).not.toContain(HASHED);
    // nor a hash given with one digit short
    const short = await refused({ HASHED_SHA256: sha256Hex(HASHED).slice(1), ROTATED_SHA256: sha256Hex(ROTATED) });
    expect(short.stderr).toContain("environment variable HASHED_SHA256 does not hold");
    expect(short.stderr).not.toContain(sha256Hex(HASHED).slice(1));
  });

  it("`cohere-mcp check` says the same before a deploy, and `access` names the variable, never the hash", async () => {
    const bad = await runCli(["check", "--config", config()], { HASHED_SHA256: "not-a-hash", ROTATED_SHA256: sha256Hex(ROTATED) });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('agent "hashed": environment variable HASHED_SHA256 does not hold a token\'s SHA-256');
    expect(bad.stdout + bad.stderr).not.toContain("not-a-hash");
    const good = await runCli(["check", "--config", config()], { HASHED_SHA256: sha256Hex(HASHED), ROTATED_SHA256: sha256Hex(ROTATED) });
    expect(good.code, good.stdout + good.stderr).toBe(0);
    const access = await runCli(["access", "--config", config()], { HASHED_SHA256: sha256Hex(HASHED), ROTATED_SHA256: sha256Hex(ROTATED) });
    expect(access.stdout).toContain("token_sha256_env HASHED_SHA256");
    expect(access.stdout).toContain('token "2026-12" (sha256_env ROTATED_SHA256)');
    expect(access.stdout.toLowerCase()).not.toContain(sha256Hex(HASHED));
  });

  it("the config refuses an agent with both token_sha256 and token_sha256_env", async () => {
    const bad = writeConfig({
      profiles: { p: { tools: ["tokenize"] } },
      agents: [{ name: "both", profile: "p", token_sha256: sha256Hex(HASHED), token_sha256_env: "HASHED_SHA256" }],
    });
    const err = await startHttp(emu.url, ["--config", bad], { HASHED_SHA256: sha256Hex(HASHED) }).then(
      async (s) => {
        await s.stop();
        return "";
      },
      (e: Error) => e.message,
    );
    expect(err).toContain("give one of token_sha256, token_env, token_sha256_env or tokens");
  });
});

describe("an admin's token_sha256_env", () => {
  let c: Console;
  const admins = [{ name: "team-lead", role: "admin", token_sha256_env: "LEAD_SHA256" }];
  afterAll(async () => {
    await c?.srv.stop();
  });

  it("signs the admin in with the token whose hash the variable holds", async () => {
    c = await startConsole(emu.url, ["--config", writeConfig(teamConfig({ admins }))], { LEAD_SHA256: sha256Hex(LEAD_TOKEN) });
    expect((await api(c, "GET", "grid", { bearer: LEAD_TOKEN })).status).toBe(200);
    expect((await api(c, "GET", "grid", { bearer: OTHER })).status).toBe(401);
    expect(c.srv.stderr().toLowerCase()).not.toContain(sha256Hex(LEAD_TOKEN));
  });

  it("a variable that does not hold a hash stops the start before any port listens, naming the admin and the variable", async () => {
    const err = await startConsole(emu.url, ["--config", writeConfig(teamConfig({ admins }))], { LEAD_SHA256: LEAD_TOKEN }).then(
      async (s) => {
        await s.srv.stop();
        return "";
      },
      (e: Error) => e.message,
    );
    // refused before any port listens (the agents' port too), exit code 2 as for every config error
    expect(err).toMatch(/exited \(2\) before listening/);
    expect(err).toContain('admin "team-lead": environment variable LEAD_SHA256 does not hold a token\'s SHA-256');
    expect(err).not.toContain(LEAD_TOKEN);
  });
});
