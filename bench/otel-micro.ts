/**
 * What the telemetry itself costs a call, in one process and without the rest of the server: the
 * spans of one HTTP tools/call (the HTTP SERVER span, the MCP SERVER span, one Cohere attempt; the
 * guards' span with --guards, as with --store), its ids for the audit line and its metrics, made through the same Telemetry interface
 * the server calls, exported by the real SDK (batch processor, OTLP exporter, protobuf or JSON) to
 * a sink on 127.0.0.1 in this process. Prints the CPU µs per call (process.cpuUsage: GC and the
 * export included, the export worker's thread too) and the main thread's busy µs per call (event
 * loop utilization), the medians of rounds. No network beyond loopback.
 *
 *   npm run build && node dist/bench/otel-micro.js [--calls 20000] [--rounds 5] [--protocol http/json] [--worker] [--guards]
 */
import { EventEmitter } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { startTelemetry, type Telemetry } from "../src/telemetry/index.js";
import type { AuditEvent } from "../src/audit/index.js";
import { argOf as arg } from "./lib.js";

const CALLS = Number(arg("--calls", "20000"));
const ROUNDS = Number(arg("--rounds", "5"));
const PROTOCOL = arg("--protocol", "http/protobuf");

let posts = 0;
let bytes = 0;
const sink = http.createServer((req, res) => {
  // the bytes received: a batch processor whose queue overflowed drops spans, which flatters the CPU figure
  req.on("data", (d: Buffer) => (bytes += d.length));
  req.on("end", () => {
    posts++;
    res.writeHead(200).end();
  });
});
await new Promise<void>((ok) => sink.listen(0, "127.0.0.1", ok));
const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
const quiet = { info() {}, warn() {}, error() {} };
// the exporters read the OTEL_* variables themselves
// --worker: the spans batched, encoded and sent on the export worker (COHERE_MCP_OTEL_EXPORT_WORKER=1)
if (process.argv.includes("--worker")) process.env.COHERE_MCP_OTEL_EXPORT_WORKER = "1";
Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_PROTOCOL: PROTOCOL, OTEL_TRACES_SAMPLER: "always_on", OTEL_METRIC_EXPORT_INTERVAL: "5000" });
const t: Telemetry = await startTelemetry({ flag: true, auditOtlp: false }, process.env, { logger: quiet, secrets: () => [], replica: "bench" });

const FACTS = { route: "/mcp", skip: new Set(["/healthz"]), client: () => "127.0.0.1" };
const socket = { localAddress: "127.0.0.1", localPort: 8080 };
const event = (): AuditEvent => ({
  time: new Date().toISOString(),
  agent: "search-agent",
  transport: "http",
  tool: "rerank",
  access: "read",
  decision: "allowed",
  outcome: "ok",
  status: 200,
  latencyMs: 1.2,
  billedUnits: { search_units: 1 },
});

async function oneCall(i: number): Promise<void> {
  const req = { url: "/mcp", method: "POST", httpVersion: "1.1", headers: { "content-type": "application/json" } as Record<string, string>, socket } as unknown as IncomingMessage;
  const res = Object.assign(new EventEmitter(), { headersSent: true, statusCode: 200, writableFinished: true }) as unknown as ServerResponse;
  t.httpRequest(req, res, FACTS);
  await t.request(
    { method: "tools/call", tool: "rerank", requestId: i, headers: { traceparent: req.headers.traceparent as string | undefined }, transport: "http", agent: "search-agent" },
    async (span) => {
      // the guards' span exists only with a shared store (--store): --guards adds it
      if (process.argv.includes("--guards")) await t.step("cohere_mcp.guards", undefined, async () => false, span);
      const a = t.start(
        "POST /v2/rerank",
        { "http.request.method": "POST", "url.template": "/v2/rerank", "server.address": "127.0.0.1", "server.port": 4010, "gen_ai.provider.name": "cohere", "gen_ai.request.model": "rerank-v3.5" },
        "client",
        span,
      );
      a.set("http.response.status_code", 200);
      a.set("cohere.request_id", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
      a.end();
      t.ids(span);
      return { content: [] };
    },
  );
  t.audit(event());
  res.emit("close");
}

const cpu: number[] = [];
// the main thread's busy time (event loop utilization's active time): the calls' thread; the
// process's CPU also counts the span export worker (src/telemetry/worker-export.ts)
const busy: number[] = [];
for (let r = 0; r < ROUNDS + 1; r++) {
  const c0 = process.cpuUsage();
  const e0 = performance.eventLoopUtilization();
  for (let i = 0; i < CALLS; i++) {
    await oneCall(i);
    // let the batch processor's export run now and then, as between a server's calls
    if (i % 128 === 127) await new Promise((ok) => setTimeout(ok, 1));
  }
  await new Promise((ok) => setTimeout(ok, 50));
  const d = process.cpuUsage(c0);
  const e = performance.eventLoopUtilization(e0);
  if (r > 0) {
    // the first round warms up
    cpu.push((d.user + d.system) / CALLS);
    busy.push((e.active * 1000) / CALLS);
  }
}
cpu.sort((a, b) => a - b);
busy.sort((a, b) => a - b);
console.log(`${PROTOCOL}: ${cpu[Math.floor(cpu.length / 2)]!.toFixed(1)} µs CPU per call (median of ${ROUNDS} rounds of ${CALLS}; rounds ${cpu.map((c) => c.toFixed(1)).join(" ")}); main thread busy ${busy[Math.floor(busy.length / 2)]!.toFixed(1)} µs per call; ${posts} OTLP posts, ${Math.round(bytes / (CALLS * (ROUNDS + 1)))} bytes per call`);
await t.close();
sink.closeAllConnections();
sink.close();
