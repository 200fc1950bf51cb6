/**
 * Chat v2 where Cohere says no and the emulator used to say yes, and the tool-result turn as
 * Cohere answers it (issue 21, section 3): the server refuses what it can check before sending
 * (nothing sent), the emulator answers the rest with Cohere's 400; tool citations (sources of type
 * "tool", ids `<call_id>:<n>`) reach the agent, streamed and not; one tool may be called twice.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";

let emu: CohereEmulator;
let c: Connected;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  c = await connectStdio(emu.url, ["--tools", "chat"]);
});
afterAll(async () => {
  await c?.close();
  await emu.stop();
});
beforeEach(() => emu.reset());

const MODEL = "command-a-03-2025";
const WEATHER = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Gets the weather of a given location",
    parameters: { type: "object", properties: { location: { type: "string", description: "The location to get weather." } }, required: ["location"] },
  },
};
const call = async (args: Record<string, unknown>, onprogress?: (p: { message?: string }) => void) =>
  (await c.client.callTool({ name: "chat", arguments: args }, undefined, onprogress ? { onprogress } : undefined)) as ToolCallResult;
const post = async (body: unknown) => {
  const res = await fetch(`${emu.url}/v2/chat`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

const assistantCall = (id: string, location: string) => ({
  role: "assistant",
  tool_plan: "I will look up the weather.",
  tool_calls: [{ id, type: "function", function: { name: "get_weather", arguments: JSON.stringify({ location }) } }],
});

describe("refused before sending (the server) and 400 (the emulator)", () => {
  const user = { role: "user", content: "What's the weather in Toronto?" };
  const cases: Array<{ what: string; args: Record<string, unknown>; server: RegExp; emulator: RegExp }> = [
    {
      what: "a tool result for an id no assistant turn issued",
      args: { model: MODEL, tools: [WEATHER], messages: [user, assistantCall("get_weather_a1", "Toronto"), { role: "tool", tool_call_id: "get_weather_zz", content: "20C" }] },
      server: /messages\.2\.tool_call_id: no earlier assistant message has a tool call with id "get_weather_zz"/,
      emulator: /^tool call id not found in previous tool calls$/,
    },
    {
      what: "a tool result before the assistant turn that issues its id",
      args: { model: MODEL, tools: [WEATHER], messages: [user, { role: "tool", tool_call_id: "get_weather_a1", content: "20C" }, assistantCall("get_weather_a1", "Toronto")] },
      server: /messages\.1\.tool_call_id: no earlier assistant message/,
      emulator: /^tool call id not found in previous tool calls$/,
    },
    {
      what: "duplicate tool-call ids",
      args: {
        model: MODEL,
        tools: [WEATHER],
        messages: [user, assistantCall("get_weather_a1", "Toronto"), { role: "tool", tool_call_id: "get_weather_a1", content: "20C" }, user, assistantCall("get_weather_a1", "Paris")],
      },
      server: /messages\.4\.tool_calls\.0\.id: duplicate tool call id "get_weather_a1"/,
      emulator: /^cannot have duplicate tool ids$/,
    },
    {
      what: "duplicate document ids",
      args: { model: MODEL, messages: [user], documents: [{ id: "d1", data: { text: "a" } }, { id: "d1", data: { text: "b" } }] },
      server: /documents\.1\.id: duplicate document id "d1"/,
      emulator: /^invalid request: duplicate document ID d1 at index 1 and 0$/,
    },
    {
      what: "a tool name with a hyphen (MCP tool names often have one)",
      args: { model: MODEL, messages: [user], tools: [{ ...WEATHER, function: { ...WEATHER.function, name: "get-weather" } }] },
      server: /tools\.0\.function\.name: Cohere accepts tool names of letters, digits and _ only, not starting with a digit: rename "get-weather" \(e\.g\. "get_weather"\)/,
      emulator: /^invalid request: tool names can only contain certain characters \(A-Za-z0-9_\) and can't begin with a digit \(provided name: 'get-weather'\)\.$/,
    },
    {
      what: "a tool name starting with a digit",
      args: { model: MODEL, messages: [user], tools: [{ ...WEATHER, function: { ...WEATHER.function, name: "2weather" } }] },
      server: /rename "2weather" \(e\.g\. "_2weather"\)/,
      emulator: /provided name: '2weather'/,
    },
  ];
  for (const k of cases) {
    it(k.what, async () => {
      const r = await call(k.args);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(k.server);
      expect(textOf(r)).toMatch(/nothing was sent to Cohere/);
      expect(emu.requests).toHaveLength(0);
      const direct = await post(k.args);
      expect(direct.status).toBe(400);
      expect(direct.body.message).toMatch(k.emulator);
    });
  }
});

describe("document.data as a JSON string (Cohere's tool-use guide sends json.dumps(result))", () => {
  it("is accepted by the server, forwarded as given, and cited by the emulator", async () => {
    const data = JSON.stringify({ city: "Toronto", temperature: "20C" });
    const messages = [
      { role: "user", content: "What's the weather in Toronto?" },
      assistantCall("get_weather_a1", "Toronto"),
      { role: "tool", tool_call_id: "get_weather_a1", content: [{ type: "document", document: { data } }] },
    ];
    const r = await call({ model: MODEL, tools: [WEATHER], messages, documents: [{ id: "w", data }] });
    expect(r.isError, textOf(r)).toBeFalsy();
    const sent = emu.requests.at(-1)!.body as { messages: Array<{ content: unknown }>; documents: unknown[] };
    expect(sent.messages[2]!.content).toEqual([{ type: "document", document: { data } }]);
    expect(sent.documents).toEqual([{ id: "w", data }]);
    const cites = r.structuredContent!.citations as Array<{ sources: Array<Record<string, unknown>> }>;
    expect(cites[0]!.sources[0]).toEqual({ type: "tool", id: "get_weather_a1:0", tool_output: { city: "Toronto", temperature: "20C" } });
  });
});

describe("the tool-result turn, as Cohere answers it", () => {
  const ask = { role: "user", content: "What's the weather in Madrid and Brasilia?" };

  it("the same tool is called once per place, with arguments from the request", async () => {
    const r = await call({ model: MODEL, tools: [WEATHER], messages: [ask] });
    expect(r.isError, textOf(r)).toBeFalsy();
    const calls = r.structuredContent!.tool_calls as Array<{ id: string; function: { name: string; arguments: string } }>;
    expect(calls.map((x) => [x.function.name, JSON.parse(x.function.arguments)])).toEqual([
      ["get_weather", { location: "Madrid" }],
      ["get_weather", { location: "Brasilia" }],
    ]);
    expect(new Set(calls.map((x) => x.id)).size).toBe(2);
    expect(textOf(r)).toMatch(/- get_weather\(\{"location":"Madrid"\}\) id=get_weather_\w+\n- get_weather\(\{"location":"Brasilia"\}\) id=get_weather_\w+/);
  });

  async function answerWithResults(onprogress?: (p: { message?: string }) => void) {
    const first = await call({ model: MODEL, tools: [WEATHER], messages: [ask] });
    const calls = first.structuredContent!.tool_calls as Array<{ id: string; type: string; function: { name: string; arguments: string } }>;
    const [madrid, brasilia] = calls.map((x) => x.id);
    const messages = [
      ask,
      { role: "assistant", tool_plan: first.structuredContent!.tool_plan, tool_calls: calls },
      { role: "tool", tool_call_id: madrid, content: [{ type: "document", document: { data: { temperature: "24C" } } }] },
      { role: "tool", tool_call_id: brasilia, content: [{ type: "document", document: { data: JSON.stringify({ temperature: "28C" }) } }] },
    ];
    return { r: await call({ model: MODEL, tools: [WEATHER], messages }, onprogress), madrid: madrid!, brasilia: brasilia! };
  }

  it("not streamed: citations whose sources are the tools (type tool, id <call_id>:<n>, the tool output), rendered for the agent", async () => {
    const { r, madrid, brasilia } = await answerWithResults();
    expect(r.isError, textOf(r)).toBeFalsy();
    const cites = r.structuredContent!.citations as Array<{ text: string; sources: Array<Record<string, unknown>> }>;
    expect(cites.map((x) => x.sources)).toEqual([
      [{ type: "tool", id: `${madrid}:0`, tool_output: { temperature: "24C" } }],
      [{ type: "tool", id: `${brasilia}:0`, tool_output: { temperature: "28C" } }],
    ]);
    expect(textOf(r)).toContain(`Citations (span ← sources):\n- "24C" ← tool ${madrid}:0\n- "28C" ← tool ${brasilia}:0`);
  });

  it("streamed: citation-start / citation-end carry the same tool citations; the result is the same", async () => {
    const progress: string[] = [];
    const { r, madrid, brasilia } = await answerWithResults((p) => progress.push(p.message ?? ""));
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(progress.join("")).toMatch(/^Based on the tool results: 24C; 28C\.$/);
    const raw = emu.requests.at(-1)!;
    expect((raw.body as { stream?: boolean }).stream).toBe(true);
    const cites = r.structuredContent!.citations as Array<{ sources: Array<{ id: string; type: string }> }>;
    expect(cites.map((x) => x.sources[0]!.id)).toEqual([`${madrid}:0`, `${brasilia}:0`]);
    expect(cites.every((x) => x.sources[0]!.type === "tool")).toBe(true);
    expect(textOf(r)).toContain(`- "28C" ← tool ${brasilia}:0`);
  });
});
