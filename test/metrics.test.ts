/**
 * Prometheus metrics on --metrics-port, after known traffic: counters, histograms and gauges carry
 * exactly what happened, agree with the audit log, and use only label values from the config and
 * the catalog. The agents' port has no /metrics. stdio serves them too.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { TOOL_INDEX } from "../src/catalog/light.js";
import { connectStdio, TEST_KEY } from "./helpers.js";
import { bearer, connectHttp, eventually, MCP_HEADERS, rawRequest, sha256Hex, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";

const ALPHA = "metrics-token-alpha-0123456789";
const BETA = "metrics-token-beta-01234567890";
const MAIN_KEY = "main-cohere-key-VALUE-abcdef0123";
const EVIL = 'x"} evil{agent="root';

function get(url: string): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: res.headers["content-type"] }));
      })
      .on("error", reject);
  });
}

/** `name{a="x",b="y"} 3` lines → a lookup by name and labels. */
function parse(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function value(samples: ReturnType<typeof parse>, name: string, labels: Record<string, string>): number | undefined {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v) && Object.keys(x.labels).length === Object.keys(labels).length);
  return s?.value;
}

function metricsUrl(stderr: string): string {
  const m = /cohere-mcp metrics on (http:\/\/\S+)/.exec(stderr);
  if (!m) throw new Error(`no metrics URL yet:\n${stderr}`);
  return m[1]!;
}

describe("/metrics over HTTP, after known traffic", () => {
  let emu: CohereEmulator;
  let srv: HttpServerProc;
  let auditPath: string;

  beforeAll(async () => {
    emu = await startEmulator();
    auditPath = tempFile("audit.jsonl");
    const config = writeConfig({
      cohere_keys: { main: { env: "MAIN_KEY", type: "production" } },
      profiles: {
        p: { tools: ["chat", "rerank", "tokenize"], budget: { calls: 10, output_tokens: 1000 }, cohere_key: "main" },
        q: { tools: ["rerank"] },
      },
      agents: [
        { name: "alpha", profile: "p", token_sha256: sha256Hex(ALPHA) },
        { name: "beta", profile: "q", token_sha256: sha256Hex(BETA) },
      ],
    });
    srv = await startHttp(emu.url, ["--config", config, "--sessions", "--metrics-port", "0", "--audit-log", auditPath], {
      MAIN_KEY,
      COHERE_MCP_MAX_RETRIES: "1",
    });
  });
  afterAll(async () => {
    await srv?.stop();
    await emu?.stop();
  });

  it("counts calls, refusals, retries, billed units, budgets, sessions and store operations, with config/catalog labels only", async () => {
    const url = metricsUrl(srv.stderr());
    expect(new URL(url).hostname).toBe("127.0.0.1");
    expect(new URL(url).port).not.toBe(String(srv.port));

    const alpha = await connectHttp(srv.url, bearer(ALPHA));
    const beta = await connectHttp(srv.url, bearer(BETA));
    const chat = { name: "chat", arguments: { model: "command-a-03-2025", messages: [{ role: "user", content: "hello metrics" }] } };
    for (let i = 0; i < 3; i++) expect((await alpha.client.callTool(chat)).isError).toBeFalsy();
    expect((await alpha.client.callTool({ name: "delete_dataset", arguments: { id: "d1" } })).isError).toBe(true);
    expect((await alpha.client.callTool({ name: EVIL, arguments: {} })).isError).toBe(true);
    emu.addFault({ path: "/v2/rerank", fault: { kind: "status", status: 503 } });
    const rerank = { name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a", "b"] } };
    expect((await beta.client.callTool(rerank)).isError).toBeFalsy();
    const unauth = await rawRequest(srv.url, { headers: { ...MCP_HEADERS, ...bearer("not-a-valid-token-000000000") }, body: "{}" });
    expect(unauth.status).toBe(401);

    const scrape = await get(url);
    expect(scrape.status).toBe(200);
    expect(scrape.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = parse(scrape.body);

    // Calls by agent, tool, decision, outcome.
    expect(value(s, "cohere_mcp_calls_total", { agent: "alpha", tool: "chat", decision: "allowed", outcome: "ok" })).toBe(3);
    expect(value(s, "cohere_mcp_calls_total", { agent: "alpha", tool: "delete_dataset", decision: "denied", outcome: "refused" })).toBe(1);
    expect(value(s, "cohere_mcp_calls_total", { agent: "alpha", tool: "other", decision: "denied", outcome: "refused" })).toBe(1);
    expect(value(s, "cohere_mcp_calls_total", { agent: "beta", tool: "rerank", decision: "allowed", outcome: "ok" })).toBe(1);
    // Refusals by reason (the 401 too).
    expect(value(s, "cohere_mcp_refusals_total", { agent: "alpha", reason: "not_in_profile" })).toBe(1);
    expect(value(s, "cohere_mcp_refusals_total", { agent: "alpha", reason: "unknown_tool" })).toBe(1);
    expect(value(s, "cohere_mcp_refusals_total", { agent: "unauthenticated", reason: "auth" })).toBe(1);
    // Histograms: whole call and upstream part.
    const chatLabels = { agent: "alpha", tool: "chat", decision: "allowed" };
    expect(value(s, "cohere_mcp_call_duration_seconds_count", chatLabels)).toBe(3);
    expect(value(s, "cohere_mcp_call_duration_seconds_bucket", { ...chatLabels, le: "+Inf" })).toBe(3);
    expect(value(s, "cohere_mcp_call_duration_seconds_sum", chatLabels)).toBeGreaterThan(0);
    expect(value(s, "cohere_mcp_upstream_duration_seconds_count", { agent: "alpha", tool: "chat" })).toBe(3);
    expect(value(s, "cohere_mcp_upstream_duration_seconds_count", { agent: "beta", tool: "rerank" })).toBe(1);
    const upstreamSum = value(s, "cohere_mcp_upstream_duration_seconds_sum", { agent: "alpha", tool: "chat" })!;
    expect(upstreamSum).toBeLessThanOrEqual(value(s, "cohere_mcp_call_duration_seconds_sum", chatLabels)!);
    // Retries (the 503 on rerank).
    expect(value(s, "cohere_mcp_retries_total", { agent: "beta", tool: "rerank" })).toBe(1);

    // Billed units agree with the audit log, line by line.
    const audit = readFileSync(auditPath, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { agent: string; tool: string; decision: string; billedUnits?: Record<string, number>; key?: string });
    const sum = (agent: string, unit: string) => audit.filter((e) => e.agent === agent).reduce((n, e) => n + (e.billedUnits?.[unit] ?? 0), 0);
    expect(sum("alpha", "output_tokens")).toBeGreaterThan(0);
    expect(value(s, "cohere_mcp_billed_units_total", { agent: "alpha", key: "main", unit: "output_tokens" })).toBe(sum("alpha", "output_tokens"));
    expect(value(s, "cohere_mcp_billed_units_total", { agent: "alpha", key: "main", unit: "input_tokens" })).toBe(sum("alpha", "input_tokens"));
    expect(value(s, "cohere_mcp_billed_units_total", { agent: "beta", key: "default", unit: "search_units" })).toBe(1);
    const auditCalls = audit.filter((e) => e.agent === "alpha" && e.tool === "chat" && e.decision === "allowed").length;
    expect(auditCalls).toBe(3);

    // Budgets used and left (alpha's profile has them; beta's has none).
    expect(value(s, "cohere_mcp_budget_used", { agent: "alpha", unit: "calls" })).toBe(3);
    expect(value(s, "cohere_mcp_budget_remaining", { agent: "alpha", unit: "calls" })).toBe(7);
    expect(value(s, "cohere_mcp_budget_used", { agent: "alpha", unit: "output_tokens" })).toBe(sum("alpha", "output_tokens"));
    expect(value(s, "cohere_mcp_budget_remaining", { agent: "alpha", unit: "output_tokens" })).toBe(1000 - sum("alpha", "output_tokens"));
    expect(s.some((x) => x.name === "cohere_mcp_budget_used" && x.labels.agent === "beta")).toBe(false);

    // Sessions and calls in flight by agent; the store's operations.
    expect(value(s, "cohere_mcp_sessions_open", { agent: "alpha" })).toBe(1);
    expect(value(s, "cohere_mcp_sessions_open", { agent: "beta" })).toBe(1);
    expect(value(s, "cohere_mcp_calls_in_flight", { agent: "alpha" })).toBe(0);
    expect(value(s, "cohere_mcp_store_duration_seconds_count", { op: "take" })).toBeGreaterThanOrEqual(3);
    expect(value(s, "cohere_mcp_store_errors_total", { op: "take" }) ?? 0).toBe(0);
    expect(value(s, "cohere_mcp_config_generation", {})).toBe(1);

    // Label values come from the config and the catalog only.
    const tools = new Set([...TOOL_INDEX.map((t) => t.name), "other"]);
    for (const x of s.filter((y) => y.name.startsWith("cohere_mcp_"))) {
      if (x.labels.agent !== undefined) expect(["alpha", "beta", "unauthenticated", "other"]).toContain(x.labels.agent);
      if (x.labels.tool !== undefined) expect(tools.has(x.labels.tool)).toBe(true);
      if (x.labels.key !== undefined) expect(["main", "default", "other"]).toContain(x.labels.key);
    }
    for (const secret of [ALPHA, BETA, MAIN_KEY, TEST_KEY, "evil"]) expect(scrape.body).not.toContain(secret);

    // A reload is counted and moves the generation.
    srv.child.kill("SIGHUP");
    await eventually(async () => {
      const again = parse((await get(url)).body);
      expect(value(again, "cohere_mcp_config_reloads_total", { outcome: "ok" })).toBe(1);
      expect(value(again, "cohere_mcp_config_generation", {})).toBe(2);
    });
    await alpha.close();
    await beta.close();
  });

  it("the agents' port has no /metrics; the metrics port serves nothing else", async () => {
    const url = metricsUrl(srv.stderr());
    const onAgents = await get(`${srv.origin}/metrics`);
    expect(onAgents.status).toBe(404);
    expect(onAgents.body).not.toContain("cohere_mcp_");
    const withToken = await rawRequest(`${srv.origin}/metrics`, { method: "GET", headers: bearer(ALPHA) });
    expect(withToken.status).toBe(404);
    expect((await get(url.replace("/metrics", "/mcp"))).status).toBe(404);
    expect((await rawRequest(url, { method: "POST", body: "{}" })).status).toBe(405);
  });
});

describe("/metrics in stdio mode", () => {
  let emu: CohereEmulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(async () => emu?.stop());

  it("serves the same metrics with --audit-log off", async () => {
    const conn = await connectStdio(emu.url, ["--metrics-port", "0"]);
    try {
      const r = await conn.client.callTool({ name: "tokenize", arguments: { model: "command-a-03-2025", text: "hi" } });
      expect(r.isError).toBeFalsy();
      const url = await eventually(() => metricsUrl(conn.stderr()));
      const s = parse((await get(url)).body);
      expect(value(s, "cohere_mcp_calls_total", { agent: "stdio", tool: "tokenize", decision: "allowed", outcome: "ok" })).toBe(1);
      expect(value(s, "cohere_mcp_call_duration_seconds_count", { agent: "stdio", tool: "tokenize", decision: "allowed" })).toBe(1);
      expect(s.some((x) => x.name === "process_cpu_user_seconds_total")).toBe(true);
    } finally {
      await conn.close();
    }
  });
});
