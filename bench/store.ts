/**
 * Section 7 of `npm run bench` (issue 10): what sharing the counters through Redis costs.
 *
 * Both servers run the same profile with three limits (per_minute, per_tool_per_minute,
 * per_month; too high to refuse anything), so every call takes three windows in one decision:
 * in this process's memory, or in one Lua script on a real redis-server (own process, loopback).
 * Memory and Redis are measured in alternating rounds so that a busy moment of the shared
 * machine does not fall on one side only; the median round of each side is compared.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RERANK_ARGS, connectOurStdio, cpuOf, median, spawnOurHttp, type HttpServer, type McpConn, type Summary } from "./lib.js";
import { redisServerPath, startRedis } from "./redis.js";

interface Load {
  calls: number;
  perSec: number;
  lat: Summary;
  errorResults: number;
  thrown: number;
  timeouts: number;
  wrongClient: number;
}
type Seq = Summary & { errors: number; cpuUs: number };

export interface StoreBenchDeps {
  emuUrl: string;
  tmp: string;
  quick: boolean;
  levelMs: number;
  warmMs: number;
  seqN: number;
  warm: number;
  out(line?: string): void;
  target(item: string, target: string, measured: string, met: boolean | undefined): void;
  connectMany(n: number, url: string, name: string): Promise<McpConn[]>;
  closeAll(conns: McpConn[]): Promise<void>;
  warmUp(conns: McpConn[], tool: string, ms: number): Promise<void>;
  closedLoop(conns: McpConn[], tool: string, ms: number, pid: number | null | undefined): Promise<Load>;
  measureSeq(call: () => Promise<unknown>, n: number, warm: number, pid?: number | null): Promise<Seq>;
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");

export async function sharedStoreSection(d: StoreBenchDeps): Promise<void> {
  const CLIENTS = 32;
  const ROUNDS = d.quick ? 2 : 3;
  d.out(`## 7. Shared counters: the Redis store vs the memory store (${ROUNDS} alternating rounds each, median round)`);
  d.out("");
  if (!redisServerPath()) {
    d.out("redis-server is not installed: not measured (apt-get install redis-server)");
    d.out("");
    d.target("7. Redis store, HTTP throughput", "≥ 0.85× the memory store at 32 clients", "redis-server not installed", undefined);
    d.target("7. Redis store, stdio latency", "p50 ≤ memory store + 0.2 ms", "redis-server not installed", undefined);
    return;
  }
  const redis = await startRedis();
  const cfg = join(d.tmp, "bench-limits.json");
  const big = 1_000_000_000;
  writeFileSync(
    cfg,
    JSON.stringify({ profiles: { bench: { tools: ["rerank", "embed"], rate_limit: { per_minute: big, per_month: big, per_tool_per_minute: { rerank: big } } } } }),
  );
  const common = ["--config", cfg, "--profile", "bench", "--audit-log", join(d.tmp, "audit-store.jsonl")];
  const store = ["--store", redis.url, "--store-prefix", `bench-${process.pid}:`];
  d.out(`redis-server ${redis.url} (own process, no persistence); every call takes 3 windows (per_minute, per_tool_per_minute, per_month)`);
  d.out("");

  const servers: Partial<Record<"memory" | "redis", HttpServer>> = {};
  try {
    // HTTP: 32 clients, closed loop, tagged rerank.
    for (const kind of ["memory", "redis"] as const) {
      const h = await spawnOurHttp(d.emuUrl, kind === "redis" ? [...common, ...store] : common);
      if (!h.server) throw new Error(`cohere-mcp --http (${kind} store) did not start: ${h.reason}`);
      servers[kind] = h.server;
    }
    const http: Record<"memory" | "redis", Load[]> = { memory: [], redis: [] };
    const redisCpu: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of round % 2 === 0 ? (["memory", "redis"] as const) : (["redis", "memory"] as const)) {
        const srv = servers[kind]!;
        const conns = await d.connectMany(CLIENTS, srv.mcpUrl, `store-${kind}`);
        await d.warmUp(conns, "rerank", d.warmMs);
        const rc0 = cpuOf(redis.pid());
        const r = await d.closedLoop(conns, "rerank", d.levelMs, srv.proc.pid);
        if (kind === "redis") redisCpu.push((cpuOf(redis.pid()) - rc0) / Math.max(1, r.calls));
        await d.closeAll(conns);
        http[kind].push(r);
      }
    }
    await servers.memory!.stop();
    await servers.redis!.stop();

    // stdio: sequential rerank latency.
    const seq: Record<"memory" | "redis", Seq[]> = { memory: [], redis: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of round % 2 === 0 ? (["memory", "redis"] as const) : (["redis", "memory"] as const)) {
        const conn = await connectOurStdio(d.emuUrl, kind === "redis" ? [...common, ...store] : common);
        try {
          seq[kind].push(
            await d.measureSeq(() => conn.client.callTool({ name: "rerank", arguments: RERANK_ARGS }, undefined, { timeout: 10_000 }), d.seqN, d.warm, conn.pid),
          );
        } finally {
          await conn.close();
        }
      }
    }

    const errs = (r: Load) => r.errorResults + r.thrown + r.timeouts + r.wrongClient;
    d.out(`| HTTP, ${CLIENTS} clients | ${Array.from({ length: ROUNDS }, (_, i) => `round ${i + 1} calls/s`).join(" | ")} | median calls/s | p50 ms | p99 ms | errors |`);
    d.out(`|---|${Array.from({ length: ROUNDS }, () => "---:").join("|")}|---:|---:|---:|---:|`);
    const med = (rs: Load[]) => median(rs.map((r) => r.perSec));
    const medRun = (rs: Load[]) => [...rs].sort((a, b) => a.perSec - b.perSec)[Math.floor(rs.length / 2)]!;
    for (const kind of ["memory", "redis"] as const) {
      const m = medRun(http[kind]);
      d.out(
        `| ${kind} store | ${http[kind].map((r) => int(r.perSec)).join(" | ")} | ${int(med(http[kind]))} | ${f2(m.lat.p50)} | ${f2(m.lat.p99)} | ${http[kind].reduce((s, r) => s + errs(r), 0)} |`,
      );
    }
    const tr = med(http.redis) / med(http.memory);
    d.out("");
    d.out(`HTTP calls/s, Redis ÷ memory: ${f2(tr)} (redis-server CPU per call: ${int(median(redisCpu))} µs)`);
    d.out("");
    d.out(`| stdio, sequential rerank | ${Array.from({ length: ROUNDS }, (_, i) => `round ${i + 1} p50 ms`).join(" | ")} | median p50 ms | p99 ms (median round) | server CPU µs/call | errors |`);
    d.out(`|---|${Array.from({ length: ROUNDS }, () => "---:").join("|")}|---:|---:|---:|---:|`);
    for (const kind of ["memory", "redis"] as const) {
      const rs = seq[kind];
      const m = [...rs].sort((a, b) => a.p50 - b.p50)[Math.floor(rs.length / 2)]!;
      d.out(
        `| ${kind} store | ${rs.map((r) => f3(r.p50)).join(" | ")} | ${f3(median(rs.map((r) => r.p50)))} | ${f3(m.p99)} | ${int(median(rs.map((r) => r.cpuUs)))} | ${rs.reduce((s, r) => s + r.errors, 0)} |`,
      );
    }
    const dp = median(seq.redis.map((r) => r.p50)) - median(seq.memory.map((r) => r.p50));
    d.out("");
    d.out(`stdio p50, Redis − memory: ${f3(dp)} ms`);
    d.out("");
    const totalErrors = [...http.memory, ...http.redis].reduce((s, r) => s + errs(r), 0) + [...seq.memory, ...seq.redis].reduce((s, r) => s + r.errors, 0);
    d.target(
      "7. Redis store, HTTP throughput",
      "≥ 0.85× the memory store at 32 clients",
      `${f2(tr)}× (${int(med(http.redis))}/s vs ${int(med(http.memory))}/s)`,
      tr >= 0.85 && totalErrors === 0,
    );
    d.target("7. Redis store, stdio latency", "p50 ≤ memory store + 0.2 ms", `+${f3(dp)} ms`, dp <= 0.2 && totalErrors === 0);
  } finally {
    await servers.memory?.stop();
    await servers.redis?.stop();
    await redis.dispose();
  }
}
