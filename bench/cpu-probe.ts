#!/usr/bin/env node
/**
 * Server CPU per call over stdio, for finding where a stdio server's per-call work goes: each
 * server named below is started once per era (legacy: the v1 client; modern: the SDK v2 client
 * pinned to 2026-07-28), warmed up, then measured in interleaved blocks of sequential rerank calls
 * against the emulator. CPU (schedstat of the server's threads) is far less sensitive to the
 * shared machine's load than latency, so this shows the ratio of work when p50 is noisy.
 *
 *   node dist/bench/cpu-probe.js [--warm 3000] [--n 4000] [--rounds 8] [--audit on|off]
 *        [--eras legacy,modern] [--server label=ENTRY[,noaudit] ...] [--prof DIR]
 *
 * By default it measures this build (ours) and the bare SDK v2 proxy (bench/minimal-server).
 * --prof DIR runs each server under --cpu-prof with its profile written to DIR at exit.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  BENCH_KEY,
  ENTRY,
  MINIMAL_SERVER,
  RERANK_ARGS,
  argOf,
  connectStdioCmd,
  connectStdioModern,
  cpuOf,
  median,
  scrubbedEnv,
  spawnEmulator,
  type McpConn,
} from "./lib.js";

const warm = Number(argOf("--warm", "3000"));
const n = Number(argOf("--n", "4000"));
const rounds = Number(argOf("--rounds", "8"));
const audit = argOf("--audit", "on") === "on";
const prof = argOf("--prof", "");
const eras = argOf("--eras", "legacy,modern").split(",") as ("legacy" | "modern")[];
const servers: { label: string; entry: string; audit: boolean }[] = [];
process.argv.forEach((a, i) => {
  if (a === "--server") {
    const [label, spec] = process.argv[i + 1]!.split("=");
    const [entry, opt] = spec!.split(",");
    servers.push({ label: label!, entry: entry!, audit: audit && opt !== "noaudit" });
  }
});
if (servers.length === 0) servers.push({ label: "ours", entry: ENTRY, audit });
servers.push({ label: "proxy", entry: MINIMAL_SERVER, audit: false });

const emu = await spawnEmulator();
const tmp = mkdtempSync(join(tmpdir(), "cpu-probe-"));
const env = (extra: Record<string, string> = {}) => scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emu.url, ...extra });

interface Unit {
  label: string;
  era: "legacy" | "modern";
  conn: McpConn;
  cpu: number[];
  lat: number[];
}
const units: Unit[] = [];
for (const era of eras) {
  for (const s of servers) {
    const isProxy = s.entry === MINIMAL_SERVER;
    const args = [
      ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`, `--cpu-prof-name=${s.label}-${era}.cpuprofile`] : []),
      s.entry,
      ...(s.audit ? ["--audit-log", join(tmp, `audit-${s.label}-${era}.jsonl`)] : []),
    ];
    const e = env(isProxy ? { MINIMAL_TOOL: "rerank" } : {});
    const conn = era === "modern" ? await connectStdioModern(process.execPath, args, e) : await connectStdioCmd(process.execPath, args, e);
    units.push({ label: s.label, era, conn, cpu: [], lat: [] });
  }
}
const call = (u: Unit) => u.conn.client.callTool({ name: "rerank", arguments: RERANK_ARGS });
for (const u of units) {
  for (let i = 0; i < warm; i++) {
    const r = (await call(u)) as { isError?: boolean };
    if (r.isError) throw new Error(`${u.label} ${u.era}: error result`);
  }
}
const per = Math.ceil(n / rounds);
for (let r = 0; r < rounds; r++) {
  for (const u of [...units].sort(() => Math.random() - 0.5)) {
    const c0 = cpuOf(u.conn.pid);
    for (let i = 0; i < per; i++) {
      const t0 = performance.now();
      await call(u);
      u.lat.push(performance.now() - t0);
    }
    u.cpu.push((cpuOf(u.conn.pid) - c0) / per);
  }
}
for (const u of units) await u.conn.close();
await emu.stop();
const load = (await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" ");
console.log(`server CPU µs per rerank call over stdio (median of ${rounds} blocks of ${per}, after ${warm} warm-up calls; audit ${audit ? "on" : "off"}; load ${load})`);
for (const era of eras) {
  const proxy = units.find((u) => u.era === era && u.label === "proxy")!;
  const pc = median(proxy.cpu);
  const pl = median(proxy.lat);
  for (const u of units.filter((x) => x.era === era)) {
    const c = median(u.cpu);
    const l = median(u.lat);
    const lo = Math.min(...u.cpu);
    console.log(
      `${era.padEnd(6)} ${u.label.padEnd(10)} CPU ${c.toFixed(0).padStart(5)} µs (${(c / pc).toFixed(2)}× proxy; lowest block ${lo.toFixed(0)}, ${(lo / Math.min(...proxy.cpu)).toFixed(2)}×)   ` +
        `p50 ${l.toFixed(3)} ms (${(l / pl).toFixed(2)}× proxy)`,
    );
  }
}
process.exit(0);
