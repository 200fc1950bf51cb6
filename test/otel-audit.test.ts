/**
 * --audit-otlp (issue 24): each audit line also goes to the collector as an OTLP log record, never
 * instead of the file. A collector that answers 500, answers after 10 s or is down never blocks
 * or fails a call: the calls stay fast (a loose bound), the file has every line, and each record
 * that could not be delivered (after retries, or past the bounded queue) is counted in
 * cohere_mcp_audit_otlp_dropped_total and said in a summary log line.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, TEST_KEY } from "./helpers.js";
import { eventually, tempFile, writeConfig } from "./http-support.js";
import { startOtlpReceiver, type OtlpReceiver } from "./helpers/otlp-receiver.js";
import { freePort } from "../bench/lib.js";

const RERANK = { model: "rerank-v3.5", query: "q", documents: ["a", "b"] };

let emu: CohereEmulator;
let rec: OtlpReceiver;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  rec = await startOtlpReceiver();
});
afterAll(async () => {
  await rec.stop();
  await emu.stop();
});

describe("audit records over OTLP", () => {
  it("a collector answering 500, slow (10 s) or down: calls unaffected, the file has every line, the drops are counted", async () => {
    const audit = tempFile("audit.jsonl");
    const port = await freePort();
    // a queue of 2 records: a slow collector makes it overflow
    const config = writeConfig({ audit_otlp: true, otel: { audit_queue: 2 } });
    const c = await connectStdio(emu.url, ["--config", config, "--audit-log", audit, "--metrics-port", String(port)], {
      CO_API_KEY: TEST_KEY,
      OTEL_EXPORTER_OTLP_ENDPOINT: rec.url,
      OTEL_EXPORTER_OTLP_TIMEOUT: "500",
      OTEL_TRACES_SAMPLER: "always_off",
      COHERE_MCP_AUDIT_OTLP_RETRY_MS: "50",
    });
    const dropped = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/^cohere_mcp_audit_otlp_dropped_total (\d+)/m.exec(text)?.[1] ?? "0");
    };
    const slowest: number[] = [];
    const calls = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
        slowest.push(performance.now() - t0);
        expect(r.isError).toBeFalsy();
      }
    };
    try {
      await calls(2);
      await eventually(() => expect(rec.logs).toHaveLength(2));
      expect(await dropped()).toBe(0);

      rec.mode = "500"; // refused: tried 3 times, then dropped
      await calls(3);
      await eventually(async () => expect(await dropped()).toBe(3));

      rec.mode = "slow"; // the first record's export hangs; 2 wait in the queue, the 4th is dropped; all time out
      await calls(4);
      await eventually(async () => expect(await dropped()).toBe(7), 10_000);

      await rec.stop(); // down
      await calls(2);
      await eventually(async () => expect(await dropped()).toBe(9), 5_000);

      expect(rec.logs).toHaveLength(2);
      expect(Math.max(...slowest)).toBeLessThan(1_000); // never waits on the collector (its timeout is 500 ms, 3 tries)
      expect(readFileSync(audit, "utf8").trim().split("\n")).toHaveLength(11);
      expect(c.stderr()).toMatch(/the OTLP audit export dropped \d+ records? \(.*\); the audit file has every line/);
    } finally {
      await c.close();
    }
  }, 30_000);
});
