/**
 * Issue 20, stdio items (finding 11 and 12): the scanner that skips an oversized message keeps
 * frames only to the depth that matters and counts the rest (40 MB of `[` does not blow the
 * process up; a 12 MB deeply nested message does not stall the next ping); a line that is not
 * JSON (a byte-order mark, a stray line) is answered -32700 and logged, JSON that is not JSON-RPC
 * -32600; a CRLF line's CR does not count against --max-message-bytes. (When the client stops
 * reading stdout, the server stops reading stdin instead of piling answers up in memory: 8,000
 * queued tools/list, ~200 MB of answers, so it is a load test: test/stress/stdio-backpressure.stress.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { HeadScanner } from "../src/transports/stdio-lines.js";
import { TEST_KEY } from "./helpers.js";
import { memOf, Raw } from "./stdio-raw.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());

describe("the oversized-message scanner keeps two frames and counts the rest", () => {
  it("unit: a million nested arrays leave it with no more than two frames, and the top-level values are still found", () => {
    const s = new HeadScanner();
    s.feed(Buffer.from('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"deep","arguments":{"x":'));
    s.feed(Buffer.alloc(1_000_000, "["));
    expect((s as unknown as { stack: unknown[] }).stack.length).toBeLessThanOrEqual(2);
    s.feed(Buffer.from('"id-inside"'));
    s.feed(Buffer.alloc(1_000_000, "]"));
    s.feed(Buffer.from('}},"id":77}'));
    expect(s.result()).toEqual({ id: 77, method: "tools/call", tool: "deep" });
    expect((s as unknown as { stack: unknown[] }).stack.length).toBeLessThanOrEqual(2);
  });

  it("40 MB of `[` over stdio: answered with id null, peak memory stays small, the next ping is answered", async () => {
    const srv = new Raw(emu.url);
    try {
      await srv.start();
      const before = memOf(srv.child.pid!).peak;
      const junk = srv.answer(null, 60_000);
      await srv.pour(40 * 1024 * 1024, Buffer.alloc(1024 * 1024, "["));
      srv.write("\n");
      expect((await junk).error.message).toMatch(/^The message was refused: the message is 41943040 bytes/);
      expect((await srv.request(2, "ping")).result).toEqual({});
      const peak = memOf(srv.child.pid!).peak;
      console.log(`[figure] 40 MB of "[" on stdio: peak RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB after`);
      expect(peak - before).toBeLessThan(150);
    } finally {
      srv.stop();
    }
  }, 120_000);

  it("a 12 MB deeply nested tools/call is refused with its id and the next ping is answered", async () => {
    const srv = new Raw(emu.url);
    try {
      await srv.start();
      const head = '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"chat","arguments":{"messages":';
      const refused = srv.answer(9, 60_000);
      srv.write(head);
      // objects with a value at every level: each value made the old scanner walk the whole stack
      await srv.pour(11 * 1024 * 1024, Buffer.from('{"a":1,"b":'.repeat(95_325)));
      await srv.pour(1024 * 1024, Buffer.alloc(1024 * 1024, "}"));
      srv.write("}}}\n");
      const ping = srv.request(10, "ping", {}, 10_000);
      expect((await refused).error.message).toMatch(/^tools\/call "chat" was refused: the message is 1\d{7} bytes/);
      expect((await ping).result).toEqual({});
    } finally {
      srv.stop();
    }
  }, 120_000);
});

describe("lines that are not messages are answered, not dropped", () => {
  it("a BOM-led line and a non-JSON line get -32700 (id null), JSON that is not JSON-RPC -32600, each logged without its content", async () => {
    const srv = new Raw(emu.url);
    try {
      await srv.start();
      const bom = srv.answer(null);
      srv.write(`\uFEFF${JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping" })}\n`);
      const a = await bom;
      expect(a.error.code).toBe(-32700);
      expect(a.error.message).toMatch(/byte-order mark/);
      const text = srv.answer(null);
      srv.write("hello there secret-ish words\n");
      expect((await text).error).toMatchObject({ code: -32700 });
      expect((await text).error.message).toMatch(/could not be parsed as JSON/);
      const notRpc = srv.answer(4);
      srv.write(`${JSON.stringify({ id: 4, hello: "world" })}\n`);
      expect((await notRpc).error.code).toBe(-32600);
      expect((await srv.request(5, "ping")).result).toEqual({});
      expect(srv.stderr().match(/answered a stdio line that is not a JSON-RPC message/g)).toHaveLength(3);
      expect(srv.stderr()).not.toContain("secret-ish");
    } finally {
      srv.stop();
    }
  });

  it("CRLF: the CR of a line at exactly --max-message-bytes does not count against the limit", async () => {
    const srv = new Raw(emu.url, ["--max-message-bytes", "2000"]);
    try {
      await srv.start();
      const msg = (id: number, size: number) => {
        const base = JSON.stringify({ jsonrpc: "2.0", id, method: "ping", params: { _meta: { pad: "" } } });
        return JSON.stringify({ jsonrpc: "2.0", id, method: "ping", params: { _meta: { pad: "x".repeat(size - base.length) } } });
      };
      expect(Buffer.byteLength(msg(6, 2000))).toBe(2000);
      const ok = srv.answer(6);
      srv.write(`${msg(6, 2000)}\r\n`);
      expect((await ok).result).toEqual({});
      const over = srv.answer(7);
      srv.write(`${msg(7, 2001)}\r\n`);
      expect((await over).error.message).toMatch(/the message is 2001 bytes, over this server.s limit of 2000 bytes/);
    } finally {
      srv.stop();
    }
  });
});
