/**
 * Where a traced call's CPU goes in the real server: the server is run under `node --cpu-prof`
 * (NODE_OPTIONS) with export off and with `--otel` (traces at 100 % and metrics, to a local sink
 * that drains each body and answers 200), a fixed loop of rerank calls is sent (stdio: the SDK v1
 * client, or the modern era with --modern; or --http: 32 clients in a closed loop), the server is
 * stopped so the profile is written, and each profile's self time per call is printed by package
 * (ours, each node_modules package, node's internals, GC) and by function, with on − off; and
 * the CPU per call of the main thread and of the process's other threads (from /proc: V8's GC
 * and compiler helpers, which the profile does not show).
 * Loopback only; the profiler itself costs CPU, so compare on with off, not with the A/Bs.
 *
 *   npm run build && node dist/bench/otel-prof.js [--calls 3000] [--modern] [--http] [--top 25] [--other OTHER/dist/src/index.js]
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import { argOf as arg, BENCH_KEY, connectStdioCmd, connectStdioModern, ENTRY, freePort, RERANK_ARGS, scrubbedEnv, sleep, spawnEmulator } from "./lib.js";
import { closeAll, closedLoop, connectMany, measureSeq, mcpCall, warmUp } from "./measure.js";

const CALLS = Number(arg("--calls", "3000"));
const TOP = Number(arg("--top", "25"));
const MODERN = process.argv.includes("--modern");
const HTTP = process.argv.includes("--http");
const OTHER = arg("--other", "");

/**
 * Each thread's CPU ticks (/proc/PID/task/TID/stat, utime + stime), by thread id; the first is
 * the main thread. A --cpu-prof profile shows the main thread only; V8's helper threads
 * (parallel scavenges, concurrent marking and sweeping, background compiles) are measured here.
 */
function threadTicks(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      out.set(Number(tid), Number(f[11]) + Number(f[12]));
    } catch {
      /* the thread ended */
    }
  }
  return out;
}
const TICK_US = 10_000; // USER_HZ 100

/** µs of the monotonic clock, the profile's timestamps' clock */
const now = (): number => Number(process.hrtime.bigint() / 1000n);

const canConnect = (port: number): Promise<boolean> =>
  new Promise((ok) => {
    const s = createConnection({ port, host: "127.0.0.1" }, () => {
      s.destroy();
      ok(true);
    });
    s.on("error", () => ok(false));
  });

interface ProfNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  startTime: number;
  nodes: ProfNode[];
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/@scope/name or node_modules/name; node:internal/x; ours; (garbage collector)… */
function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith("node:")) return url.split("/").slice(0, 2).join("/");
  if (url.includes("/dist/src/")) return "ours: " + url.slice(url.indexOf("/dist/src/") + 10).split("/")[0];
  return url;
}

/** Only the samples taken between `from` and `to` (µs of the monotonic clock, as the profile's): no start-up, no shutdown. */
function selfTimes(p: Profile, from: number, to: number): { byPkg: Map<string, number>; byFn: Map<string, number>; total: number } {
  const node = new Map(p.nodes.map((n) => [n.id, n]));
  const byPkg = new Map<string, number>();
  const byFn = new Map<string, number>();
  let total = 0;
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    const n = node.get(p.samples[i]!)!;
    const dt = p.timeDeltas[i] ?? 0;
    at += dt;
    if (at < from || at > to) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === "(idle)") continue;
    total += dt;
    const pkg = packageOf(url, functionName);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + dt);
    const fn = `${functionName || "(anonymous)"} ${pkg}${url ? ":" + (lineNumber + 1) : ""}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + dt);
  }
  return { byPkg, byFn, total };
}

const emu = await spawnEmulator();
const sink = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(200).end());
});
await new Promise<void>((ok) => sink.listen(0, "127.0.0.1", ok));
const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
const tmp = mkdtempSync(join(tmpdir(), "otel-prof-"));
const on = { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: "always_on", OTEL_METRIC_EXPORT_INTERVAL: "5000" };

interface Run {
  prof: ReturnType<typeof selfTimes>;
  calls: number;
  /** CPU µs per call over the measured loop: the main thread, every other thread */
  main: number;
  others: number;
}

function threadsPerCall(pid: number, before: Map<number, number>, calls: number): { main: number; others: number } {
  const after = threadTicks(pid);
  let main = 0;
  let others = 0;
  for (const [tid, t] of after) {
    const d = ((t - (before.get(tid) ?? 0)) * TICK_US) / calls;
    if (tid === pid) main += d;
    else others += d;
  }
  return { main, others };
}

async function profile(name: string, entry: string, otel: boolean): Promise<Run> {
  const dir = join(tmp, name);
  // --cpu-prof is refused in NODE_OPTIONS: it goes before the entry
  const prof = ["--cpu-prof", `--cpu-prof-dir=${dir}`];
  const env = otel ? on : {};
  const args = ["--audit-log", join(tmp, `${name}.jsonl`), ...(otel ? ["--otel"] : [])];
  let calls = CALLS;
  let from = 0;
  let to = 0;
  let threads = { main: 0, others: 0 };
  if (HTTP) {
    const port = await freePort();
    const proc = spawn(process.execPath, [...prof, entry, "--http", "--host", "127.0.0.1", "--port", String(port), ...args], {
      env: scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emu.url, ...env }),
      stdio: ["ignore", "ignore", "inherit"],
    });
    for (let i = 0; i < 200 && !(await canConnect(port)); i++) await sleep(50);
    const conns = await connectMany(32, `http://127.0.0.1:${port}/mcp`, "otel-prof");
    await warmUp(conns, "rerank", 1000);
    from = now();
    const t0 = threadTicks(proc.pid!);
    const loop = await closedLoop(conns, "rerank", Math.max(1000, CALLS), proc.pid);
    calls = loop.calls;
    threads = threadsPerCall(proc.pid!, t0, calls);
    to = now();
    await closeAll(conns);
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  } else {
    const connect = MODERN ? connectStdioModern : connectStdioCmd;
    const c = await connect(process.execPath, [...prof, entry, ...args], scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emu.url, ...env }));
    await measureSeq(mcpCall(c, "rerank", RERANK_ARGS), 0, 1000, c.pid);
    from = now();
    const t0 = threadTicks(c.pid!);
    await measureSeq(mcpCall(c, "rerank", RERANK_ARGS), CALLS, 0, c.pid);
    threads = threadsPerCall(c.pid!, t0, CALLS);
    to = now();
    await c.close();
  }
  for (let i = 0; i < 100; i++) {
    const files = (() => {
      try {
        return readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
      } catch {
        return [];
      }
    })();
    if (files.length) {
      await new Promise((r) => setTimeout(r, 200));
      // the server's profile is the largest (npm or a helper process may write one too)
      const best = files.map((f) => readFileSync(join(dir, f), "utf8")).sort((a, b) => b.length - a.length)[0]!;
      return { prof: selfTimes(JSON.parse(best) as Profile, from, to), calls, ...threads };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name}: no profile written in ${dir}`);
}

const runs: Array<[string, string, boolean]> = [
  ["off", ENTRY, false],
  ["on", ENTRY, true],
];
if (OTHER) runs.push(["other-on", OTHER, true]);
const out = new Map<string, Run>();
try {
  for (const [name, entry, otel] of runs) out.set(name, await profile(name, entry, otel));
} finally {
  await emu.stop();
  sink.closeAllConnections();
  sink.close();
}
const perCall = (name: string, m: "byPkg" | "byFn", k: string) => {
  const r = out.get(name)!;
  return (r.prof[m].get(k) ?? 0) / r.calls;
};
const names = [...out.keys()];
console.log(`${HTTP ? "HTTP, 32 clients" : MODERN ? "stdio, modern era" : "stdio, SDK v1"}; self time in µs per call (profiler on)`);
console.log(names.map((n) => `${n}: ${out.get(n)!.calls} calls, ${Math.round(out.get(n)!.prof.total / out.get(n)!.calls)} µs`).join("; "));
console.log(
  "CPU per call by thread (/proc, profiler on): " +
    names.map((n) => `${n}: main ${Math.round(out.get(n)!.main)} µs, other threads (V8's helpers; the export worker if on) ${Math.round(out.get(n)!.others)} µs`).join("; "),
);
for (const m of ["byPkg", "byFn"] as const) {
  const keys = new Set(names.flatMap((n) => [...out.get(n)!.prof[m].keys()]));
  const rows = [...keys].map((k) => ({ k, v: names.map((n) => perCall(n, m, k)) }));
  rows.sort((a, b) => Math.abs(b.v[1]! - b.v[0]!) - Math.abs(a.v[1]! - a.v[0]!));
  console.log(`\n${m === "byPkg" ? "by package" : "by function"}, sorted by |on − off|:  ${names.join(" / ")}  (on − off)`);
  for (const r of rows.slice(0, TOP)) console.log(`${r.v.map((x) => x.toFixed(1).padStart(7)).join(" ")}  ${(r.v[1]! - r.v[0]!).toFixed(1).padStart(7)}  ${r.k}`);
}
