/**
 * Bounded and structured outputs, over a real MCP client (which itself validates
 * structuredContent against each tool's outputSchema) against the emulator: context budgets of
 * tools/list, the embed summary and the output budget for 96 inputs × 1536 dimensions, truncation
 * markers, next-page hints, and one successful call of every tool that declares an outputSchema.
 */
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const size = (v: unknown) => JSON.stringify(v).length;
const texts96 = Array.from({ length: 96 }, (_, i) => `document number ${i} about topic ${i % 7}`);
const embed96 = { model: "embed-v4.0", input_type: "search_document", texts: texts96 };

async function withServer<T>(args: string[], fn: (c: Connected) => Promise<T>): Promise<T> {
  const c = await connectStdio(emu.url, args);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

describe("context budget of tools/list", () => {
  it("default tools ≤ 16,000 characters; every tool ≤ 80,000", async () => {
    const def = await withServer([], async (c) => (await c.client.listTools()).tools);
    const all = await withServer(["--tools", "*", "--allow-write", "--allow-destructive"], async (c) => (await c.client.listTools()).tools);
    const sum = (ts: unknown[]) => ts.reduce<number>((n, t) => n + size(t), 0);
    console.log(`tools/list: default ${def.length} tools = ${sum(def)} chars (${size({ tools: def })} as sent); all ${all.length} tools = ${sum(all)} chars`);
    expect(def).toHaveLength(17);
    expect(size({ tools: def })).toBeLessThanOrEqual(16_000);
    expect(all.length).toBe(45);
    expect(size({ tools: all })).toBeLessThanOrEqual(80_000);
    // output schemas stay minimal: top-level property types only
    for (const t of all) {
      if (!t.outputSchema) continue;
      for (const p of Object.values(t.outputSchema.properties ?? {})) expect(Object.keys(p as object), t.name).toEqual(["type"]);
    }
  });
});

describe("embed: compact summary by default, vectors on request, always within the budget", () => {
  it("one text: a summary of ≤ 2,000 characters, vectors left out, return_vectors never sent to Cohere", async () => {
    await withServer([], async (c) => {
      const r = (await c.client.callTool({ name: "embed", arguments: { model: "embed-v4.0", input_type: "search_query", texts: ["hello world"] } })) as ToolCallResult;
      console.log(`embed, 1 text, default: ${size(r)} chars`);
      expect(size(r)).toBeLessThanOrEqual(2_000);
      expect(r.structuredContent).toMatchObject({ count: 1, dimensions: 1536, embedding_types: ["float"] });
      expect(r.structuredContent).not.toHaveProperty("embeddings");
      expect((r.structuredContent as { preview: { float: number[][] } }).preview.float[0]).toHaveLength(4);
      expect(textOf(r)).toMatch(/return_vectors: true/);
      const v = (await c.client.callTool({
        name: "embed",
        arguments: { model: "embed-v4.0", input_type: "search_query", texts: ["hello world"], return_vectors: true },
      })) as ToolCallResult;
      expect((v.structuredContent as { embeddings: { float: number[][] } }).embeddings.float[0]).toHaveLength(1536);
      expect(emu.requests.map((q) => Object.keys(q.body as object).sort())).toEqual([
        ["input_type", "model", "texts"],
        ["input_type", "model", "texts"],
      ]);
    });
  });

  it("96 inputs × 1536 dimensions: the summary stays small; return_vectors keeps whole vectors inside the budget and says how to get the rest", async () => {
    await withServer([], async (c) => {
      const r = (await c.client.callTool({ name: "embed", arguments: embed96 })) as ToolCallResult;
      console.log(`embed, 96 × 1536, default: ${size(r)} chars`);
      expect(size(r)).toBeLessThanOrEqual(2_000);
      expect(r.structuredContent).toMatchObject({ count: 96, dimensions: 1536 });

      const v = (await c.client.callTool({ name: "embed", arguments: { ...embed96, return_vectors: true } })) as ToolCallResult;
      const s = v.structuredContent as { embeddings: { float: number[][] }; truncated: string; count: number };
      console.log(`embed, 96 × 1536, return_vectors: ${size(v)} chars (${s.embeddings.float.length} whole vectors)`);
      expect(textOf(v).length + size(s)).toBeLessThanOrEqual(20_000);
      expect(s.count).toBe(96);
      expect(s.embeddings.float.length).toBeGreaterThanOrEqual(1);
      expect(s.embeddings.float.length).toBeLessThan(96);
      for (const vec of s.embeddings.float) expect(vec).toHaveLength(1536);
      expect(s.truncated).toMatch(new RegExp(`inputs 0–${s.embeddings.float.length - 1} only \\(${s.embeddings.float.length} of 96\\)`));
      expect(s.truncated).toMatch(/Call embed again with inputs/);
      expect(textOf(v)).toContain(s.truncated);
    });
  });

  it("a small budget that holds no whole vector says so; a large one returns them all", async () => {
    await withServer(["--max-output-chars", "5000"], async (c) => {
      const v = (await c.client.callTool({ name: "embed", arguments: { ...embed96, return_vectors: true } })) as ToolCallResult;
      const s = v.structuredContent as { embeddings: { float: number[][] }; truncated: string };
      expect(s.embeddings.float).toHaveLength(0);
      expect(s.truncated).toMatch(/no whole vector \(0 of 96\)/);
      expect(s.truncated).toMatch(/output_dimension|--max-output-chars/);
      expect(textOf(v).length + size(s)).toBeLessThanOrEqual(5_000);
    });
    await withServer(["--max-output-chars", "150000"], async (c) => {
      const v = (await c.client.callTool({
        name: "embed",
        arguments: { ...embed96, output_dimension: 256, embedding_types: ["int8"], return_vectors: true },
      })) as ToolCallResult;
      const s = v.structuredContent as { embeddings: { int8: number[][] }; truncated?: string; dimensions: number };
      expect(s.truncated).toBeUndefined();
      expect(s.dimensions).toBe(256);
      expect(s.embeddings.int8).toHaveLength(96);
    });
  });

  it("embed_v1 summarises the same way", async () => {
    await withServer(["--tools", "embed_v1"], async (c) => {
      const r = (await c.client.callTool({ name: "embed_v1", arguments: { texts: texts96, model: "embed-english-v3.0", input_type: "clustering" } })) as ToolCallResult;
      expect(size(r)).toBeLessThanOrEqual(2_000);
      expect(r.structuredContent).toMatchObject({ count: 96, dimensions: 1024 });
    });
  });
});

describe("output budget and truncation markers", () => {
  it("lists cut whole items, say what was cut and how to get the rest; next_page_token is surfaced", async () => {
    await withServer(["--max-output-chars", "3000"], async (c) => {
      const r = (await c.client.callTool({ name: "list_models", arguments: { page_size: 5 } })) as ToolCallResult;
      const s = r.structuredContent as { models: Array<{ name: string }>; truncated: string; next_page_token: string };
      expect(textOf(r).length + size(s)).toBeLessThanOrEqual(3_000);
      expect(s.models.length).toBeGreaterThan(0);
      expect(s.models.length).toBeLessThan(5);
      for (const m of s.models) expect(typeof m.name).toBe("string");
      expect(s.truncated).toMatch(new RegExp(`budget \\(3000 characters\\): models: kept ${s.models.length} of 5 items`));
      expect(s.truncated).toMatch(/smaller page/);
      expect(textOf(r)).toContain(`More results: call list_models again with page_token: ${JSON.stringify(s.next_page_token)}`);
    });
  });

  it("tokenize of a long text and a long reply text are cut with a marker", async () => {
    await withServer(["--max-output-chars", "3000", "--tools", "default,summarize"], async (c) => {
      const text = "lorem ipsum dolor sit amet ".repeat(400);
      const r = (await c.client.callTool({ name: "tokenize", arguments: { text, model: "command-a-03-2025" } })) as ToolCallResult;
      const s = r.structuredContent as { tokens: number[]; truncated: string };
      expect(textOf(r).length + size(s)).toBeLessThanOrEqual(3_000);
      expect(s.truncated).toMatch(/tokens: kept \d+ of \d+ items/);
      expect(s.truncated).toMatch(/shorter text/);

      // summarize answers with the text's leading sentences: one 10,000-character sentence here
      const long = (await c.client.callTool({ name: "summarize", arguments: { text: `${"word ".repeat(2000)}end.`, length: "long" } })) as ToolCallResult;
      expect(textOf(long)).toMatch(/\[truncated: \d+ of 10004 characters cut by the server's output budget\. Ask for less/);
      expect(textOf(long).length).toBeLessThanOrEqual(1_500);
      const ls = long.structuredContent as { summary: string; truncated: string };
      expect(ls.truncated).toMatch(/summary: kept \d+ of 10004 characters/);
      expect(textOf(long).length + size(ls)).toBeLessThanOrEqual(3_000);
    });
  });

  it("typical results are small: chat, rerank, list", async () => {
    await withServer([], async (c) => {
      const chat = await c.client.callTool({ name: "chat", arguments: { model: "command-a-03-2025", messages: [{ role: "user", content: "Name one use of reranking." }] } });
      const rerank = await c.client.callTool({
        name: "rerank",
        arguments: { model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "paris is the capital of france", "the seine"] },
      });
      const list = await c.client.callTool({ name: "list_models", arguments: {} });
      console.log(`typical results: chat ${size(chat)} chars, rerank (3 docs) ${size(rerank)} chars, list_models (page of 20) ${size(list)} chars`);
      expect(textOf(rerank)).toMatch(/^3 results, best first \(document index: relevance score\):\n1: [\d.]+\n\d: [\d.]+\n\d: [\d.]+$/);
      expect(size(chat)).toBeLessThan(1_000);
      expect(size(list)).toBeLessThan(20_000);
    });
  });
});

describe("structured results match their output schemas", () => {
  it("every tool with an outputSchema returns matching structuredContent and a readable text", async () => {
    await withServer(["--tools", "*", "--allow-write", "--allow-destructive", "--confirm-destructive", "never"], async (c) => {
      const { tools } = await c.client.listTools();
      const validator = new AjvJsonSchemaValidator();
      const checked = new Set<string>();
      const call = async (name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
        // the SDK client validates structuredContent against the outputSchema and throws on a mismatch
        const r = (await c.client.callTool({ name, arguments: args })) as ToolCallResult;
        expect(r.isError, `${name}: ${textOf(r)}`).toBeFalsy();
        const tool = tools.find((t) => t.name === name)!;
        if (tool.outputSchema) {
          expect(r.structuredContent, name).toBeDefined();
          const v = validator.getValidator(tool.outputSchema as never)(r.structuredContent);
          expect(v.valid, `${name}: ${v.errorMessage}`).toBe(true);
          for (const key of Object.keys(tool.outputSchema.properties ?? {}).filter((k) => k !== "next_page_token" && k !== "tool_calls")) {
            if (!["dimensions", "embeddings"].includes(key)) expect(r.structuredContent, `${name}.${key}`).toHaveProperty(key);
          }
        }
        expect(textOf(r).length, name).toBeGreaterThan(0);
        checked.add(name);
        return (r.structuredContent ?? {}) as Record<string, unknown>;
      };
      const model = "command-a-03-2025";
      await call("check_api_key", {});
      const tok = await call("tokenize", { text: "hello world", model });
      await call("detokenize", { tokens: tok.tokens as number[], model });
      await call("list_models", {});
      await call("get_model", { model });
      await call("chat", { model, messages: [{ role: "user", content: "hi" }] });
      await call("chat_v1", { message: "hi" });
      await call("generate", { prompt: "hi" });
      await call("summarize", { text: "A sentence about Paris. ".repeat(20) });
      await call("embed", { model: "embed-v4.0", input_type: "search_query", texts: ["a"] });
      await call("embed", { model: "embed-v4.0", input_type: "search_query", texts: ["a"], return_vectors: true });
      await call("embed_v1", { texts: ["a"] });
      await call("rerank", { model: "rerank-v3.5", query: "q", documents: ["a", "b"] });
      await call("rerank_v1", { query: "q", documents: ["a", "b"] });
      await call("classify", { inputs: ["great"], examples: [{ text: "good", label: "pos" }, { text: "fine", label: "pos" }, { text: "bad", label: "neg" }, { text: "awful", label: "neg" }] });
      await call("parse", { model: "parse-v5.0", document_url: "https://cohere.com/favicon-32x32.png" });
      await call("parse", { model: "parse-v5.0", document_url: "https://cohere.com/favicon-32x32.png", output_format: "blocks" });
      await call("transcribe_audio", { model: "cohere-transcribe-03-2026", language: "en", file_base64: Buffer.from("hello there").toString("base64"), filename: "a.wav" });
      const ds = await call("create_dataset", { name: "d", type: "embed-input", data_text: '{"text":"a"}\n' });
      await call("list_datasets", {});
      await call("get_dataset", { id: ds.id as string });
      await call("get_dataset_usage", {});
      const job = await call("create_embed_job", { model: "embed-v4.0", dataset_id: ds.id as string, input_type: "search_document" });
      await call("list_embed_jobs", {});
      await call("get_embed_job", { id: job.job_id as string });
      await call("wait_for_embed_job", { id: job.job_id as string });
      const b = await call("create_batch", { name: "b", input_dataset_id: ds.id as string, model });
      const batchId = (b.batch as { id: string }).id;
      await call("list_batches", {});
      await call("get_batch", { id: batchId });
      await call("wait_for_batch", { id: batchId });
      const settings = { base_model: { base_type: "BASE_TYPE_CHAT" }, dataset_id: ds.id as string };
      const ft = await call("create_finetuned_model", { name: "ft", settings });
      const ftId = (ft.finetuned_model as { id: string }).id;
      await call("list_finetuned_models", {});
      await call("get_finetuned_model", { id: ftId });
      await call("update_finetuned_model", { id: ftId, name: "ft2", settings });
      await call("wait_for_finetuned_model", { id: ftId });
      await call("list_finetuning_events", { finetuned_model_id: ftId });
      await call("list_training_step_metrics", { finetuned_model_id: ftId });
      const conn = await call("create_connector", {
        name: "c",
        url: "https://example.com/search",
        oauth: { client_id: "i", client_secret: "s", authorize_url: "https://example.com/a", token_url: "https://example.com/t" },
      });
      const connId = (conn.connector as { id: string }).id;
      await call("list_connectors", {});
      await call("get_connector", { id: connId });
      await call("update_connector", { id: connId, active: false });
      await call("authorize_connector_oauth", { id: connId });
      // the tools without a stable result (delete/cancel) declare none and answer in text
      for (const [name, args] of [
        ["cancel_embed_job", { id: job.job_id }],
        ["cancel_batch", { id: batchId }],
        ["delete_connector", { id: connId }],
        ["delete_finetuned_model", { id: ftId }],
        ["delete_dataset", { id: ds.id }],
      ] as const) {
        expect(tools.find((t) => t.name === name)!.outputSchema, name).toBeUndefined();
        await call(name, args as Record<string, unknown>);
      }
      const declared = tools.filter((t) => t.outputSchema).map((t) => t.name);
      expect(declared.filter((n) => !checked.has(n))).toEqual([]);
      expect(declared.length).toBe(40);
    });
  });
});
