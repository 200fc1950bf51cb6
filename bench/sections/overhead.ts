/**
 * Section 1 (issues 5 and 13): what one call costs, sequentially, against a zero-latency
 * upstream. Every path (direct undici, cohere-mcp over stdio with and without --audit-log,
 * cohere-mcp over stateless HTTP, the bare SDK proxy over stdio and over HTTP, the peer) is
 * started once and measured in the same interleaved rounds: each round runs a block of calls on
 * every path and tool in a new random order, so a busy moment of the shared machine falls on all
 * of them alike. Server CPU is the sum of the server's threads' run time (schedstat, ns).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import {
  BENCH_KEY,
  EMBED_ARGS,
  ENTRY,
  MINIMAL_SERVER,
  RERANK_ARGS,
  ROOT,
  connectHttp,
  connectStdioCmd,
  connectStdioModern,
  cpuOf,
  peerStdioArgs,
  scrubbedEnv,
  spawnMinimalHttp,
  spawnOurHttp,
  summarize,
  type CallResult,
  type HttpServer,
  type McpConn,
  type Summary,
} from "../lib.js";
import { mcpCall, type Call } from "../measure.js";
import { f2, f3, int, out, ratio, target, usDiff } from "../report.js";
import { BASELINE, S } from "../settings.js";
import { describeZod } from "../zod-probe.js";

type Tool = "rerank" | "embed";
const TOOLS: Tool[] = ["rerank", "embed"];

/** One server process (or the direct client) a path is measured on. */
interface Unit {
  pid?: number | null;
  call: Record<Tool, Call>;
  close(): Promise<void>;
  samples: Record<Tool, number[]>;
  cpu: Record<Tool, number>;
  calls: Record<Tool, number>;
  errors: number;
}

interface Path {
  key: string;
  label: string;
  /** Which bare proxy its ratio is taken against. */
  kind: "direct" | "stdio" | "modern" | "http" | "ref";
  /** Several processes of the same server: a process's JIT and memory layout luck is averaged out. */
  units: Unit[];
}

type Row = { path: Path; lat: Record<Tool, Summary>; cpuUs: Record<Tool, number>; errors: number; perProc: Summary[] };

const PROBE = `${ROOT}/dist/bench/zod-probe.js`;

/** The array in a new random order, in place (Fisher–Yates). */
function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

function unit(call: Record<Tool, Call>, close: () => Promise<void>, pid?: number | null): Unit {
  return { pid, call, close, samples: { rerank: [], embed: [] }, cpu: { rerank: 0, embed: 0 }, calls: { rerank: 0, embed: 0 }, errors: 0 };
}

const mcpUnit = (c: McpConn, names: Record<Tool, string> = { rerank: "rerank", embed: "embed" }, pid: number | null | undefined = c.pid) =>
  unit({ rerank: mcpCall(c, names.rerank, RERANK_ARGS), embed: mcpCall(c, names.embed, EMBED_ARGS) }, () => c.close(), pid);

const mcpPath = (key: string, label: string, kind: Path["kind"], units: Unit[]): Path => ({ key, label, kind, units });

/** One probe run of a stdio server (never measured): the zod it loads by its first call. */
async function zodOf(args: string[], env: Record<string, string>, tool: string, tmp: string, name: string): Promise<string> {
  const file = join(tmp, `zod-${name}.txt`);
  rmSync(file, { force: true });
  try {
    const c = await connectStdioCmd(process.execPath, ["--import", PROBE, ...args], { ...env, ZOD_PROBE_OUT: file });
    await c.client.listTools();
    await c.client.callTool({ name: tool, arguments: RERANK_ARGS });
    await c.close();
    return describeZod(file, ROOT);
  } catch (err) {
    return `not probed (${(err as Error).message})`;
  }
}

export async function overhead(emuUrl: string, http: HttpServer | undefined, tmp: string): Promise<void> {
  const perBlock = Math.max(10, Math.ceil(S.seqN / S.rounds));
  const n = perBlock * S.rounds;
  out(
    `## 1. Overhead per call (sequential; ${int(n)} calls per path and tool in ${S.rounds} interleaved rounds of ${perBlock}, ` +
      `after ${int(S.steadyWarm * TOOLS.length)} warm-up calls per process${S.steadyWarm >= 2500 ? " (a steady state: V8 has optimized the per-call functions by then, see bench/settings.ts)" : " (fewer than the default 5,000: V8 may not have optimized the per-call functions yet, see bench/settings.ts)"}; each stdio server compared in the targets runs as ${S.procs} processes taking the rounds in turn, ` +
      `and its figures pool their calls; latency in ms)`,
  );
  out("");
  const env = (extra: Record<string, string> = {}) => scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emuUrl, ...extra });
  const both = { MINIMAL_TOOL: "rerank,embed" };

  // Which zod each server loads, from one probe run each (a resolve hook; not the measured processes).
  const zod = {
    ours: await zodOf([ENTRY], env(), "rerank", tmp, "ours"),
    proxy: await zodOf([MINIMAL_SERVER], env(both), "rerank", tmp, "proxy"),
    peer: await zodOf(peerStdioArgs(emuUrl), scrubbedEnv(), "rerankv-2", tmp, "peer"),
    baseline: BASELINE ? await zodOf([BASELINE], env(), "rerank", tmp, "baseline") : undefined,
  };

  const pool = new Pool(new URL(emuUrl).origin, { connections: 4 });
  const direct = (p: string, body: unknown): Call => async () => {
    const res = await pool.request({
      method: "POST",
      path: p,
      headers: { authorization: `Bearer ${BENCH_KEY}`, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    const data: unknown = await res.body.json();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    return data;
  };

  const paths: Path[] = [];
  paths.push(mcpPath("direct", "(a) direct undici → emulator", "direct", [unit({ rerank: direct("/v2/rerank", RERANK_ARGS), embed: direct("/v2/embed", EMBED_ARGS) }, async () => undefined)]));
  // S.procs processes of each stdio server compared in the targets (ours with and without the
  // audit log, the bare proxy, the baseline's). They are started in turns, one of each server a
  // turn in a new random order, and warmed up in turns too: a process started (or warmed) first
  // ran measurably slower in A/A tests (the same build as two paths: up to 38 µs p50, 68 µs CPU),
  // and the audit-on servers used to be started first every time.
  const groups: { make: (i: number) => Promise<McpConn>; units: Unit[] }[] = [];
  const procs = (make: (i: number) => Promise<McpConn>): Unit[] => {
    const units: Unit[] = [];
    groups.push({ make, units });
    return units;
  };
  const startGroups = async () => {
    for (let i = 0; i < S.procs; i++) {
      for (const g of shuffle([...groups])) g.units.push(mcpUnit(await g.make(i)));
    }
  };
  const ourStdio = async (entry: string, audit: boolean, name: string) =>
    connectStdioCmd(process.execPath, [entry, ...(audit ? ["--audit-log", join(tmp, `audit-${name}.jsonl`)] : [])], env());
  paths.push(mcpPath("audit", "(b) cohere-mcp, stdio, --audit-log", "stdio", procs((i) => ourStdio(ENTRY, true, `stdio-${i}`))));
  paths.push(mcpPath("noaudit", "(b′) cohere-mcp, stdio, no audit log", "stdio", procs(() => ourStdio(ENTRY, false, "stdio-off"))));
  if (http) {
    const c = await connectHttp(http.mcpUrl);
    paths.push(mcpPath("http", "(c) cohere-mcp, HTTP stateless, --audit-log", "http", [mcpUnit(c, undefined, http.proc.pid)]));
  }
  paths.push(mcpPath("proxy", "ref: bare SDK proxy, stdio (bench/minimal-server)", "ref", procs(() => connectStdioCmd(process.execPath, [MINIMAL_SERVER], env(both)))));
  // The modern era (MCP 2026-07-28): both servers again, each with the SDK v2 client pinned to it.
  paths.push(mcpPath("m-audit", "(m) cohere-mcp, stdio, 2026-07-28, --audit-log", "modern", procs((i) => connectStdioModern(process.execPath, [ENTRY, "--audit-log", join(tmp, `audit-m-${i}.jsonl`)], env()))));
  paths.push(mcpPath("m-proxy", "ref: bare SDK proxy, stdio, 2026-07-28", "ref", procs(() => connectStdioModern(process.execPath, [MINIMAL_SERVER], env(both)))));
  const proxyHttp = await spawnMinimalHttp(emuUrl, "rerank,embed");
  const proxyHttpConn = await connectHttp(proxyHttp.mcpUrl);
  const proxyHttpUnit = mcpUnit(proxyHttpConn, undefined, proxyHttp.proc.pid);
  proxyHttpUnit.close = async () => {
    await proxyHttpConn.close();
    await proxyHttp.stop();
  };
  paths.push(mcpPath("proxy-http", "ref: bare SDK proxy, HTTP stateless", "ref", [proxyHttpUnit]));
  const peer = await connectStdioCmd(process.execPath, peerStdioArgs(emuUrl), scrubbedEnv());
  paths.push(mcpPath("peer", "ref: peer (openapi-mcp-server), stdio", "ref", [mcpUnit(peer, { rerank: "rerankv-2", embed: "embedv-2" })]));
  let baselineHttp: HttpServer | undefined;
  if (BASELINE) {
    paths.push(mcpPath("b-audit", "baseline (--baseline), stdio, --audit-log", "stdio", procs((i) => ourStdio(BASELINE!, true, `b-stdio-${i}`))));
    paths.push(mcpPath("b-noaudit", "baseline (--baseline), stdio, no audit log", "stdio", procs(() => ourStdio(BASELINE!, false, "b-stdio-off"))));
    baselineHttp = (await spawnOurHttp(emuUrl, ["--audit-log", join(tmp, "audit-b-http.jsonl")], {}, 10_000, undefined, BASELINE)).server;
    if (baselineHttp) {
      const c = await connectHttp(baselineHttp.mcpUrl);
      paths.push(mcpPath("b-http", "baseline (--baseline), HTTP stateless, --audit-log", "http", [mcpUnit(c, undefined, baselineHttp.proc.pid)]));
    }
  }

  const once = async (u: Unit, tool: Tool): Promise<boolean> => {
    try {
      const r = (await u.call[tool]()) as CallResult | undefined;
      return r?.isError !== true;
    } catch {
      return false;
    }
  };
  await startGroups();
  const units = paths.flatMap((p) => p.units);
  // warm-up in turns of 25 calls a process and tool, every process in a new random order a turn
  for (let done = 0; done < S.steadyWarm; done += 25) {
    for (const u of shuffle([...units])) for (const tool of TOOLS) for (let i = done; i < Math.min(S.steadyWarm, done + 25); i++) if (!(await once(u, tool))) u.errors++;
  }

  // Every round runs one block per path and tool, in a new random order; a path with several
  // processes takes its block on the next of them in turn, so each path gets the same calls.
  const blocks = paths.flatMap((p) => TOOLS.map((tool) => ({ p, tool })));
  for (let round = 0; round < S.rounds; round++) {
    for (const { p, tool } of shuffle(blocks)) {
      const u = p.units[round % p.units.length]!;
      const cpu0 = cpuOf(u.pid);
      for (let i = 0; i < perBlock; i++) {
        const t0 = performance.now();
        if (!(await once(u, tool))) u.errors++;
        u.samples[tool].push(performance.now() - t0);
      }
      u.cpu[tool] += cpuOf(u.pid) - cpu0;
      u.calls[tool] += perBlock;
    }
  }
  for (const u of units) await u.close();
  await baselineHttp?.stop();
  await pool.close();

  const sum = (p: Path, f: (u: Unit) => number) => p.units.reduce((acc, u) => acc + f(u), 0);
  const rows: Row[] = paths.map((p) => ({
    path: p,
    lat: { rerank: summarize(p.units.flatMap((u) => u.samples.rerank)), embed: summarize(p.units.flatMap((u) => u.samples.embed)) },
    cpuUs: { rerank: sum(p, (u) => u.cpu.rerank) / n, embed: sum(p, (u) => u.cpu.embed) / n },
    errors: sum(p, (u) => u.errors),
    perProc: p.units.map((u) => summarize(u.samples.rerank)),
  }));
  const row = (key: string) => rows.find((r) => r.path.key === key);
  const a = row("direct")!;
  const ref = (r: Row) =>
    r.path.kind === "stdio" ? row("proxy") : r.path.kind === "modern" ? row("m-proxy") : r.path.kind === "http" ? row("proxy-http") : undefined;

  out(
    "| path | rerank p50 | rerank p99 | embed p50 | embed p99 | rerank p50 ÷ its bare proxy | rerank p50 ÷ (a) | embed p50 ÷ (a) | " +
      "server CPU µs/call rerank, embed | CPU ÷ its bare proxy (rerank) | errors |",
  );
  out("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const base = ref(r);
    const cpu = Number.isFinite(r.cpuUs.rerank) ? `${int(r.cpuUs.rerank)}, ${int(r.cpuUs.embed)}` : "—";
    out(
      `| ${r.path.label} | ${f3(r.lat.rerank.p50)} | ${f3(r.lat.rerank.p99)} | ${f3(r.lat.embed.p50)} | ${f3(r.lat.embed.p99)} | ` +
        `${base ? `${f2(ratio(r.lat.rerank.p50, base.lat.rerank.p50))}×` : "—"} | ${f2(ratio(r.lat.rerank.p50, a.lat.rerank.p50))}× | ` +
        `${f2(ratio(r.lat.embed.p50, a.lat.embed.p50))}× | ${cpu} | ${base ? `${f2(ratio(r.cpuUs.rerank, base.cpuUs.rerank))}×` : "—"} | ${r.errors} |`,
    );
  }
  out("");
  out("rerank p50 of each process (ms), for the paths that run several:");
  out("");
  for (const r of rows) if (r.perProc.length > 1) out(`- ${r.path.label}: ${r.perProc.map((x) => f3(x.p50)).join(", ")}`);
  out("");

  const on = row("audit")!;
  const off = row("noaudit")!;
  const px = row("proxy")!;
  const pxh = row("proxy-http")!;
  const c = row("http");
  const onR = ratio(on.lat.rerank.p50, px.lat.rerank.p50);
  const offR = ratio(off.lat.rerank.p50, px.lat.rerank.p50);
  const auditUs = (on.lat.rerank.p50 - off.lat.rerank.p50) * 1000;
  out(
    `cohere-mcp stdio ÷ bare SDK proxy (stdio), rerank p50: audit on ${f2(onR)}×, audit off ${f2(offR)}× ` +
      `(embed: ${f2(ratio(on.lat.embed.p50, px.lat.embed.p50))}×, ${f2(ratio(off.lat.embed.p50, px.lat.embed.p50))}×); ` +
      `÷ direct undici: ${f2(ratio(on.lat.rerank.p50, a.lat.rerank.p50))}×, ${f2(ratio(off.lat.rerank.p50, a.lat.rerank.p50))}× ` +
      `(the proxy ${f2(ratio(px.lat.rerank.p50, a.lat.rerank.p50))}×)`,
  );
  out(
    `audit cost (audit on − off, same rounds): rerank p50 ${usDiff(on.lat.rerank.p50, off.lat.rerank.p50)}, CPU ${usDiff(on.cpuUs.rerank / 1000, off.cpuUs.rerank / 1000)} a call; ` +
      `embed p50 ${usDiff(on.lat.embed.p50, off.lat.embed.p50)}, CPU ${usDiff(on.cpuUs.embed / 1000, off.cpuUs.embed / 1000)} a call`,
  );
  if (c) {
    out(
      `cohere-mcp HTTP ÷ bare SDK proxy (HTTP), rerank: p50 ${f2(ratio(c.lat.rerank.p50, pxh.lat.rerank.p50))}×, CPU ${f2(ratio(c.cpuUs.rerank, pxh.cpuUs.rerank))}×; ` +
        `embed: p50 ${f2(ratio(c.lat.embed.p50, pxh.lat.embed.p50))}×, CPU ${f2(ratio(c.cpuUs.embed, pxh.cpuUs.embed))}× (cohere-mcp with --audit-log)`,
    );
  } else out("cohere-mcp HTTP: not available");
  const b = row("b-audit");
  const bo = row("b-noaudit");
  const bh = row("b-http");
  if (b && bo) {
    out(
      `baseline (${BASELINE}): stdio ÷ proxy ${f2(ratio(b.lat.rerank.p50, px.lat.rerank.p50))}× audit on, ${f2(ratio(bo.lat.rerank.p50, px.lat.rerank.p50))}× off; ` +
        `audit cost ${usDiff(b.lat.rerank.p50, bo.lat.rerank.p50)} p50, CPU ${usDiff(b.cpuUs.rerank / 1000, bo.cpuUs.rerank / 1000)}; ` +
        `this build − baseline, rerank: stdio audit on ${usDiff(on.lat.rerank.p50, b.lat.rerank.p50)} p50, CPU ${usDiff(on.cpuUs.rerank / 1000, b.cpuUs.rerank / 1000)}; ` +
        `audit off ${usDiff(off.lat.rerank.p50, bo.lat.rerank.p50)} p50, CPU ${usDiff(off.cpuUs.rerank / 1000, bo.cpuUs.rerank / 1000)}` +
        (c && bh ? `; HTTP ${usDiff(c.lat.rerank.p50, bh.lat.rerank.p50)} p50, CPU ${usDiff(c.cpuUs.rerank / 1000, bh.cpuUs.rerank / 1000)}` : ""),
    );
  }
  out("");
  out("zod each server loads (one probe run each with a module resolve hook, by its first call; not the measured processes):");
  out("");
  out(`- cohere-mcp: ${zod.ours}`);
  out(`- bare SDK proxy: ${zod.proxy}`);
  out(`- peer: ${zod.peer}`);
  if (zod.baseline) out(`- baseline: ${zod.baseline}`);
  out("");
  out("(Validation, the allowlist, guards (generation, concurrency), redaction and the refusal policy are on in every cohere-mcp path.");
  out("Server CPU: the sum of the server's threads' run time over the timed calls ÷ calls, from /proc/PID/task/*/schedstat.)");
  out("");

  const rr = ratio(on.lat.rerank.p50, a.lat.rerank.p50);
  const er = ratio(on.lat.embed.p50, a.lat.embed.p50);
  target("1. stdio ÷ bare SDK proxy, --audit-log", "rerank p50 ≤ 1.2×", `${f2(onR)}× (${f3(on.lat.rerank.p50)} vs ${f3(px.lat.rerank.p50)} ms; ÷ direct ${f2(rr)}×)`, onR <= 1.2);
  target("1. stdio ÷ bare SDK proxy, no audit log", "rerank p50 ≤ 1.2×", `${f2(offR)}× (${f3(off.lat.rerank.p50)} ms)`, offR <= 1.2);
  const mo = row("m-audit");
  const mp = row("m-proxy");
  if (mo && mp) {
    const mr = ratio(mo.lat.rerank.p50, mp.lat.rerank.p50);
    out(
      `modern era (2026-07-28, SDK v2 client pinned): cohere-mcp stdio ÷ bare SDK v2 proxy, rerank p50 ${f2(mr)}× (${f3(mo.lat.rerank.p50)} vs ${f3(mp.lat.rerank.p50)} ms), ` +
        `CPU ${f2(ratio(mo.cpuUs.rerank, mp.cpuUs.rerank))}×; modern − legacy (cohere-mcp, audit on): ${usDiff(mo.lat.rerank.p50, on.lat.rerank.p50)} p50`,
    );
    target("1. stdio ÷ bare SDK proxy, 2026-07-28 (modern era), --audit-log", "rerank p50 ≤ 1.2×", `${f2(mr)}× (${f3(mo.lat.rerank.p50)} vs ${f3(mp.lat.rerank.p50)} ms)`, mr <= 1.2);
  }
  target("1. audit cost", "≤ 30 µs p50 a call (rerank, on − off)", `${auditUs >= 0 ? "+" : "−"}${Math.abs(auditUs).toFixed(0)} µs (CPU ${usDiff(on.cpuUs.rerank / 1000, off.cpuUs.rerank / 1000)})`, auditUs <= 30);
  if (c) {
    const lr = ratio(c.lat.rerank.p50, pxh.lat.rerank.p50);
    const cr = ratio(c.cpuUs.rerank, pxh.cpuUs.rerank);
    target("1. HTTP ÷ bare SDK proxy over HTTP", "rerank p50 and CPU per call ≤ 1.0×", `p50 ${f2(lr)}×, CPU ${f2(cr)}× (${int(c.cpuUs.rerank)} vs ${int(pxh.cpuUs.rerank)} µs)`, lr <= 1 && cr <= 1);
  } else target("1. HTTP ÷ bare SDK proxy over HTTP", "rerank p50 and CPU per call ≤ 1.0×", "HTTP: not available", undefined);
  target(
    "1. server CPU per call",
    "printed beside the proxy's (regression guard)",
    `rerank: stdio ${int(on.cpuUs.rerank)} µs (${int(off.cpuUs.rerank)} without audit), proxy ${int(px.cpuUs.rerank)}; HTTP ${c ? int(c.cpuUs.rerank) : "n/a"}, proxy ${int(pxh.cpuUs.rerank)}`,
    true,
  );
  target("1. stdio overhead", "stdio p50 ≤ 3× direct (rerank and embed)", `rerank ${f2(rr)}×, embed ${f2(er)}×`, rr <= 3 && er <= 3);
}
