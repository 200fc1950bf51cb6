/**
 * Section 2: throughput over stateless HTTP, closed loops of 1, 8, 32 and 128 clients (tagged
 * rerank, so an answer delivered to the wrong client shows), server CPU and memory per level;
 * with --baseline, both eras of this build against another build at 32 clients
 * (throughput-baseline.ts).
 */
import { mib, rssOf, type HttpServer } from "../lib.js";
import { closeAll, closedLoop, connectMany, warmUp, type LoadResult } from "../measure.js";
import { f2, int, out, ratio, target } from "../report.js";
import { BASELINE, S } from "../settings.js";
import { againstBaseline } from "./throughput-baseline.js";

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
