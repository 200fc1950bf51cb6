/**
 * The v1 streaming Accept header (issue 21, section 3): cohere-mcp asks as Cohere's own SDK does
 * (`*\/*` for v1 chat and generate streams, text/event-stream for v2), and the emulator checks
 * that a v1 stream request admits a stream format at all.
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
  await emu.stop();
});
beforeEach(() => emu.reset());

const streamed = async (name: string, args: Record<string, unknown>) => {
  const progress: string[] = [];
  const r = (await c.client.callTool({ name, arguments: args }, undefined, { onprogress: (p) => progress.push(p.message ?? "") })) as ToolCallResult;
  return { r, progress, req: emu.requests.at(-1)! };
};

describe("Accept on streamed calls", () => {
  it("v1 chat and generate streams ask with */* (as cohere-ai does) and get NDJSON; v2 chat asks for text/event-stream", async () => {
    for (const [name, args] of [
      ["chat_v1", { message: "hello there" }],
      ["generate", { prompt: "hello there" }],
    ] as const) {
      const { r, progress, req } = await streamed(name, args);
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(progress.join("").length).toBeGreaterThan(0);
      expect(req.headers["accept"], name).toBe("*/*");
      expect(req.headers["accepts"], name).toBeUndefined();
    }
    const v2 = await streamed("chat", { model: "command-a-03-2025", messages: [{ role: "user", content: "hi" }] });
    expect(v2.req.headers["accept"]).toBe("text/event-stream");
  });

  it("the emulator refuses a v1 stream whose Accept admits no stream format, and serves the others", async () => {
    const post = async (path: string, body: unknown, accept?: string) => {
      const headers: Record<string, string> = { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" };
      if (accept !== undefined) headers.accept = accept;
      const res = await fetch(`${emu.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
      return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
    };
    const bad = await post("/v1/chat", { message: "hi", stream: true }, "application/json");
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).message).toMatch(/^invalid request: the Accept header 'application\/json' admits no stream format/);
    expect((await post("/v1/generate", { prompt: "hi", stream: true }, "application/json")).status).toBe(400);
    for (const accept of [undefined, "*/*", "application/stream+json", "application/json, */*;q=0.1"]) {
      const ok = await post("/v1/chat", { message: "hi", stream: true }, accept);
      expect(ok.status, String(accept)).toBe(200);
      expect(ok.type).toBe("application/stream+json");
    }
    // not a stream: Accept: application/json is what a JSON call sends
    expect((await post("/v1/chat", { message: "hi" }, "application/json")).status).toBe(200);
  });
});
