/**
 * `cohere-mcp access`: every agent × every tool it can call, with its rules. The matrix is
 * computed by the code the server uses to decide (src/policy/access.ts): a real server, asked
 * for tools/list by each agent over HTTP, lists exactly the matrix's tools for that agent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigFile } from "../src/config/file.js";
import { accessMatrix, type AccessMatrix } from "../src/policy/access.js";
import { cli, CURATOR_TOKEN, fixture, TEAM_ENV } from "./cli-support.js";
import { bearer, INIT, MCP_HEADERS, rpc, sha256Hex, startHttp, type HttpServerProc } from "./http-support.js";

const TOKENS: Record<string, string> = {
  "search-agent": TEAM_ENV.SEARCH_TOKEN,
  "writer-agent": TEAM_ENV.WRITER_TOKEN,
  "curator-agent": CURATOR_TOKEN,
};

describe("cohere-mcp access", () => {
  it("table: one row per agent and tool, then each agent's rules; no token or hash", async () => {
    const r = await cli(["access", "--config", fixture("team.json")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^AGENT\s+PROFILE\s+TOOL\s+CLASS\s+GROUP$/m);
    expect(r.stdout).toMatch(/^curator-agent\s+curator\s+delete_dataset\s+destructive\s+datasets$/m);
    expect(r.stdout).not.toMatch(/^search-agent\s+\S+\s+delete_dataset/m);
    expect(r.stdout).toContain(
      "search-agent (static, profile search): 6 read, 0 write, 0 destructive; credential token_env SEARCH_TOKEN; Cohere key default; " +
        'arguments: models=["command-*"] max_tokens=1000; rate limit: per_minute=60; budget/month: calls=100',
    );
    expect(r.stdout).toContain("writer-agent (static, profile writer): 7 read, 2 write, 0 destructive; credential token_env WRITER_TOKEN; Cohere key prod; budget/month: usd=10");
    expect(r.stdout.toLowerCase()).not.toContain(sha256Hex(CURATOR_TOKEN).slice(0, 12));
  });

  it("--agent, --summary, and every format", async () => {
    const one = await cli(["access", "--config", fixture("team.json"), "--agent", "curator-agent", "--format", "csv"]);
    expect(one.code).toBe(0);
    expect(one.stdout.split("\n")[0]).toBe("agent,profile,tool,class,group,scope");
    expect(one.stdout).toContain("curator-agent,curator,delete_dataset,destructive,datasets,");
    expect(one.stdout).not.toContain("search-agent");
    const md = await cli(["access", "--config", fixture("team.json"), "--summary", "--format", "markdown"]);
    expect(md.stdout).toContain("| agent | profile | read | write | destructive | cohere key | rules |");
    expect(md.stdout).toContain("| curator-agent | curator | 3 | 1 | 1 | default | rate limit: per_month=500 |");
    const json = await cli(["access", "--config", fixture("team.json"), "--json"]);
    const m = JSON.parse(json.stdout) as AccessMatrix;
    expect(m.agents.map((a) => [a.agent, a.kind, a.profile, a.cohereKey])).toEqual([
      ["search-agent", "static", "search", "default"],
      ["writer-agent", "static", "writer", "prod"],
      ["curator-agent", "static", "curator", "default"],
    ]);
    expect(m.agents[0]!.budget).toEqual({ calls: 100 });
    const none = await cli(["access", "--config", fixture("team.json"), "--agent", "nobody"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no agent "nobody"; agents: search-agent, writer-agent, curator-agent/);
  });

  it("OAuth rules appear as oauth:<profile> with the scope each tool needs", () => {
    const config = loadConfigFile(fixture("team.json"));
    const m = accessMatrix({
      ...config,
      oauth: {
        issuer: "https://idp.example.com",
        resource: "https://mcp.example.com/mcp",
        rules: [{ claim: "groups", includes: "curators", profile: "curator" }],
        default_profile: "search",
      },
    });
    const curator = m.agents.find((a) => a.agent === "oauth:curator")!;
    expect(curator.kind).toBe("oauth");
    expect(curator.credential).toBe('oauth rule 1: groups includes "curators"');
    expect(curator.tools.find((t) => t.tool === "delete_dataset")).toMatchObject({ class: "destructive", scope: "cohere:destructive" });
    expect(m.agents.find((a) => a.agent === "oauth:search")?.credential).toBe("oauth default_profile");
  });
});

describe.each([[[]], [["delete_dataset", "embed_jobs"]]])("the matrix is what the server lists (--exclude-tools %j)", (exclude: string[]) => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    const flags = exclude.length ? ["--exclude-tools", exclude.join(",")] : [];
    srv = await startHttp("http://127.0.0.1:9", ["--config", fixture("team.json"), ...flags], TEAM_ENV);
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it("each agent's tools/list over HTTP equals its row of accessMatrix, and the command's", async () => {
    const m = accessMatrix(loadConfigFile(fixture("team.json")), { excludeTools: exclude });
    expect(m.agents).toHaveLength(3);
    const args = exclude.length ? ["--exclude-tools", exclude.join(",")] : [];
    const printed = JSON.parse((await cli(["access", "--config", fixture("team.json"), "--json", ...args])).stdout) as AccessMatrix;
    expect(printed).toEqual(m);
    for (const a of m.agents) {
      const headers = { ...MCP_HEADERS, ...bearer(TOKENS[a.agent]!) };
      const init = await rpc(srv.url, INIT, headers);
      expect(init.status).toBe(200);
      const list = await rpc(srv.url, { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} }, headers);
      const tools = (list.messages[0]?.result as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
      expect(tools.sort(), a.agent).toEqual(a.tools.map((t) => t.tool).sort());
    }
  });
});
