/**
 * The MCP server for one agent: lists only the tools its scope makes visible, and runs a call
 * only after the policy says yes. Thin on purpose: validation and Cohere calls live in the
 * executor, visibility in the policy, transports in src/transports.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation";
import type { ToolDef } from "./catalog/types.js";
import type { ToolDescriptor } from "./catalog/describe.js";
import { errorResult, executeTool, parseInput, safeResource, type CallOutcome, type ToolResult } from "./executor.js";
import { confirmDestructive, CONFIRM_TIMEOUT_MS, type ElicitFn } from "./confirm.js";
import { FileRefused, pathInputs, resolveFileInputs, type FileAccess } from "./files.js";
import { hashArgs, type AuditEvent, type DenyReason } from "./audit.js";
import { howToEnable } from "./policy/allowlist.js";
import type { App } from "./app.js";
import type { AgentScope, GuardVerdict } from "./policy/types.js";

export type { AgentScope, Guard, GuardVerdict } from "./policy/types.js";

export const SERVER_INFO = { name: "cohere-mcp", version: "0.1.0" };

/** Ajv is built when a schema is actually checked (elicitation answers), not with every Server:
 *  stateless HTTP builds a Server per request, and an Ajv instance per Server cost ~0.6 ms. */
const lazyValidator: jsonSchemaValidator = {
  getValidator: (schema) => new AjvJsonSchemaValidator().getValidator(schema),
};

/** Pause between the last progress notification and the result (see the call handler). */
const PROGRESS_SETTLE_MS = 25;

export function createMcpServer(app: App, scope: AgentScope): Server {
  const server = new Server(SERVER_INFO, {
    jsonSchemaValidator: lazyValidator,
    capabilities: { tools: { listChanged: false }, logging: {} },
    instructions:
      "Cohere API tools. Read tools run freely; write and destructive tools appear only when the operator enables them. " +
      "Errors are returned as tool results with what to do next.",
  });
  const listed: ToolDescriptor[] = app.descriptorsFor(scope.visible);
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    // Load the full records once the list is on its way, so the first call does not wait.
    setImmediate(() => void app.loadTool(""));
    return { tools: listed };
  });
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    // Progress (streamed pieces, poll statuses) only when the caller asked for it, in order,
    // and all sent before the result.
    const token = extra._meta?.progressToken;
    let queue: Promise<void> = Promise.resolve();
    let n = 0;
    const progress =
      token === undefined
        ? undefined
        : (message: string) => {
            const p = ++n;
            queue = queue
              .then(() =>
                extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: p, message } }),
              )
              .catch(() => undefined);
          };
    const elicitation = server.getClientCapabilities()?.elicitation as { form?: unknown; url?: unknown } | undefined;
    const canElicit = elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined);
    const elicit: ElicitFn | undefined = canElicit
      ? async (message) => {
          const r = await server.elicitInput(
            { mode: "form", message, requestedSchema: { type: "object", properties: {} } },
            { relatedRequestId: extra.requestId, signal: extra.signal, timeout: CONFIRM_TIMEOUT_MS },
          );
          return r.action;
        }
      : undefined;
    const result = await callTool(app, scope, request.params.name, request.params.arguments, {
      signal: extra.signal,
      progress,
      elicit,
    });
    await queue;
    // The SDK's client handles a notification one microtask after it reads it but a response at
    // once, and forgets the progress token with the response: progress read in the same chunk as
    // the result would be dropped. A short gap after the last one keeps them apart.
    if (n > 0 && !extra.signal.aborted) await new Promise((r) => setTimeout(r, PROGRESS_SETTLE_MS));
    return result;
  });
  return server;
}

export interface CallExtras {
  signal?: AbortSignal;
  /** Forward a progress message to the caller (only when it sent a progress token). */
  progress?: (message: string) => void;
  /** Ask the user to confirm (only when the client supports elicitation). */
  elicit?: ElicitFn;
}

/** May this agent read files by path, and from where? */
export function fileAccess(app: App, scope: AgentScope): FileAccess {
  const dirs = app.options.allowFileRead;
  if (!dirs.length) {
    return {
      allowed: false,
      why:
        "Reading files by path is off on this server, so nothing was sent to Cohere. Give the content inline instead " +
        "(the *_text or *_base64 input), or ask the operator to start cohere-mcp with --allow-file-read DIR.",
    };
  }
  if (scope.transport === "http") {
    const profile = scope.profile ? app.config?.profiles[scope.profile] : undefined;
    if (profile?.allow_file_read !== true) {
      return {
        allowed: false,
        why:
          `Agent ${scope.agent} may not read files by path over HTTP (its profile does not set allow_file_read: true), ` +
          "so nothing was sent to Cohere. Give the content inline instead (the *_text or *_base64 input).",
      };
    }
  }
  return { allowed: true, dirs, maxBytes: app.options.maxFileBytes };
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
  // The Cohere key of this agent's profile, taken once: a reload during the call does not switch it.
  const cohere = app.cohereKey(scope);
  const tool = await app.loadTool(name);
  const base = {
    time: new Date().toISOString(),
    agent: scope.agent,
    transport: scope.transport,
    tool: name,
    access: tool?.access,
    argsHash: app.audit ? hashArgs(args) : undefined,
    ignoredTools: scope.ignored?.length ? scope.ignored : undefined,
    key: cohere.declared ? cohere.name : undefined,
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
  // What guards hold or count (a concurrency slot, a budget to charge) is settled exactly once.
  const afters: NonNullable<Extract<GuardVerdict, { ok: true }>["after"]>[] = [];
  let outcome: CallOutcome = { ok: false, failure: "refused", sent: false };
  try {
    let input = parsed.input;
    for (const guard of app.guards) {
      const verdict = await guard.check(scope, tool, input);
      if (!verdict.ok) return deny(verdict.reason, verdict.message, verdict.detail ?? verdict.message, safeResource(tool, input));
      if (verdict.after) afters.push(verdict.after);
    }
    if (pathInputs(tool, input).length) {
      try {
        input = await resolveFileInputs(tool, input, fileAccess(app, scope));
      } catch (err) {
        const why =
          err instanceof FileRefused ? err.message : `The file could not be read (${(err as NodeJS.ErrnoException).code ?? String(err)}).`;
        const message = why.includes("nothing was sent") ? why : `${why} Nothing was sent to Cohere.`;
        return deny("argument_rule", message, why, safeResource(tool, input));
      }
    }
    const confirmed = await confirmDestructive(tool, input, safeResource(tool, input), {
      mode: app.options.confirmDestructive,
      elicit: extras.elicit,
      stateless: scope.stateless,
      client: cohere.client,
      signal: extras.signal,
    });
    if (!confirmed.ok) return deny("not_confirmed", confirmed.message, confirmed.detail, safeResource(tool, input));

    let retries = 0;
    const sentAt = performance.now();
    const executed = await executeTool(tool, input, {
      client: cohere.client,
      onRetry: () => void retries++,
      signal: extras.signal,
      maxOutputChars: app.options.maxOutputChars,
      progress: extras.progress,
      pollIntervalMs: app.options.pollIntervalMs,
      maxWaitS: app.options.maxWaitS,
    });
    outcome = executed.outcome;
    recordAllowed(app, { ...base, upstreamMs: performance.now() - sentAt, retries: retries || undefined }, outcome, started);
    return executed.result;
  } finally {
    for (const after of afters) {
      try {
        await after(outcome);
      } catch (err) {
        app.logger.error("a guard could not settle a call", { tool: tool.name, agent: scope.agent, error: (err as Error)?.message });
      }
    }
  }
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

