#!/usr/bin/env node
/**
 * What budgets, Cohere key limits and metrics cost per call, in-process (no network): the
 * guards' check and settle on the memory store, and the metrics observer of one audit event.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/operating.js [--calls 50000]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createApp, type App } from "../src/runtime/app.js";
import type { AuditEvent } from "../src/audit/index.js";
import { parseOptions } from "../src/config/options.js";
import type { CallOutcome } from "../src/call/executor.js";
import { createLogger } from "../src/runtime/logger.js";
import { installTelemetry } from "../src/metrics/index.js";
import type { AgentScope } from "../src/policy/types.js";

const { values } = parseArgs({ options: { calls: { type: "string", default: "50000" } } });
const N = Number(values.calls);
const KEY = "bench-key-SECRET-0a1b2c3d4e5f";

function appWith(profile: Record<string, unknown>, extra: Record<string, unknown> = {}): App {
  const dir = mkdtempSync(join(tmpdir(), "cohere-mcp-bench-"));
  const path = join(dir, "config.json");
  writeFileSync(path, JSON.stringify({ profiles: { p: { tools: ["chat"], ...profile } }, ...extra }));
  return createApp(parseOptions(["--config", path], { CO_API_KEY: KEY, CO_API_URL: "http://127.0.0.1:9" }), createLogger("silent"), {
    env: { PROD_KEY: KEY },
  });
}

async function guardsPerCall(label: string, app: App): Promise<void> {
  const tool = (await app.loadTool("chat"))!;
  const input = { model: "command-a-03-2025", messages: [{ role: "user", content: "hi" }], max_tokens: 100 };
  const scope: AgentScope = { agent: "bench", transport: "http", visible: new Set(["chat"]), profile: "p" };
  const outcome: CallOutcome = { ok: true, sent: true, billedUnits: { input_tokens: 12, output_tokens: 40 } };
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      for (const g of app.guards) {
        const v = await g.check(scope, tool, input);
        if (!v.ok) throw new Error(v.message);
        await v.after?.(outcome);
      }
    }
  };
  await run(2_000); // warm-up
  const t0 = performance.now();
  await run(N);
  const us = ((performance.now() - t0) * 1000) / N;
  console.log(`${label.padEnd(58)} ${us.toFixed(2).padStart(7)} µs per call`);
}

const big = 1e12;
console.log(`${N} calls, memory store, Node ${process.version}`);
await guardsPerCall("no config (no guards)", createApp(parseOptions([], { CO_API_KEY: KEY }), createLogger("silent")));
await guardsPerCall("rate_limit.per_minute only (as before)", appWith({ rate_limit: { per_minute: big } }));
await guardsPerCall("+ budget (calls, input/output tokens)", appWith({ rate_limit: { per_minute: big }, budget: { calls: big, input_tokens: big, output_tokens: big } }));
await guardsPerCall(
  "+ usd budget with a price table",
  appWith(
    { rate_limit: { per_minute: big }, budget: { calls: big, input_tokens: big, output_tokens: big, usd: 1e6 } },
    { prices_usd_per_million: { "command-a-*": { input_tokens: 2.5, output_tokens: 10 } } },
  ),
);
const keyed = {
  cohere_keys: { prod: { env: "PROD_KEY", type: "production", per_minute: { chat: big }, per_month: big } },
};
await guardsPerCall(
  "+ Cohere key limits (per minute + per month)",
  appWith({ rate_limit: { per_minute: big }, budget: { calls: big, input_tokens: big, output_tokens: big }, cohere_key: "prod" }, keyed),
);
const withMetrics = appWith({ rate_limit: { per_minute: big }, budget: { calls: big, input_tokens: big, output_tokens: big }, cohere_key: "prod" }, keyed);
const telemetry = installTelemetry(withMetrics);
await guardsPerCall("+ metrics (store observer, in-flight gauge)", withMetrics);

const event: AuditEvent = {
  time: new Date().toISOString(),
  agent: "bench",
  transport: "http",
  tool: "chat",
  decision: "allowed",
  outcome: "ok",
  status: 200,
  latencyMs: 12.3,
  upstreamMs: 10.1,
  billedUnits: { input_tokens: 12, output_tokens: 40 },
  key: "prod",
};
for (let i = 0; i < 2_000; i++) telemetry.observe(event);
const t0 = performance.now();
for (let i = 0; i < N; i++) telemetry.observe(event);
console.log(`${"metrics: observe one audit event".padEnd(58)} ${(((performance.now() - t0) * 1000) / N).toFixed(2).padStart(7)} µs per call`);
const s0 = performance.now();
const text = await telemetry.registry.metrics();
console.log(`${"metrics: one scrape".padEnd(58)} ${(performance.now() - s0).toFixed(1).padStart(7)} ms (${text.length} bytes)`);
process.exit(0);
