/**
 * `cohere-mcp diff OLD NEW`: what a reload would change, in plain English, and the same
 * structured diff on the reload's audit line.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfigFile } from "../src/config/file.js";
import { configDiff, type ConfigDiff } from "../src/policy/diff.js";
import { cli, fixture, TEAM_ENV } from "./cli-support.js";
import { eventually, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";

const SENTENCES = [
  "search-agent gains delete_dataset (destructive, cannot be undone)",
  "curator-agent's token was rotated",
  "budget of search from 100 to 50 calls a month",
];

describe("cohere-mcp diff", () => {
  it("says what changed, one sentence a line; exit 0", async () => {
    const r = await cli(["diff", fixture("team.json"), fixture("team-v2.json")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(SENTENCES.join("\n") + "\n");
    const j = await cli(["diff", fixture("team.json"), fixture("team-v2.json"), "--json"]);
    const d = JSON.parse(j.stdout) as ConfigDiff;
    expect(d.changes).toEqual([
      { kind: "tool_gained", subject: "search-agent", tool: "delete_dataset", class: "destructive", text: SENTENCES[0] },
      { kind: "agent_token", subject: "curator-agent", text: SENTENCES[1] },
      { kind: "budget", subject: "search", field: "calls", from: 100, to: 50, text: SENTENCES[2] },
    ]);
    // no hash of either token
    expect(j.stdout).not.toMatch(/[0-9a-f]{16}/i);
    const csv = await cli(["diff", fixture("team.json"), fixture("team-v2.json"), "--format", "csv"]);
    expect(csv.stdout.split("\n")[0]).toBe("kind,subject,change");
  });

  it("no changes; invalid input exits 1; wrong arguments exit 2", async () => {
    expect(await cli(["diff", fixture("team.json"), fixture("team.json")])).toMatchObject({ code: 0, stdout: "no changes\n" });
    const bad = await cli(["diff", fixture("team.json"), fixture("unused-typo.json")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/profiles\.unused\.tools: "delete_datset" matches no tool/);
    expect((await cli(["diff", fixture("team.json")])).code).toBe(2);
  });

  it("agents added, removed, moved; rules, keys and prices", () => {
    const a = loadConfigFile(fixture("team.json"));
    const b = loadConfigFile(fixture("team.json"));
    b.agents = b.agents!.filter((x) => x.name !== "writer-agent").map((x) => (x.name === "curator-agent" ? { ...x, profile: "search" } : x));
    b.agents.push({ name: "new-agent", profile: "curator", token_env: "NEW_TOKEN" });
    b.profiles.search!.rate_limit = { per_minute: 30 };
    b.profiles.search!.arguments = { ...b.profiles.search!.arguments, max_tokens: 500 };
    b.profiles.writer!.cohere_key = undefined;
    b.prices_usd_per_million = { "*": { input_tokens: 3, output_tokens: 10 } };
    const texts = configDiff(a, b).changes.map((c) => c.text);
    expect(texts).toEqual([
      "curator-agent moves from profile curator to search",
      "curator-agent gains chat (read)",
      "curator-agent gains embed (read)",
      "curator-agent gains rerank (read)",
      "curator-agent loses create_dataset (write)",
      "curator-agent loses delete_dataset (destructive)",
      "new-agent is added with profile curator (3 read, 1 write, 1 destructive tools)",
      "writer-agent is removed (its token no longer works)",
      "rate limit of search from 60 to 30 calls per minute",
      "argument rule max_tokens of search from 1000 to 500",
      "writer now calls Cohere with key default (CO_API_KEY) (was prod)",
      'prices of * from {"input_tokens":2.5,"output_tokens":10} to {"input_tokens":3,"output_tokens":10} USD per million units',
    ]);
  });
});

describe("the reload's audit line carries the diff", () => {
  let srv: HttpServerProc | undefined;
  afterAll(async () => {
    await srv?.stop();
  });
  it("SIGHUP: the sentences in text, the structured diff in `diff`", async () => {
    const config = writeConfig(JSON.parse(readFileSync(fixture("team.json"), "utf8")));
    const audit = tempFile("audit.jsonl");
    srv = await startHttp("http://127.0.0.1:9", ["--config", config, "--audit-log", audit], TEAM_ENV);
    copyFileSync(fixture("team-v2.json"), config);
    srv.child.kill("SIGHUP");
    const line = await eventually(() => {
      const l = readFileSync(audit, "utf8").split("\n").find((x) => x.includes("config_reload"));
      expect(l).toBeDefined();
      return JSON.parse(l!) as { outcome: string; text: string; diff: ConfigDiff["changes"] };
    });
    expect(line.outcome).toBe("ok");
    // The rotated token revokes the curator's open sessions and calls (issue 20), said after the diff.
    expect(line.text).toBe(`${String(line.time)} configuration reloaded: ${SENTENCES.join("; ")}; revoked curator-agent: their sessions, streams and running calls ended`);
    expect(line.diff.map((c) => c.kind)).toEqual(["tool_gained", "agent_token", "budget"]);
  });
});

describe("overlapping tokens in diff, access and check", () => {
  const h = "a".repeat(64);
  const withTokens = (tokens: unknown) => {
    const c = loadConfigFile(fixture("team.json"));
    c.agents = c.agents!.map((a) => (a.name === "curator-agent" ? { name: a.name, profile: a.profile, tokens: tokens as never } : a));
    return c;
  };
  it("a rotation in steps: gains a token, a new expiry, loses the old one", () => {
    const one = withTokens([{ sha256: h, label: "2026-12" }]);
    const two = withTokens([{ sha256: h, label: "2026-12", not_after: "2027-01-31T00:00:00Z" }, { env: "NEXT", label: "2027-01" }]);
    const three = withTokens([{ env: "NEXT", label: "2027-01" }]);
    expect(configDiff(one, two).changes.map((c) => c.text)).toEqual(["curator-agent gains token 2027-01 and token 2026-12 now expires at 2027-01-31T00:00:00Z"]);
    expect(configDiff(two, three).changes.map((c) => c.text)).toEqual(["curator-agent loses token 2026-12"]);
  });
});
