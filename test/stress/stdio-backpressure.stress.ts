/**
 * stdio backpressure (issue 20, finding 12), a load test: when the client stops reading stdout,
 * the server stops reading stdin instead of piling answers up in memory. 8,000 tools/list are
 * queued (~200 MB of answers if the server answered them all into memory), then the client reads
 * again and every answer arrives. Moved here from test/stdio-hardening.test.ts: pushing 200 MB
 * through a pipe took a quarter of a minute of `npm test`, and its memory figure is steadier
 * with the machine to itself (this suite runs one file at a time).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../../emulator/server.js";
import { TEST_KEY } from "../helpers.js";
import { memOf, Raw } from "../stdio-raw.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());

describe("backpressure on stdout", () => {
  it("a client that stops reading stdout: the server stops reading stdin (memory stays bounded), and catches up when it reads again", async () => {
    const srv = new Raw(emu.url);
    try {
      await srv.start();
      srv.child.stdout!.pause();
      const before = memOf(srv.child.pid!).now;
      // 8,000 tools/list requests: ~200 MB of answers if the server answered them all into memory
      const N = 8_000;
      const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ jsonrpc: "2.0", id: 1000 + i, method: "tools/list" }) + "\n").join("");
      srv.write(lines);
      await new Promise((r) => setTimeout(r, 3_000));
      const held = memOf(srv.child.pid!).now;
      console.log(`[figure] stdio, client not reading stdout, ${N} tools/list queued: RSS ${before.toFixed(0)} → ${held.toFixed(0)} MB`);
      expect(held - before).toBeLessThan(90);
      const last = srv.answer(1000 + N - 1, 60_000);
      srv.child.stdout!.resume();
      expect((await last).result.tools.length).toBeGreaterThan(0);
      expect(srv.messages.filter((m) => typeof m.id === "number" && m.id >= 1000)).toHaveLength(N);
    } finally {
      srv.stop();
    }
  }, 120_000);
});
