/**
 * The metrics table in docs/operating.md says what /metrics serves, with the right type, and how
 * to add each metric up across replicas (issue 22, item 13 / metrics correctness): counters and
 * histograms are per process (sum), the budget gauges are read from the shared store (max, never
 * sum: summing three replicas' figures triples the budget used).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { servedMetrics, type ServedMetric } from "./metrics-support.js";

interface Row {
  names: string[];
  type: string;
  across: string;
}

/** The rows of the metrics table: `a` / `a_x` / `_y` (a suffix after a full name shares its stem). */
function docRows(): Row[] {
  const md = readFileSync(new URL("../docs/operating.md", import.meta.url), "utf8");
  const section = md.slice(md.indexOf("### Metrics"));
  const rows: Row[] = [];
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 5 || !cells[1]!.startsWith("`cohere_mcp_")) continue;
    const parts = [...cells[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const names: string[] = [];
    let stem = "";
    for (const p of parts) {
      if (p.startsWith("_")) names.push(stem + p);
      else {
        names.push(p);
        stem = p.replace(/_(used|remaining|limit)$/, "");
      }
    }
    rows.push({ names, type: cells[2]!, across: cells[3]! });
  }
  return rows;
}

/** Gauges every replica reads from the shared store: each reports the whole team's figure. */
const SHARED = (name: string) => /budget_(used|remaining|limit)$/.test(name);

describe("the metrics table in docs/operating.md", () => {
  it("names every cohere_mcp metric served, with its type, and nothing that is not served", async () => {
    const served = (await servedMetrics()).filter((m) => m.name.startsWith("cohere_mcp_"));
    const documented = new Map<string, Row>();
    for (const r of docRows()) for (const n of r.names) documented.set(n, r);
    expect([...documented.keys()].sort()).toEqual(served.map((m) => m.name).sort());
    for (const m of served) expect(documented.get(m.name)!.type, m.name).toBe(m.type);
  });

  it("says sum for what each process counts and max for the gauges read from the shared store", async () => {
    const served = new Map<string, ServedMetric>((await servedMetrics()).map((m) => [m.name, m]));
    for (const r of docRows()) {
      for (const n of r.names) {
        const m = served.get(n)!;
        if (SHARED(n)) expect(r.across, n).toMatch(/\bmax\b/);
        else if (m.type === "counter" || m.type === "histogram") expect(r.across, n).toBe("sum");
        if (SHARED(n)) expect(r.across, n).not.toMatch(/\bsum\b/);
      }
    }
    const md = readFileSync(new URL("../docs/operating.md", import.meta.url), "utf8");
    // the prose says it too, and no longer tells to sum everything
    expect(md).toMatch(/use `max` \(or any one replica\), never `sum`/);
    expect(md).not.toMatch(/The counters are per\s+process: sum them across replicas in Prometheus\./);
  });
});
