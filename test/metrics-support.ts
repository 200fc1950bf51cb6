/** Every metric the server can serve: an App with a config that turns each family on, metrics installed. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/runtime/app.js";
import { createAuditSink } from "../src/audit/index.js";
import { parseOptions } from "../src/config/options.js";
import { createLogger } from "../src/runtime/logger.js";
import { installTelemetry } from "../src/metrics/index.js";
import { TEST_KEY } from "./helpers.js";
import { writeConfig } from "./http-support.js";

export interface ServedMetric {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary";
}

/** Names and types of every metric /metrics serves (cohere_mcp_* and the process defaults). */
export async function servedMetrics(): Promise<ServedMetric[]> {
  const config = writeConfig({
    prices_usd_per_million: { "*": { input_tokens: 1, output_tokens: 1, search_units: 1, classifications: 1 } },
    budget: { usd: 500, calls: 1000 },
    profiles: { p: { tools: ["rerank"], budget: { calls: 10 } } },
  });
  const app = createApp(parseOptions(["--config", config, "--profile", "p"], { CO_API_KEY: TEST_KEY, CO_API_URL: "http://127.0.0.1:9" }), createLogger("silent"));
  app.audit = createAuditSink(join(mkdtempSync(join(tmpdir(), "cmcp-metrics-")), "audit.jsonl"), () => app.secrets());
  try {
    const t = installTelemetry(app);
    const json = await t.registry.getMetricsAsJSON();
    return json.map((m) => ({ name: m.name, type: String(m.type) as ServedMetric["type"] }));
  } finally {
    await app.close();
  }
}

/** A series name as a query writes it, back to its metric: histograms add _bucket, _sum and _count. */
export function metricOf(series: string, served: ReadonlySet<string>): string {
  if (served.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, "");
  return served.has(base) ? base : series;
}
