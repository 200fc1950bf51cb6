#!/usr/bin/env node
/**
 * What cohere-mcp's own decision path costs a call, in one process and without any MCP transport:
 * callTool (visibility, validation, guards, the Cohere client, shaping, redaction, the audit line)
 * for a rerank against the emulator, beside the bare proxy's handler (undici, JSON in and out) in
 * the same process and the same interleaved rounds. CPU is process.cpuUsage of this process (the
 * emulator runs apart): unlike latency or a stdio server's CPU, it does not move with the other
 * processes on the machine, so a change of a few µs shows. Prints the median of rounds.
 *
 *   npm run build && node dist/bench/call-cpu.js [--calls 10000] [--rounds 10] [--warm 3000] [--no-audit] [--era modern|legacy]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { createAuditSink } from "../src/audit/index.js";
import { callTool } from "../src/call/tool-call.js";
import { parseOptions } from "../src/config/options.js";
import { concurrencyGuard } from "../src/policy/concurrency.js";
import type { AgentScope } from "../src/policy/types.js";
import { createApp } from "../src/runtime/app.js";
import { createLogger } from "../src/runtime/logger.js";
import { BENCH_KEY, RERANK_ARGS, argOf, median, spawnEmulator } from "./lib.js";

const CALLS = Number(argOf("--calls", "10000"));
const ROUNDS = Number(argOf("--rounds", "10"));
const WARM = Number(argOf("--warm", "3000"));
const AUDIT = !process.argv.includes("--no-audit");
const ERA = argOf("--era", "modern") === "legacy" ? "legacy" : "modern";

const emu = await spawnEmulator();
const dir = mkdtempSync(join(tmpdir(), "call-cpu-"));
const options = parseOptions(AUDIT ? ["--audit-log", join(dir, "audit.jsonl")] : [], { CO_API_KEY: BENCH_KEY, CO_API_URL: emu.url });
const logger = createLogger("silent");
const app = createApp(options, logger);
// as src/index.ts starts a server: the audit sink, then the concurrency guard last
if (AUDIT) app.audit = createAuditSink(options.auditLog!, () => app.secrets(), logger, options.replicaId);
app.guards.push(concurrencyGuard({ config: () => app.config, httpDefault: options.limits.maxConcurrentCalls, waitMs: options.limits.concurrencyWaitMs }));
// as src/transports/stdio.ts and src/server.ts make a stdio call's scope
const scope: AgentScope = { agent: "stdio", transport: "stdio", visible: app.visible, ignored: app.ignored, era: ERA, ...(ERA === "modern" ? { stateless: false } : {}) };

const pool = new Pool(new URL(emu.url).origin, { connections: 64 });
const paths: Record<string, () => Promise<unknown>> = {
  // what bench/minimal-server's rerank handler does (the SDK aside)
  bare: async () => {
    const res = await pool.request({
      method: "POST",
      path: "/v2/rerank",
      headers: { authorization: `Bearer ${BENCH_KEY}`, "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(RERANK_ARGS),
    });
    return { content: [{ type: "text", text: JSON.stringify(await res.body.json()) }] };
  },
  // the SDK hands each request an AbortController's signal: so does this
  ours: async () => {
    const r = await callTool(app, scope, "rerank", RERANK_ARGS, { signal: new AbortController().signal });
    if (r.isError) throw new Error(`rerank failed: ${r.content[0]?.text}`);
    return r;
  },
};
const cpu: Record<string, number[]> = { bare: [], ours: [] };
for (const f of Object.values(paths)) for (let i = 0; i < WARM; i++) await f();
const per = Math.ceil(CALLS / ROUNDS);
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, f] of Object.entries(paths).sort(() => Math.random() - 0.5)) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < per; i++) await f();
    const c = process.cpuUsage(c0);
    cpu[name]!.push((c.user + c.system) / per);
  }
}
const ours = median(cpu.ours!);
const bare = median(cpu.bare!);
console.log(
  `CPU per rerank call in one process (${ERA} era scope, audit ${AUDIT ? "on" : "off"}; median of ${ROUNDS} rounds of ${per}, after ${WARM} warm-up calls each): ` +
    `callTool ${ours.toFixed(1)} µs, bare undici + JSON ${bare.toFixed(1)} µs; the decision path's own ${(ours - bare).toFixed(1)} µs ` +
    `(fastest rounds ${Math.min(...cpu.ours!).toFixed(1)} and ${Math.min(...cpu.bare!).toFixed(1)} µs)`,
);
await pool.close();
await app.close();
await emu.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
