/**
 * Legacy endpoints where Cohere answers 400 and the emulator used to answer 200 (issue 21,
 * section 3): embed_v1 images with a non-image input_type, generate / summarize with a model
 * Cohere no longer serves for them, rerank_v1 with an empty rank_fields or more than 10,000
 * chunks. The server refuses what it can check (nothing sent); the emulator answers Cohere's 400.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";
import { PNG_URI } from "./wire-cases.js";

let emu: CohereEmulator;
let c: Connected;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  c = await connectStdio(emu.url, ["--tools", "embed_v1,generate,summarize,rerank_v1"]);
});
afterAll(async () => {
  await c?.close();
  await emu.stop();
});
beforeEach(() => emu.reset());

const call = async (name: string, args: Record<string, unknown>) => (await c.client.callTool({ name, arguments: args })) as ToolCallResult;
const post = async (path: string, body: unknown) => {
  const res = await fetch(`${emu.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, message: ((await res.json()) as { message?: string }).message };
};

describe("refused before sending by the server, 400 from the emulator", () => {
  const cases: Array<{ tool: string; path: string; args: Record<string, unknown>; server: RegExp; emulator: RegExp | number }> = [
    {
      tool: "embed_v1",
      path: "/v1/embed",
      args: { model: "embed-english-v3.0", input_type: "search_document", images: [PNG_URI] },
      server: /input_type: must be "image" with `images` \(Cohere refuses images with input_type search_document\)/,
      emulator: /^invalid request: images must be used with input_type=image$/,
    },
    {
      tool: "generate",
      path: "/v1/generate",
      args: { model: "command-a-03-2025", prompt: "Write a haiku" },
      server: /model: command-a-03-2025 does not serve generate \(Cohere answers 400\): use the chat tool with it \(Cohere's replacement for generate\), or one of generate's own models command-light, command \(deprecated with it since 2025-09-15\)/,
      emulator: /^invalid request: model 'command-a-03-2025' is not supported by the generate API$/,
    },
    {
      tool: "summarize",
      path: "/v1/summarize",
      args: { model: "command-a-reasoning-08-2025", text: "A long text about Paris. ".repeat(20) },
      server: /model: command-a-reasoning-08-2025 does not serve summarize/,
      emulator: /is not supported by the summarize API/,
    },
    {
      tool: "generate",
      path: "/v1/generate",
      args: { model: "command-r", prompt: "Write a haiku" },
      server: /model: command-r does not serve generate \(Cohere answers 400\): use the chat tool with it/,
      emulator: /^invalid request: model 'command-r' is not supported by the generate API$/,
    },
    {
      tool: "generate",
      path: "/v1/generate",
      args: { model: "command-r-08-2024", prompt: "Write a haiku" },
      server: /model: command-r-08-2024 does not serve generate/,
      emulator: /^invalid request: model 'command-r-08-2024' is not supported by the generate API$/,
    },
    {
      tool: "summarize",
      path: "/v1/summarize",
      args: { model: "command-r-plus-08-2024", text: "A long text about Paris. ".repeat(20) },
      server: /model: command-r-plus-08-2024 does not serve summarize \(Cohere answers 400\): use the chat tool with it \(Cohere's replacement for summarize\), or one of summarize's own models command-light, command/,
      emulator: /^invalid request: model 'command-r-plus-08-2024' is not supported by the summarize API$/,
    },
    {
      tool: "rerank_v1",
      path: "/v1/rerank",
      args: { model: "rerank-v3.5", query: "q", documents: [{ text: "a" }], rank_fields: [] },
      server: /rank_fields: must name at least one field \(leave rank_fields out to rank on `text`\)/,
      emulator: /^invalid request: rank_fields cannot be empty, it must either contain at least one field or be omitted$/,
    },
  ];
  for (const k of cases) {
    it(`${k.tool}: ${JSON.stringify(k.args).slice(0, 80)}`, async () => {
      const r = await call(k.tool, k.args);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(k.server);
      expect(textOf(r)).toMatch(/nothing was sent to Cohere/);
      expect(emu.requests).toHaveLength(0);
      const direct = await post(k.path, k.args);
      expect(direct.status).toBe(400);
      expect(direct.message).toMatch(k.emulator as RegExp);
    });
  }
  it("images with input_type image, and generate / summarize with command, command-light or the default, still work", async () => {
    expect((await call("embed_v1", { model: "embed-english-v3.0", input_type: "image", images: [PNG_URI] })).isError).toBeFalsy();
    for (const model of ["command", "command-light", undefined]) {
      const r = await call("generate", { ...(model ? { model } : {}), prompt: "Write a haiku" });
      expect(r.isError, textOf(r)).toBeFalsy();
      const s = await call("summarize", { ...(model ? { model } : {}), text: "A long text about Paris. ".repeat(20) });
      expect(s.isError, textOf(s)).toBeFalsy();
    }
    expect(emu.requests.every((q) => q.valid)).toBe(true);
  });
});

describe("rerank_v1: documents × max_chunks_per_doc must stay under 10,000 (Cohere's errors page)", () => {
  const docs = (n: number) => Array.from({ length: n }, (_, i) => `document ${i}`);
  it("the server refuses 1,000 documents at the default 10 chunks each before sending; 999 pass, and so do 9,999 at 1 chunk", async () => {
    const r = await call("rerank_v1", { model: "rerank-v3.5", query: "document", documents: docs(1000), top_n: 1 });
    expect(textOf(r)).toMatch(/documents: 1000 documents × max_chunks_per_doc 10 must be less than 10,000 \(Cohere's limit on chunks\): send at most 999 documents, or lower max_chunks_per_doc/);
    expect(emu.requests).toHaveLength(0);
    expect((await call("rerank_v1", { model: "rerank-v3.5", query: "document", documents: docs(999), top_n: 1 })).isError).toBeFalsy();
    expect((await call("rerank_v1", { model: "rerank-v3.5", query: "document", documents: docs(9999), top_n: 1, max_chunks_per_doc: 1 })).isError).toBeFalsy();
  });
  it("the emulator answers Cohere's 400, in its words", async () => {
    expect(await post("/v1/rerank", { model: "rerank-v3.5", query: "q", documents: docs(2000), max_chunks_per_doc: 5 })).toEqual({
      status: 400,
      message: "invalid request: number of total max chunks (number of documents * max chunks per doc) must be less than 10000",
    });
  });
});

describe("error texts as Cohere's errors page words them", () => {
  it("embed_v1 without input_type for a v3+ model", async () => {
    expect(await post("/v1/embed", { model: "embed-english-v3.0", texts: ["a"] })).toEqual({
      status: 400,
      message: "invalid request: valid input_type must be provided with the provided model",
    });
  });
});
