/**
 * Loud failures instead of quiet ones (issue 22, item 10): bad paths, ports and boolean values
 * stop the start with one line and exit 2 (no stack trace); an HTTP gateway whose agents would
 * call Cohere without a key is not ready, saying which profile; a refusal over HTTP tells the
 * agent to ask for its profile to be changed rather than to restart the server.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { runCli, TEST_KEY } from "./helpers.js";
import { bearer, connectHttp, rawRequest, sha256Hex, startHttp, writeConfig } from "./http-support.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());

/** Exit 2 with exactly one line on stderr, naming what is wrong; nothing on stdout. */
async function refusedStart(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await runCli(args, { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url, ...env });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trim().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^cohere-mcp: /);
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  return lines[0]!;
}

describe("checked at start, one line and exit 2", () => {
  it("--log-file into a missing directory", async () => {
    expect(await refusedStart(["--log-file", "/proc/no-such-dir/x.log"])).toMatch(/--log-file \/proc\/no-such-dir\/x\.log: cannot be opened for appending \(ENOENT\)/);
    expect(await refusedStart(["--http", "--port", "0", "--log-file", "/proc/no-such-dir/x.log"])).toMatch(/--log-file/);
  });

  it("--port out of range", async () => {
    expect(await refusedStart(["--http", "--port", "70000"])).toBe(`cohere-mcp: --port must be a port number (0-65535), got "70000"`);
    expect(await refusedStart(["--http"], { COHERE_MCP_PORT: "-1" })).toMatch(/--port must be an integer ≥ 0, got "-1"/);
  });

  it("--allow-file-read on a missing directory or a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cmcp-start-"));
    expect(await refusedStart(["--allow-file-read", join(dir, "missing")])).toMatch(/--allow-file-read .*missing: no such directory \(ENOENT\)/);
    expect(await refusedStart(["--allow-file-read", `docs=${join(dir, "missing")}`])).toMatch(/no such directory/);
    const file = join(dir, "f.txt");
    writeFileSync(file, "x");
    expect(await refusedStart(["--allow-file-read", file])).toMatch(/--allow-file-read .*f\.txt: not a directory/);
  });

  it("a boolean environment variable that is neither true nor false", async () => {
    expect(await refusedStart([], { COHERE_MCP_ALLOW_WRITE: "maybe" })).toBe(
      `cohere-mcp: COHERE_MCP_ALLOW_WRITE must be true or false (1/0, yes/no, on/off), got "maybe"`,
    );
    expect(await refusedStart(["--list-tools"], { COHERE_MCP_ALLOW_DESTRUCTIVE: "2" })).toMatch(/COHERE_MCP_ALLOW_DESTRUCTIVE must be true or false/);
    // the values a host writes for a checkbox, and an empty one, still work
    for (const v of ["true", "false", "", "0", "YES"]) {
      const r = await runCli(["--list-tools", "--json"], { COHERE_MCP_ALLOW_WRITE: v });
      expect(r.code, `${v}: ${r.stderr}`).toBe(0);
    }
  });
});

describe("HTTP without a usable Cohere key is not ready", () => {
  it("names the profile whose calls would have no key; a profile with its own key is fine", async () => {
    const config = writeConfig({
      cohere_keys: { team: { env: "TEAM_KEY", type: "production" } },
      profiles: { keyed: { tools: ["rerank"], cohere_key: "team" }, bare: { tools: ["rerank"] } },
      agents: [
        { name: "a", profile: "keyed", token_sha256: sha256Hex("token-a-0123456789") },
        { name: "b", profile: "bare", token_sha256: sha256Hex("token-b-0123456789") },
      ],
    });
    const srv = await startHttp(emu.url, ["--config", config], { CO_API_KEY: undefined, TEAM_KEY: TEST_KEY });
    try {
      const r = await rawRequest(`${srv.origin}/readyz`, { method: "GET" });
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body).checks.keys).toBe(
        `no Cohere key for profile "bare": set CO_API_KEY (or COHERE_API_KEY) for the server, or give the profile a cohere_key`,
      );
    } finally {
      await srv.stop();
    }
    const ok = await startHttp(emu.url, ["--config", config], { TEAM_KEY: TEST_KEY });
    try {
      const r = await rawRequest(`${ok.origin}/readyz`, { method: "GET" });
      expect(r.status, r.body).toBe(200);
    } finally {
      await ok.stop();
    }
  });
});

describe("a refusal over HTTP", () => {
  it("tells the agent to ask for its profile to be changed, not to restart with --tools", async () => {
    const config = writeConfig({
      profiles: { search: { tools: ["rerank"] } },
      agents: [{ name: "searcher", profile: "search", token_sha256: sha256Hex("token-s-0123456789") }],
    });
    const srv = await startHttp(emu.url, ["--config", config]);
    const c = await connectHttp(srv.url, bearer("token-s-0123456789"));
    try {
      const r = (await c.client.callTool({ name: "list_datasets", arguments: {} })) as { isError?: boolean; content: Array<{ text: string }> };
      expect(r.isError).toBe(true);
      expect(r.content[0]!.text).toMatch(/ask the gateway's operator to add "list_datasets" to profile "search"/);
      expect(r.content[0]!.text).not.toContain("--tools");
    } finally {
      await c.close();
      await srv.stop();
    }
  });
});
