/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.13) against the
 * built HTTP server on a free loopback port, for the scenarios that apply to any server.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { TEST_KEY } from "./helpers.js";
import { startHttp, type HttpServerProc } from "./http-support.js";

const CONFORMANCE = fileURLToPath(new URL("../node_modules/.bin/conformance", import.meta.url));

// logging-set-level applies because the server declares capabilities.logging.
const SCENARIOS = ["server-initialize", "ping", "tools-list", "dns-rebinding-protection", "logging-set-level"];

function runScenario(url: string, scenario: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      CONFORMANCE,
      ["server", "--url", url, "--scenario", scenario],
      { timeout: 30_000, env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", FORCE_COLOR: "0" } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, out: `${stdout}\n${stderr}` });
      },
    );
  });
}

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());

describe.each([
  ["stateless", [] as string[]],
  ["--sessions", ["--sessions"]],
])("MCP conformance suite against cohere-mcp --http (%s)", (_mode, args) => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    srv = await startHttp(emu.url, args);
  });
  afterAll(async () => {
    await srv.stop();
  });

  it.each(SCENARIOS)("%s passes", async (scenario) => {
    const r = await runScenario(srv.url, scenario);
    const plain = r.out.replace(/\u001b\[[0-9;]*m/g, "");
    expect(plain, plain).toMatch(/Passed: (\d+)\/\1, 0 failed/);
    expect(r.code, plain).toBe(0);
  });
});

// Issue 12 asks for the suite's authorization scenarios for servers "where the pinned version has
// them". 0.1.13 has none: every auth/* scenario tests a client (so do 0.1.16 and 0.2.0-alpha.12).
// The OAuth resource server is proven against a real provider in test/oauth.test.ts instead. When
// a bump brings server-side authorization scenarios, this fails so that they get wired in here.
describe("MCP conformance suite: authorization scenarios for servers", () => {
  it("the pinned version lists none (wire them in when a bump adds some)", async () => {
    const out = await new Promise<string>((resolve) =>
      execFile(CONFORMANCE, ["list"], { timeout: 30_000, env: { PATH: process.env.PATH ?? "", NO_COLOR: "1" } }, (_e, stdout) => resolve(stdout)),
    );
    const server = out.split(/Client scenarios/)[0]!;
    expect(server).toMatch(/Server scenarios/);
    expect(out).toMatch(/auth\/[a-z-]+/); // the client side has them: the listing is read right
    expect(server.match(/^\s*-\s*(\S*auth\S*)/gm) ?? []).toEqual([]);
  });
});
