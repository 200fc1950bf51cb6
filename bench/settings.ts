/**
 * The bench's command line and the sizes of its runs:
 *
 *   node dist/bench/run.js [--quick] [--no-write] [--out FILE] [--only overhead|throughput|context|store|console|otel] [--baseline ENTRY] [--procs N] [--warm N]
 *
 * --only runs one section and writes it into RESULTS.md in place of the old one (with its
 * target rows), the rest as it was. --baseline adds another cohere-mcp build (its
 * dist/src/index.js, e.g. a checkout of an older commit) to section 1 and to the 32-client
 * level of section 2, measured in the same interleaved rounds: before and after in one run.
 * --procs N: how many processes of each stdio server section 1 compares (3; --quick 2).
 * --warm N: section 1's warm-up calls per process and tool (2,500; --quick 100): e.g. 300 to see a
 * server in its first thousand calls, before V8 has optimized its per-call functions.
 */
import { isAbsolute, join, resolve } from "node:path";
import { ROOT } from "./lib.js";

const argv = process.argv.slice(2);
const value = (flag: string): string | undefined => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
};

export const QUICK = argv.includes("--quick");
/** One section only: "overhead" (1), "store" (7), "console" (8) or "otel" (9). */
export const ONLY = value("--only");
export const WRITE = !argv.includes("--no-write");
export const OUT = value("--out") ?? join(ROOT, "bench", "RESULTS.md");
/** Another build's entry point to measure beside this one (section 1, and section 2 at 32 clients). */
export const BASELINE = (() => {
  const v = value("--baseline");
  return v ? (isAbsolute(v) ? v : resolve(process.cwd(), v)) : undefined;
})();
/** The command line as given, for RESULTS.md. */
export const ARGS = argv;

export const S = QUICK
  ? { seqN: 300, warm: 100, steadyWarm: 100, rounds: 12, procs: 2, levelMs: 1500, warmMs: 500, levels: [1, 8, 32, 128], peerMs: 3000, coldRuns: 3, memCalls: 2000, memExtra: 0, memConc: 4 }
  : { seqN: 3000, warm: 300, steadyWarm: 2500, rounds: 120, procs: 3, levelMs: 5000, warmMs: 1500, levels: [1, 8, 32, 128], peerMs: 8000, coldRuns: 15, memCalls: 10_000, memExtra: 10_000, memConc: 4 };

/*
 * steadyWarm: section 1's warm-up, calls per process and tool before any is timed. V8 optimizes a
 * function only after it has run a lot of bytecode, so functions run once per call stay in its
 * baseline tier for the first few thousand calls: after 300 warm-up calls the audit's
 * finishLine/prepareHead and redact still were (%GetOptimizationStatus 32769), and a stdio
 * server's CPU per call kept falling until ~4,000 calls (1,800 µs in its first 500 calls, ~400 µs
 * from 4,500 on). A gateway's calls are mostly made in that steady state, so section 1 measures it;
 * 2,500 a tool is 5,000 calls a process.
 */

export const CALL_TIMEOUT_MS = 10_000;

/** An integer flag's value within [min, max], or undefined when it is not given. */
function intFlag(flag: string, min: number, max: number): number | undefined {
  const v = value(flag);
  if (v === undefined) return undefined;
  const k = Number(v);
  if (!Number.isInteger(k) || k < min || k > max) throw new Error(`${flag} takes ${min} to ${max}, got ${v}`);
  return k;
}
S.steadyWarm = intFlag("--warm", 0, 100_000) ?? S.steadyWarm;
S.procs = intFlag("--procs", 1, 8) ?? S.procs;
