/**
 * OpenTelemetry's cost, A/B: stdio rerank p50 and the server's CPU per call (from /proc, the
 * server process only), for export off, on (`--otel`: traces at 100 % and metrics, to a local sink
 * that drains each body and answers 200 without decoding it), on with --audit-otlp too, on with
 * the spans exported from a worker thread (COHERE_MCP_OTEL_EXPORT_WORKER=1), and for another
 * build's `on` when given.
 * Each server is warmed up, then they take interleaved rounds; the medians of the rounds are
 * printed. Loopback only.
 *
 *   npm run build && node dist/bench/otel-ab.js [--rounds 6] [--calls 1500] [--other OTHER/dist/src/index.js]
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { argOf as arg, BENCH_KEY, connectStdioCmd, ENTRY, median, RERANK_ARGS, scrubbedEnv, spawnEmulator, type McpConn } from "./lib.js";
import { measureSeq, mcpCall } from "./measure.js";

const ROUNDS = Number(arg("--rounds", "6"));
const CALLS = Number(arg("--calls", "1500"));
const OTHER = arg("--other", "");

const emu = await spawnEmulator();
const sink = http.createServer((req, res) => {
  req.resume(); // drained, never decoded: decoding is the tests' job, not the bench's
  req.on("end", () => res.writeHead(200).end());
});
await new Promise<void>((ok) => sink.listen(0, "127.0.0.1", ok));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
const tmp = mkdtempSync(join(tmpdir(), "otel-ab-"));
const on = { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: "always_on", OTEL_METRIC_EXPORT_INTERVAL: "5000" };
const start = (entry: string, name: string, otel: boolean, audit = false, extra: Record<string, string> = {}): Promise<McpConn> =>
  connectStdioCmd(
    process.execPath,
    [entry, "--audit-log", join(tmp, `${name}.jsonl`), ...(otel ? ["--otel"] : []), ...(audit ? ["--audit-otlp"] : [])],
    scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emu.url, ...(otel ? on : {}), ...extra }),
  );
const servers: Array<[string, McpConn]> = [
  ["off", await start(ENTRY, "off", false)],
  ["on", await start(ENTRY, "on", true)],
  ["on + --audit-otlp", await start(ENTRY, "audit", true, true)],
  // the spans batched, encoded and sent on a worker thread (src/telemetry/worker-export.ts)
  ["on, export worker", await start(ENTRY, "worker", true, false, { COHERE_MCP_OTEL_EXPORT_WORKER: "1" })],
];
if (OTHER) servers.push(["other build, on", await start(OTHER, "other", true)]);
try {
  for (const [, c] of servers) await measureSeq(mcpCall(c, "rerank", RERANK_ARGS), 1, 3000, c.pid);
  const res = new Map(servers.map(([n]) => [n, { p50: [] as number[], cpu: [] as number[] }]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, c] of r % 2 ? [...servers].reverse() : servers) {
      const s = await measureSeq(mcpCall(c, "rerank", RERANK_ARGS), CALLS, 20, c.pid);
      res.get(name)!.p50.push(s.p50);
      res.get(name)!.cpu.push(s.cpuUs);
    }
  }
  const off = res.get("off")!;
  console.log(`${ROUNDS} interleaved rounds of ${CALLS} calls after 3,000 warm-up calls each; medians of the rounds`);
  for (const [name, v] of res) {
    const p50 = median(v.p50) * 1000;
    const cpu = median(v.cpu);
    const d = name === "off" ? "" : ` (+${Math.round(p50 - median(off.p50) * 1000)} µs p50, +${Math.round(cpu - median(off.cpu))} µs CPU)`;
    console.log(`${name.padEnd(24)} p50 ${Math.round(p50)} µs, CPU ${Math.round(cpu)} µs per call${d}`);
  }
} finally {
  for (const [, c] of servers) await c.close();
  await emu.stop();
  sink.closeAllConnections();
  sink.close();
}
