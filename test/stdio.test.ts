import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { HeadScanner } from "../src/transports/stdio-lines.js";
import { connectStdio, runCli, textOf, TEST_KEY, type Connected } from "./helpers.js";
import { Raw, type Rpc } from "./stdio-raw.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const DEFAULT_SET = [
  "chat", "check_api_key", "detokenize", "embed", "get_batch", "get_dataset", "get_dataset_usage",
  "get_embed_job", "get_model", "list_batches", "list_datasets", "list_embed_jobs", "list_models",
  "parse", "rerank", "tokenize", "transcribe_audio",
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
    expect(r.stdout).toMatch(/4 of 45 tools visible/);
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

// ---------------------------------------------------------------------------------------------
// Issue 8, finding 10: a message over the stdio limit is answered, logged and audited; the
// server keeps serving.

const transcribe = (id: number, base64Chars: number) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "transcribe_audio", arguments: { model: "cohere-transcribe-03-2026", language: "en", file_base64: "A".repeat(base64Chars) } },
  });

describe("stdio: a message over the size limit (finding 10)", () => {
  it("the scanner finds the top-level id, method and tool name at any chunk boundary, and nothing nested", () => {
    const msg = JSON.stringify({
      params: { arguments: { id: "nested-id", method: "nested", name: "no" }, name: "tool \"x\"\u00e9" },
      jsonrpc: "2.0",
      method: "tools/call",
      id: 42,
    });
    for (const size of [1, 2, 3, 7, 64, msg.length]) {
      const s = new HeadScanner();
      const buf = Buffer.from(msg);
      for (let i = 0; i < buf.length; i += size) s.feed(buf.subarray(i, i + size));
      expect(s.result(), `chunks of ${size}`).toEqual({ id: 42, method: "tools/call", tool: 'tool "x"é' });
    }
    const odd = new HeadScanner();
    odd.feed(Buffer.from('[{"id":1,"method":"x"}]'));
    expect(odd.result()).toEqual({ id: undefined, method: undefined, tool: undefined });
  });


  it("an 11 MB transcribe_audio call gets a JSON-RPC error naming the limit and --allow-file-read; logged, audited; the server keeps serving", async () => {
    const audit = join(mkdtempSync(join(tmpdir(), "cmcp-big-")), "audit.jsonl");
    const srv = new Raw(emu.url, ["--audit-log", audit]);
    try {
      await srv.start();
      const big = srv.answer(5);
      srv.write(transcribe(5, 11 * 1024 * 1024) + "\n"); // 8 MB of audio as base64 is ~11 MB
      const r = await big;
      expect(r.error.code).toBe(-32600);
      expect(r.error.message).toMatch(/^tools\/call "transcribe_audio" was refused: the message is 1153\d{4} bytes, over this server's limit of 10485760 bytes/);
      expect(r.error.message).toMatch(/--max-message-bytes/);
      expect(r.error.message).toMatch(/--allow-file-read DIR/);
      expect(r.error.message).toMatch(/Nothing was sent to Cohere/);
      // still serving: a ping and a tool call
      expect((await srv.request(6, "ping", {})).result).toEqual({});
      const tok = await srv.request(7, "tools/call", { name: "tokenize", arguments: { model: "command-a-03-2025", text: "still here" } });
      expect(tok.result.isError).toBeFalsy();
      expect(srv.child.exitCode).toBeNull();
      expect(emu.requests.map((q) => q.path)).toEqual(["/v1/tokenize"]);
      // logged to stderr, audited as a denied call
      expect(srv.stderr()).toMatch(/"level":"warn","msg":"refused a stdio message over --max-message-bytes".*"bytes":1153\d{4},"limit":10485760,"method":"tools\/call","tool":"transcribe_audio","id":5/);
      await new Promise((res) => setTimeout(res, 200));
      const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Rpc);
      expect(lines[0]).toMatchObject({ tool: "transcribe_audio", decision: "denied", reason: "invalid_input", transport: "stdio" });
      expect(lines[0]!.detail).toMatch(/over --max-message-bytes 10485760/);
      expect(lines).toHaveLength(2);
    } finally {
      srv.stop();
    }
  });

  it("--max-message-bytes sets the limit; the id is found wherever it is; a notification is not answered; junk gets id null", async () => {
    const srv = new Raw(emu.url, ["--max-message-bytes", "100000"]);
    try {
      await srv.start();
      // under the limit: served
      const small = srv.answer(10);
      srv.write(transcribe(10, 50_000) + "\n");
      expect((await small).result).toBeTruthy();
      // over it, with the id after the huge params
      const late = srv.answer("late-id");
      srv.write(`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"tokenize","arguments":{"model":"m","text":"${"x".repeat(200_000)}"}},"id":"late-id"}\n`);
      const r = await late;
      expect(r.error.message).toMatch(/^tools\/call "tokenize" was refused: the message is 2001\d\d bytes, over this server's limit of 100000 bytes/);
      // an oversized notification gets no answer; a message with no readable id gets id null
      srv.write(`{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"${"y".repeat(150_000)}"}}\n`);
      const junk = srv.answer(null);
      srv.write(`[{"id": ${"9".repeat(150_000)}\n`);
      expect((await junk).error.message).toMatch(/^The message was refused: the message is 1500\d\d bytes/);
      expect((await srv.request(11, "ping", {})).result).toEqual({});
      // no answer for the notification: exactly the answers asked for
      expect(srv.messages.map((m) => m.id)).toEqual([1, 10, "late-id", null, 11]);
      expect(emu.requests.filter((q) => q.path === "/v1/tokenize")).toHaveLength(0);
    } finally {
      srv.stop();
    }
  });
});
