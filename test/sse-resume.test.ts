/**
 * Streams as the spec recommends (issue 14, SEP-1699): with --sessions, a POST answered over
 * SSE starts with a priming event (an id, `retry:` and empty data) for clients on 2025-11-25 or
 * newer; a client whose stream dropped resumes with GET + Last-Event-ID and gets what it missed.
 * The replay buffer is bounded per session (--sse-replay-bytes).
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { SessionEventStore } from "../src/transports/http/legacy/event-store.js";
import { TEST_KEY } from "./helpers.js";
import { MCP_HEADERS, rawRequest, startHttp, type HttpServerProc } from "./http-support.js";

const RERANK = { model: "rerank-v3.5", query: "capital of France", documents: ["Paris is the capital of France", "Bananas"] };
const init = (protocolVersion: string) => ({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

interface SseEvent {
  id?: string;
  retry?: string;
  data: string;
}
function parseSse(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() && !block.split("\n").every((l) => l.startsWith(":")))
    .map((block) => {
      const e: SseEvent = { data: "" };
      for (const line of block.split("\n")) {
        const i = line.indexOf(":");
        if (i <= 0) continue;
        const [k, v] = [line.slice(0, i), line.slice(i + 1).replace(/^ /, "")];
        if (k === "id") e.id = v;
        else if (k === "retry") e.retry = v;
        else if (k === "data") e.data += v;
      }
      return e;
    });
}

/** GET a stream and read until `until` matches the text so far (or 10 s), then hang up. */
function readStream(url: string, headers: Record<string, string>, until: RegExp): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "GET", headers, agent: false }, (res) => {
      let text = "";
      const done = () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text });
      };
      const timer = setTimeout(done, 10_000);
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
        if (until.test(text)) done();
      });
      res.on("end", done);
    });
    req.on("error", reject);
    req.end();
  });
}

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());

describe("--sessions POST streams", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    srv = await startHttp(emu.url, ["--sessions", "--sse-retry-ms", "750"]);
  });
  afterAll(async () => {
    await srv.stop();
  });

  it("begin with a priming event (id, retry from --sse-retry-ms, empty data) for a 2025-11-25 client", async () => {
    const r = await rawRequest(srv.url, { headers: MCP_HEADERS, body: JSON.stringify(init("2025-11-25")) });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/text\/event-stream/);
    const events = parseSse(r.body);
    expect(events[0]).toMatchObject({ retry: "750", data: "" });
    expect(events[0]!.id).toBeTruthy();
    expect(JSON.parse(events[1]!.data)).toMatchObject({ id: 1, result: { protocolVersion: "2025-11-25" } });
    expect(events[1]!.id).toBeTruthy();
  });

  it("send no priming event to a client on an older protocol (it could not parse empty data)", async () => {
    const r = await rawRequest(srv.url, { headers: MCP_HEADERS, body: JSON.stringify(init("2025-06-18")) });
    const events = parseSse(r.body);
    expect(events).toHaveLength(1);
    expect(events[0]!.retry).toBeUndefined();
    expect(JSON.parse(events[0]!.data)).toMatchObject({ id: 1, result: { protocolVersion: "2025-06-18" } });
  });

  it("a client that lost a tools/call stream resumes with Last-Event-ID and receives the result it missed", async () => {
    const first = await rawRequest(srv.url, { headers: MCP_HEADERS, body: JSON.stringify(init("2025-11-25")) });
    const session = String(first.headers["mcp-session-id"]);
    const h = { ...MCP_HEADERS, "Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-11-25" };
    await rawRequest(srv.url, { headers: h, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
    const call = await rawRequest(srv.url, {
      headers: h,
      body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "rerank", arguments: RERANK } }),
    });
    const events = parseSse(call.body);
    const priming = events[0]!;
    expect(priming).toMatchObject({ retry: "750", data: "" });
    const answer = events.find((e) => e.data.includes('"id":7'))!;
    // Say the connection dropped right after the priming event: resume from it.
    const resumed = await readStream(srv.url, { Accept: "text/event-stream", "Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-11-25", "Last-Event-ID": priming.id! }, /"id":7/);
    expect(resumed.status).toBe(200);
    const replayed = parseSse(resumed.text).filter((e) => e.data);
    expect(replayed).toHaveLength(1);
    expect(replayed[0]!.id).toBe(answer.id);
    expect(JSON.parse(replayed[0]!.data)).toEqual(JSON.parse(answer.data));
    expect(JSON.parse(replayed[0]!.data).result.structuredContent.results[0].index).toBe(0);
  });

  it("an event id the session does not know is refused, not replayed", async () => {
    const first = await rawRequest(srv.url, { headers: MCP_HEADERS, body: JSON.stringify(init("2025-11-25")) });
    const session = String(first.headers["mcp-session-id"]);
    const r = await readStream(srv.url, { Accept: "text/event-stream", "Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-11-25", "Last-Event-ID": "999_nope" }, /./);
    expect(r.status).toBe(400);
  });
});

describe("off switches", () => {
  it("--sse-replay-bytes 0: no priming event; stateless mode: none either", async () => {
    for (const args of [["--sessions", "--sse-replay-bytes", "0"], []]) {
      const srv = await startHttp(emu.url, args);
      try {
        const r = await rawRequest(srv.url, { headers: MCP_HEADERS, body: JSON.stringify(init("2025-11-25")) });
        expect(r.status, args.join(" ")).toBe(200);
        if (String(r.headers["content-type"]).includes("text/event-stream")) {
          const events = parseSse(r.body);
          expect(events, args.join(" ")).toHaveLength(1);
          expect(events[0]!.retry).toBeUndefined();
        } else {
          expect(JSON.parse(r.body)).toMatchObject({ id: 1 });
        }
      } finally {
        await srv.stop();
      }
    }
  });
});

describe("SessionEventStore", () => {
  const msg = (i: number) => ({ jsonrpc: "2.0" as const, id: i, result: { text: "x".repeat(100) } });

  it("holds at most its byte bound, dropping the oldest events, whose ids are then unknown", async () => {
    const store = new SessionEventStore(1_000);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await store.storeEvent("s1", msg(i)));
    expect(store.bytes).toBeLessThanOrEqual(1_000);
    expect(store.bytes).toBeGreaterThan(500);
    expect(await store.getStreamIdForEventId(ids[0]!)).toBeUndefined();
    expect(await store.getStreamIdForEventId(ids[49]!)).toBe("s1");
    await expect(store.replayEventsAfter(ids[0]!, { send: async () => undefined })).rejects.toThrow(/Unknown or expired/);
  });

  it("replays only the later events of the same stream, without priming events", async () => {
    const store = new SessionEventStore(100_000);
    const prime = await store.storeEvent("a", {} as never);
    await store.storeEvent("b", msg(1));
    const a2 = await store.storeEvent("a", msg(2));
    await store.storeEvent("b", {} as never);
    const a3 = await store.storeEvent("a", msg(3));
    const sent: Array<[string, unknown]> = [];
    const stream = await store.replayEventsAfter(prime, { send: async (id, m) => void sent.push([id, m]) });
    expect(stream).toBe("a");
    expect(sent).toEqual([
      [a2, msg(2)],
      [a3, msg(3)],
    ]);
  });

  it("counts what it really holds (UTF-8 bytes, not characters): 3-byte characters fill the bound three times sooner (issue 20, finding 12)", async () => {
    const bound = 64 * 1024;
    const store = new SessionEventStore(bound);
    const euro = (i: number) => ({ jsonrpc: "2.0" as const, id: i, result: { text: "€".repeat(1_000) } }); // 1,000 characters, 3,000 bytes
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push(await store.storeEvent("s", euro(i)));
    let replayable = 0;
    const known = await Promise.all(ids.map(async (id) => ((await store.getStreamIdForEventId(id)) ? id : undefined)));
    const first = known.find(Boolean)!; // the oldest event still held
    await store.replayEventsAfter(first, { send: async () => void replayable++ });
    const held = (replayable + 1) * Buffer.byteLength(JSON.stringify(euro(0)));
    console.log(`finding 12: a ${bound}-byte replay store holds ${replayable + 1} events of 3,000 UTF-8 bytes (${held} bytes of JSON)`);
    expect(held).toBeLessThanOrEqual(bound);
    expect(replayable + 1).toBeGreaterThanOrEqual(15);
  });

  it("keeps the newest event even when it alone is over the bound", async () => {
    const store = new SessionEventStore(10);
    const id = await store.storeEvent("s", msg(1));
    expect(await store.getStreamIdForEventId(id)).toBe("s");
  });
});
