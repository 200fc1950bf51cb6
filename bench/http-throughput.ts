#!/usr/bin/env node
/**
 * Calls per second one agent can make through cohere-mcp --http to the Cohere emulator.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/http-throughput.js [--seconds 5] [--concurrency 1,8]
 *
 * The emulator (zero latency) runs in this process; cohere-mcp runs as a child process with a
 * two-agent config (bearer auth on) and an audit log, like a team deployment. For each mode
 * (stateless, --sessions) and concurrency, one agent calls `rerank` in a loop for the given time
 * with the SDK client over real sockets; calls/s and latency percentiles are printed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startEmulator } from "../emulator/server.js";

const ENTRY = fileURLToPath(new URL("../src/index.js", import.meta.url));
const KEY = "bench-key-SECRET-0a1b2c3d4e5f";
const TOKEN = "bench-agent-token-5f4e3d2c1b0a9988";
const ARGS = {
  model: "rerank-v3.5",
  query: "what is the capital of france",
  documents: [
    "Paris is the capital and largest city of France.",
    "Berlin is the capital of Germany.",
    "The Eiffel Tower is in Paris.",
    "Bananas are rich in potassium.",
  ],
};

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, concurrency: { type: "string", default: "1,8" } },
});
const seconds = Number(values.seconds);
const levels = String(values.concurrency)
  .split(",")
  .map((s) => Number(s.trim()))
  .filter((n) => n > 0);

function startServer(upstream: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), "cohere-mcp-bench-"));
  const config = join(dir, "team.json");
  writeFileSync(
    config,
    JSON.stringify({
      profiles: { search: { tools: ["rerank", "embed"] }, ops: { tools: "datasets" } },
      agents: [
        { name: "search-agent", profile: "search", token_env: "BENCH_TOKEN" },
        { name: "ops-agent", profile: "ops", token_sha256: createHash("sha256").update("ops-token-not-used-0000").digest("hex") },
      ],
    }),
  );
  const child = spawn(
    process.execPath,
    [ENTRY, "--http", "--port", "0", "--config", config, "--audit-log", join(dir, "audit.jsonl"), "--log-level", "warn", ...args],
    { env: { PATH: process.env.PATH ?? "", CO_API_KEY: KEY, CO_API_URL: upstream, BENCH_TOKEN: TOKEN }, stdio: ["ignore", "ignore", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on("exit", (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
  return client;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function run(url: string, concurrency: number): Promise<{ calls: number; perSec: number; p50: number; p99: number; errors: number }> {
  const clients = await Promise.all(Array.from({ length: concurrency }, () => connect(url)));
  // warm-up
  for (const c of clients) await c.callTool({ name: "rerank", arguments: ARGS });
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        const s = performance.now();
        const r = await c.callTool({ name: "rerank", arguments: ARGS });
        lat.push(performance.now() - s);
        if (r.isError) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  lat.sort((a, b) => a - b);
  return { calls: lat.length, perSec: lat.length / elapsed, p50: pct(lat, 50), p99: pct(lat, 99), errors };
}

const emu = await startEmulator({ apiKey: KEY, maxRecordedRequests: 100 });
console.log(`node ${process.version}, ${seconds} s per run, one agent calling rerank (4 documents), emulator latency 0`);
console.log("mode       conc   calls   calls/s   p50 ms   p99 ms   errors");
for (const [mode, args] of [
  ["stateless", []],
  ["sessions", ["--sessions"]],
] as const) {
  const { child, url } = await startServer(emu.url, [...args]);
  for (const c of levels) {
    const r = await run(url, c);
    console.log(
      `${mode.padEnd(10)} ${String(c).padStart(4)} ${String(r.calls).padStart(7)} ${r.perSec.toFixed(0).padStart(9)} ${r.p50
        .toFixed(2)
        .padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.errors).padStart(8)}`,
    );
  }
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}
await emu.stop();
