/**
 * Request ids and X-API-Warning as Cohere sends them (issue 9), end to end.
 *
 * Request id: the spec declares no request-id header and says nothing of the error body's `id`;
 * Cohere's answers carry `x-debug-trace-id` (recorded Cohere traffic), and the spec's core error
 * body is {message, id}. The emulator sends both; cohere-mcp puts the id in the audit line of
 * every call and in the text of every Cohere error (batches and fine-tuning errors have no body
 * id: the header still names the request).
 *
 * X-API-Warning: declared on generate, classify, summarize (all deprecated, so always sent), on
 * embed / embed jobs / get model (sent for a deprecated model). The agent is told once per
 * result, however many answers carried it (a wait tool polls several times).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { CohereApiError } from "../src/cohere/errors.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";
import { eventually, tempFile } from "./http-support.js";

let emu: CohereEmulator;
let c: Connected;
const auditPath = tempFile("headers-audit.jsonl");
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  c = await connectStdio(emu.url, ["--tools", "*", "--allow-write", "--max-retries", "0", "--poll-interval-ms", "20", "--audit-log", auditPath]);
});
afterAll(async () => {
  await c?.close();
  await emu?.stop();
});
beforeEach(() => emu.reset());

const call = async (name: string, args: Record<string, unknown>) => (await c.client.callTool({ name, arguments: args })) as ToolCallResult;

type AuditLine = { type: string; tool: string; requestId?: string; status?: number; outcome?: string };
const auditLines = (): AuditLine[] =>
  readFileSync(auditPath, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditLine)
    .filter((l) => l.type === "audit");

describe("request ids", () => {
  it("every answer's x-debug-trace-id is in the audit line; a Cohere error also names it", async () => {
    await call("rerank", { model: "rerank-v3.5", query: "q", documents: ["a", "q b"] });
    const okId = emu.requests.at(-1)!.traceId!;
    expect(okId).toMatch(/^[0-9a-f]{32}$/);

    const bad = await call("chat", { model: "no-such-model", messages: [{ role: "user", content: "hi" }] });
    const errId = emu.requests.at(-1)!.traceId!;
    expect(textOf(bad)).toContain(`Request id: ${errId}.`);

    // batches' errors are {message} only (BatchError): the header still names the request
    const missing = await call("get_batch", { id: "no-such-batch" });
    const batchId = emu.requests.at(-1)!.traceId!;
    expect(textOf(missing)).toMatch(/Cohere API error 404: batch no-such-batch not found/);
    expect(textOf(missing)).toContain(`Request id: ${batchId}.`);

    await eventually(() => expect(auditLines().length).toBeGreaterThanOrEqual(3));
    const lines = auditLines();
    expect(lines.find((l) => l.tool === "rerank")).toMatchObject({ status: 200, requestId: okId });
    expect(lines.find((l) => l.tool === "chat")).toMatchObject({ status: 404, outcome: "cohere_error", requestId: errId });
    expect(lines.find((l) => l.tool === "get_batch")).toMatchObject({ status: 404, requestId: batchId });
  });

  it("a streamed call's id too", async () => {
    const before = auditLines().length;
    await c.client.callTool({ name: "chat", arguments: { model: "command-a-03-2025", messages: [{ role: "user", content: "hello" }] } }, undefined, {
      onprogress: () => undefined,
    });
    const id = emu.requests.at(-1)!.traceId!;
    await eventually(() => expect(auditLines().length).toBeGreaterThan(before));
    expect(auditLines().at(-1)).toMatchObject({ tool: "chat", requestId: id });
  });

  it("without the header, the id of Cohere's error body", () => {
    const e = CohereApiError.from(400, JSON.stringify({ message: "invalid request: x", id: "body-id-123" }), {}, 1, TEST_KEY);
    expect(e.requestId).toBe("body-id-123");
    expect(e.toToolText()).toContain("Request id: body-id-123.");
    // the header wins when both are there
    expect(CohereApiError.from(400, JSON.stringify({ message: "m", id: "b" }), { "x-debug-trace-id": "h" }, 1, TEST_KEY).requestId).toBe("h");
  });
});

const WARNING = /Cohere warning \(X-API-Warning\): /g;
const count = (text: string) => text.match(WARNING)?.length ?? 0;

describe("X-API-Warning", () => {
  it("deprecated operations: generate, classify, summarize tell the agent once; chat, rerank say nothing", async () => {
    const gen = await call("generate", { prompt: "hello" });
    expect(textOf(gen)).toMatch(/\n\nCohere warning \(X-API-Warning\): The \/v1\/generate endpoint is deprecated and no longer maintained/);
    const cls = await call("classify", {
      inputs: ["x"],
      examples: [{ text: "a", label: "A" }, { text: "b", label: "A" }, { text: "c", label: "B" }, { text: "d", label: "B" }],
    });
    expect(textOf(cls)).toMatch(/X-API-Warning\): The \/v1\/classify endpoint is deprecated/);
    const sum = await call("summarize", { text: "The first sentence is here. ".repeat(12) });
    expect(textOf(sum)).toMatch(/X-API-Warning\): The \/v1\/summarize endpoint is deprecated/);
    for (const r of [gen, cls, sum]) expect(count(textOf(r))).toBe(1);
    for (const r of [
      await call("chat", { model: "command-a-03-2025", messages: [{ role: "user", content: "hi" }] }),
      await call("rerank", { model: "rerank-v3.5", query: "q", documents: ["a"] }),
    ]) {
      expect(count(textOf(r))).toBe(0);
    }
  });

  it("v2 chat with a deprecated model: Cohere documents no warning there, so the emulator sends none; one Cohere did send would still reach the agent", async () => {
    // POST /v2/chat declares no response header and ChatResponseV2 has no meta.warnings (spec,
    // cohere-ai 8.1.0): nothing to emulate (docs/cohere-sources.md, "v2 chat and deprecated models")
    const r = await call("chat", { model: "command-r", messages: [{ role: "user", content: "hi" }] });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(count(textOf(r))).toBe(0);
    const body = { id: "x", finish_reason: "COMPLETE", message: { role: "assistant", content: [{ type: "text", text: "hello" }] }, usage: { billed_units: { input_tokens: 1, output_tokens: 1 } } };
    emu.addFault({ path: "/v2/chat", fault: { kind: "json", status: 200, body, headers: { "x-api-warning": "Model command-r is deprecated, for more information please refer to https://docs.cohere.com/docs/deprecations" } } });
    const warned = await call("chat", { model: "command-r", messages: [{ role: "user", content: "hi" }] });
    expect(textOf(warned)).toMatch(/hello\n\nCohere warning \(X-API-Warning\): Model command-r is deprecated/);
    expect(count(textOf(warned))).toBe(1);
  });

  it("a deprecated model: get_model and embed say so; a wait tool polling a job on it says it once", async () => {
    expect(textOf(await call("get_model", { model: "command-r" }))).toMatch(/X-API-Warning\): Model command-r is deprecated/);
    expect(count(textOf(await call("get_model", { model: "command-a-03-2025" })))).toBe(0);
    // no embed model is merely deprecated today (the v2.0 ones were retired on 2026-04-04): the
    // server refuses those before sending; a job whose model Cohere deprecates while it runs
    // still says so, once, however many polls carried the warning
    const emb = await call("embed", { model: "embed-english-v2.0", input_type: "search_query", texts: ["a"] });
    expect(textOf(emb)).toMatch(/retired by Cohere on 2026-04-04/);

    const job = await call("create_embed_job", { model: "embed-english-v3.0", dataset_id: "ds-1", input_type: "search_document" });
    const jobId = /ej-\d+/.exec(textOf(job))![0];
    emu.state.embedJobs.get(jobId)!.job.model = "command-r";
    emu.requests.length = 0;
    const waited = await call("wait_for_embed_job", { id: jobId, timeout_s: 20 });
    const polls = emu.requests.filter((r) => r.path === `/v1/embed-jobs/${jobId}`);
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(count(textOf(waited))).toBe(1);
    expect(textOf(waited)).toMatch(/Model command-r is deprecated/);
  });
});
