/**
 * Cut-off replies (issue 9): the emulator ends a reply at max_tokens (MAX_TOKENS) or at a stop
 * sequence (STOP_SEQUENCE) and bills exactly the tokens it returned, like Cohere. Through a real
 * MCP client, streamed and not, the agent gets the cut text, a structured result saying so
 * (`finish_reason`, `truncated`, billed tokens) and a sentence on what to do.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";

let emu: CohereEmulator;
let c: Connected;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  c = await connectStdio(emu.url, ["--tools", "chat,chat_v1,generate"]);
});
afterAll(async () => {
  await c?.close();
  await emu?.stop();
});
beforeEach(() => emu.reset());

const LONG = "Please tell me everything you know about the history of the city of Paris and the river Seine";
const FULL = `Echo: ${LONG}`;
const chatArgs = (extra: Record<string, unknown>) => ({ model: "command-a-03-2025", messages: [{ role: "user", content: LONG }], ...extra });

/** The call plain, then streamed: both results, and what streamed as progress. */
async function plainAndStreamed(name: string, args: Record<string, unknown>) {
  const plain = (await c.client.callTool({ name, arguments: args })) as ToolCallResult;
  const progress: string[] = [];
  const streamed = (await c.client.callTool({ name, arguments: args }, undefined, { onprogress: (p) => progress.push(p.message ?? "") })) as ToolCallResult;
  return { plain, streamed, progress };
}

type Chat = { text: string; finish_reason: string; truncated?: boolean; usage: { billed_units: { output_tokens: number } } };

describe("chat (v2)", () => {
  it("max_tokens: the reply is cut there, billed output tokens = max_tokens, the agent is told how to get more", async () => {
    const { plain, streamed, progress } = await plainAndStreamed("chat", chatArgs({ max_tokens: 6 }));
    for (const r of [plain, streamed]) {
      const s = r.structuredContent as Chat;
      expect(r.isError).toBeFalsy();
      expect(FULL.startsWith(s.text) && s.text.length < FULL.length).toBe(true);
      expect(s).toMatchObject({ finish_reason: "MAX_TOKENS", truncated: true, usage: { billed_units: { output_tokens: 6 } } });
      expect(textOf(r)).toBe(`${s.text}\n\n[finish_reason: MAX_TOKENS] The reply was cut off at max_tokens: call again with a larger max_tokens, or ask for a shorter answer.`);
    }
    expect(progress.join("")).toBe((streamed.structuredContent as Chat).text);
    expect({ ...streamed.structuredContent, id: "" }).toEqual({ ...plain.structuredContent, id: "" });
  });

  it("stop_sequences: the reply ends before the sequence, with STOP_SEQUENCE and a note", async () => {
    const { plain, streamed } = await plainAndStreamed("chat", chatArgs({ stop_sequences: ["everything"] }));
    for (const r of [plain, streamed]) {
      const s = r.structuredContent as Chat;
      expect(s.text).toBe("Echo: Please tell me ");
      expect(s.finish_reason).toBe("STOP_SEQUENCE");
      expect(s.truncated).toBeUndefined();
      expect(textOf(r)).toMatch(/\[finish_reason: STOP_SEQUENCE\] The reply stopped at one of the stop_sequences/);
    }
  });

  it("JSON mode cut by max_tokens: the agent is told the JSON will not parse", async () => {
    const { plain, streamed } = await plainAndStreamed("chat", chatArgs({ max_tokens: 4, response_format: { type: "json_object" } }));
    for (const r of [plain, streamed]) {
      const s = r.structuredContent as Chat;
      expect(() => JSON.parse(s.text)).toThrow();
      expect(textOf(r)).toMatch(/The JSON above is incomplete and will not parse\.$/);
    }
  });

  it("a reply that ends on its own says nothing more", async () => {
    const { plain, streamed } = await plainAndStreamed("chat", chatArgs({ max_tokens: 500 }));
    for (const r of [plain, streamed]) expect(textOf(r)).toBe(FULL);
  });
});

describe("chat_v1 and generate", () => {
  it("chat_v1: MAX_TOKENS and STOP_SEQUENCE, streamed and not, with the same notes", async () => {
    const cut = await plainAndStreamed("chat_v1", { message: LONG, max_tokens: 5 });
    for (const r of [cut.plain, cut.streamed]) {
      expect(r.structuredContent).toMatchObject({ finish_reason: "MAX_TOKENS", truncated: true, meta: { billed_units: { output_tokens: 5 } } });
      expect(textOf(r)).toMatch(/cut off at max_tokens/);
    }
    const stop = await plainAndStreamed("chat_v1", { message: LONG, stop_sequences: ["history"] });
    for (const r of [stop.plain, stop.streamed]) {
      expect(r.structuredContent).toMatchObject({ text: "Echo: Please tell me everything you know about the ", finish_reason: "STOP_SEQUENCE" });
      expect(textOf(r)).toMatch(/\[finish_reason: STOP_SEQUENCE\]/);
    }
  });

  it("generate: billed tokens = returned; the stream, which says MAX_TOKENS, tells the agent", async () => {
    const { plain, streamed } = await plainAndStreamed("generate", { prompt: LONG, max_tokens: 4 });
    const p = plain.structuredContent as { generations: Array<{ text: string }>; meta: { billed_units: { output_tokens: number } } };
    expect(p.meta.billed_units.output_tokens).toBe(4);
    expect(FULL.startsWith(p.generations[0]!.text)).toBe(true);
    const s = streamed.structuredContent as { generations: Array<{ text: string; finish_reason: string }>; truncated?: boolean };
    expect(s.generations[0]).toMatchObject({ text: p.generations[0]!.text, finish_reason: "MAX_TOKENS" });
    expect(s.truncated).toBe(true);
    expect(textOf(streamed)).toMatch(/cut off at max_tokens/);
  });
});
