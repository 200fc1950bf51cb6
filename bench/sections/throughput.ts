/**
 * Section 2: throughput over stateless HTTP, closed loops of 1, 8, 32 and 128 clients (tagged
 * rerank, so an answer delivered to the wrong client shows), server CPU and memory per level.
 */
import { join } from "node:path";
import { mib, rssOf, spawnOurHttp, type HttpServer } from "../lib.js";
import { closeAll, closedLoop, connectMany, warmUp, type LoadResult } from "../measure.js";
import { f2, int, out, ratio, target } from "../report.js";
import { BASELINE, S } from "../settings.js";

export async function throughput(http: HttpServer | undefined, emuUrl: string, tmp: string): Promise<void> {
  out(`## 2. Throughput over HTTP (tagged rerank, closed loop, ${S.levelMs / 1000} s per level)`);
  out("");
  if (!http) {
    out("HTTP: not available");
    out("");
    target("2. HTTP throughput", "flat memory, no errors", "HTTP: not available", undefined);
    return;
  }
  const pid = http.proc.pid;
  const idle = rssOf(pid);
  out(`server RSS before the first level: ${mib(idle)}`);
  out("");
  out("| clients | calls/s | p50 ms | p99 ms | calls | server CPU µs/call | error results | thrown | timeouts | wrong client | server RSS end | server RSS peak |");
  out("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const row = (label: string, r: LoadResult) =>
    out(
      `| ${label} | ${int(r.perSec)} | ${f2(r.lat.p50)} | ${f2(r.lat.p99)} | ${int(r.calls)} | ${int(r.cpuUs)} | ${r.errorResults} | ${r.thrown} | ${r.timeouts} | ${r.wrongClient} | ${mib(r.rssEnd)} | ${mib(r.rssPeak)} |`,
    );
  const results: Array<{ n: number; r: LoadResult }> = [];
  for (const n of S.levels) {
    const conns = await connectMany(n, http.mcpUrl, "tp");
    await warmUp(conns, "rerank", S.warmMs);
    const r = await closedLoop(conns, "rerank", S.levelMs, pid);
    await closeAll(conns);
    results.push({ n, r });
    row(String(n), r);
  }
  // repeat one client at the end: does memory come back down, i.e. no leak across the levels?
  const conns = await connectMany(1, http.mcpUrl, "tp-again");
  const again = await closedLoop(conns, "rerank", S.levelMs, pid);
  await closeAll(conns);
  row("1 (again)", again);
  out("");
  const errs = [...results.map((x) => x.r), again].reduce((s, r) => s + r.errorResults + r.thrown + r.timeouts + r.wrongClient, 0);
  const first = results[0]!.r.rssEnd;
  const peak = Math.max(...results.map((x) => x.r.rssPeak), again.rssPeak);
  const loadPeak = Math.max(...results.map((x) => x.r.rssPeak));
  // V8 keeps the heap it grew, so RSS need not come back down; flat means it stops growing
  // once the load is gone: the 1-client level repeated after 128 clients adds nothing.
  const flat = again.rssPeak <= loadPeak * 1.05;
  out(
    `memory: RSS after 1 client ${mib(first)}, peak under ${S.levels.at(-1)} clients ${mib(loadPeak)}, during 1 client again ${mib(again.rssPeak)} ` +
      `(${f2(ratio(again.rssPeak, loadPeak))}× the peak under load); errors of any kind: ${errs}`,
  );
  out("");
  target("2. HTTP throughput", "flat memory (no growth once the load is gone: repeated 1-client level ≤ 1.05× the peak), no errors", `${results.map((x) => `${x.n}: ${int(x.r.perSec)}/s`).join(", ")}; RSS ${mib(first)} → peak ${mib(peak)} → ${mib(again.rssPeak)}; ${errs} errors`, flat && errs === 0);
  if (BASELINE) await againstBaseline(http, emuUrl, tmp);
}

/**
 * --baseline: 32 clients on this build and on the baseline (same flags, --audit-log on both), in
 * alternating slices so that the shared machine's load falls on both alike.
 */
async function againstBaseline(http: HttpServer, emuUrl: string, tmp: string): Promise<void> {
  const base = (await spawnOurHttp(emuUrl, ["--audit-log", join(tmp, "audit-b-tp.jsonl")], {}, 10_000, undefined, BASELINE)).server;
  if (!base) {
    out("baseline: HTTP not available");
    out("");
    return;
  }
  // the same build with its modern fast path off (every modern request through the SDK's createMcpHandler)
  const sdkPath = (await spawnOurHttp(emuUrl, ["--audit-log", join(tmp, "audit-sdk-tp.jsonl")], { COHERE_MCP_MODERN_FAST: "off" })).server;
  const n = 32;
  // 6 rounds (not 3): on a shared machine a round's luck moves a side by ±20 %
  const slices = 6;
  const sliceMs = Math.max(1000, Math.round(S.levelMs / 2));
  // cli: the CPU this process (the clients) spent; the v2 client (modern) costs more per call than v1
  const zero = () => ({ calls: 0, ms: 0, cpu: 0, cli: 0, errs: 0 });
  const sum = { ours: zero(), modern: zero(), sdk: zero(), base: zero() };
  const ours = await connectMany(n, http.mcpUrl, "tp-ours");
  // the same build's modern era (MCP 2026-07-28, the SDK v2 client pinned): the baseline may not serve it
  const modern = await connectMany(n, http.mcpUrl, "tp-modern", true);
  const theirs = await connectMany(n, base.mcpUrl, "tp-base");
  const viaSdk = sdkPath ? await connectMany(n, sdkPath.mcpUrl, "tp-modern-sdk", true) : [];
  await warmUp(ours, "rerank", S.warmMs);
  await warmUp(modern, "rerank", S.warmMs);
  if (sdkPath) await warmUp(viaSdk, "rerank", S.warmMs);
  await warmUp(theirs, "rerank", S.warmMs);
  for (let i = 0; i < slices; i++) {
    const sides = [["ours", ours, http], ["modern", modern, http], ["base", theirs, base], ...(sdkPath ? [["sdk", viaSdk, sdkPath] as const] : [])] as const;
    for (const [side, conns, srv] of sides) {
      const cpu0 = process.cpuUsage();
      const r = await closedLoop(conns, "rerank", sliceMs, srv.proc.pid);
      const used = process.cpuUsage(cpu0);
      const s = sum[side];
      s.cli += used.user + used.system;
      s.calls += r.calls;
      s.ms += sliceMs;
      s.cpu += r.cpuUs * r.calls;
      s.errs += r.errorResults + r.thrown + r.timeouts + r.wrongClient;
    }
  }
  await closeAll(ours);
  await closeAll(modern);
  await closeAll(theirs);
  await closeAll(viaSdk);
  await base.stop();
  await sdkPath?.stop();
  const perSec = (x: { calls: number; ms: number }) => (x.calls / x.ms) * 1000;
  const cpu = (x: { calls: number; cpu: number; cli: number }) =>
    `server CPU ${int(x.cpu / Math.max(1, x.calls))} µs/call, clients' CPU ${int(x.cli / Math.max(1, x.calls))} µs/call`;
  const tr = ratio(perSec(sum.ours), perSec(sum.base));
  out(
    `${n} clients against the baseline (${BASELINE}), ${slices} alternating slices of ${sliceMs / 1000} s each: ` +
      `this build ${int(perSec(sum.ours))}/s (${cpu(sum.ours)}), ` +
      `baseline ${int(perSec(sum.base))}/s (${cpu(sum.base)}): ${f2(tr)}×; errors ${sum.ours.errs} and ${sum.base.errs}`,
  );
  out("");
  const mr = ratio(perSec(sum.modern), perSec(sum.base));
  out(
    `${n} clients on this build's modern era (2026-07-28, SDK v2 client), same slices: ${int(perSec(sum.modern))}/s ` +
      `(${cpu(sum.modern)}): ${f2(mr)}× the baseline's legacy figure; errors ${sum.modern.errs}`,
  );
  out("");
  if (sdkPath) {
    out(
      `${n} clients on this build's modern era with its fast path off (COHERE_MCP_MODERN_FAST=off: every request through the SDK's createMcpHandler), same slices: ` +
        `${int(perSec(sum.sdk))}/s (${cpu(sum.sdk)}): ${f2(ratio(perSec(sum.sdk), perSec(sum.base)))}× the baseline; errors ${sum.sdk.errs}`,
    );
    out("");
  }
  target("2. throughput at 32 clients, 2026-07-28 vs the baseline (2025-11-25)", "does not drop (≥ 0.95×, alternating slices)", `${f2(mr)}× (${int(perSec(sum.modern))}/s)`, mr >= 0.95 && sum.modern.errs === 0);
  target("2. throughput at 32 clients vs the baseline", "does not drop (≥ 0.95×, alternating slices)", `${f2(tr)}× (${int(perSec(sum.ours))}/s vs ${int(perSec(sum.base))}/s)`, tr >= 0.95 && sum.ours.errs === 0);
}
