/**
 * `cohere-mcp <command>` dispatch and `cohere-mcp check`: the built CLI as a child process against
 * fixture configs. Start-up and SIGHUP apply the same validation as `check` (src/config/validate.ts):
 * a typo in a profile no agent uses fails all three.
 */
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
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
      for (const name of ["check", "access", "diff", "report", "hash-token", "reload"]) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
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
    const typo = await cli(["chek", "--config", fixture("team.json")]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^cohere-mcp: unknown command "chek"; commands: check, access, diff, report, hash-token(, [a-z-]+)*, help \(flags alone start the server\)\n$/);
    // reload (src/cli/reload.ts) through the table: its own usage check
    const reload = await cli(["reload"]);
    expect(reload.code).toBe(2);
    expect(reload.stderr).toMatch(/--store must be the redis:\/\/ URL the replicas share/);
    // reload and policy export parse their arguments like every command (src/cli/args.ts)
    const badReload = await cli(["reload", "--store", "redis://127.0.0.1:1", "--frobnicate"]);
    expect(badReload.code).toBe(2);
    expect(badReload.stderr).toBe("cohere-mcp reload: Unknown option '--frobnicate'. Run cohere-mcp reload --help.\n");
    const badExport = await cli(["policy", "export", "--config", fixture("team.json"), "--frobnicate"]);
    expect(badExport.code).toBe(2);
    expect(badExport.stderr).toBe("cohere-mcp policy export: Unknown option '--frobnicate'. Run cohere-mcp policy export --help.\n");
    const positional = await cli(["policy", "export", "--config", fixture("team.json"), "extra.json"]);
    expect(positional.code).toBe(2);
    expect(positional.stderr).toMatch(/^cohere-mcp policy export: Unexpected argument 'extra\.json'/);
    const exportFormat = await cli(["policy", "export", "--config", fixture("team.json"), "--format", "csv"]);
    expect(exportFormat.code).toBe(2);
    expect(exportFormat.stderr).toMatch(/^cohere-mcp policy export: --format must be json/);
    const noSub = await cli(["policy", "import"]);
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toMatch(/^cohere-mcp policy: the only subcommand is export/);
    // and still works
    const exported = await cli(["policy", "export", "--config", fixture("team.json"), "--json"]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout).agents.length).toBeGreaterThan(0);
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
    expect(r.stdout).toMatch(/is not JSON \(the error is at byte offset \d+\); none of its content is shown/);
    const schema = tempFile("schema.json");
    writeFileSync(schema, JSON.stringify({ profiles: { p: { tools: "chat", budget: { calls: -1 } } }, agents: [{ name: "a", profile: "p", token_sha256: "abc", token: "plain-secret-value" }] }));
    const s = await cli(["check", "--config", schema, "--json"]);
    expect(s.code).toBe(1);
    const errors = (JSON.parse(s.stdout) as { errors: string[] }).errors;
    expect(errors).toContain("profiles.p.budget.calls: Number must be greater than 0");
    expect(errors).toContain("agents.0.token_sha256: a hex SHA-256 (64 hex digits; `cohere-mcp hash-token` makes one)");
    expect(errors.some((e) => /^agents\.0: Unrecognized key\(s\) in object: 'token'$/.test(e))).toBe(true);
    expect(s.stdout).not.toContain("plain-secret-value");
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

describe("check and access with labelled tokens", () => {
  it("an expired token is a warning; access shows labels, never hashes", async () => {
    const config = JSON.parse(readFileSync(fixture("team.json"), "utf8")) as { agents: Array<Record<string, unknown>> };
    config.agents[2] = {
      name: "curator-agent",
      profile: "curator",
      tokens: [
        { sha256: sha256Hex("old-curator-token-0123456789"), label: "2026-10", not_after: "2026-11-01T00:00:00Z" },
        { env: "CURATOR_NEXT", label: "2026-11" },
      ],
    };
    const file = tempFile("tokens.json");
    writeFileSync(file, JSON.stringify(config));
    const r = await cli(["check", "--config", file, "--json"], { env: { ...TEAM_ENV, CURATOR_NEXT: "curator-next-0123456789abcdef" } });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { warnings: string[] }).warnings).toContain('agent "curator-agent": token "2026-10" expired at 2026-11-01T00:00:00Z (remove it from the file)');
    const missing = await cli(["check", "--config", file], { env: TEAM_ENV });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('error: agent "curator-agent", token "2026-11": environment variable CURATOR_NEXT is not set or empty');
    const a = await cli(["access", "--config", file, "--agent", "curator-agent"]);
    expect(a.stdout).toContain('credential token "2026-10" (sha256, until 2026-11-01T00:00:00Z); token "2026-11" (env CURATOR_NEXT)');
    expect(a.stdout).not.toContain(sha256Hex("old-curator-token-0123456789").slice(0, 12));
  });
});

describe("check: the oauth section's environment", () => {
  it("a JWT-shaped static token and an unset introspection secret are errors", async () => {
    const config = JSON.parse(readFileSync(fixture("team.json"), "utf8")) as Record<string, unknown>;
    config.oauth = {
      issuer: "https://idp.example.com",
      resource: "https://mcp.example.com/mcp",
      default_profile: "search",
      introspection: { client_id: "mcp", client_secret_env: "INTROSPECTION_SECRET" },
    };
    const file = tempFile("oauth.json");
    writeFileSync(file, JSON.stringify(config));
    const jwt = `${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from('{"sub":"x"}').toString("base64url")}.c2lnbmF0dXJl`;
    const r = await cli(["check", "--config", file, "--json"], { env: { ...TEAM_ENV, SEARCH_TOKEN: jwt } });
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { errors: string[] }).errors).toEqual([
      'agent "search-agent": with oauth configured, a static token may not look like a JWT (three base64url parts); make a new one with `cohere-mcp hash-token --new`',
      "oauth.introspection: environment variable INTROSPECTION_SECRET is not set or empty",
    ]);
    expect(r.stdout).not.toContain(jwt);
    const ok = await cli(["check", "--config", file], { env: { ...TEAM_ENV, INTROSPECTION_SECRET: "s3cret-s3cret-s3cret" } });
    expect(ok.code).toBe(0);
  });
});
