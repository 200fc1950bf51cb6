/**
 * Errors where Cohere errs (issue 9): the emulator answers like Cohere (its messages from
 * Cohere's errors page), and the agent gets an actionable tool error for each case:
 *   - what only Cohere can know (an unknown model, a model of the wrong kind, max_tokens above
 *     that model's output limit) reaches Cohere, and its message comes back with advice;
 *   - what cohere-mcp can see in the arguments (no documents, a blank query / prompt / message,
 *     a system turn after the first, response_format with documents, classify with fewer than two
 *     labels) is refused before anything is sent;
 *   - and for every one of Cohere's messages, the advice the agent gets is specific.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";

let emu: CohereEmulator;
let c: Connected;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  c = await connectStdio(emu.url, ["--tools", "chat,chat_v1,generate,rerank,rerank_v1,classify,embed", "--max-retries", "0"]);
});
afterAll(async () => {
  await c?.close();
  await emu?.stop();
});
beforeEach(() => emu.reset());

const call = async (name: string, args: Record<string, unknown>) => (await c.client.callTool({ name, arguments: args })) as ToolCallResult;
const user = (content: unknown) => ({ role: "user", content });

describe("what only Cohere knows: Cohere's answer, its request id, and advice", () => {
  const cases: Array<{ label: string; tool: string; args: Record<string, unknown>; status: number; message: RegExp; advice: RegExp }> = [
    {
      label: "unknown model",
      tool: "chat",
      args: { model: "command-z-nope", messages: [user("hi")] },
      status: 404,
      message: /model 'command-z-nope' not found, make sure the correct model ID was used/,
      advice: /Check the id or model name: no model named "command-z-nope" is available to this key\. Call list_models/,
    },
    {
      label: "an embed model sent to chat",
      tool: "chat",
      args: { model: "embed-v4.0", messages: [user("hi")] },
      status: 400,
      message: /invalid request: model 'embed-v4\.0' is not supported by the chat API/,
      advice: /"embed-v4\.0" cannot serve the chat API: pick a model made for it \(list_models with endpoint=chat\)/,
    },
    {
      label: "a chat model sent to rerank",
      tool: "rerank",
      args: { model: "command-a-03-2025", query: "q", documents: ["a"] },
      status: 400,
      message: /not supported by the rerank API/,
      advice: /list_models with endpoint=rerank/,
    },
    {
      label: "max_tokens above the model's limit",
      tool: "chat",
      args: { model: "command-r-08-2024", messages: [user("hi")], max_tokens: 8192 },
      status: 400,
      message: /too many tokens: max tokens must be less than or equal to 4096, the maximum output for this model - received 8192\./,
      advice: /Lower max_tokens to at most 4096 \(this model's output limit\)/,
    },
    {
      label: "max_tokens above the default model's limit (generate, no model)",
      tool: "generate",
      args: { prompt: "hi", max_tokens: 5000 },
      status: 400,
      message: /max tokens must be less than or equal to 4096/,
      advice: /Lower max_tokens to at most 4096/,
    },
  ];
  for (const k of cases) {
    it(k.label, async () => {
      const r = await call(k.tool, k.args);
      expect(r.isError).toBe(true);
      const text = textOf(r);
      expect(text).toMatch(new RegExp(`^Cohere API error ${k.status}: `));
      expect(text).toMatch(k.message);
      expect(text).toMatch(k.advice);
      const sent = emu.requests.at(-1)!;
      expect(text).toContain(`Request id: ${sent.traceId}.`);
    });
  }
});

describe("what cohere-mcp can see: refused before anything is sent", () => {
  const cases: Array<{ label: string; tool: string; args: Record<string, unknown>; says: RegExp }> = [
    { label: "rerank without documents", tool: "rerank", args: { model: "rerank-v3.5", query: "q", documents: [] }, says: /documents: Array must contain at least 1/ },
    { label: "rerank with a blank query", tool: "rerank", args: { model: "rerank-v3.5", query: "   ", documents: ["a"] }, says: /query: must not be only whitespace/ },
    { label: "rerank_v1 with a blank query", tool: "rerank_v1", args: { query: "\t\n", documents: ["a"] }, says: /query: must not be only whitespace/ },
    { label: "generate with a blank prompt", tool: "generate", args: { prompt: "  " }, says: /prompt: must not be only whitespace/ },
    {
      label: "generate with max_tokens 0 and no likelihoods",
      tool: "generate",
      args: { prompt: "hi", max_tokens: 0 },
      says: /max_tokens: 0 is only allowed with return_likelihoods ALL/,
    },
    { label: "chat_v1 with a blank message", tool: "chat_v1", args: { message: " " }, says: /message: must not be only whitespace \(unless tool_results are given\)/ },
    { label: "chat with an empty user turn", tool: "chat", args: { model: "command-a-03-2025", messages: [user("  ")] }, says: /messages\.0\.content: must not be empty/ },
    {
      label: "chat with empty text blocks",
      tool: "chat",
      args: { model: "command-a-03-2025", messages: [user([{ type: "text", text: "" }])] },
      says: /messages\.0\.content: must not be empty/,
    },
    {
      label: "chat with a system message after the first turn",
      tool: "chat",
      args: { model: "command-a-03-2025", messages: [user("hi"), { role: "system", content: "be brief" }] },
      says: /messages\.1\.role: a system message must come before every other message/,
    },
    {
      label: "chat_v1 with a SYSTEM history message after a USER one",
      tool: "chat_v1",
      args: { message: "hi", chat_history: [{ role: "USER", message: "a" }, { role: "SYSTEM", message: "b" }] },
      says: /chat_history\.1\.role: a SYSTEM message must come before every other message/,
    },
    {
      label: "chat with response_format json_object and documents",
      tool: "chat",
      args: { model: "command-a-03-2025", messages: [user("hi")], documents: ["d"], response_format: { type: "json_object" } },
      says: /response_format: Cohere does not combine JSON output with `documents` \(RAG\)/,
    },
    {
      label: "chat_v1 with response_format json_object and documents",
      tool: "chat_v1",
      args: { message: "hi", documents: [{ text: "d" }], response_format: { type: "json_object" } },
      says: /response_format: Cohere does not combine JSON output/,
    },
    {
      label: "classify with one label and no model",
      tool: "classify",
      args: { inputs: ["x"], examples: [{ text: "a", label: "A" }, { text: "b", label: "A" }] },
      says: /examples: give examples for at least 2 different labels \(got 1\), or a fine-tuned classify `model`/,
    },
  ];
  for (const k of cases) {
    it(k.label, async () => {
      const r = await call(k.tool, k.args);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/^Invalid arguments for \w+; nothing was sent to Cohere/);
      expect(textOf(r)).toMatch(k.says);
      expect(emu.requests).toEqual([]);
    });
  }

  it("the valid neighbours of those cases are sent and answered", async () => {
    for (const [tool, args] of [
      ["chat", { model: "command-a-03-2025", messages: [{ role: "system", content: "be brief" }, user("hi")] }],
      ["chat", { model: "command-a-03-2025", messages: [user("hi")], documents: ["d"], response_format: { type: "text" } }],
      ["chat", { model: "command-a-03-2025", messages: [user("hi")], response_format: { type: "json_object" } }],
      ["generate", { prompt: "hi there", max_tokens: 0, return_likelihoods: "ALL" }],
      ["classify", { inputs: ["x"], examples: [{ text: "a", label: "A" }, { text: "b", label: "A" }, { text: "c", label: "B" }, { text: "d", label: "B" }] }],
    ] as const) {
      const r = await call(tool, args as Record<string, unknown>);
      expect(r.isError, `${tool}: ${textOf(r)}`).toBeFalsy();
    }
    expect(emu.requests.every((q) => q.valid)).toBe(true);
  });
});

describe("Cohere's own messages get specific advice", () => {
  // Each message as Cohere's errors page words it, answered by the emulator (a status fault) to
  // a call that cohere-mcp would send: the agent must learn what to change.
  const cases: Array<[string, string, Record<string, unknown>, number, string, RegExp]> = [
    ["/v2/rerank", "rerank", { model: "rerank-v3.5", query: "q", documents: ["a"] }, 400, "invalid request: list of documents must not be empty", /Give at least one document/],
    ["/v2/rerank", "rerank", { model: "rerank-v3.5", query: "q", documents: ["a"] }, 400, "invalid request: query must not be empty or be only whitespace", /Give a query with some text in it/],
    ["/v1/generate", "generate", { prompt: "hi" }, 400, "invalid request: prompt must be at least 1 token long.", /Give a prompt with some text in it/],
    [
      "/v1/chat",
      "chat_v1",
      { message: "hi" },
      400,
      "invalid request: message must be at least 1 token long or tool results must be specified.",
      /Give a `message` with some text in it, or answer the model's tool calls with `tool_results`/,
    ],
    ["/v2/chat", "chat", { model: "command-a-03-2025", messages: [user("hi")] }, 400, "message must not be empty in a turn", /Every user and system message needs some content/],
    ["/v2/chat", "chat", { model: "command-a-03-2025", messages: [user("hi")] }, 400, "system turn must be the first in the list", /Move the system message to the start of `messages`/],
    [
      "/v2/chat",
      "chat",
      { model: "command-a-03-2025", messages: [user("hi")] },
      400,
      "invalid request: response_format is not supported with RAG.",
      /Cohere cannot combine JSON output \(response_format json_object\) with `documents`: drop one of them/,
    ],
    [
      "/v1/classify",
      "classify",
      { inputs: ["x"], model: "my-ft" },
      400,
      "invalid request: min classes for classify request is 2 - received 1",
      /The examples name 1 label\(s\): give examples for at least two different labels/,
    ],
    [
      "/v2/chat",
      "chat",
      { model: "command-a-03-2025", messages: [user("hi")] },
      400,
      "too many tokens: max tokens must be less than or equal to 8192, the maximum output for this model - received 9000.",
      /Lower max_tokens to at most 8192/,
    ],
    ["/v2/chat", "chat", { model: "command-a-03-2025", messages: [user("hi")] }, 404, "model 'command-a-03-2025' not found, make sure the correct model ID was used and that you have access to the model.", /Call list_models/],
    ["/v2/embed", "embed", { model: "embed-v4.0", input_type: "search_query", texts: ["a"] }, 400, "invalid request: model 'embed-v4.0' is not supported by the embed API", /pick a model made for it \(list_models with endpoint=embed\)/],
  ];
  for (const [path, tool, args, status, message, advice] of cases) {
    it(message, async () => {
      emu.addFault({ path, fault: { kind: "status", status, message } });
      const r = await call(tool, args);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toContain(`Cohere API error ${status}: ${message}`);
      expect(textOf(r)).toMatch(advice);
      expect(emu.requests).toHaveLength(1);
    });
  }

  it("a message it does not know gets the status's general advice", async () => {
    emu.addFault({ path: "/v2/chat", fault: { kind: "status", status: 400, message: "invalid request: something new" } });
    const r = await call("chat", { model: "command-a-03-2025", messages: [user("hi")] });
    expect(textOf(r)).toMatch(/invalid request: something new Fix the fields or values named in the message and call again\./);
  });
});
