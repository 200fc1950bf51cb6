/**
 * The audit log: one JSON line per call, allowed or denied (auth included), with a sentence a
 * person can read, and no secret in any line — neither in the audit file nor in stderr logs.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { sentence, type AuditEvent } from "../src/audit/index.js";
import { TEST_KEY } from "./helpers.js";
import { bearer, connectHttp, eventually, rpc, INIT, sha256Hex, startHttp, tempFile, writeConfig } from "./http-support.js";

const SEARCH_TOKEN = "audit-search-token-7c1d2e3f4a5b6c7d";
const OPS_TOKEN = "audit-ops-token-0f1e2d3c4b5a6978";
const WRONG_TOKEN = "audit-wrong-token-1234567890abcdef";

interface Line extends AuditEvent {
  type: string;
  text: string;
}

describe("sentence()", () => {
  const T = "2026-11-30T12:00:00.000Z";
  const base = { time: T, agent: "search-agent", transport: "http" as const, tool: "rerank", access: "read" as const, latencyMs: 41.2 };
  it("reads like the issue's example", () => {
    expect(
      sentence({ ...base, decision: "allowed", resource: "25 documents with rerank-v3.5", status: 200, outcome: "ok" }),
    ).toBe(T + " search-agent called rerank (read) on 25 documents with rerank-v3.5: allowed, 200 in 41 ms");
  });
  it("adds billed units, Cohere failures and denial reasons", () => {
    expect(
      sentence({ ...base, tool: "chat", decision: "allowed", resource: "with command-a", status: 200, billedUnits: { input_tokens: 12, output_tokens: 1 } }),
    ).toBe(T + " search-agent called chat (read) with command-a: allowed, 200 in 41 ms, billed 12 input tokens, 1 output token");
    expect(sentence({ ...base, decision: "allowed", status: 429, outcome: "cohere_error" })).toBe(
      T + " search-agent called rerank (read): allowed, 429 (cohere error) in 41 ms",
    );
    expect(sentence({ ...base, decision: "denied", reason: "not_in_profile" })).toBe(
      T + " search-agent called rerank (read): denied (not in profile)",
    );
    expect(
      sentence({ ...base, agent: "(unauthenticated)", access: undefined, decision: "denied", reason: "auth", detail: "missing bearer token", remote: "10.0.0.9" }),
    ).toBe(T + " An unauthenticated request from 10.0.0.9 called rerank: denied (auth: missing bearer token)");
  });
  it("says when the user confirmed a destructive call (issue 22, item 9)", () => {
    expect(
      sentence({ ...base, tool: "delete_dataset", access: "destructive", decision: "allowed", resource: "dataset ds-1", status: 200, outcome: "ok", confirmed: true }),
    ).toBe(T + " search-agent called delete_dataset (destructive) on dataset ds-1: allowed (confirmed by the user), 200 in 41 ms");
  });
});

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());

describe("audit over HTTP", () => {
  it("records allowed and denied calls, and no line holds the Cohere key or an agent token", async () => {
    const auditPath = tempFile("audit.jsonl");
    const config = writeConfig({
      profiles: {
        search: { tools: ["rerank", "embed"], arguments: { max_documents: 3 }, rate_limit: { per_tool_per_minute: { embed: 1 } } },
        ops: { tools: "datasets" },
      },
      agents: [
        { name: "search-agent", profile: "search", token_env: "SEARCH_TOKEN" },
        { name: "ops-agent", profile: "ops", token_sha256: sha256Hex(OPS_TOKEN) },
      ],
    });
    const srv = await startHttp(emu.url, ["--config", config, "--audit-log", auditPath, "--log-level", "debug"], {
      SEARCH_TOKEN,
    });
    const embedArgs = { model: "embed-v4.0", texts: ["x"], input_type: "search_document" };
    try {
      const s = await connectHttp(srv.url, { ...bearer(SEARCH_TOKEN), "X-MCP-Tools": "rerank,embed,delete_dataset" });
      const o = await connectHttp(srv.url, bearer(OPS_TOKEN));
      // allowed
      await s.client.callTool({ name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a", "b"] } });
      // allowed, with secrets in the arguments (hashed, never logged whole)
      await s.client.callTool({ name: "rerank", arguments: { model: "rerank-v3.5", query: `${TEST_KEY} ${SEARCH_TOKEN}`, documents: [OPS_TOKEN] } });
      // denied: argument rule, with a token in a field that shows up as the resource
      await s.client.callTool({ name: "rerank", arguments: { model: OPS_TOKEN, query: "q", documents: ["a", "b", "c", "d"] } });
      // denied: not in profile
      await s.client.callTool({ name: "list_datasets", arguments: {} });
      // allowed then rate limited
      await s.client.callTool({ name: "embed", arguments: embedArgs });
      await s.client.callTool({ name: "embed", arguments: embedArgs });
      // the other agent
      await o.client.callTool({ name: "list_datasets", arguments: {} });
      await o.client.callTool({ name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a"] } });
      await s.close();
      await o.close();
      // denied: auth (no token, wrong token)
      await rpc(srv.url, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "rerank", arguments: {} } });
      await rpc(srv.url, INIT, bearer(WRONG_TOKEN));
    } finally {
      expect(await srv.stop()).toBe(0);
    }

    const raw = readFileSync(auditPath, "utf8");
    const lines = raw.trim().split("\n").map((l) => JSON.parse(l) as Line);
    const find = (pred: (l: Line) => boolean) => {
      const l = lines.find(pred);
      expect(l, JSON.stringify(lines, null, 1)).toBeDefined();
      return l!;
    };

    const allowed = find((l) => l.agent === "search-agent" && l.tool === "rerank" && l.decision === "allowed");
    expect(allowed).toMatchObject({ type: "audit", transport: "http", access: "read", status: 200, resource: "2 documents with rerank-v3.5" });
    expect(allowed.argsHash).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(allowed.billedUnits).toEqual({ search_units: 1 });
    expect(allowed.ignoredTools).toEqual(["delete_dataset"]);
    expect(typeof allowed.latencyMs).toBe("number");
    expect(allowed.text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z search-agent called rerank \(read\) on 2 documents with rerank-v3\.5: allowed, 200 in \d+ ms/);
    expect(allowed.text.startsWith(`${allowed.time} `)).toBe(true);
    // who, from where, on which replica (issue 22, item 9)
    expect(allowed).toMatchObject({ remote: "127.0.0.1" });
    expect(allowed.replica).toMatch(/^[0-9a-f]{6}$/);

    const rule = find((l) => l.reason === "argument_rule");
    expect(rule).toMatchObject({ agent: "search-agent", tool: "rerank", decision: "denied" });
    expect(rule.text).toMatch(/denied \(argument rule: max_documents of profile "search": 4 documents given/);
    expect(rule.resource).toBe("4 documents with [REDACTED]");

    find((l) => l.reason === "not_in_profile" && l.agent === "search-agent" && l.tool === "list_datasets");
    const limited = find((l) => l.reason === "rate_limit");
    expect(limited).toMatchObject({ agent: "search-agent", tool: "embed" });
    expect(limited.text).toMatch(/rate_limit\.per_tool_per_minute\.embed/);
    find((l) => l.agent === "ops-agent" && l.tool === "list_datasets" && l.decision === "allowed");
    find((l) => l.agent === "ops-agent" && l.tool === "rerank" && l.reason === "not_in_profile");

    const auth = lines.filter((l) => l.reason === "auth");
    expect(auth).toHaveLength(2);
    expect(auth[0]).toMatchObject({ agent: "(unauthenticated)", tool: "rerank", detail: "missing bearer token", remote: "127.0.0.1" });
    expect(auth[1]).toMatchObject({ tool: "(initialize)", detail: "unknown bearer token" });
    expect(auth[0]!.text).toBe(`${auth[0]!.time} An unauthenticated request from 127.0.0.1 called rerank: denied (auth: missing bearer token)`);
    // every line names the replica that wrote it
    expect(new Set(lines.map((l) => l.replica)).size).toBe(1);

    // Every line, and every stderr log line, is free of the key and all tokens (right or wrong).
    for (const secret of [TEST_KEY, SEARCH_TOKEN, OPS_TOKEN, WRONG_TOKEN]) {
      expect(raw).not.toContain(secret);
      expect(srv.stderr()).not.toContain(secret);
    }
  });

  it("--audit-log - writes the lines to stderr", async () => {
    const srv = await startHttp(emu.url, ["--audit-log", "-", "--log-level", "silent"]);
    try {
      const c = await connectHttp(srv.url);
      await c.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } });
      await c.close();
      await eventually(() => expect(srv.stderr()).toMatch(/"type":"audit".*"agent":"anonymous".*"reason":"not_in_profile"/));
    } finally {
      await srv.stop();
    }
    expect(srv.stderr()).not.toContain(TEST_KEY);
  });
});
