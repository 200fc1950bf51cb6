import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, runCli, textOf, TEST_KEY, type Connected } from "./helpers.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const DEFAULT_SET = [
  "chat", "check_api_key", "detokenize", "embed", "get_batch", "get_dataset", "get_dataset_usage",
  "get_embed_job", "get_model", "list_batches", "list_datasets", "list_embed_jobs", "list_models",
  "rerank", "tokenize", "transcribe_audio",
].sort();

describe("stdio server, default flags", () => {
  let c: Connected;
  beforeAll(async () => {
    c = await connectStdio(emu.url);
  });
  afterAll(async () => c.close());

  it("lists exactly the non-deprecated read tools, each with a title and all four annotations", async () => {
    const { tools } = await c.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(DEFAULT_SET);
    for (const t of tools) {
      expect(t.title, t.name).toBeTruthy();
      expect(t.annotations?.readOnlyHint, t.name).toBe(true);
      expect(t.annotations?.destructiveHint, t.name).toBe(false);
      expect(typeof t.annotations?.idempotentHint, t.name).toBe("boolean");
      expect(t.annotations?.openWorldHint, t.name).toBe(true);
      expect(t.inputSchema.type).toBe("object");
      expect(JSON.stringify(t.inputSchema)).not.toContain("$schema");
    }
  });

  it("refuses a hidden tool called by name, sends nothing, says how to enable it", async () => {
    const r = await c.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/not enabled for this agent/);
    expect(textOf(r)).toMatch(/--tools delete_dataset/);
    expect(emu.requests).toHaveLength(0);
  });

  it("refuses near-miss names of hidden tools", async () => {
    for (const name of ["Delete_Dataset", "delete_dataset ", "delete_dataset.", "delete\u200b_dataset", "ＤＥＬＥＴＥ"]) {
      const r = await c.client.callTool({ name, arguments: { id: "ds-1" } });
      expect(r.isError, name).toBe(true);
    }
    expect(emu.requests).toHaveLength(0);
  });

  it("rejects invalid input as a tool error and sends nothing upstream", async () => {
    const r = await c.client.callTool({ name: "rerank", arguments: { model: "rerank-v3.5", query: "q" } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/Invalid arguments for rerank/);
    expect(textOf(r)).toMatch(/documents/);
    const r2 = await c.client.callTool({ name: "tokenize", arguments: { model: "command-a-03-2025", text: "x".repeat(65537) } });
    expect(r2.isError).toBe(true);
    const r3 = await c.client.callTool({ name: "rerank", arguments: { model: "m", query: "q", documents: ["a"], surprise: 1 } });
    expect(r3.isError).toBe(true);
    expect(textOf(r3)).toMatch(/surprise/);
    expect(emu.requests).toHaveLength(0);
  });

  it("calls Cohere with the bearer key, X-Client-Name and the spec's body", async () => {
    const r = await c.client.callTool({
      name: "rerank",
      arguments: { model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "paris is the capital of france"] },
    });
    expect(r.isError).toBeFalsy();
    expect(emu.requests).toHaveLength(1);
    const req = emu.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/v2/rerank");
    expect(req.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    expect(req.headers["x-client-name"]).toBe("cohere-mcp");
    expect(req.body).toEqual({ model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "paris is the capital of france"] });
    expect(req.valid).toBe(true);
    expect(textOf(r)).toMatch(/best first \(document index: relevance score\):\n1: /);
    expect((r.structuredContent as { results: Array<{ index: number }> }).results[0]!.index).toBe(1);
  });

  it("keeps Cohere's status and message and adds what to do", async () => {
    emu.addFault({ path: "/v1/models/nope", fault: { kind: "status", status: 404, message: "model 'nope' not found" } });
    const r = await c.client.callTool({ name: "get_model", arguments: { model: "nope" } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/404/);
    expect(textOf(r)).toMatch(/model 'nope' not found/);
    expect(textOf(r)).toMatch(/Check the id/);
  });

  it("never shows the key, even when Cohere echoes it", async () => {
    emu.addFault({ path: "/v1/check-api-key", fault: { kind: "status", status: 401, message: `invalid api token ${TEST_KEY}` } });
    const r = await c.client.callTool({ name: "check_api_key", arguments: {} });
    expect(r.isError).toBe(true);
    expect(textOf(r)).not.toContain(TEST_KEY);
    expect(textOf(r)).toMatch(/401/);
    expect(c.stderr()).not.toContain(TEST_KEY);
  });
});

describe("stdio server, configuration", () => {
  it("starts and lists tools without a key; a call says which variable to set", async () => {
    const c = await connectStdio(emu.url, [], {});
    try {
      const { tools } = await c.client.listTools();
      expect(tools.length).toBe(DEFAULT_SET.length);
      const r = await c.client.callTool({ name: "check_api_key", arguments: {} });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/CO_API_KEY/);
      expect(emu.requests).toHaveLength(0);
    } finally {
      await c.close();
    }
  });

  it("accepts COHERE_API_KEY, a trailing /v1 on CO_API_URL, and an overridden client name", async () => {
    const c = await connectStdio(`${emu.url}/v1/`, ["--client-name", "my-agent"], { COHERE_API_KEY: TEST_KEY });
    try {
      const r = await c.client.callTool({ name: "check_api_key", arguments: {} });
      expect(r.isError).toBeFalsy();
      expect(emu.requests[0]!.path).toBe("/v1/check-api-key");
      expect(emu.requests[0]!.headers["x-client-name"]).toBe("my-agent");
    } finally {
      await c.close();
    }
  });

  it("--tools delete_dataset shows exactly that tool and it runs", async () => {
    const c = await connectStdio(emu.url, ["--tools", "delete_dataset", "--confirm-destructive", "never"]);
    try {
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(["delete_dataset"]);
      expect(tools[0]!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      await c.client.callTool({ name: "delete_dataset", arguments: { id: "ds-404" } });
      expect(emu.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["DELETE /v1/datasets/ds-404"]);
      const hidden = await c.client.callTool({ name: "rerank", arguments: { model: "m", query: "q", documents: ["a"] } });
      expect(hidden.isError).toBe(true);
    } finally {
      await c.close();
    }
  });

  it("--exclude-tools wins, also from the environment", async () => {
    const c = await connectStdio(emu.url, ["--tools", "rerank,embed"], { CO_API_KEY: TEST_KEY, COHERE_MCP_EXCLUDE_TOOLS: "embed" });
    try {
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(["rerank"]);
    } finally {
      await c.close();
    }
  });

  it("an unknown --tools item stops startup naming the closest tools", async () => {
    const r = await runCli(["--tools", "delete_datset"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"delete_datset" matches no tool; closest: delete_dataset/);
    expect(r.stdout).toBe("");
  });

  it("--list-tools prints the visible tools with class and group, then exits", async () => {
    const r = await runCli(["--list-tools", "--tools", "datasets", "--allow-write"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/create_dataset\s+write\s+datasets/);
    expect(r.stdout).toMatch(/list_datasets\s+read\s+datasets/);
    expect(r.stdout).not.toMatch(/delete_dataset/);
    expect(r.stdout).toMatch(/4 of 44 tools visible/);
    const j = await runCli(["--list-tools", "--json"]);
    expect(JSON.parse(j.stdout)).toHaveLength(DEFAULT_SET.length);
  });

  it("--list-tools honours --config and --profile", async () => {
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "cmcp-"));
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ profiles: { jobs: { tools: ["embed_jobs"], allow_destructive: true } } }));
    const r = await runCli(["--list-tools", "--config", file, "--profile", "jobs"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/cancel_embed_job\s+destructive/);
    expect(r.stdout).not.toMatch(/create_embed_job/);
    const bad = await runCli(["--list-tools", "--config", file, "--profile", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/No profile "nope"/);
  });
});
