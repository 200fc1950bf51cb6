/**
 * Streams as Cohere and networks deliver them (issue 9): the parsers read the spec's streamed
 * logprobs (one LogprobItem per content-delta, the array form still tolerated), survive any
 * chunk boundary (inside a UTF-8 character, between \r and \n, lone \r line ends), and pick SSE
 * or NDJSON by the answer's content-type; the server asks v1 streams for NDJSON (no `Accepts`).
 * End to end through a real MCP client, the emulator splitting its streams into tiny chunks.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { readStream } from "../src/cohere/stream.js";
import type { StreamKind } from "../src/catalog/types.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";

async function* chunks(parts: Array<Uint8Array | string>): AsyncGenerator<Uint8Array | string> {
  for (const p of parts) yield p;
}

/** Every byte its own chunk. */
const bytewise = (text: string) => [...Buffer.from(text, "utf8")].map((b) => Uint8Array.of(b));

const read = (kind: StreamKind, parts: Array<Uint8Array | string>, contentType?: string) => {
  const pieces: string[] = [];
  return readStream(kind, chunks(parts), (p) => pieces.push(p), undefined, contentType).then((r) => ({ r, pieces }));
};

const sse = (events: Array<Record<string, unknown>>, nl = "\n") =>
  events.map((e) => `event: ${String(e.type ?? e.event_type)}${nl}data: ${JSON.stringify(e)}${nl}${nl}`).join("");

const V2_EVENTS = [
  { type: "message-start", id: "m1", delta: { message: { role: "assistant" } } },
  { type: "content-start", index: 0, delta: { message: { content: { type: "text", text: "" } } } },
  { type: "content-delta", index: 0, delta: { message: { content: { text: "Grüße, " } } }, logprobs: { text: "Grüße, ", token_ids: [1, 2], logprobs: [-0.1, -0.2] } },
  { type: "content-delta", index: 0, delta: { message: { content: { text: "日本 🚀" } } }, logprobs: { text: "日本 🚀", token_ids: [3], logprobs: [-0.3] } },
  { type: "content-end", index: 0 },
  { type: "message-end", delta: { finish_reason: "COMPLETE", usage: { billed_units: { input_tokens: 1, output_tokens: 3 } } } },
];

describe("parsers, fed directly", () => {
  it("v2: streamed logprobs in the spec form (one LogprobItem per delta) reach the result, and the array form still does", async () => {
    const { r } = await read("chat-v2", [sse(V2_EVENTS)]);
    expect(r.logprobs).toEqual([V2_EVENTS[2]!.logprobs, V2_EVENTS[3]!.logprobs]);
    const asArrays = V2_EVENTS.map((e) => (e.logprobs ? { ...e, logprobs: [e.logprobs] } : e));
    expect((await read("chat-v2", [sse(asArrays)])).r.logprobs).toEqual(r.logprobs);
  });

  it("v2: the same result whatever the chunk boundaries (every byte alone; CRLF, CR and LF line ends)", async () => {
    const whole = await read("chat-v2", [sse(V2_EVENTS)]);
    expect((whole.r.message as { content: Array<{ text: string }> }).content[0]!.text).toBe("Grüße, 日本 🚀");
    for (const nl of ["\n", "\r\n", "\r"]) {
      const text = sse(V2_EVENTS, nl);
      const split = await read("chat-v2", bytewise(text));
      expect(split.r, JSON.stringify(nl)).toEqual(whole.r);
      expect(split.pieces).toEqual(whole.pieces);
      // a cut right after each \r (before its \n), as strings
      const atCr = text.split(/(?<=\r)/);
      expect((await read("chat-v2", atCr)).r, `cut after CR ${JSON.stringify(nl)}`).toEqual(whole.r);
    }
  });

  it("NDJSON (v1 chat, generate): the same result whatever the chunk boundaries, LF or CRLF", async () => {
    const v1 = [
      { event_type: "stream-start", generation_id: "g", is_finished: false },
      { event_type: "text-generation", text: "Ça va? ", is_finished: false },
      { event_type: "text-generation", text: "👍", is_finished: false },
      { event_type: "stream-end", finish_reason: "COMPLETE", is_finished: true, response: { text: "Ça va? 👍", generation_id: "g", finish_reason: "COMPLETE" } },
    ];
    for (const nl of ["\n", "\r\n"]) {
      const text = v1.map((e) => JSON.stringify(e) + nl).join("");
      const { r } = await read("chat-v1", bytewise(text));
      expect(r).toMatchObject({ text: "Ça va? 👍", finish_reason: "COMPLETE" });
    }
  });

  it("the answer's content-type picks the parser: v1 chat as SSE, v2 as NDJSON", async () => {
    const v1 = [
      { event_type: "stream-start", generation_id: "g" },
      { event_type: "text-generation", text: "hi there" },
      { event_type: "stream-end", finish_reason: "COMPLETE", response: { text: "hi there", generation_id: "g" } },
    ];
    expect((await read("chat-v1", bytewise(sse(v1)), "text/event-stream")).r).toMatchObject({ text: "hi there" });
    const nd = V2_EVENTS.map((e) => JSON.stringify(e) + "\n").join("");
    const { r } = await read("chat-v2", [nd], "application/stream+json");
    expect((r.message as { content: Array<{ text: string }> }).content[0]!.text).toBe("Grüße, 日本 🚀");
  });

  it("v1: the response's STOP_SEQUENCE wins over stream-end's finish_reason (whose enum lacks it)", async () => {
    const v1 = [
      { event_type: "text-generation", text: "one two" },
      { event_type: "stream-end", finish_reason: "COMPLETE", response: { text: "one two", finish_reason: "STOP_SEQUENCE" } },
    ];
    expect((await read("chat-v1", [v1.map((e) => JSON.stringify(e)).join("\n")])).r.finish_reason).toBe("STOP_SEQUENCE");
  });
});

let emu: CohereEmulator;
let c: Connected;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY, streamSplit: { maxChunkBytes: 5, crlf: true, seed: 7 } });
  c = await connectStdio(emu.url, ["--tools", "chat,chat_v1,generate"]);
});
afterAll(async () => {
  await c?.close();
  await emu?.stop();
});
beforeEach(() => emu.reset());

const UNICODE = "Erzähl mir von Zürich, 東京 und São Paulo 🚀 — bitte kurz, danke schön";

async function both(name: string, args: Record<string, unknown>) {
  const progress: string[] = [];
  const streamed = (await c.client.callTool({ name, arguments: args }, undefined, { onprogress: (p) => progress.push(p.message ?? "") })) as ToolCallResult;
  const plain = (await c.client.callTool({ name, arguments: args })) as ToolCallResult;
  expect((emu.requests[0]!.body as { stream?: boolean }).stream).toBe(true);
  return { streamed, plain, progress };
}

describe("end to end, the emulator cutting every stream into ≤5-byte chunks with CRLF line ends", () => {
  it("chat: text, citations and logprobs (spec form) equal the plain call's", async () => {
    const args = {
      model: "command-a-03-2025",
      messages: [{ role: "user", content: UNICODE }],
      documents: ["Zürich liegt am Zürichsee.", { id: "tokyo", data: { text: "東京は日本の首都です。" } }],
      logprobs: true,
    };
    const { streamed, plain, progress } = await both("chat", args);
    expect(streamed.isError, textOf(streamed)).toBeFalsy();
    const s = streamed.structuredContent as Record<string, unknown>;
    expect(progress.join("")).toBe(s.text);
    expect(s.text).toContain(UNICODE);
    expect(Array.isArray(s.logprobs) && s.logprobs.length).toBeGreaterThan(1);
    expect({ ...s, id: "" }).toEqual({ ...(plain.structuredContent as Record<string, unknown>), id: "" });
  });

  it("chat: several tool calls with arguments in fragments assemble into the plain call's calls", async () => {
    const args = {
      model: "command-a-03-2025",
      messages: [{ role: "user", content: "Sales summary for 29th September 2023, and the prices of products in the 'Électronique' category?" }],
      tools: [
        { type: "function", function: { name: "query_daily_sales_report", description: "Sales volumes for a given day.", parameters: { type: "object", properties: { day: { type: "string", description: "YYYY-MM-DD" } }, required: ["day"] } } },
        { type: "function", function: { name: "query_product_catalog", description: "Products, categories, prices and stock levels.", parameters: { type: "object", properties: { category: { type: "string" } }, required: ["category"] } } },
      ],
    };
    const { streamed, plain, progress } = await both("chat", args);
    const calls = (streamed.structuredContent as { tool_calls: Array<{ function: { name: string; arguments: string } }> }).tool_calls;
    expect(calls.map((x) => [x.function.name, JSON.parse(x.function.arguments)])).toEqual([
      ["query_daily_sales_report", { day: "2023-09-29" }],
      ["query_product_catalog", { category: "Électronique" }],
    ]);
    expect(progress.filter((p) => p.startsWith("[tool call query_product_catalog arguments]")).length).toBeGreaterThan(1);
    for (const x of calls) expect((x as { id?: string }).id).toMatch(new RegExp(`^${x.function.name}_[a-z0-9]{12}$`));
    // each answer has its own ids (Cohere's are per response); all else is the same
    const noIds = (r: ToolCallResult) => {
      const sc = r.structuredContent as { tool_calls: Array<Record<string, unknown>> };
      return { ...sc, id: "", tool_calls: sc.tool_calls.map(({ id: _id, ...rest }) => rest) };
    };
    expect(noIds(streamed)).toEqual(noIds(plain));
  });

  it("chat_v1 and generate (NDJSON): the same results as plain calls", async () => {
    const v1 = await both("chat_v1", { message: UNICODE });
    expect(v1.progress.join("")).toBe((v1.streamed.structuredContent as { text: string }).text);
    expect(textOf(v1.streamed)).toBe(textOf(v1.plain));
    emu.reset();
    const gen = await both("generate", { prompt: UNICODE });
    expect(gen.progress.join("")).toContain(UNICODE);
    expect(textOf(gen.streamed)).toBe(textOf(gen.plain));
  });
});

describe("v1 streaming content negotiation", () => {
  it("asks v1 streams with Accept */* as cohere-ai does, without `Accepts` (so NDJSON; v2 for SSE), and parses SSE if that is what comes back", async () => {
    await both("chat_v1", { message: "hello there" });
    await both("generate", { prompt: "hello there" });
    await both("chat", { model: "command-a-03-2025", messages: [{ role: "user", content: "hello there" }] });
    const streamedReqs = emu.requests.filter((r) => (r.body as { stream?: boolean }).stream === true);
    expect(streamedReqs.map((r) => [r.path, r.headers.accept, r.headers.accepts])).toEqual([
      ["/v1/chat", "*/*", undefined],
      ["/v1/generate", "*/*", undefined],
      ["/v2/chat", "text/event-stream", undefined],
    ]);

    // Whatever Cohere sends, the content-type decides: here v1 streams come back as SSE.
    emu.setStreamFormat("sse");
    const v1 = await both("chat_v1", { message: UNICODE });
    expect(v1.streamed.isError, textOf(v1.streamed)).toBeFalsy();
    expect(textOf(v1.streamed)).toBe(textOf(v1.plain));
    expect(v1.progress.join("")).toBe((v1.streamed.structuredContent as { text: string }).text);
    const gen = await both("generate", { prompt: UNICODE });
    expect(gen.streamed.isError, textOf(gen.streamed)).toBeFalsy();
    expect(textOf(gen.streamed)).toBe(textOf(gen.plain));
  });
});
