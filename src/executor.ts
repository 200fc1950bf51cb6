/**
 * The one generic executor: validate → build the HTTP request from the record → call Cohere →
 * shape the result. Every tool goes through here; special cases are hooks on the record.
 */
import type { z } from "zod";
import type { BuiltRequest, ToolDef } from "./catalog/types.js";
import type { CohereClient, CohereResponse } from "./cohere/client.js";
import { CohereApiError, CohereTransportError } from "./cohere/errors.js";

export interface TextContent {
  type: "text";
  text: string;
}

export interface ToolResult {
  content: TextContent[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  [k: string]: unknown;
}

/** What happened, for the audit log and metrics. */
export interface CallOutcome {
  ok: boolean;
  /** invalid_input | cohere_error | transport_error | cancelled */
  failure?: string;
  status?: number;
  requestId?: string;
  attempts?: number;
  billedUnits?: Record<string, number>;
  resource?: string;
  sent: boolean;
}

export interface ExecContext {
  client: CohereClient;
  signal?: AbortSignal;
  maxOutputChars: number;
  onRetry?: (info: { attempt: number; delayMs: number; status?: number; reason: string }) => void;
}

export function errorResult(text: string): ToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

export function formatIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 12)
    .map((i) => {
      const where = i.path.length ? i.path.join(".") : "arguments";
      return `- ${where}: ${i.message}`;
    })
    .join("\n");
}

/** Validate arguments against the tool's schema. */
export function parseInput(
  tool: ToolDef,
  args: unknown,
): { ok: true; input: Record<string, unknown> } | { ok: false; result: ToolResult } {
  const parsed = tool.input.safeParse(args ?? {});
  if (parsed.success) return { ok: true, input: parsed.data };
  return {
    ok: false,
    result: errorResult(
      `Invalid arguments for ${tool.name}; nothing was sent to Cohere. Fix these and call again:\n${formatIssues(
        parsed.error,
      )}`,
    ),
  };
}

const PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;

/** Fill the path template and split the rest of the input into query/body. */
export function buildHttpRequest(
  tool: ToolDef,
  input: Record<string, unknown>,
): { path: string } & BuiltRequest {
  const pathKeys = new Set<string>();
  const path = tool.path.replace(PLACEHOLDER, (_, key: string) => {
    pathKeys.add(key);
    return encodeURIComponent(String(input[key]));
  });
  if (tool.buildRequest) return { path, ...tool.buildRequest(input) };
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (!pathKeys.has(k) && v !== undefined) rest[k] = v;
  if (tool.method === "GET" || tool.method === "DELETE") {
    return { path, query: rest as BuiltRequest["query"] };
  }
  const queryKeys = new Set(tool.query ?? []);
  const query: Record<string, unknown> = {};
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) (queryKeys.has(k) ? query : body)[k] = v;
  const hasBody = Object.keys(body).length > 0 || tool.method === "PATCH";
  return {
    path,
    query: Object.keys(query).length ? (query as BuiltRequest["query"]) : undefined,
    json: hasBody ? body : undefined,
  };
}

/** Pull billed units from Cohere's `meta.billed_units` or v2 `usage.billed_units`. */
export function billedUnits(data: unknown): Record<string, number> | undefined {
  if (!data || typeof data !== "object") return undefined;
  const d = data as { meta?: { billed_units?: unknown }; usage?: { billed_units?: unknown } };
  const bu = d.usage?.billed_units ?? d.meta?.billed_units;
  if (!bu || typeof bu !== "object") return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(bu)) if (typeof v === "number") out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

/** Keep a result inside the output budget, saying what was cut and how to get the rest. */
export function budgetText(text: string, max: number, hint: string): string {
  if (text.length <= max) return text;
  const marker = `\n[truncated: ${text.length - max} of ${text.length} characters cut by the server's output budget. ${hint}]`;
  return text.slice(0, Math.max(0, max - marker.length)) + marker;
}

function defaultShape(tool: ToolDef, res: CohereResponse, ctx: ExecContext): ToolResult {
  if (res.data === undefined) {
    return { content: [{ type: "text", text: `${tool.title}: done (HTTP ${res.status}, empty body).` }] };
  }
  const text = JSON.stringify(res.data);
  const hint = /^list_/.test(tool.name)
    ? "Ask for a smaller page (page_size/limit) or filter the list."
    : "Ask for less (fewer inputs, a narrower query) to see the whole result.";
  const result: ToolResult = { content: [{ type: "text", text: budgetText(text, ctx.maxOutputChars, hint) }] };
  return result;
}

/**
 * Run one validated call. Never throws: every failure becomes a tool result with isError,
 * keeping Cohere's status and message and saying what to do next.
 */
export async function executeTool(
  tool: ToolDef,
  input: Record<string, unknown>,
  ctx: ExecContext,
): Promise<{ result: ToolResult; outcome: CallOutcome }> {
  const resource = safeResource(tool, input);
  let req: ReturnType<typeof buildHttpRequest>;
  try {
    req = buildHttpRequest(tool, input);
  } catch (err) {
    return {
      result: errorResult(`Invalid arguments for ${tool.name}; nothing was sent to Cohere: ${(err as Error).message}`),
      outcome: { ok: false, failure: "invalid_input", sent: false, resource },
    };
  }
  try {
    const res = await ctx.client.request({
      method: tool.method,
      path: req.path,
      query: req.query,
      json: req.json,
      multipart: req.multipart,
      headers: req.headers,
      retryable: tool.access === "read",
      signal: ctx.signal,
      onRetry: ctx.onRetry,
    });
    return {
      result: defaultShape(tool, res, ctx),
      outcome: {
        ok: true,
        status: res.status,
        requestId: res.requestId,
        attempts: res.attempts,
        billedUnits: billedUnits(res.data),
        resource,
        sent: true,
      },
    };
  } catch (err) {
    return failure(tool, err, resource);
  }
}

export function failure(
  tool: ToolDef,
  err: unknown,
  resource: string | undefined,
): { result: ToolResult; outcome: CallOutcome } {
  if (err instanceof CohereApiError) {
    return {
      result: errorResult(err.toToolText()),
      outcome: {
        ok: false,
        failure: "cohere_error",
        status: err.status,
        requestId: err.requestId,
        attempts: err.attempts,
        resource,
        sent: true,
      },
    };
  }
  if (err instanceof CohereTransportError) {
    const note =
      err.outcomeUnknown && tool.access !== "read"
        ? ` ${tool.name} is a ${tool.access} call and was not retried: check the resource's state before calling again.`
        : "";
    return {
      result: errorResult(err.message + note),
      outcome: {
        ok: false,
        failure: err.kind === "cancelled" ? "cancelled" : err.kind === "missing_key" ? "missing_key" : "transport_error",
        resource,
        sent: err.kind !== "missing_key",
      },
    };
  }
  const name = err instanceof Error ? err.name : "Error";
  const message = err instanceof Error ? err.message : String(err);
  if (name === "AbortError" || name === "TimeoutError") {
    return {
      result: errorResult(`The ${tool.name} call was cancelled.`),
      outcome: { ok: false, failure: "cancelled", resource, sent: true },
    };
  }
  return {
    result: errorResult(`Unexpected error in ${tool.name}: ${message}`),
    outcome: { ok: false, failure: "internal", resource, sent: false },
  };
}

function safeResource(tool: ToolDef, input: Record<string, unknown>): string | undefined {
  try {
    return tool.resource?.(input);
  } catch {
    return undefined;
  }
}
