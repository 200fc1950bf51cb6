/**
 * Section 4: cold start, spawn → first tools/list answer over raw JSON-RPC lines, against
 * `node -e ''` and the bare SDK server; wall time and the child's CPU by then.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { BENCH_KEY, ENTRY, MINIMAL_SERVER, cpuOf, median, scrubbedEnv } from "../lib.js";
import { f1, f2, int, out, ratio, target } from "../report.js";
import { S } from "../settings.js";

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

export async function coldStart(emuUrl: string): Promise<void> {
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
  target("4. cold start", "≤ 1.15× the minimal SDK server", `${f2(r)}× (${f1(mO)} ms vs ${f1(mM)} ms; node -e '' ${f1(mN)} ms; CPU ${f2(ratio(cO, cM))}×)`, r <= 1.15);
}
