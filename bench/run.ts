#!/usr/bin/env node
/**
 * `npm run bench` — every figure of issues 5, 10, 13, 23 and 24 in one run, so ratios hold on a noisy machine.
 *
 *   node dist/bench/run.js [--quick] [--no-write] [--out FILE] [--only overhead|throughput|context|store|console|otel] [--baseline ENTRY]
 *
 * The upstream is the Cohere emulator with zero latency in its own process; every server
 * under test is a child process with the same scrubbed environment, so this process measures
 * only the client side. Results are printed and written to bench/RESULTS.md. One module per
 * section (bench/sections/), the command line in settings.ts, the drivers in measure.ts.
 */
import { execSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_KEY, spawnEmulator, spawnOurHttp, type HttpServer } from "./lib.js";
import { f1, lines, out, targetRow, targets } from "./report.js";
import { coldStart } from "./sections/coldstart.js";
import { contextCost } from "./sections/context.js";
import { memory } from "./sections/memory.js";
import { overhead } from "./sections/overhead.js";
import { peerCompare } from "./sections/peer.js";
import { sharedStoreSection } from "./sections/store.js";
import { throughput } from "./sections/throughput.js";
import { consoleCost } from "./sections/console.js";
import { otelCost } from "./sections/otel.js";
import { ARGS, BASELINE, ONLY, OUT, QUICK, S, WRITE } from "./settings.js";

/** The section --only names, by number. */
const SECTIONS: Record<string, number> = { overhead: 1, throughput: 2, context: 5, store: 7, console: 8, otel: 9 };

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
  if (ONLY !== undefined && !(ONLY in SECTIONS)) throw new Error(`--only takes ${Object.keys(SECTIONS).join(" or ")}, got ${ONLY}`);
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
  if (BASELINE) out(`baseline build (--baseline): ${BASELINE}`);
  out("");
  try {
    if (!ONLY || ONLY === "overhead") await overhead(emu.url, http, tmp);
    if (ONLY === "throughput") await throughput(http, emu.url, tmp);
    if (ONLY === "context") await contextCost(emu.url);
    if (!ONLY) {
      await throughput(http, emu.url, tmp);
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
      });
    }
    if (!ONLY || ONLY === "console") await consoleCost(emu.url, tmp);
    if (!ONLY || ONLY === "otel") await otelCost(emu.url, tmp);
  } finally {
    await http?.stop();
    await emu.stop();
  }
  // Secrets: the bench's own audit files must not hold the key.
  let leaks = 0;
  let scanned = 0;
  for (const f of readdirSync(tmp).filter((n) => n.endsWith(".jsonl"))) {
    scanned++;
    if (readFileSync(join(tmp, f), "utf8").includes(BENCH_KEY)) leaks++;
  }
  rmSync(tmp, { recursive: true, force: true });

  out("## Targets (issues 5, 10 and 13)");
  out("");
  out("| item | target | measured | verdict |");
  out("|---|---|---|---|");
  for (const t of targets) out(targetRow(t));
  out("");
  out(`audit files scanned for the Cohere key: ${scanned}, ${leaks === 0 ? "clean" : `${leaks} LEAKED`}`);
  out(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(" ")} (the machine is shared: figures above are from one run)`);
  if (listenerWarnings) {
    out(
      `note: the SDK's HTTP client raised ${listenerWarnings} MaxListenersExceededWarning in this process (one abort listener per call ` +
        "on the transport's signal, released only by GC); client-side, not the server's",
    );
  }
  out(`bench took ${f1((Date.now() - started) / 1000)} s`);

  if (WRITE && ONLY) {
    patchSection(SECTIONS[ONLY]!, date);
    return;
  }
  if (WRITE) {
    const command = `npm run bench${ARGS.length ? ` -- ${ARGS.join(" ")}` : ""}`;
    const header = [
      "# Benchmark results",
      "",
      `Command: \`${command}\` (= \`npm run build && node dist/bench/run.js${ARGS.length ? ` ${ARGS.join(" ")}` : ""}\`)`,
      "",
      ...(BASELINE
        ? [
            "The baseline (--baseline) is another build of cohere-mcp measured in the same rounds, e.g. the commit before a change:",
            "`git worktree add ../base COMMIT && (cd ../base && npm ci && npm run build)`, then `--baseline ../base/dist/src/index.js`.",
            "",
          ]
        : []),
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

/** --only: put this run's section N and its target rows into RESULTS.md, the rest as it was. */
function patchSection(n: number, date: string): void {
  let text: string;
  try {
    text = readFileSync(OUT, "utf8");
  } catch {
    text = "# Benchmark results\n\n## Targets (issues 5, 10 and 13)\n\n| item | target | measured | verdict |\n|---|---|---|---|\n";
  }
  const from = lines.findIndex((l) => l.startsWith(`## ${n}.`));
  const to = lines.findIndex((l) => l.startsWith("## Targets"));
  const section = [...lines.slice(from, to), ""];
  section.splice(
    1,
    0,
    "",
    `(measured ${date} with \`npm run bench -- ${ARGS.join(" ")}\`, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(" ")}; ` +
      "the other sections are from the run dated at the top)",
  );
  const rows = targets.map(targetRow);
  const own = new RegExp(`## ${n}\\.[\\s\\S]*?(?=## (?:${n + 1}\\.|Targets))`);
  let body = text.replace(/## Targets \([^)]*\)/, "## Targets (issues 5, 10 and 13)");
  const next = body.includes(`## ${n + 1}.`) ? `## ${n + 1}.` : "## Targets";
  body = own.test(body) ? body.replace(own, "") : body;
  body = body.replace(next, `${section.join("\n")}\n${next}`);
  body = body.split("\n").filter((l) => !l.startsWith(`| ${n}. `)).join("\n");
  const ls = body.split("\n");
  const t = ls.findIndex((l) => l.startsWith("## Targets"));
  let i = t + 1;
  while (i < ls.length && !ls[i]!.startsWith("|")) i++;
  while (i < ls.length && ls[i]!.startsWith("|")) i++;
  ls.splice(i, 0, ...rows);
  writeFileSync(OUT, ls.join("\n").replace(/\n{3,}/g, "\n\n"));
  process.stdout.write(`\nwrote section ${n} into ${OUT}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
