/**
 * The MCP server for one agent: lists only the tools its scope makes visible, and runs a call
 * only after the policy says yes. Thin on purpose: validation and Cohere calls live in the
 * executor, visibility in the policy, transports in src/transports.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { ToolDef } from "./catalog/types.js";
import type { ToolDescriptor } from "./catalog/describe.js";
import { errorResult, executeTool, parseInput, type CallOutcome, type ToolResult } from "./executor.js";
import { hashArgs, type AuditEvent, type DenyReason } from "./audit.js";
import { howToEnable } from "./policy/allowlist.js";
import type { App } from "./app.js";

export interface AgentScope {
  agent: string;
  transport: "stdio" | "http";
  visible: ReadonlySet<string>;
  /** Items a request tried to add beyond its ceiling (noted in the audit). */
  ignored?: string[];
  /** Profile name, for checks that need it (argument rules, limits). */
  profile?: string;
}

/** A check run after validation and before anything is sent (argument rules, rate limits). */
export interface Guard {
  check(
    scope: AgentScope,
    tool: ToolDef,
    input: Record<string, unknown>,
  ): { ok: true } | { ok: false; reason: DenyReason; message: string };
}

export const SERVER_INFO = { name: "cohere-mcp", version: "0.1.0" };

export function createMcpServer(app: App, scope: AgentScope): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: false }, logging: {} },
    instructions:
      "Cohere API tools. Read tools run freely; write and destructive tools appear only when the operator enables them. " +
      "Errors are returned as tool results with what to do next.",
  });
  const listed: ToolDescriptor[] = app.descriptorsFor(scope.visible);
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listed }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const result = await callTool(app, scope, request.params.name, request.params.arguments, {
      signal: extra.signal,
    });
    return result;
  });
  return server;
}

export interface CallExtras {
  signal?: AbortSignal;
}

/** The whole decision path of one tools/call, audited once whatever happens. */
export async function callTool(
  app: App,
  scope: AgentScope,
  name: string,
  args: unknown,
  extras: CallExtras,
): Promise<ToolResult> {
  const started = performance.now();
  const tool = app.byName.get(name);
  const base = {
    time: new Date().toISOString(),
    agent: scope.agent,
    transport: scope.transport,
    tool: name,
    access: tool?.access,
    argsHash: app.audit ? hashArgs(args) : undefined,
    ignoredTools: scope.ignored?.length ? scope.ignored : undefined,
  };
  const deny = (reason: DenyReason, message: string, detail?: string, resource?: string): ToolResult => {
    app.audit?.record({
      ...base,
      decision: "denied",
      reason,
      detail,
      resource,
      latencyMs: performance.now() - started,
    });
    return errorResult(message);
  };

  if (!tool) {
    return deny(
      "unknown_tool",
      `Unknown tool "${String(name).slice(0, 100)}". Call tools/list to see the tools available to this agent.`,
    );
  }
  if (!scope.visible.has(tool.name)) {
    return deny(
      "not_in_profile",
      `Tool ${tool.name} (${tool.access}) is not enabled for this agent, so nothing was sent to Cohere. ` +
        `An operator can enable it: ${howToEnable(tool)}.`,
    );
  }
  const parsed = parseInput(tool, args);
  if (!parsed.ok) return deny("invalid_input", parsed.result.content[0]!.text, undefined);
  const input = parsed.input;
  for (const guard of app.guards) {
    const verdict = guard.check(scope, tool, input);
    if (!verdict.ok) return deny(verdict.reason, verdict.message, verdict.message, safeResource(tool, input));
  }

  const { result, outcome } = await executeTool(tool, input, {
    client: app.client,
    signal: extras.signal,
    maxOutputChars: app.options.maxOutputChars,
  });
  recordAllowed(app, base, outcome, started);
  return result;
}

function recordAllowed(
  app: App,
  base: Omit<AuditEvent, "decision" | "latencyMs">,
  outcome: CallOutcome,
  started: number,
): void {
  const latencyMs = performance.now() - started;
  app.metrics.calls++;
  if (!outcome.ok) app.metrics.errors++;
  app.audit?.record({
    ...base,
    decision: "allowed",
    resource: outcome.resource,
    status: outcome.status,
    outcome: outcome.ok ? "ok" : outcome.failure,
    requestId: outcome.requestId,
    billedUnits: outcome.billedUnits,
    latencyMs,
  });
  app.logger.debug("tool call", {
    tool: base.tool,
    agent: base.agent,
    ok: outcome.ok,
    status: outcome.status,
    ms: Math.round(latencyMs),
  });
}

function safeResource(tool: ToolDef, input: Record<string, unknown>): string | undefined {
  try {
    return tool.resource?.(input);
  } catch {
    return undefined;
  }
}
