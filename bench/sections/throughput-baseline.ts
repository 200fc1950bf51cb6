/**
 * Section 2 with --baseline: 32 clients on this build (both eras) and on the baseline build, in
 * interleaved slices so that the shared machine's load falls on every side alike.
 *
 * Two kinds of client, each on every side it can reach:
 *  - raw HTTP (bench/raw-http.ts): the requests each era's client sends, pre-built, over one
 *    keep-alive connection per client. Its cost per call is the same in both eras, so the ratio
 *    between eras is the server's. The targets are measured with it.
 *  - the SDK clients (v1 for the legacy era, v2 pinned to 2026-07-28 for the modern one), as
 *    users run them: the v2 client costs this process more CPU per call than v1, and on a small
 *    machine that CPU is taken from the servers. Reported beside, with the clients' CPU per call.
 * The fast path off (COHERE_MCP_MODERN_FAST=off: the SDK's createMcpHandler) is measured with the
 * v2 client, as before.
 */
import { join } from "node:path";
import { median, spawnOurHttp, type HttpServer, type McpConn } from "../lib.js";
import { closeAll, closedLoop, connectMany, warmUp } from "../measure.js";
import { connectManyRaw, type RawConn } from "../raw-http.js";
import { f2, int, out, ratio, target } from "../report.js";
import { BASELINE, S } from "../settings.js";

interface Side {
  key: string;
  label: string;
  conns: McpConn[];
  srv: HttpServer;
  raw?: RawConn[];
}

interface Tally {
  calls: number;
  ms: number;
  /** server CPU µs (summed over calls) */
  cpu: number;
  /** this process's CPU µs (the clients) */
  cli: number;
  errs: number;
}

export async function againstBaseline(http: HttpServer, emuUrl: string, tmp: string): Promise<void> {
  if (!BASELINE) return;
  const base = (await spawnOurHttp(emuUrl, ["--audit-log", join(tmp, "audit-b-tp.jsonl")], {}, 10_000, undefined, BASELINE)).server;
  if (!base) {
    out("baseline: HTTP not available");
    out("");
    return;
  }
  // the same build with its modern fast path off (every modern request through the SDK's createMcpHandler)
  const sdkPath = (await spawnOurHttp(emuUrl, ["--audit-log", join(tmp, "audit-sdk-tp.jsonl")], { COHERE_MCP_MODERN_FAST: "off" })).server;
  const n = 32;
  // Many short rounds (12 of 1.25 s; --quick 6 of 1 s): on a shared machine a slice's luck moves
  // a side by ±20 % and more, and the sides compared should run close together in time.
  const sliceMs = Math.max(1000, Math.round(S.levelMs / 4));
  const slices = Math.max(6, Math.round((3 * S.levelMs) / sliceMs));

  const rawLegacy = await connectManyRaw(n, http.mcpUrl, "legacy", "tp-raw-legacy");
  const rawModern = await connectManyRaw(n, http.mcpUrl, "modern", "tp-raw-modern");
  const rawBase = await connectManyRaw(n, base.mcpUrl, "legacy", "tp-raw-base");
  const sides: Side[] = [
    { key: "rawLegacy", label: "raw, legacy era", conns: rawLegacy, srv: http, raw: rawLegacy },
    { key: "rawModern", label: "raw, modern era", conns: rawModern, srv: http, raw: rawModern },
    { key: "rawBase", label: "raw, baseline (legacy)", conns: rawBase, srv: base, raw: rawBase },
    { key: "ours", label: "SDK v1, legacy era", conns: await connectMany(n, http.mcpUrl, "tp-ours"), srv: http },
    // the same build's modern era (MCP 2026-07-28, the SDK v2 client pinned): the baseline may not serve it
    { key: "modern", label: "SDK v2, modern era", conns: await connectMany(n, http.mcpUrl, "tp-modern", true), srv: http },
    { key: "base", label: "SDK v1, baseline", conns: await connectMany(n, base.mcpUrl, "tp-base"), srv: base },
  ];
  if (sdkPath) sides.push({ key: "sdk", label: "SDK v2, modern, fast path off", conns: await connectMany(n, sdkPath.mcpUrl, "tp-modern-sdk", true), srv: sdkPath });
  for (const s of sides) await warmUp(s.conns, "rerank", S.warmMs);

  const zero = (): Tally => ({ calls: 0, ms: 0, cpu: 0, cli: 0, errs: 0 });
  const sum = new Map(sides.map((s) => [s.key, zero()]));
  const perSec = (x: { calls: number; ms: number }) => (x.calls / Math.max(1, x.ms)) * 1000;
  const ratios: Record<"rm" | "rl" | "sm" | "sl", number[]> = { rm: [], rl: [], sm: [], sl: [] };
  out(
    `${n} clients per side, ${slices} rounds of one ${sliceMs / 1000} s slice per side (raw sides together, SDK sides together, the order rotating); ` +
      `calls/s per round, and this build's ratio to the baseline (raw: the server's; SDK: with each era's own client):`,
  );
  out("");
  out(`| round | ${sides.map((s) => s.label).join(" | ")} | raw modern ÷ base | raw legacy ÷ base | SDK modern ÷ base | SDK legacy ÷ base |`);
  out(`|---:|${sides.map(() => "---:|").join("")}---:|---:|---:|---:|`);
  for (let i = 0; i < slices; i++) {
    const round = new Map<string, number>();
    // the raw sides next to each other, and the SDK sides: each group's order rotates, and which
    // group goes first alternates
    const groups = [sides.filter((x) => x.raw), sides.filter((x) => !x.raw)].map((g) => g.map((_, j) => g[(i + j) % g.length]!));
    const order = (i % 2 ? groups.reverse() : groups).flat();
    for (const s of order) {
      const cpu0 = process.cpuUsage();
      const r = await closedLoop(s.conns, "rerank", sliceMs, s.srv.proc.pid);
      const used = process.cpuUsage(cpu0);
      const t = sum.get(s.key)!;
      t.cli += used.user + used.system;
      t.calls += r.calls;
      t.ms += sliceMs;
      t.cpu += r.cpuUs * r.calls;
      t.errs += r.errorResults + r.thrown + r.timeouts + r.wrongClient + r.undecodable;
      round.set(s.key, (r.calls / sliceMs) * 1000);
    }
    const q = (into: number[], a: string, b: string) => {
      const x = ratio(round.get(a) ?? NaN, round.get(b) ?? NaN);
      into.push(x);
      return f2(x);
    };
    out(
      `| ${i + 1} | ${sides.map((s) => int(round.get(s.key) ?? NaN)).join(" | ")} | ${q(ratios.rm, "rawModern", "rawBase")} | ${q(ratios.rl, "rawLegacy", "rawBase")} | ${q(ratios.sm, "modern", "base")} | ${q(ratios.sl, "ours", "base")} |`,
    );
  }
  out(`| median | ${sides.map(() => "").join(" | ")} | ${f2(median(ratios.rm))} | ${f2(median(ratios.rl))} | ${f2(median(ratios.sm))} | ${f2(median(ratios.sl))} |`);
  out("");
  const raw = sides.flatMap((s) => s.raw ?? []).map((c) => c.failures());
  const rawStatus = raw.reduce((a, f) => a + f.status, 0);
  const rawRpc = raw.reduce((a, f) => a + f.rpc, 0);
  for (const s of sides) await closeAll(s.conns);
  await base.stop();
  await sdkPath?.stop();

  out("| side | calls/s | server CPU µs/call | clients' CPU µs/call | errors | ÷ baseline (same client) |");
  out("|---|---:|---:|---:|---:|---:|");
  const baseOf = (key: string) => (key.startsWith("raw") ? "rawBase" : "base");
  for (const s of sides) {
    const t = sum.get(s.key)!;
    const b = sum.get(baseOf(s.key))!;
    out(
      `| ${s.label} | ${int(perSec(t))} | ${int(t.cpu / Math.max(1, t.calls))} | ${int(t.cli / Math.max(1, t.calls))} | ${t.errs} | ${f2(ratio(perSec(t), perSec(b)))}× |`,
    );
  }
  out("");
  out(`baseline: ${BASELINE}; raw clients: ${rawStatus} answers not HTTP 200, ${rawRpc} JSON-RPC errors`);
  out("");

  const T = (key: string) => sum.get(key)!;
  const rawErrs = rawStatus + rawRpc + T("rawLegacy").errs + T("rawModern").errs + T("rawBase").errs;
  const rm = ratio(perSec(T("rawModern")), perSec(T("rawBase")));
  const rl = ratio(perSec(T("rawLegacy")), perSec(T("rawBase")));
  const mr = ratio(perSec(T("modern")), perSec(T("base")));
  const tr = ratio(perSec(T("ours")), perSec(T("base")));
  const cpuOf = (key: string) => int(T(key).cpu / Math.max(1, T(key).calls));
  target(
    "2. throughput at 32 raw-HTTP clients, 2026-07-28 vs the baseline (2025-11-25)",
    "does not drop (≥ 0.95×, alternating slices), every raw call answered",
    `${f2(rm)}× (${int(perSec(T("rawModern")))}/s vs ${int(perSec(T("rawBase")))}/s; median of the rounds ${f2(median(ratios.rm))}×; server CPU ${cpuOf("rawModern")} vs ${cpuOf("rawBase")} µs/call); ${rawErrs} errors`,
    rm >= 0.95 && rawErrs === 0,
  );
  target(
    "2. throughput at 32 raw-HTTP clients, 2025-11-25 vs the baseline",
    "does not drop (≥ 0.95×, alternating slices), every raw call answered",
    `${f2(rl)}× (${int(perSec(T("rawLegacy")))}/s; median of the rounds ${f2(median(ratios.rl))}×; server CPU ${cpuOf("rawLegacy")} µs/call); ${rawErrs} errors`,
    rl >= 0.95 && rawErrs === 0,
  );
  target("2. throughput at 32 clients, 2026-07-28 (SDK v2 client) vs the baseline (SDK v1)", "does not drop (≥ 0.95×, alternating slices)", `${f2(mr)}× (${int(perSec(T("modern")))}/s)`, mr >= 0.95 && T("modern").errs === 0);
  target("2. throughput at 32 clients vs the baseline", "does not drop (≥ 0.95×, alternating slices)", `${f2(tr)}× (${int(perSec(T("ours")))}/s vs ${int(perSec(T("base")))}/s)`, tr >= 0.95 && T("ours").errs === 0);
}
