/**
 * `cohere-mcp <command>` dispatch and `cohere-mcp check`: the built CLI as a child process against
 * fixture configs. Start-up and SIGHUP apply the same validation as `check` (src/config/validate.ts):
 * a typo in a profile no agent uses fails all three.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { cli, CURATOR_TOKEN, fixture, TEAM_ENV } from "./cli-support.js";
import { eventually, sha256Hex, startHttp, tempFile, type HttpServerProc } from "./http-support.js";

const SECRETS = [...Object.values(TEAM_ENV), CURATOR_TOKEN, sha256Hex(CURATOR_TOKEN), sha256Hex(CURATOR_TOKEN).toUpperCase()];
const noSecrets = (text: string) => {
  for (const s of SECRETS) expect(text).not.toContain(s.slice(0, 12));
};

describe("command dispatch", () => {
  it("help and --help list the commands; flags alone keep their meaning", async () => {
    for (const args of [["help"], ["--help"]]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      for (const name of ["check", "access", "diff", "report", "hash-token"]) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    }
    const v = await cli(["--version"]);
    expect(v).toMatchObject({ code: 0, stdout: "0.1.0\n" });
    const list = await cli(["--list-tools", "--tools", "tokenize"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^tokenize\s+read\s+tokenize$/m);
    const help = await cli(["help", "report"]);
    expect(help.stdout).toMatch(/^Usage: cohere-mcp report AUDIT_FILE…/);
  });

  it("usage errors exit 2 with a one-line message", async () => {
    const unknown = await cli(["check", "--config", fixture("team.json"), "--frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^cohere-mcp check: Unknown option '--frobnicate'/);
    const format = await cli(["access", "--config", fixture("team.json"), "--format", "xml"]);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/--format must be one of table, json, csv, markdown/);
    const missing = await cli(["check"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--config FILE is required/);
  });
});

describe("cohere-mcp check", () => {
  it("a valid config with its environment: exit 0, no secret printed", async () => {
    const r = await cli(["check", "--config", fixture("team.json")], { env: TEAM_ENV });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${fixture("team.json")}: valid\n`);
    const j = await cli(["check", "--config", fixture("team.json"), "--json"], { env: TEAM_ENV });
    expect(JSON.parse(j.stdout)).toEqual({ file: fixture("team.json"), valid: true, errors: [], warnings: [] });
    noSecrets(r.stdout + r.stderr + j.stdout);
  });

  it("missing agent token and Cohere key variables: exit 1, each named", async () => {
    const r = await cli(["check", "--config", fixture("team.json"), "--format", "json"], { env: { SEARCH_TOKEN: "short" } });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { valid: boolean; errors: string[]; warnings: string[] };
    expect(out.valid).toBe(false);
    expect(out.errors).toEqual([
      "cohere_keys.prod: environment variable COHERE_PROD_KEY is not set or empty",
      expect.stringMatching(/^agent "search-agent": the token in SEARCH_TOKEN must be at least 16 characters/),
      'agent "writer-agent": environment variable WRITER_TOKEN is not set or empty',
    ]);
    expect(out.warnings).toEqual([expect.stringMatching(/^CO_API_KEY is not set here, and profiles search, curator call Cohere with it/)]);
    expect(r.stdout).not.toContain("short");
  });

  it("a typo in a profile no agent uses fails check, start-up and a reload alike", async () => {
    const r = await cli(["check", "--config", fixture("unused-typo.json")], { env: TEAM_ENV });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error: profiles\.unused\.tools: "delete_datset" matches no tool; closest: delete_dataset/);
    expect(r.stdout).toMatch(/warning: profiles\.unused: no agent uses this profile/);
    // start-up (HTTP and stdio --list-tools)
    const http = await cli(["--http", "--port", "0", "--config", fixture("unused-typo.json")], { env: TEAM_ENV });
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/profiles\.unused\.tools: "delete_datset" matches no tool/);
    const stdio = await cli(["--list-tools", "--config", fixture("unused-typo.json"), "--profile", "search"], { env: TEAM_ENV });
    expect(stdio.code).toBe(2);
    expect(stdio.stderr).toMatch(/profiles\.unused\.tools: "delete_datset" matches no tool/);
  });

  it("a file that fails the schema or is not JSON: exit 1, one line per issue", async () => {
    const bad = tempFile("bad.json");
    copyFileSync(fixture("audit-replica-a.jsonl"), bad);
    const r = await cli(["check", "--config", bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/not valid JSON/);
    const missing = await cli(["check", "--config", "/nonexistent/cohere.json"]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/Cannot read config file \/nonexistent\/cohere\.json/);
  });
});

describe("reload applies the same checks", () => {
  let srv: HttpServerProc | undefined;
  afterAll(async () => {
    await srv?.stop();
  });
  it("SIGHUP with a typo in an unused profile is rejected, naming it", async () => {
    const config = tempFile("team.json");
    copyFileSync(fixture("team.json"), config);
    const audit = tempFile("audit.jsonl");
    srv = await startHttp("http://127.0.0.1:9", ["--config", config, "--audit-log", audit], TEAM_ENV);
    copyFileSync(fixture("unused-typo.json"), config);
    srv.child.kill("SIGHUP");
    const line = await eventually(() => {
      const l = readFileSync(audit, "utf8").split("\n").find((x) => x.includes("config_reload"));
      expect(l).toBeDefined();
      return JSON.parse(l!) as { outcome: string; text: string };
    });
    expect(line.outcome).toBe("rejected");
    expect(line.text).toMatch(/profiles\.unused\.tools: "delete_datset" matches no tool/);
  });
});
