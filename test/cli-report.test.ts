/**
 * `cohere-mcp report`: calls, denials by reason, billed units, USD and budget left, from several
 * replicas' audit files merged by time; and it streams (a file larger than the heap it is given).
 */
import { createWriteStream, writeFileSync } from "node:fs";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { auditReport, type AuditReport } from "../src/cli/report.js";
import { cli, fixture } from "./cli-support.js";
import { tempFile } from "./http-support.js";

const A = fixture("audit-replica-a.jsonl");
const B = fixture("audit-replica-b.jsonl");

describe("cohere-mcp report", () => {
  it("by agent (default): calls, denials by reason, billed units; bad lines counted on stderr", async () => {
    const r = await cli(["report", A, B]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("cohere-mcp report: skipped 1 line that is not an audit line\n");
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^AGENT\s+CALLS\s+ALLOWED\s+DENIED\s+DENIALS BY REASON\s+BILLED UNITS$/);
    expect(lines[1]).toMatch(/^search-agent\s+11\s+4\s+7\s+not_in_profile 1, rate_limit 1, throttled 5\s+input_tokens 2000, output_tokens 150, search_units 1$/);
    expect(r.stdout).toMatch(/^total\s+13\s+5\s+8\s/m);
    expect(r.stdout).toMatch(/9 call lines from 2 files, 2026-11-30T23:59:00.000Z to 2026-12-02T10:00:00.000Z; 1 configuration reload/);
  });

  it("--since/--until, --by reason|tool|key|replica, json and csv", async () => {
    const j = JSON.parse((await cli(["report", A, B, "--since", "2026-12-01", "--until", "2026-12-02", "--json"])).stdout) as AuditReport;
    expect(j.lines).toBe(7);
    expect(j.first).toBe("2026-12-01T09:00:00.000Z");
    expect(j.last).toBe("2026-12-01T09:07:00.000Z");
    expect(j.total).toMatchObject({ calls: 11, allowed: 3, denied: 8, billed: { input_tokens: 200, output_tokens: 50, search_units: 1 } });
    const reason = JSON.parse((await cli(["report", A, B, "--by", "reason", "--json"])).stdout) as AuditReport;
    expect(Object.fromEntries(reason.rows.map((x) => [x.key, x.calls]))).toEqual({ "(allowed)": 5, throttled: 5, not_in_profile: 1, not_confirmed: 1, rate_limit: 1 });
    const replica = JSON.parse((await cli(["report", A, B, "--by", "replica", "--json"])).stdout) as AuditReport;
    // lines without a replica field are named by their file
    expect(replica.rows.map((x) => [x.key, x.calls])).toEqual([["b", 8], ["audit-replica-a", 5]]);
    const key = JSON.parse((await cli(["report", A, B, "--by", "key", "--json"])).stdout) as AuditReport;
    expect(key.rows.map((x) => x.key).sort()).toEqual(["default", "prod"]);
    const csv = await cli(["report", A, "--by", "tool", "--format", "csv"]);
    expect(csv.stdout.split("\n")[0]).toBe("tool,calls,allowed,denied,denials by reason,billed units");
    expect(csv.stdout).toContain('chat,3,2,1,rate_limit 1,"input_tokens 1200, output_tokens 150"');
  });

  it("USD from the config's prices, and budget left this month", async () => {
    // Lines stamped this month, so "budget left this month" has something to subtract.
    const now = new Date();
    const t = (min: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1, 0, min)).toISOString();
    const file = tempFile("this-month.jsonl");
    const line = (agent: string, min: number, billed: Record<string, number>) =>
      JSON.stringify({ type: "audit", time: t(min), agent, transport: "http", tool: "chat", decision: "allowed", billedUnits: billed, latencyMs: 1 });
    writeFileSync(file, [line("search-agent", 1, { input_tokens: 1_000_000 }), line("search-agent", 2, {}), line("writer-agent", 3, { output_tokens: 100_000 })].join("\n") + "\n");
    const r = await cli(["report", file, "--config", fixture("team.json")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^AGENT\s+CALLS\s+ALLOWED\s+DENIED\s+DENIALS BY REASON\s+BILLED UNITS\s+USD\s+BUDGET LEFT THIS MONTH$/m);
    expect(r.stdout).toMatch(/^search-agent\s+2\s+2\s+0\s+input_tokens 1000000\s+\$2\.50\s+calls 98$/m);
    expect(r.stdout).toMatch(/^writer-agent\s+1\s+1\s+0\s+output_tokens 100000\s+\$1\.00\s+usd \$9\.00$/m);
  });

  it("usage errors exit 2; an unreadable file exits 1", async () => {
    expect((await cli(["report"])).code).toBe(2);
    expect((await cli(["report", A, "--by", "model"])).stderr).toMatch(/--by must be one of agent, tool, reason, key, replica/);
    expect((await cli(["report", A, "--since", "yesterday"])).code).toBe(2);
    const missing = await cli(["report", "/nonexistent/audit.jsonl"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read audit file \/nonexistent\/audit\.jsonl/);
  });

  it("streams: a 96 MB file is summed by a process whose heap is capped at 32 MB", async () => {
    const file = tempFile("big.jsonl");
    const out = createWriteStream(file);
    const line =
      JSON.stringify({ type: "audit", time: "2026-12-01T00:00:00.000Z", agent: "bulk", transport: "http", tool: "embed", decision: "allowed", billedUnits: { input_tokens: 3 }, latencyMs: 1, text: "x".repeat(300) }) + "\n";
    const chunk = line.repeat(1000);
    const chunks = Math.ceil((96 * 1024 * 1024) / chunk.length);
    for (let i = 0; i < chunks; i++) if (!out.write(chunk)) await once(out, "drain");
    out.end();
    await once(out, "finish");
    const r = await cli(["report", file, "--json"], { nodeArgs: ["--max-old-space-size=32"] });
    expect(r.code, r.stderr.slice(0, 500)).toBe(0);
    const rep = JSON.parse(r.stdout) as AuditReport;
    expect(rep.total.calls).toBe(chunks * 1000);
    expect(rep.total.billed.input_tokens).toBe(chunks * 3000);
  }, 120_000);

  it("the library merges files by time", async () => {
    const r = await auditReport([B, A], { by: "agent" });
    expect(r.first).toBe("2026-11-30T23:59:00.000Z");
    expect(r.last).toBe("2026-12-02T10:00:00.000Z");
  });
});
