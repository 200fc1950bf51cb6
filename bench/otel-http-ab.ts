/**
 * OpenTelemetry's cost over HTTP, A/B: 32 clients in a closed loop of rerank calls against
 * stateless HTTP servers with export off, on (`--otel`: traces at 100 % and metrics, to a local
 * sink that drains each body and answers 200), on with `--audit-otlp` too, on with the spans
 * exported from a worker thread (COHERE_MCP_OTEL_EXPORT_WORKER=1), and another build's on when
 * given (`--only on,worker` picks rows beside off). Each server is warmed up, then they take
 * interleaved rounds; the medians of the rounds (calls/s, the server's CPU per call from /proc)
 * and their ratios to off are printed, with the load average. Loopback only.
 *
 *   npm run build && node dist/bench/otel-http-ab.js [--rounds 6] [--ms 3000] [--clients 32] [--only on,worker,audit] [--other OTHER/dist/src/index.js]
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { argOf as arg, ENTRY, median, spawnEmulator, spawnOurHttp, type HttpServer } from "./lib.js";
import { closeAll, closedLoop, connectMany, warmUp } from "./measure.js";

const ROUNDS = Number(arg("--rounds", "6"));
const MS = Number(arg("--ms", "3000"));
const CLIENTS = Number(arg("--clients", "32"));
const OTHER = arg("--other", "");
const ONLY = arg("--only", "");

const emu = await spawnEmulator();
const sink = http.createServer((req, res) => {
  req.resume(); // drained, never decoded
  req.on("end", () => res.writeHead(200).end());
});
await new Promise<void>((ok) => sink.listen(0, "127.0.0.1", ok));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
const tmp = mkdtempSync(join(tmpdir(), "otel-http-ab-"));
const on = { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: "always_on", OTEL_METRIC_EXPORT_INTERVAL: "5000" };
const start = async (name: string, entry: string, args: string[], env: Record<string, string>): Promise<[string, HttpServer]> => {
  const { server, reason } = await spawnOurHttp(emu.url, ["--audit-log", join(tmp, `${name.replace(/\W+/g, "-")}.jsonl`), ...args], env, 10_000, undefined, entry);
  if (!server) throw new Error(`${name}: ${reason}`);
  return [name, server];
};
const wanted = (n: string) => !ONLY || n === "off" || ONLY.split(",").includes(n);
const servers: Array<[string, HttpServer]> = [await start("off", ENTRY, [], {})];
if (wanted("on")) servers.push(await start("on", ENTRY, ["--otel"], on));
if (wanted("audit")) servers.push(await start("on + --audit-otlp", ENTRY, ["--otel", "--audit-otlp"], on));
// the spans batched, encoded and sent on a worker thread (src/telemetry/worker-export.ts)
if (wanted("worker")) servers.push(await start("on, export worker", ENTRY, ["--otel"], { ...on, COHERE_MCP_OTEL_EXPORT_WORKER: "1" }));
if (OTHER) servers.push(await start("other build, on", OTHER, ["--otel"], on));
const loads: number[] = [];
try {
  for (const [, srv] of servers) {
    const conns = await connectMany(CLIENTS, srv.mcpUrl, "otel-warm");
    await warmUp(conns, "rerank", 3000);
    await closeAll(conns);
  }
  const res = new Map(servers.map(([n]) => [n, { perSec: [] as number[], cpu: [] as number[] }]));
  for (let r = 0; r < ROUNDS; r++) {
    loads.push(loadavg()[0]!);
    for (const [name, srv] of r % 2 ? [...servers].reverse() : servers) {
      const conns = await connectMany(CLIENTS, srv.mcpUrl, "otel-ab");
      const loop = await closedLoop(conns, "rerank", MS, srv.proc.pid);
      await closeAll(conns);
      res.get(name)!.perSec.push(loop.perSec);
      res.get(name)!.cpu.push(loop.cpuUs);
    }
  }
  const off = res.get("off")!;
  console.log(`${ROUNDS} interleaved rounds of ${MS} ms, ${CLIENTS} clients, after 3 s of warm-up each; medians of the rounds; load average ${loads.map((l) => l.toFixed(1)).join(" ")}`);
  for (const [name, v] of res) {
    const perSec = median(v.perSec);
    const cpu = median(v.cpu);
    // each round's on/off ratio, then their median: the rounds' load differs more than the servers do
    const ratios = v.perSec.map((p, i) => p / off.perSec[i]!);
    const d = name === "off" ? "" : ` (${median(ratios).toFixed(2)}× off by rounds' ratios; CPU +${Math.round(cpu - median(off.cpu))} µs)`;
    console.log(`${name.padEnd(24)} ${Math.round(perSec)} calls/s, CPU ${Math.round(cpu)} µs per call${d}`);
  }
} finally {
  for (const [, s] of servers) await s.stop();
  await emu.stop();
  sink.closeAllConnections();
  sink.close();
}
