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
import { RERANK_ARGS, connectOurStdio, cpuOf, median, spawnOurHttp, type HttpServer, type McpConn } from "../lib.js";
import { closeAll, closedLoop, connectMany, measureSeq, warmUp, type LoadResult, type Seq } from "../measure.js";
import { f2, f3, int, out, target } from "../report.js";
import { redisServerPath, startRedis } from "../redis.js";

export interface StoreBenchDeps {
  emuUrl: string;
  tmp: string;
  quick: boolean;
  levelMs: number;
  warmMs: number;
  seqN: number;
  warm: number;
}

export async function sharedStoreSection(d: StoreBenchDeps): Promise<void> {
  const CLIENTS = 32;
  const PAIRS = d.quick ? 5 : 11;
  const sliceMs = Math.max(1_000, Math.round(d.levelMs / 3));
  const seqSlice = Math.max(100, Math.round(d.seqN / 5));
  out(`## 7. Shared counters: the Redis store vs the memory store (${PAIRS} interleaved pairs of slices, median)`);
  out("");
  if (!redisServerPath()) {
    out("redis-server is not installed: not measured (apt-get install redis-server)");
    out("");
    target("7. Redis store, HTTP throughput", "≥ 0.85× the memory store at 32 clients", "redis-server not installed", undefined);
    target("7. Redis store, stdio latency", "p50 ≤ memory store + 0.2 ms", "redis-server not installed", undefined);
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
  const KINDS = ["memory", "redis"] as const;
  type Kind = (typeof KINDS)[number];
  const order = (i: number): readonly Kind[] => (i % 2 === 0 ? KINDS : ["redis", "memory"]);
  out(
    `redis-server ${redis.url} (own process, loopback, no persistence). Both servers run one profile with three limits ` +
      "(per_minute, per_tool_per_minute, per_month; never reached), so every call is one decision over 3 windows. " +
      `The machine is shared: memory and Redis run in alternating slices (HTTP ${sliceMs / 1000} s, stdio ${seqSlice} calls), ` +
      "each pair compared on its own, and the median pair is reported.",
  );
  out("");

  const servers: Partial<Record<Kind, HttpServer>> = {};
  const conns: Partial<Record<Kind, McpConn[]>> = {};
  try {
    // HTTP: 32 clients per server, closed loop, tagged rerank.
    for (const kind of KINDS) {
      const h = await spawnOurHttp(d.emuUrl, kind === "redis" ? [...common, ...store] : common);
      if (!h.server) throw new Error(`cohere-mcp --http (${kind} store) did not start: ${h.reason}`);
      servers[kind] = h.server;
      conns[kind] = await connectMany(CLIENTS, h.server.mcpUrl, `store-${kind}`);
      await warmUp(conns[kind]!, "rerank", d.warmMs);
    }
    const http: Record<Kind, LoadResult[]> = { memory: [], redis: [] };
    const cpu: Record<Kind, number[]> = { memory: [], redis: [] };
    const redisCpu: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      for (const kind of order(i)) {
        const srv = servers[kind]!;
        const c0 = cpuOf(srv.proc.pid);
        const rc0 = cpuOf(redis.pid());
        const r = await closedLoop(conns[kind]!, "rerank", sliceMs, srv.proc.pid);
        cpu[kind].push((cpuOf(srv.proc.pid) - c0) / Math.max(1, r.calls));
        if (kind === "redis") redisCpu.push((cpuOf(redis.pid()) - rc0) / Math.max(1, r.calls));
        http[kind].push(r);
      }
    }
    for (const kind of KINDS) {
      await closeAll(conns[kind]!);
      await servers[kind]!.stop();
    }

    // stdio: sequential rerank latency, both connections open, alternating slices.
    const stdio: Partial<Record<Kind, McpConn>> = {};
    for (const kind of KINDS) stdio[kind] = await connectOurStdio(d.emuUrl, kind === "redis" ? [...common, ...store] : common);
    const seq: Record<Kind, Seq[]> = { memory: [], redis: [] };
    try {
      for (const kind of KINDS) {
        const c = stdio[kind]!;
        await measureSeq(() => c.client.callTool({ name: "rerank", arguments: RERANK_ARGS }, undefined, { timeout: 10_000 }), d.warm, 0, c.pid);
      }
      for (let i = 0; i < PAIRS; i++) {
        for (const kind of order(i)) {
          const c = stdio[kind]!;
          seq[kind].push(await measureSeq(() => c.client.callTool({ name: "rerank", arguments: RERANK_ARGS }, undefined, { timeout: 10_000 }), seqSlice, 0, c.pid));
        }
      }
    } finally {
      for (const kind of KINDS) await stdio[kind]?.close();
    }

    const errs = (r: LoadResult) => r.errorResults + r.thrown + r.timeouts + r.wrongClient;
    const ratios = http.redis.map((r, i) => r.perSec / http.memory[i]!.perSec);
    const tr = median(ratios);
    const deltas = seq.redis.map((r, i) => r.p50 - seq.memory[i]!.p50);
    const dp = median(deltas);
    const totalErrors = [...http.memory, ...http.redis].reduce((sum, r) => sum + errs(r), 0) + [...seq.memory, ...seq.redis].reduce((sum, r) => sum + r.errors, 0);

    out(`| HTTP, ${CLIENTS} clients | median calls/s | range calls/s | median p50 ms | median p99 ms | server CPU µs/call | errors |`);
    out("|---|---:|---:|---:|---:|---:|---:|");
    for (const kind of KINDS) {
      const rs = http[kind];
      const ps = rs.map((r) => r.perSec);
      out(
        `| ${kind} store | ${int(median(ps))} | ${int(Math.min(...ps))}–${int(Math.max(...ps))} | ${f2(median(rs.map((r) => r.lat.p50)))} | ` +
          `${f2(median(rs.map((r) => r.lat.p99)))} | ${int(median(cpu[kind]))} | ${rs.reduce((sum, r) => sum + errs(r), 0)} |`,
      );
    }
    out("");
    out(
      `HTTP calls/s, Redis ÷ memory: ${f2(tr)} (median of ${PAIRS} pairs; pairs ${ratios.map(f2).join(", ")}); ` +
        `redis-server CPU per call: ${int(median(redisCpu))} µs`,
    );
    out("");
    out(`| stdio, sequential rerank | median p50 ms | median p99 ms | server CPU µs/call | errors |`);
    out("|---|---:|---:|---:|---:|");
    for (const kind of KINDS) {
      const rs = seq[kind];
      out(`| ${kind} store | ${f3(median(rs.map((r) => r.p50)))} | ${f3(median(rs.map((r) => r.p99)))} | ${int(median(rs.map((r) => r.cpuUs)))} | ${rs.reduce((sum, r) => sum + r.errors, 0)} |`);
    }
    out("");
    out(`stdio p50, Redis − memory: ${dp >= 0 ? "+" : ""}${f3(dp)} ms (median of ${PAIRS} pairs; pairs ${deltas.map(f3).join(", ")})`);
    out("");
    target(
      "7. Redis store, HTTP throughput",
      "≥ 0.85× the memory store at 32 clients",
      `${f2(tr)}× (${int(median(http.redis.map((r) => r.perSec)))}/s vs ${int(median(http.memory.map((r) => r.perSec)))}/s)`,
      tr >= 0.85 && totalErrors === 0,
    );
    target("7. Redis store, stdio latency", "p50 ≤ memory store + 0.2 ms", `${dp >= 0 ? "+" : ""}${f3(dp)} ms`, dp <= 0.2 && totalErrors === 0);
  } finally {
    for (const kind of KINDS) await servers[kind]?.stop();
    await redis.dispose();
  }
}
