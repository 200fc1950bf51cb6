/**
 * `cohere-mcp access --config FILE [--agent NAME]`: every agent × every tool it can call
 * (src/policy/access.ts accessMatrix, the code the server uses), then each agent's rules.
 */
import { loadConfigFile } from "../config/file.js";
import { accessMatrix, accessRows, type AgentAccess } from "../policy/access.js";
import { parseList } from "../policy/allowlist.js";
import { EXIT, parseCommandArgs } from "./args.js";
import { configArg } from "./check.js";
import { render, renderRows, type Column, type Row } from "./format.js";
import type { CliIO } from "./index.js";

const TOOL_COLUMNS: Column[] = [
  { key: "agent", title: "agent" },
  { key: "profile", title: "profile" },
  { key: "tool", title: "tool" },
  { key: "class", title: "class" },
  { key: "group", title: "group" },
  { key: "scope", title: "scope" },
];

const SUMMARY_COLUMNS: Column[] = [
  { key: "agent", title: "agent" },
  { key: "profile", title: "profile" },
  { key: "read", title: "read", right: true },
  { key: "write", title: "write", right: true },
  { key: "destructive", title: "destructive", right: true },
  { key: "key", title: "cohere key" },
  { key: "rules", title: "rules" },
];

const kv = (o: object | undefined) =>
  o === undefined
    ? ""
    : Object.entries(o)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
        .join(" ");

/** One line of an agent's rules: arguments, rate limits, budget, scopes. */
export function rulesText(a: AgentAccess): string {
  const parts: string[] = [];
  if (a.argumentRules) parts.push(`arguments: ${kv(a.argumentRules)}`);
  if (a.rateLimit) parts.push(`rate limit: ${kv(a.rateLimit)}`);
  if (a.budget) parts.push(`budget/month: ${kv(a.budget)}`);
  if (a.scopes) parts.push(`scopes: read=${a.scopes.read} write=${a.scopes.write} destructive=${a.scopes.destructive}`);
  return parts.join("; ");
}

export function summaryRow(a: AgentAccess): Row {
  const count = (c: string) => a.tools.filter((t) => t.class === c).length;
  return { agent: a.agent, profile: a.profile ?? "", read: count("read"), write: count("write"), destructive: count("destructive"), key: a.cohereKey, rules: rulesText(a) };
}

export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs("access", argv, {
    config: { type: "string" },
    agent: { type: "string" },
    summary: { type: "boolean" },
    "exclude-tools": { type: "string", multiple: true },
  });
  const config = loadConfigFile(configArg("access", p.values, io.env));
  // the server's --exclude-tools (or COHERE_MCP_EXCLUDE_TOOLS), removed from every agent as it does
  const exclude = parseList((p.values["exclude-tools"] as string[] | undefined) ?? io.env.COHERE_MCP_EXCLUDE_TOOLS);
  const opts = { excludeTools: exclude };
  const matrix = accessMatrix(config, opts);
  const only = p.values.agent as string | undefined;
  if (only !== undefined) {
    matrix.agents = matrix.agents.filter((a) => a.agent === only);
    if (!matrix.agents.length) {
      const names = accessMatrix(config, opts).agents.map((a) => a.agent);
      io.stderr(`cohere-mcp access: no agent "${only.slice(0, 64)}"; agents: ${names.join(", ")}\n`);
      return EXIT.invalid;
    }
  }
  if (p.values.summary === true) {
    io.stdout(render(p.format, matrix, matrix.agents.map(summaryRow), SUMMARY_COLUMNS));
    return EXIT.ok;
  }
  if (p.format !== "table") {
    io.stdout(render(p.format, matrix, accessRows(matrix), TOOL_COLUMNS));
    return EXIT.ok;
  }
  // Table: the tools, then one block of rules per agent.
  const hasScopes = matrix.agents.some((a) => a.scopes);
  const columns = hasScopes ? TOOL_COLUMNS : TOOL_COLUMNS.filter((c) => c.key !== "scope");
  const out = [renderRows(accessRows(matrix), columns, "table")];
  for (const a of matrix.agents) {
    const s = summaryRow(a);
    out.push(
      `${a.agent} (${a.kind}, profile ${a.profile ?? "(default set)"}): ${s.read} read, ${s.write} write, ${s.destructive} destructive; ` +
        `credential ${a.credential}; Cohere key ${a.cohereKey}${s.rules ? `; ${String(s.rules)}` : ""}`,
    );
  }
  io.stdout(out.join("\n") + "\n");
  return EXIT.ok;
}
