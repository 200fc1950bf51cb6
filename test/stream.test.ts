/**
 * Streamed chat / chat_v1 / generate over a real MCP client against the emulator: progress
 * notifications arrive in order and concatenate to the final text; the final result has the same
 * shape as a non-streamed call; mid-stream errors keep the text received so far.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";

let emu: CohereEmulator;
let c: Connected;
beforeAll(async () => {
  // a small gap between events, as over a real network (events in one read are fine too)
  emu = await startEmulator({ apiKey: TEST_KEY, streamChunkDelayMs: 2 });
  c = await connectStdio(emu.url, ["--tools", "chat,chat_v1,generate"]);
});
afterAll(async () => {
  await c.close();
  await emu.stop();
});
beforeEach(() => emu.reset());

const WARNING = "The /v1/generate endpoint is deprecated and no longer maintained, for more information please refer to https://docs.cohere.com/docs/migrating-from-cogenerate-to-cochat";
const LONG = "Please tell me everything you know about the history of the city of Paris and the river Seine in detail";
const chatArgs = (content: string) => ({ model: "command-a-03-2025", messages: [{ role: "user", content }] });

interface Progress {
  progress: number;
  message?: string;
}

async function streamed(name: string, args: Record<string, unknown>): Promise<{ r: ToolCallResult; progress: Progress[] }> {
  const progress: Progress[] = [];
  const r = (await c.client.callTool({ name, arguments: args }, undefined, {
    onprogress: (p) => progress.push({ progress: p.progress, message: p.message }),
  })) as ToolCallResult;
  return { r, progress };
}

function expectInOrder(progress: Progress[]): void {
  expect(progress.length).toBeGreaterThan(1);
  for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
}

describe("streamed chat (v2, SSE)", () => {
  it("asks Cohere for a stream only when the call carries a progress token", async () => {
    await c.client.callTool({ name: "chat", arguments: chatArgs("hello") });
    await streamed("chat", chatArgs("hello"));
    expect(emu.requests.map((r) => (r.body as { stream?: boolean }).stream)).toEqual([undefined, true]);
    expect(emu.requests.every((r) => r.valid)).toBe(true);
  });

  it("forwards pieces in order; they concatenate to the final text, identical in shape to a plain call", async () => {
    const { r, progress } = await streamed("chat", chatArgs(LONG));
    expectInOrder(progress);
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as { text: string; finish_reason: string; usage: unknown; id: string };
    expect(progress.map((p) => p.message).join("")).toBe(s.text);
    expect(s.text).toBe(`Echo: ${LONG}`);
    expect(textOf(r)).toBe(s.text);

    const plain = (await c.client.callTool({ name: "chat", arguments: chatArgs(LONG) })) as ToolCallResult;
    const p = plain.structuredContent as typeof s;
    expect(Object.keys(s).sort()).toEqual(Object.keys(p).sort());
    expect({ ...s, id: "" }).toEqual({ ...p, id: "" });
    expect(textOf(plain)).toBe(textOf(r));
  });

  it("streams tool-plan and tool-call pieces and assembles the tool calls", async () => {
    const args = {
      model: "command-a-03-2025",
      messages: [{ role: "user", content: "please use get_weather for Paris" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
    };
    const { r, progress } = await streamed("chat", args);
    expectInOrder(progress);
    const messages = progress.map((p) => p.message ?? "");
    expect(messages.some((m) => m.startsWith("[tool plan] "))).toBe(true);
    expect(messages).toContain("[tool call] get_weather");
    const s = r.structuredContent as { tool_plan: string; tool_calls: Array<{ function: { name: string; arguments: string } }>; finish_reason: string };
    expect(s.finish_reason).toBe("TOOL_CALL");
    expect(s.tool_plan).toBe(messages.filter((m) => m.startsWith("[tool plan] ")).map((m) => m.slice(12)).join(""));
    expect(s.tool_calls[0]!.function).toEqual({ name: "get_weather", arguments: "{}" });
    const plain = (await c.client.callTool({ name: "chat", arguments: args })) as ToolCallResult;
    expect(Object.keys(plain.structuredContent!).sort()).toEqual(Object.keys(s).sort());
    expect(textOf(r)).toMatch(/get_weather\(\{\}\)/);
  });

  it("streams citations into the final result like a plain call", async () => {
    const args = { ...chatArgs("what about paris"), documents: ["Paris is the capital of France.", "The Seine flows through Paris."] };
    const { r, progress } = await streamed("chat", args);
    const plain = (await c.client.callTool({ name: "chat", arguments: args })) as ToolCallResult;
    expect(progress.map((p) => p.message).join("")).toBe((r.structuredContent as { text: string }).text);
    expect((r.structuredContent as { citations: unknown[] }).citations).toEqual((plain.structuredContent as { citations: unknown[] }).citations);
  });

  it("finish_reason ERROR mid-stream: a tool error that keeps the text received so far", async () => {
    const { r, progress } = await streamed("chat", chatArgs(`${LONG} [emulate:error]`));
    expect(r.isError).toBe(true);
    const sofar = progress.map((p) => p.message).join("");
    expect(sofar.length).toBeGreaterThan(0);
    expect(textOf(r)).toMatch(/finish_reason ERROR: emulated error: the generation failed mid-way/);
    expect(textOf(r)).toContain(`Text received so far (${sofar.length} characters):\n${sofar}`);
  });

  it("a cut connection mid-stream: a tool error that keeps the text so far, not retried", async () => {
    emu.addFault({ path: "/v2/chat", fault: { kind: "cut-stream", afterEvents: 4 } });
    const { r, progress } = await streamed("chat", chatArgs(LONG));
    expect(r.isError).toBe(true);
    const sofar = progress.map((p) => p.message).join("");
    expect(sofar.length).toBeGreaterThan(0);
    expect(textOf(r)).toMatch(/cut mid-stream after 4 events/);
    expect(textOf(r)).toContain(`Text received so far (${sofar.length} characters):\n${sofar}`);
    expect(emu.requests).toHaveLength(1);
  });

  it("a cut before any text says so", async () => {
    emu.addFault({ path: "/v2/chat", fault: { kind: "cut-stream", afterEvents: 1 } });
    const { r } = await streamed("chat", chatArgs(LONG));
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/No text had arrived/);
  });
});

describe("streamed chat_v1 and generate (NDJSON)", () => {
  it("chat_v1: pieces in order, concatenated = final text; same shape as a plain call", async () => {
    const { r, progress } = await streamed("chat_v1", { message: LONG });
    expectInOrder(progress);
    const s = r.structuredContent as { text: string; finish_reason: string };
    expect(progress.map((p) => p.message).join("")).toBe(s.text);
    expect(s.finish_reason).toBe("COMPLETE");
    expect((emu.requests[0]!.body as { stream: boolean }).stream).toBe(true);
    expect(emu.requests[0]!.valid).toBe(true);
    const plain = (await c.client.callTool({ name: "chat_v1", arguments: { message: LONG } })) as ToolCallResult;
    expect(Object.keys(plain.structuredContent!).sort()).toEqual(Object.keys(s).sort());
    expect(textOf(plain)).toBe(textOf(r));
  });

  it("chat_v1: ERROR at stream-end keeps the streamed text; a cut stream too", async () => {
    const { r, progress } = await streamed("chat_v1", { message: `${LONG} [emulate:error]` });
    expect(r.isError).toBe(true);
    const sofar = progress.map((p) => p.message).join("");
    expect(textOf(r)).toContain(`finish_reason ERROR. Text received so far (${sofar.length} characters):\n${sofar}`);

    emu.addFault({ path: "/v1/chat", fault: { kind: "cut-stream", afterEvents: 3 } });
    const cut = await streamed("chat_v1", { message: LONG });
    expect(cut.r.isError).toBe(true);
    const sofar2 = cut.progress.map((p) => p.message).join("");
    expect(textOf(cut.r)).toContain(`Text received so far (${sofar2.length} characters):\n${sofar2}`);
  });

  it("generate: pieces in order, concatenated = final text; stream-error keeps the text", async () => {
    const { r, progress } = await streamed("generate", { prompt: LONG });
    expectInOrder(progress);
    const s = r.structuredContent as { generations: Array<{ text: string }> };
    expect(progress.map((p) => p.message).join("")).toBe(s.generations[0]!.text);
    // generate is deprecated: Cohere's X-API-Warning follows the text, once
    expect(textOf(r)).toBe(`${s.generations[0]!.text}\n\nCohere warning (X-API-Warning): ${WARNING}`);
    const plain = (await c.client.callTool({ name: "generate", arguments: { prompt: LONG } })) as ToolCallResult;
    // a streamed generation also says how it ended (SingleGenerationInStream); the plain one cannot
    const { finish_reason, ...streamedKeys } = s.generations[0] as Record<string, unknown>;
    expect(finish_reason).toBe("COMPLETE");
    expect(Object.keys((plain.structuredContent as typeof s).generations[0]!).sort()).toEqual(Object.keys(streamedKeys).sort());
    expect(textOf(plain)).toBe(textOf(r));

    const bad = await streamed("generate", { prompt: `${LONG} [emulate:error]` });
    expect(bad.r.isError).toBe(true);
    const sofar = bad.progress.map((p) => p.message).join("");
    expect(sofar.length).toBeGreaterThan(0);
    expect(textOf(bad.r)).toContain("emulated error: the generation failed mid-way");
    expect(textOf(bad.r)).toContain(`Text received so far (${sofar.length} characters):\n${sofar}`);
  });
});

describe("--timeout and streams", () => {
  it("bounds the wait for the headers only: a stream longer than --timeout is not cut; slow headers still time out", async () => {
    const d = await connectStdio(emu.url, ["--tools", "chat", "--timeout", "800", "--max-retries", "0"]);
    try {
      // --timeout 800, not less: a fresh server's first call under a loaded CI machine can take
      // a few hundred ms to get its headers, which is not what this test is about
      emu.setStreamChunkDelay(130); // 16 events: ~2 s of stream, 2.5× the timeout
      const content = Array.from({ length: 60 }, (_, i) => `w${i}`).join(" ");
      const progress: string[] = [];
      const t0 = performance.now();
      const r = (await d.client.callTool({ name: "chat", arguments: chatArgs(content) }, undefined, {
        onprogress: (p) => progress.push(p.message ?? ""),
      })) as ToolCallResult;
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(performance.now() - t0).toBeGreaterThan(1_500);
      expect(textOf(r)).toMatch(/^Echo: w0 w1 .* w50/);
      expect(progress.join("")).toBe(textOf(r));

      emu.addFault({ path: "/v2/chat", fault: { kind: "delay", ms: 2_500 } });
      const slow = (await d.client.callTool({ name: "chat", arguments: chatArgs("hi") }, undefined, { onprogress: () => undefined })) as ToolCallResult;
      expect(slow.isError).toBe(true);
      expect(textOf(slow)).toMatch(/did not answer within 800 ms/);
    } finally {
      await d.close();
    }
  });
});
