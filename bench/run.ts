#!/usr/bin/env node
/**
 * `npm run bench` — every figure of issues 5 and 10 in one run, so ratios hold on a noisy machine.
 *
 *   node dist/bench/run.js [--quick] [--no-write] [--out FILE] [--only store]
 *
 * The upstream is the Cohere emulator with zero latency in its own process; every server
 * under test is a child process with the same scrubbed environment, so this process measures
 * only the client side. Results are printed and written to bench/RESULTS.md.
 */
import { execSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
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
  TAG_SPACE,
  connectHttp,
  connectOurStdio,
  connectStdioCmd,
  cpuOf,
  decodeRerankTag,
  median,
  mib,
  peerStdioArgs,
  rssOf,
  scrubbedEnv,
  sizeOf,
  sleep,
  spawnEmulator,
  spawnOurHttp,
  spawnPeerHttp,
  summarize,
  taggedRerankArgs,
  textOf,
  type CallResult,
  type HttpServer,
  type McpConn,
  type Summary,
} from "./lib.js";
import { sharedStoreSection } from "./store.js";

// ---------------------------------------------------------------------------------------------
// Settings

const argv = process.argv.slice(2);
const QUICK = argv.includes("--quick");
/** --only store: just section 7 (the Redis store); it replaces section 7 and its target rows in RESULTS.md. */
const ONLY = (() => {
  const i = argv.indexOf("--only");
  return i >= 0 ? argv[i + 1] : undefined;
})();
const WRITE = !argv.includes("--no-write");
const OUT = (() => {
  const i = argv.indexOf("--out");
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : join(ROOT, "bench", "RESULTS.md");
})();

const S = QUICK
  ? { seqN: 300, warm: 50, levelMs: 1500, warmMs: 500, levels: [1, 8, 32, 128], peerMs: 3000, coldRuns: 3, memCalls: 2000, memExtra: 0, memConc: 4 }
  : { seqN: 2000, warm: 200, levelMs: 5000, warmMs: 1500, levels: [1, 8, 32, 128], peerMs: 8000, coldRuns: 15, memCalls: 10_000, memExtra: 10_000, memConc: 4 };

const CALL_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Output

const lines: string[] = [];
function out(line = ""): void {
  lines.push(line);
  process.stdout.write(line + "\n");
}
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");
const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

interface Target {
  item: string;
  target: string;
  measured: string;
  met: boolean | undefined; // undefined: could not be measured
  note?: string;
}
const targets: Target[] = [];
const verdict = (t: Target) => (t.met === undefined ? "n/a" : t.met ? "MET" : "MISSED");

// ---------------------------------------------------------------------------------------------
// Helpers

type Call = () => Promise<unknown>;

type Seq = Summary & { errors: number; cpuUs: number };

/** Sequential latency in ms, and the server's CPU µs per call when its pid is known. */
async function measureSeq(call: Call, n: number, warm: number, pid?: number | null): Promise<Seq> {
  let errors = 0;
  for (let i = 0; i < warm; i++) {
    try {
      const r = await call();
      if ((r as CallResult | undefined)?.isError) errors++;
    } catch {
      errors++;
    }
  }
  const samples: number[] = [];
  const cpu0 = cpuOf(pid);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    try {
      const r = await call();
      if ((r as CallResult | undefined)?.isError) errors++;
    } catch {
      errors++;
    }
    samples.push(performance.now() - t0);
  }
  return { ...summarize(samples), errors, cpuUs: (cpuOf(pid) - cpu0) / n };
}

function mcpCall(conn: McpConn, name: string, args: Record<string, unknown>): Call {
  return () => conn.client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS });
}

interface LoadResult {
  calls: number;
  perSec: number;
  lat: Summary;
  errorResults: number;
  thrown: number;
  timeouts: number;
  wrongClient: number;
  undecodable: number;
  rssEnd: number;
  rssPeak: number;
  /** server CPU µs per answered call */
  cpuUs: number;
  correctPerSec: number;
}

/** Closed loop: every client calls the tagged rerank back to back until the deadline. */
async function closedLoop(conns: McpConn[], tool: string, ms: number, pid: number | null | undefined): Promise<LoadResult> {
  let next = Math.floor(Math.random() * TAG_SPACE);
  const samples: number[] = [];
  let errorResults = 0;
  let thrown = 0;
  let timeouts = 0;
  let wrongClient = 0;
  let undecodable = 0;
  let rssPeak = rssOf(pid);
  const sampler = setInterval(() => {
    const r = rssOf(pid);
    if (r > rssPeak || !Number.isFinite(rssPeak)) rssPeak = r;
  }, 200);
  const cpu0 = cpuOf(pid);
  const t0 = performance.now();
  const deadline = t0 + ms;
  await Promise.all(
    conns.map(async (c) => {
      while (performance.now() < deadline) {
        const tag = next++ % TAG_SPACE;
        const s = performance.now();
        try {
          const r = await c.client.callTool({ name: tool, arguments: taggedRerankArgs(tag) }, undefined, {
            timeout: CALL_TIMEOUT_MS,
          });
          samples.push(performance.now() - s);
          if ((r as CallResult).isError) {
            errorResults++;
            continue;
          }
          const got = decodeRerankTag(r);
          if (got === undefined) undecodable++;
          else if (got !== tag) wrongClient++;
        } catch (err) {
          if (/timed out|timeout/i.test(String((err as Error)?.message))) timeouts++;
          else thrown++;
        }
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const cpuUs = (cpuOf(pid) - cpu0) / Math.max(1, samples.length);
  clearInterval(sampler);
  const rssEnd = rssOf(pid);
  if (rssEnd > rssPeak) rssPeak = rssEnd;
  return {
    calls: samples.length,
    perSec: (samples.length / elapsed) * 1000,
    lat: summarize(samples),
    errorResults,
    thrown,
    timeouts,
    wrongClient,
    undecodable,
    rssEnd,
    rssPeak,
    cpuUs,
    correctPerSec: ((samples.length - errorResults - wrongClient - undecodable) / elapsed) * 1000,
  };
}

/** Untimed calls so the JIT and the pools are warm before a measured level. */
async function warmUp(conns: McpConn[], tool: string, ms: number): Promise<void> {
  const end = performance.now() + ms;
  await Promise.all(
    conns.map(async (c) => {
      while (performance.now() < end) {
        try {
          await c.client.callTool({ name: tool, arguments: taggedRerankArgs(1) }, undefined, { timeout: CALL_TIMEOUT_MS });
        } catch {
          /* counted in the measured part */
        }
      }
    }),
  );
}

async function connectMany(n: number, url: string, name: string): Promise<McpConn[]> {
  const conns: McpConn[] = [];
  for (let i = 0; i < n; i += 16) {
    const batch = await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, j) => connectHttp(url, {}, `${name}-${i + j}`)));
    conns.push(...batch);
  }
  return conns;
}

async function closeAll(conns: McpConn[]): Promise<void> {
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
}

// ---------------------------------------------------------------------------------------------
// Sections

async function overhead(emuUrl: string, http: HttpServer | undefined, auditFile: string): Promise<void> {
  out(`## 1. Overhead per call (sequential, ${S.seqN} calls after ${S.warm} warm-up, latency in ms)`);
  out("");
  const origin = new URL(emuUrl).origin;
  const pool = new Pool(origin, { connections: 4 });
  const direct = (path: string, body: unknown): Call => async () => {
    const res = await pool.request({
      method: "POST",
      path,
      headers: { authorization: `Bearer ${BENCH_KEY}`, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    });
    const data: unknown = await res.body.json();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    return data;
  };

  type Row = { label: string; rerank?: Seq; embed?: Seq; note?: string };
  const rows: Row[] = [];

  rows.push({
    label: "(a) direct undici → emulator",
    rerank: await measureSeq(direct("/v2/rerank", RERANK_ARGS), S.seqN, S.warm),
    embed: await measureSeq(direct("/v2/embed", EMBED_ARGS), S.seqN, S.warm),
  });

  const ours = await connectOurStdio(emuUrl, ["--audit-log", auditFile]);
  rows.push({
    label: "(b) cohere-mcp, stdio",
    rerank: await measureSeq(mcpCall(ours, "rerank", RERANK_ARGS), S.seqN, S.warm, ours.pid),
    embed: await measureSeq(mcpCall(ours, "embed", EMBED_ARGS), S.seqN, S.warm, ours.pid),
  });
  await ours.close();

  if (http) {
    const c = await connectHttp(http.mcpUrl);
    rows.push({
      label: "(c) cohere-mcp, HTTP stateless",
      rerank: await measureSeq(mcpCall(c, "rerank", RERANK_ARGS), S.seqN, S.warm, http.proc.pid),
      embed: await measureSeq(mcpCall(c, "embed", EMBED_ARGS), S.seqN, S.warm, http.proc.pid),
    });
    await c.close();
  } else {
    rows.push({ label: "(c) cohere-mcp, HTTP stateless", note: "HTTP: not available" });
  }

  const minR = await connectStdioCmd(process.execPath, [MINIMAL_SERVER], scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emuUrl }));
  const minRerank = await measureSeq(mcpCall(minR, "rerank", RERANK_ARGS), S.seqN, S.warm, minR.pid);
  await minR.close();
  const minE = await connectStdioCmd(
    process.execPath,
    [MINIMAL_SERVER],
    scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emuUrl, MINIMAL_TOOL: "embed" }),
  );
  const minEmbed = await measureSeq(mcpCall(minE, "embed", EMBED_ARGS), S.seqN, S.warm, minE.pid);
  await minE.close();
  rows.push({ label: "ref: bare SDK proxy, stdio (bench/minimal-server)", rerank: minRerank, embed: minEmbed });

  const peer = await connectStdioCmd(process.execPath, peerStdioArgs(emuUrl), scrubbedEnv());
  rows.push({
    label: "ref: peer (openapi-mcp-server), stdio",
    rerank: await measureSeq(mcpCall(peer, "rerankv-2", RERANK_ARGS), S.seqN, S.warm, peer.pid),
    embed: await measureSeq(mcpCall(peer, "embedv-2", EMBED_ARGS), S.seqN, S.warm, peer.pid),
  });
  await peer.close();
  await pool.close();

  const a = rows[0]!;
  out(`| path | rerank p50 | rerank p99 | embed p50 | embed p99 | rerank p50 ÷ (a) | embed p50 ÷ (a) | server CPU µs/call rerank, embed | errors |`);
  out(`|---|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const r of rows) {
    if (!r.rerank || !r.embed) {
      out(`| ${r.label} | ${r.note ?? "n/a"} | | | | | | | |`);
      continue;
    }
    const cpu = Number.isFinite(r.rerank.cpuUs) ? `${int(r.rerank.cpuUs)}, ${int(r.embed.cpuUs)}` : "—";
    out(
      `| ${r.label} | ${f3(r.rerank.p50)} | ${f3(r.rerank.p99)} | ${f3(r.embed.p50)} | ${f3(r.embed.p99)} | ` +
        `${f2(ratio(r.rerank.p50, a.rerank!.p50))}× | ${f2(ratio(r.embed.p50, a.embed!.p50))}× | ${cpu} | ${r.rerank.errors + r.embed.errors} |`,
    );
  }
  out("");
  const b = rows[1]!;
  const c = rows[2]!;
  const ref = rows[3]!;
  out(
    `b/a (stdio ÷ direct): rerank p50 ${f2(ratio(b.rerank!.p50, a.rerank!.p50))}×, p99 ${f2(ratio(b.rerank!.p99, a.rerank!.p99))}×; ` +
      `embed p50 ${f2(ratio(b.embed!.p50, a.embed!.p50))}×, p99 ${f2(ratio(b.embed!.p99, a.embed!.p99))}×`,
  );
  if (c.rerank && c.embed) {
    out(
      `c/a (HTTP ÷ direct):  rerank p50 ${f2(ratio(c.rerank.p50, a.rerank!.p50))}×, p99 ${f2(ratio(c.rerank.p99, a.rerank!.p99))}×; ` +
        `embed p50 ${f2(ratio(c.embed.p50, a.embed!.p50))}×, p99 ${f2(ratio(c.embed.p99, a.embed!.p99))}×`,
    );
  } else out("c/a (HTTP ÷ direct):  HTTP: not available");
  out(
    `bare SDK proxy ÷ direct: rerank p50 ${f2(ratio(ref.rerank!.p50, a.rerank!.p50))}×, embed p50 ${f2(ratio(ref.embed!.p50, a.embed!.p50))}×; ` +
      `cohere-mcp stdio ÷ bare SDK proxy: rerank ${f2(ratio(b.rerank!.p50, ref.rerank!.p50))}×, embed ${f2(ratio(b.embed!.p50, ref.embed!.p50))}×`,
  );
  out("(cohere-mcp runs with --audit-log to a file, i.e. validation, policy and audit all on. Server CPU: user+system time of the");
  out("server process over the timed calls ÷ calls, from /proc, 10 ms ticks; it holds up on a busy machine better than latency.)");
  out("");
  const rr = ratio(b.rerank!.p50, a.rerank!.p50);
  const er = ratio(b.embed!.p50, a.embed!.p50);
  targets.push({
    item: "1. stdio overhead",
    target: "stdio p50 ≤ 3× direct (rerank and embed)",
    measured: `rerank ${f2(rr)}×, embed ${f2(er)}×`,
    met: rr <= 3 && er <= 3,
  });
  targets.push({
    item: "1. HTTP overhead",
    target: "printed (no target)",
    measured: c.rerank && c.embed ? `rerank ${f2(ratio(c.rerank.p50, a.rerank!.p50))}×, embed ${f2(ratio(c.embed.p50, a.embed!.p50))}×` : "HTTP: not available",
    met: c.rerank && c.embed ? true : undefined,
  });
}

async function throughput(http: HttpServer | undefined): Promise<void> {
  out(`## 2. Throughput over HTTP (tagged rerank, closed loop, ${S.levelMs / 1000} s per level)`);
  out("");
  if (!http) {
    out("HTTP: not available");
    out("");
    targets.push({ item: "2. HTTP throughput", target: "flat memory, no errors", measured: "HTTP: not available", met: undefined });
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
  targets.push({
    item: "2. HTTP throughput",
    target: "flat memory (no growth once the load is gone: repeated 1-client level ≤ 1.05× the peak), no errors",
    measured: `${results.map((x) => `${x.n}: ${int(x.r.perSec)}/s`).join(", ")}; RSS ${mib(first)} → peak ${mib(peak)} → ${mib(again.rssPeak)}; ${errs} errors`,
    met: flat && errs === 0,
  });
}

async function peerCompare(emuUrl: string, http: HttpServer | undefined): Promise<void> {
  const n = 32;
  out(`## 3. Peer comparison: ${n} concurrent HTTP clients, tagged rerank, ${S.peerMs / 1000} s each`);
  out("");
  out("Every call carries a unique tag that the answer encodes; an answer whose tag differs was delivered to the wrong client.");
  out("");
  let oursR: LoadResult | undefined;
  if (http) {
    const conns = await connectMany(n, http.mcpUrl, "ours");
    await warmUp(conns, "rerank", S.warmMs);
    oursR = await closedLoop(conns, "rerank", S.peerMs, http.proc.pid);
    await closeAll(conns);
  }
  const peer = await spawnPeerHttp(emuUrl);
  let peerR: LoadResult | undefined;
  try {
    const conns = await connectMany(n, peer.mcpUrl, "peer");
    await warmUp(conns, "rerankv-2", S.warmMs);
    peerR = await closedLoop(conns, "rerankv-2", S.peerMs, peer.proc.pid);
    await closeAll(conns);
  } finally {
    await peer.stop();
  }
  out(
    "| server | answers/s | right answers/s | p50 ms | p99 ms | answered | server CPU µs/call | error results | lost (no answer in 10 s) | other errors | wrong client | server RSS peak |",
  );
  out("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const row = (label: string, r: LoadResult | undefined) =>
    r
      ? out(
          `| ${label} | ${int(r.perSec)} | ${int(r.correctPerSec)} | ${f2(r.lat.p50)} | ${f2(r.lat.p99)} | ${int(r.calls)} | ${int(r.cpuUs)} | ${r.errorResults} | ${r.timeouts} | ${r.thrown} | ${r.wrongClient} | ${mib(r.rssPeak)} |`,
        )
      : out(`| ${label} | HTTP: not available | | | | | | | | | | |`);
  row("cohere-mcp (stateless)", oursR);
  row("peer (openapi-mcp-server, sessions)", peerR);
  out("");
  const tr = oursR && peerR ? ratio(oursR.perSec, peerR.perSec) : NaN;
  out(
    oursR && peerR
      ? `throughput ratio cohere-mcp ÷ peer: ${f2(tr)}× (answers/s), ${f2(ratio(oursR.correctPerSec, peerR.correctPerSec))}× (right answers/s); ` +
          `p50 latency ratio peer ÷ cohere-mcp: ${f2(ratio(peerR.lat.p50, oursR.lat.p50))}×`
      : "throughput ratio: HTTP: not available",
  );
  if (peerR) {
    const delivered = peerR.calls - peerR.errorResults;
    out(
      `peer: ${peerR.wrongClient} of ${int(delivered)} answers went to the wrong client (${f1((100 * peerR.wrongClient) / Math.max(1, delivered))}%), ` +
        `${peerR.timeouts} calls never got an answer`,
    );
  }
  out("");
  targets.push({
    item: "3. peer throughput",
    target: "≥ 1.5× the peer at 32 HTTP clients",
    measured: oursR && peerR ? `${f2(tr)}× (${int(oursR.perSec)}/s vs ${int(peerR.perSec)}/s)` : `HTTP: not available (peer ${int(peerR?.perSec ?? NaN)}/s)`,
    met: oursR && peerR ? tr >= 1.5 : undefined,
  });
  targets.push({
    item: "3. wrong-client answers",
    target: "0 for cohere-mcp",
    measured: oursR ? `ours ${oursR.wrongClient} (peer ${peerR?.wrongClient ?? "n/a"})` : `HTTP: not available (peer ${peerR?.wrongClient ?? "n/a"})`,
    met: oursR ? oursR.wrongClient === 0 && oursR.undecodable === 0 : undefined,
  });
}

/** spawn → initialize → tools/list answer, raw JSON-RPC lines over stdio: wall ms and the child's CPU ms by then. */
function coldStartOnce(args: string[], env: Record<string, string>): Promise<{ ms: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "ignore"] });
    let buf = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no tools/list answer from ${args.join(" ")}`));
    }, 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let msg: { id?: number };
        try {
          msg = JSON.parse(line) as { id?: number };
        } catch {
          continue;
        }
        if (msg.id === 1) {
          child.stdin!.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");
          child.stdin!.write(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} }) + "\n");
        } else if (msg.id === 2) {
          const ms = performance.now() - t0;
          const cpuMs = cpuOf(child.pid) / 1000;
          clearTimeout(timer);
          child.stdin!.end();
          child.kill("SIGTERM");
          resolve({ ms, cpuMs });
        }
      }
    });
    child.stdin!.write(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "cold-start", version: "1" } },
      }) + "\n",
    );
  });
}

function nodeNoopOnce(env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ["-e", ""], { env, stdio: "ignore" });
    child.on("exit", () => resolve(performance.now() - t0));
  });
}

async function coldStart(emuUrl: string): Promise<void> {
  out(`## 4. Cold start (spawn → first tools/list answer; median of ${S.coldRuns} runs, interleaved, after one discarded warm-up)`);
  out("");
  const env = scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emuUrl });
  out(`environment of every command: {${Object.keys(env).join(", ")}} (inherited NODE_OPTIONS / NODE_EXTRA_CA_CERTS removed)`);
  out("");
  const noop: number[] = [];
  const minimal: Array<{ ms: number; cpuMs: number }> = [];
  const ours: Array<{ ms: number; cpuMs: number }> = [];
  for (let i = 0; i <= S.coldRuns; i++) {
    const a = await nodeNoopOnce(env);
    const b = await coldStartOnce([MINIMAL_SERVER], env);
    const c = await coldStartOnce([ENTRY], env);
    if (i === 0) continue;
    noop.push(a);
    minimal.push(b);
    ours.push(c);
  }
  const mN = median(noop);
  const mM = median(minimal.map((x) => x.ms));
  const mO = median(ours.map((x) => x.ms));
  const cM = median(minimal.map((x) => x.cpuMs));
  const cO = median(ours.map((x) => x.cpuMs));
  out("| command | median ms | min | max | ÷ node -e '' | ÷ minimal SDK server | median CPU ms to the answer |");
  out("|---|---:|---:|---:|---:|---:|---:|");
  const row = (label: string, xs: number[], m: number, cpu: string) =>
    out(`| ${label} | ${f1(m)} | ${f1(Math.min(...xs))} | ${f1(Math.max(...xs))} | ${f2(ratio(m, mN))}× | ${f2(ratio(m, mM))}× | ${cpu} |`);
  row("node -e ''", noop, mN, "—");
  row("minimal SDK server, one tool (bench/minimal-server)", minimal.map((x) => x.ms), mM, `${int(cM)} (1.00×)`);
  row("cohere-mcp (stdio, default flags)", ours.map((x) => x.ms), mO, `${int(cO)} (${f2(ratio(cO, cM))}×)`);
  out("");
  out("(CPU: user+system of the child when the tools/list answer arrives, 10 ms ticks; steadier than wall time on a shared machine.)");
  out("");
  const r = ratio(mO, mM);
  targets.push({
    item: "4. cold start",
    target: "≤ 1.15× the minimal SDK server",
    measured: `${f2(r)}× (${f1(mO)} ms vs ${f1(mM)} ms; node -e '' ${f1(mN)} ms; CPU ${f2(ratio(cO, cM))}×)`,
    met: r <= 1.15,
  });
}

async function contextCost(emuUrl: string): Promise<void> {
  out("## 5. Context cost (characters of JSON as a client receives it; tokens ≈ chars/4)");
  out("");
  const def = await connectOurStdio(emuUrl);
  const defTools = (await def.client.listTools()).tools;
  const embedOne = { model: "embed-v4.0", input_type: "search_document", texts: ["The quick brown fox jumps over the lazy dog."] };
  const oursEmbed = (await def.client.callTool({ name: "embed", arguments: embedOne })) as CallResult;
  await def.close();
  const all = await connectOurStdio(emuUrl, ["--tools", "*", "--allow-write", "--allow-destructive"]);
  const allTools = (await all.client.listTools()).tools;
  await all.close();
  const peer = await connectStdioCmd(process.execPath, peerStdioArgs(emuUrl), scrubbedEnv());
  const peerTools = (await peer.client.listTools()).tools;
  const peerEmbed = (await peer.client.callTool({ name: "embedv-2", arguments: embedOne })) as CallResult;
  await peer.close();

  const d = sizeOf(defTools);
  const a = sizeOf(allTools);
  const p = sizeOf(peerTools);
  out("| tools/list | tools | chars | ≈ tokens |");
  out("|---|---:|---:|---:|");
  out(`| cohere-mcp, default set | ${defTools.length} | ${int(d.chars)} | ${int(d.tokens)} |`);
  out(`| cohere-mcp, all tools | ${allTools.length} | ${int(a.chars)} | ${int(a.tokens)} |`);
  out(`| peer (openapi-mcp-server), all | ${peerTools.length} | ${int(p.chars)} | ${int(p.tokens)} |`);
  out("");
  out(`peer ÷ cohere-mcp (all tools): ${f2(ratio(p.chars, a.chars))}×`);
  out("");
  out("Per tool, largest first (cohere-mcp, all tools):");
  out("");
  out("| tool | chars | ≈ tokens | in default set |");
  out("|---|---:|---:|:---:|");
  const defNames = new Set(defTools.map((t) => t.name));
  for (const t of [...allTools].sort((x, y) => sizeOf(y).chars - sizeOf(x).chars)) {
    const s = sizeOf(t);
    out(`| ${t.name} | ${int(s.chars)} | ${int(s.tokens)} | ${defNames.has(t.name) ? "yes" : ""} |`);
  }
  out("");
  const oe = sizeOf(oursEmbed);
  const pe = sizeOf(peerEmbed);
  const oeText = textOf(oursEmbed).length;
  const peText = textOf(peerEmbed).length;
  out("One embed of one text (embed-v4.0, search_document, default options), whole result as JSON:");
  out("");
  out("| server | result chars | ≈ tokens | of which text content chars | error |");
  out("|---|---:|---:|---:|---|");
  out(`| cohere-mcp | ${int(oe.chars)} | ${int(oe.tokens)} | ${int(oeText)} | ${oursEmbed.isError ? "yes" : "no"} |`);
  out(`| peer | ${int(pe.chars)} | ${int(pe.tokens)} | ${int(peText)} | ${peerEmbed.isError ? "yes" : "no"} |`);
  out("");
  targets.push({ item: "5. default tools/list", target: "≤ 4,000 tokens", measured: `${int(d.tokens)} tokens (${int(d.chars)} chars)`, met: d.tokens <= 4000 });
  targets.push({ item: "5. all tools/list", target: "≤ 20,000 tokens", measured: `${int(a.tokens)} tokens (peer ${int(p.tokens)})`, met: a.tokens <= 20_000 });
  targets.push({
    item: "5. one embed result",
    target: "≤ 500 tokens",
    measured: `${int(oe.tokens)} tokens (peer ${int(pe.tokens)})`,
    met: oe.tokens <= 500 && !oursEmbed.isError,
  });
}

async function memory(emuUrl: string, auditFile: string): Promise<void> {
  const half = S.memCalls / 2;
  const total = S.memCalls + S.memExtra;
  out(
    `## 6. Memory over time (RSS of the server process; ${int(total)} rerank calls over stdio, ${S.memConc} in flight; ` +
      `the target is read at ${int(half)} and ${int(S.memCalls)}${S.memExtra ? `, the rest shows where it settles` : ""})`,
  );
  out("");
  type Mem = { idle: number; at: Map<number, number>; errors: number; secs: number };
  const marks = [half, S.memCalls, ...(S.memExtra ? [S.memCalls + S.memExtra / 2, total] : [])];
  const drive = async (conn: McpConn): Promise<Mem> => {
    await conn.client.listTools();
    await sleep(1000);
    const idle = rssOf(conn.pid);
    const at = new Map<number, number>();
    let done = 0;
    let errors = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: S.memConc }, async () => {
        while (done < total) {
          const k = ++done;
          try {
            const r = (await conn.client.callTool({ name: "rerank", arguments: RERANK_ARGS }, undefined, { timeout: CALL_TIMEOUT_MS })) as CallResult;
            if (r.isError) errors++;
          } catch {
            errors++;
          }
          if (marks.includes(k)) at.set(k, rssOf(conn.pid));
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    return { idle, at, errors, secs };
  };
  const ours = await connectOurStdio(emuUrl, ["--audit-log", auditFile]);
  const o = await drive(ours);
  await ours.close();
  const min = await connectStdioCmd(process.execPath, [MINIMAL_SERVER], scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emuUrl }));
  const m = await drive(min);
  await min.close();
  out(`| server | idle RSS | ${marks.map((k) => `after ${int(k)} calls`).join(" | ")} | growth ${int(half)}→${int(S.memCalls)} | calls/s | errors |`);
  out(`|---|---:|${marks.map(() => "---:").join("|")}|---:|---:|---:|`);
  const growth = (x: Mem) => {
    const a = x.at.get(half)!;
    const b = x.at.get(S.memCalls)!;
    return `${mib(b - a)} (${f1((100 * (b - a)) / a)}%)`;
  };
  const line = (label: string, x: Mem) =>
    out(`| ${label} | ${mib(x.idle)} | ${marks.map((k) => mib(x.at.get(k) ?? NaN)).join(" | ")} | ${growth(x)} | ${int(total / x.secs)} | ${x.errors} |`);
  line("cohere-mcp (stdio, audit on)", o);
  line("minimal SDK server", m);
  out(`| ratio | ${f2(ratio(o.idle, m.idle))}× | ${marks.map((k) => `${f2(ratio(o.at.get(k)!, m.at.get(k)!))}×`).join(" | ")} | | | |`);
  out("");
  const idleR = ratio(o.idle, m.idle);
  const fullR = ratio(o.at.get(S.memCalls)!, m.at.get(S.memCalls)!);
  const oh = o.at.get(half)!;
  const of = o.at.get(S.memCalls)!;
  const leveled = of - oh <= Math.max(0.05 * oh, 4 * 1048576);
  out(`levels off between ${int(half)} and ${int(S.memCalls)} calls (growth ≤ 5% or ≤ 4 MiB): ${leveled ? "yes" : "no"}`);
  if (S.memExtra) {
    const last = o.at.get(total)!;
    out(`after ${int(total)} calls: ${mib(last)} (${f1((100 * (last - of)) / of)}% from ${int(S.memCalls)}); minimal SDK server ${mib(m.at.get(total)!)}`);
  }
  out("");
  targets.push({ item: "6. idle RSS", target: "≤ 1.15× minimal SDK server", measured: `${f2(idleR)}× (${mib(o.idle)} vs ${mib(m.idle)})`, met: idleR <= 1.15 });
  targets.push({
    item: `6. RSS after ${int(S.memCalls)} calls`,
    target: "≤ 1.15× minimal SDK server",
    measured: `${f2(fullR)}× (${mib(of)} vs ${mib(m.at.get(S.memCalls)!)})`,
    met: fullR <= 1.15 && o.errors === 0,
  });
  targets.push({ item: "6. RSS levels off", target: `no growth ${int(half)}→${int(S.memCalls)} (≤ 5% or 4 MiB)`, measured: growth(o), met: leveled });
}

// ---------------------------------------------------------------------------------------------

function sh(cmd: string): string {
  try {
    return execSync(cmd, { encoding: "utf8" }).replace(/\s+$/, "");
  } catch {
    return "n/a";
  }
}

// Ctrl-C / SIGTERM: exit normally so lib.ts kills the emulator and the servers it started.
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

let listenerWarnings = 0;
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name === "MaxListenersExceededWarning") listenerWarnings++;
  else process.stderr.write(`${w.name}: ${w.message}\n`);
});

async function main(): Promise<void> {
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), "cohere-mcp-bench-"));
  const auditFile = join(tmp, "audit.jsonl");
  const date = new Date().toISOString();
  out(`# cohere-mcp benchmark${QUICK ? " (--quick)" : ""}`);
  out("");
  out(`date: ${date}; node ${process.version}; ${sh("nproc")} cores; ${sh("free -h | awk '/^Mem:/{print $2}'")} RAM; load average at start ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  const emu = await spawnEmulator();
  out(`upstream: Cohere emulator, zero latency, own process, ${emu.url}`);
  let http: HttpServer | undefined;
  const h = await spawnOurHttp(emu.url, ["--audit-log", join(tmp, "audit-http.jsonl")]);
  http = h.server;
  out(`HTTP transport: ${http ? `available (${http.mcpUrl}, stateless)` : `not available — ${h.reason}`}`);
  out("");
  try {
    if (!ONLY) {
      await overhead(emu.url, http, auditFile);
      await throughput(http);
      await peerCompare(emu.url, http);
      await coldStart(emu.url);
      await contextCost(emu.url);
      await memory(emu.url, auditFile);
    }
    if (!ONLY || ONLY === "store") {
      await sharedStoreSection({
        emuUrl: emu.url,
        tmp,
        quick: QUICK,
        levelMs: S.levelMs,
        warmMs: S.warmMs,
        seqN: S.seqN,
        warm: S.warm,
        out,
        target: (item, target, measured, met) => targets.push({ item, target, measured, met }),
        connectMany,
        closeAll,
        warmUp,
        closedLoop,
        measureSeq,
      });
    }
  } finally {
    await http?.stop();
    await emu.stop();
  }
  // Secrets: the bench's own audit files must not hold the key.
  let leaks = 0;
  for (const f of [auditFile, join(tmp, "audit-http.jsonl")]) {
    try {
      if (readFileSync(f, "utf8").includes(BENCH_KEY)) leaks++;
    } catch {
      /* not written */
    }
  }
  rmSync(tmp, { recursive: true, force: true });

  out("## Targets (issues 5 and 10)");
  out("");
  out("| item | target | measured | verdict |");
  out("|---|---|---|---|");
  for (const t of targets) out(`| ${t.item} | ${t.target} | ${t.measured} | ${verdict(t)} |`);
  out("");
  out(`audit files scanned for the Cohere key: ${leaks === 0 ? "clean" : `${leaks} LEAKED`}`);
  out(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(" ")} (the machine is shared: figures above are from one run)`);
  if (listenerWarnings) {
    out(
      `note: the SDK's HTTP client raised ${listenerWarnings} MaxListenersExceededWarning in this process (one abort listener per call ` +
        "on the transport's signal, released only by GC); client-side, not the server's",
    );
  }
  out(`bench took ${f1((Date.now() - started) / 1000)} s`);

  if (WRITE && ONLY === "store") {
    patchStoreSection(date);
    return;
  }
  if (WRITE) {
    const header = [
      "# Benchmark results",
      "",
      `Command: \`npm run bench${QUICK ? " -- --quick" : ""}\` (= \`npm run build && node dist/bench/run.js${QUICK ? " --quick" : ""}\`)`,
      "",
      `Date: ${date}`,
      "",
      "Machine:",
      "",
      "```",
      `$ nproc`,
      sh("nproc"),
      `$ free -h`,
      sh("free -h"),
      `$ node --version`,
      process.version,
      `$ uname -sr`,
      sh("uname -sr"),
      "```",
      "",
      "Nothing here is asserted in unit tests; the suites check behaviour, this file records speed and size.",
      "",
    ];
    writeFileSync(OUT, header.join("\n") + lines.slice(1).join("\n") + "\n");
    process.stdout.write(`\nwrote ${OUT}\n`);
  }
}

/** --only store: put this run's section 7 and its target rows into RESULTS.md, the rest as it was. */
function patchStoreSection(date: string): void {
  let text: string;
  try {
    text = readFileSync(OUT, "utf8");
  } catch {
    text = "# Benchmark results\n\n## Targets (issues 5 and 10)\n\n| item | target | measured | verdict |\n|---|---|---|---|\n";
  }
  const from = lines.findIndex((l) => l.startsWith("## 7."));
  const to = lines.findIndex((l) => l.startsWith("## Targets"));
  const section = [...lines.slice(from, to), ""];
  section.splice(
    1,
    0,
    "",
    `(measured ${date} with \`npm run bench -- --only store\`, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(" ")}; ` +
      "the sections above are from the run dated at the top)",
  );
  const rows = targets.map((t) => `| ${t.item} | ${t.target} | ${t.measured} | ${verdict(t)} |`);
  let body = text.replace(/## 7\.[\s\S]*?(?=## Targets)/, "");
  body = body.replace("## Targets (issue 5)", "## Targets (issues 5 and 10)");
  body = body.replace(/## Targets/, `${section.join("\n")}\n## Targets`);
  body = body.split("\n").filter((l) => !l.startsWith("| 7. ")).join("\n");
  const tableEnd = (() => {
    const ls = body.split("\n");
    const t = ls.findIndex((l) => l.startsWith("## Targets"));
    let i = t + 1;
    while (i < ls.length && !ls[i]!.startsWith("|")) i++;
    while (i < ls.length && ls[i]!.startsWith("|")) i++;
    ls.splice(i, 0, ...rows);
    return ls.join("\n");
  })();
  writeFileSync(OUT, tableEnd.replace(/\n{3,}/g, "\n\n"));
  process.stdout.write(`\nwrote section 7 into ${OUT}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
