/**
 * The Grafana dashboard and the Prometheus alert rules in deploy/ (issue 22, item 12) name only
 * metrics the server serves, and add up the shared budget gauges with max, never sum.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { metricOf, servedMetrics } from "./metrics-support.js";

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}
interface Rule {
  alert: string;
  expr: string;
  annotations?: { summary?: string };
}

const dashboard = JSON.parse(readFileSync(new URL("../deploy/grafana/cohere-mcp.json", import.meta.url), "utf8")) as { panels: Panel[]; uid: string };
const rules = (parse(readFileSync(new URL("../deploy/prometheus/alerts.yml", import.meta.url), "utf8")) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap(
  (g) => g.rules,
);
const exprs = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
];
const named = (expr: string) => [...expr.matchAll(/\bcohere_mcp_[a-z0-9_]+/g)].map((m) => m[0]);

let served: Set<string>;
beforeAll(async () => {
  served = new Set((await servedMetrics()).map((m) => m.name));
});

describe("deploy/grafana and deploy/prometheus", () => {
  it("name only metrics /metrics serves", () => {
    expect(exprs.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const { where, expr } of exprs) {
      for (const series of named(expr)) {
        const m = metricOf(series, served);
        if (!served.has(m)) missing.push(`${where}: ${series}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("alert on each condition the issue names", () => {
    const byName = new Map(rules.map((r) => [r.alert, r.expr]));
    expect(byName.get("CohereMcpBudgetNearlySpent")).toMatch(/cohere_mcp_budget_used[\s\S]*>= 0\.8/);
    expect(byName.get("CohereMcpGatewayBudgetNearlySpent")).toMatch(/cohere_mcp_gateway_budget_used[\s\S]*>= 0\.8/);
    expect(byName.get("CohereMcpReloadRejected")).toMatch(/cohere_mcp_config_reloads_total\{outcome="rejected"\}/);
    expect(byName.get("CohereMcpConfigHashesDiffer")).toMatch(/cohere_mcp_config_info[\s\S]*cohere_mcp_config_hash_mismatch/);
    expect(byName.get("CohereMcpStoreErrors")).toMatch(/cohere_mcp_store_errors_total/);
    expect(byName.get("CohereMcpAuditFailing")).toMatch(/cohere_mcp_audit_failing/);
    expect(byName.get("CohereMcpFailedAuthentications")).toMatch(/cohere_mcp_refusals_total\{reason="auth"\}/);
    for (const r of rules) expect(r.annotations?.summary, r.alert).toBeTruthy();
  });

  it("add up the shared budget gauges with max, never sum", () => {
    for (const { where, expr } of exprs) {
      if (!/cohere_mcp_(gateway_)?budget_/.test(expr)) continue;
      expect(expr, where).not.toMatch(/\bsum\b/);
      for (const m of expr.matchAll(/(\w+)(?: by \([^)]*\))? \(cohere_mcp_(?:gateway_)?budget_\w+\)/g)) expect(m[1], where).toBe("max");
    }
  });

  it("is a Grafana dashboard with a datasource variable and a query in every panel", () => {
    expect(dashboard.uid).toBe("cohere-mcp");
    for (const p of dashboard.panels) {
      if (p.type === "row") continue;
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });
});
