/**
 * Error texts as Cohere's errors page words them (issue 21, "Error texts"): the emulator answers
 * every error that page lists with the page's exact text, and the agent receives that text through
 * the server with what to do about it. The table of message → source is docs/cohere-sources.md.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";
import { PNG_URI } from "./wire-cases.js";

let emu: CohereEmulator;
let c: Connected;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  c = await connectStdio(emu.url, ["--tools", "chat,embed,get_connector,get_dataset,get_finetuned_model,rerank_v1", "--max-retries", "0"]);
});
afterAll(async () => {
  await c?.close();
  await emu?.stop();
});
beforeEach(() => emu.reset());

const call = async (name: string, args: Record<string, unknown>) => (await c.client.callTool({ name, arguments: args })) as ToolCallResult;
const send = async (method: string, path: string, body?: unknown, raw?: string) => {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TEST_KEY}`, ...(body !== undefined || raw !== undefined ? { "content-type": "application/json" } : {}) },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  return { status: res.status, message: ((await res.json()) as { message?: string }).message };
};
const user = (content: string) => ({ role: "user", content });
const MODEL = "command-a-03-2025";
const weather = (name: string) => ({ type: "function", function: { name, parameters: { type: "object", properties: {} } } });
const assistantCall = (id: string) => ({ role: "assistant", tool_calls: [{ id, type: "function", function: { name: "get_weather", arguments: "{}" } }] });

describe("the emulator answers in the errors page's words", () => {
  const cases: Array<[string, string, string, unknown, number, string]> = [
    ["an unknown path", "GET", "/v1/nope", undefined, 404, "404 page not found"],
    ["an unknown connector", "GET", "/v1/connectors/web-search", undefined, 404, "connector 'web-search' not found."],
    ["v2 chat without a model", "POST", "/v2/chat", { messages: [user("hi")] }, 400, "a model parameter is required for this endpoint."],
    ["v2 embed without a model", "POST", "/v2/embed", { input_type: "search_query", texts: ["a"] }, 400, "a model parameter is required for this endpoint."],
    ["v2 rerank without a model", "POST", "/v2/rerank", { query: "q", documents: ["a"] }, 400, "a model parameter is required for this endpoint."],
    [
      "104 texts to embed",
      "POST",
      "/v2/embed",
      { model: "embed-v4.0", input_type: "search_query", texts: Array(104).fill("a") },
      400,
      "invalid request: total number of texts must be at most 96 - received 104",
    ],
    ["temperature above 1", "POST", "/v2/chat", { model: MODEL, messages: [user("hi")], temperature: 1.5 }, 400, "invalid request: temperature must be between 0 and 1.0 inclusive."],
    ["presence_penalty above 1", "POST", "/v2/chat", { model: MODEL, messages: [user("hi")], presence_penalty: 2 }, 400, "invalid request: presence_penalty must be between 0 and 1 inclusive."],
    ["a tool message without tool_call_id", "POST", "/v2/chat", { model: MODEL, messages: [user("hi"), assistantCall("a1"), { role: "tool", content: "20C" }] }, 400, "tool call id must be provided with tool message"],
    [
      "a tool call of another type",
      "POST",
      "/v2/chat",
      { model: MODEL, messages: [user("hi"), { role: "assistant", tool_calls: [{ id: "a1", type: "retrieval", function: { name: "get_weather", arguments: "{}" } }] }] },
      400,
      "tool call must be of type function",
    ],
    ["a tool result for an unknown id", "POST", "/v2/chat", { model: MODEL, messages: [user("hi"), assistantCall("a1"), { role: "tool", tool_call_id: "zz", content: "x" }] }, 400, "tool call id not found in previous tool calls"],
    ["duplicate tool-call ids", "POST", "/v2/chat", { model: MODEL, messages: [user("hi"), assistantCall("a1"), { role: "tool", tool_call_id: "a1", content: "x" }, user("again"), assistantCall("a1")] }, 400, "cannot have duplicate tool ids"],
    [
      "duplicate document ids",
      "POST",
      "/v2/chat",
      { model: MODEL, messages: [user("hi")], documents: [{ id: "adfasd", data: { text: "a" } }, { id: "adfasd", data: { text: "b" } }] },
      400,
      "invalid request: duplicate document ID adfasd at index 1 and 0",
    ],
    [
      "a tool name with a hyphen",
      "POST",
      "/v2/chat",
      { model: MODEL, messages: [user("hi")], tools: [weather("x-y-z")] },
      400,
      "invalid request: tool names can only contain certain characters (A-Za-z0-9_) and can't begin with a digit (provided name: 'x-y-z').",
    ],
    [
      "a chat_history role Cohere does not know",
      "POST",
      "/v1/chat",
      { message: "hi", chat_history: [{ role: "USER", message: "a" }, { role: "CHATBOT", message: "b" }, { role: "ASSISTANT", message: "c" }] },
      400,
      "invalid request: Invalid role in chat_history at index 2. Role must be one of the following: User, Chatbot, System, Tool",
    ],
    ["a chat_history turn without a message", "POST", "/v1/chat", { message: "hi", chat_history: [{ role: "USER" }] }, 400, "invalid request: all elements in history must have a message."],
    ["embed_v1 images with a text input_type", "POST", "/v1/embed", { model: "embed-english-v3.0", input_type: "search_document", images: [PNG_URI] }, 400, "invalid request: images must be used with input_type=image"],
    [
      "rerank_v1 with an empty rank_fields",
      "POST",
      "/v1/rerank",
      { query: "q", documents: [{ text: "a" }], rank_fields: [] },
      400,
      "invalid request: rank_fields cannot be empty, it must either contain at least one field or be omitted",
    ],
    ["rerank_v1 documents without a text field", "POST", "/v1/rerank", { query: "q", documents: [{ title: "a" }] }, 400, "document does not have a 'snippet' or a 'text' field that can be used for chunking and reranking"],
    ["a short text to summarize", "POST", "/v1/summarize", { text: "Too short." }, 400, "invalid request: text must be longer than 250 characters"],
    ["a summary format Cohere does not know", "POST", "/v1/summarize", { text: "x ".repeat(200), format: "table" }, 400, "invalid request: format must be one of 'paragraph', or 'bullets'."],
    ["a summary length Cohere does not know", "POST", "/v1/summarize", { text: "x ".repeat(200), length: "tiny" }, 400, "invalid request: length must be one of 'short', 'medium', or 'long'."],
    ["tokenize without text", "POST", "/v1/tokenize", { model: MODEL, text: "" }, 400, "invalid request: required 'text' param is missing or empty."],
  ];
  for (const [what, method, path, body, status, message] of cases) {
    it(what, async () => {
      expect(await send(method, path, body)).toEqual({ status, message });
    });
  }
  it("a body that is not JSON: Cohere's `invalid json syntax: …`", async () => {
    const r = await send("POST", "/v2/chat", undefined, '{"model": "x", "messages": [}');
    expect(r.status).toBe(400);
    expect(r.message).toMatch(/^invalid json syntax: \S/);
  });
  it("a status fault without a message answers with the page's text for 402", async () => {
    emu.addFault({ path: "/v2/chat", fault: { kind: "status", status: 402 } });
    expect(await send("POST", "/v2/chat", { model: MODEL, messages: [user("hi")] })).toEqual({
      status: 402,
      message: "Please add or update your payment method at https://dashboard.cohere.com/billing?tab=payment to continue",
    });
  });
});

describe("through the server: Cohere's text, then what to do", () => {
  it("an unknown connector: Cohere's 404 and list_connectors", async () => {
    const r = await call("get_connector", { id: "web-search" });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^Cohere API error 404: connector 'web-search' not found\. No connector "web-search" is available to this key: call list_connectors/);
  });
  it("an unknown dataset: list_datasets", async () => {
    const r = await call("get_dataset", { id: "my-dataset-id" });
    expect(textOf(r)).toMatch(/^Cohere API error 404: dataset with id my-dataset-id not found No dataset "my-dataset-id" is available to this key: call list_datasets/);
  });
  it("an unknown fine-tuned model: list_finetuned_models", async () => {
    const r = await call("get_finetuned_model", { id: "xyz" });
    expect(textOf(r)).toMatch(/^Cohere API error 404: finetuned model xyz not found No fine-tuned model "xyz" is available to this key: call list_finetuned_models/);
  });
  it("the account's billing limit (402): the page's text and the operator's fix", async () => {
    emu.addFault({ path: "/v2/chat", fault: { kind: "status", status: 402 } });
    const r = await call("chat", { model: MODEL, messages: [user("hi")] });
    expect(textOf(r)).toMatch(
      /^Cohere API error 402: Please add or update your payment method at https:\/\/dashboard\.cohere\.com\/billing\?tab=payment to continue The Cohere account reached a billing or spending limit/,
    );
  });

  // Texts the server refuses before sending in its own words (so Cohere never says them to it)
  // still get specific advice when Cohere says them: e.g. from a newer model's rule.
  const said: Array<[string, string, Record<string, unknown>, number, string, RegExp]> = [
    ["/v2/chat", "chat", { model: MODEL, messages: [user("hi")] }, 400, "a model parameter is required for this endpoint.", /Name a `model`/],
    ["/v2/embed", "embed", { model: "embed-v4.0", input_type: "search_query", texts: ["a"] }, 400, "invalid request: total number of texts must be at most 96 - received 104", /Send at most 96 texts per call \(this call had 104\)/],
    ["/v2/chat", "chat", { model: MODEL, messages: [user("hi")] }, 400, "invalid request: temperature must be between 0 and 1.0 inclusive.", /Set temperature between 0 and 1\.0/],
    ["/v2/chat", "chat", { model: MODEL, messages: [user("hi")] }, 400, "invalid request: presence_penalty must be between 0 and 1 inclusive.", /Set presence_penalty between 0 and 1/],
    ["/v2/chat", "chat", { model: MODEL, messages: [user("hi")] }, 400, "tool call id not found in previous tool calls", /copy the ids from the assistant's tool_calls/],
    ["/v2/chat", "chat", { model: MODEL, messages: [user("hi")] }, 400, "tool call id must be provided with tool message", /Give every tool message the tool_call_id/],
    ["/v2/chat", "chat", { model: MODEL, messages: [user("hi")] }, 400, "cannot have duplicate tool ids", /needs an id of its own/],
    ["/v2/chat", "chat", { model: MODEL, messages: [user("hi")] }, 400, "invalid request: duplicate document ID adfasd at index 1 and 0", /Documents 0 and 1 share the id "adfasd"/],
    [
      "/v2/chat",
      "chat",
      { model: MODEL, messages: [user("hi")] },
      400,
      "invalid request: tool names can only contain certain characters (A-Za-z0-9_) and can't begin with a digit (provided name: 'get-weather').",
      /Rename the tool "get-weather" .* \(e\.g\. "get_weather"\)/,
    ],
    ["/v1/rerank", "rerank_v1", { query: "q", documents: ["a"] }, 400, "invalid request: rank_fields cannot be empty, it must either contain at least one field or be omitted", /Leave rank_fields out/],
    ["/v1/rerank", "rerank_v1", { query: "q", documents: ["a"] }, 400, "document does not have a 'snippet' or a 'text' field that can be used for chunking and reranking", /Give every document a `text` field/],
    [
      "/v2/chat",
      "chat",
      { model: MODEL, messages: [user("hi")] },
      402,
      "Maximum billing reached for this API key as set in your dashboard, please go to https://dashboard.cohere.com/billing?tab=payment to increase your maximum amount to continue using this API key. Your billing capacity will reset at the beginning of next month.",
      /the operator must raise it/,
    ],
    [
      "/v2/chat",
      "chat",
      { model: MODEL, messages: [user("hi")] },
      401,
      "Your API key has expired. Please create a production key at dashboard.cohere.com or reach out to your contact at Cohere to continue usage.",
      /has expired .*create a Production key/,
    ],
  ];
  for (const [path, tool, args, status, message, advice] of said) {
    it(`${status} ${message.slice(0, 70)}`, async () => {
      emu.addFault({ path, fault: { kind: "status", status, message } });
      const r = await call(tool, args);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(`Cohere API error ${status}: ${message}`);
      expect(textOf(r)).toMatch(advice);
      expect(emu.requests).toHaveLength(1);
    });
  }
});
