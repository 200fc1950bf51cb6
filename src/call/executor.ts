/**
 * The one generic executor: validate → build the HTTP request from the record → call Cohere →
 * shape the result. Every tool goes through here; special cases are hooks on the record:
 * `localKeys` (inputs kept here), `stream` (forward pieces as progress), `poll` (wait tools),
 * `shape`/`output` (structured results), all bounded by the output budget.
 */
import type { z } from "zod/v3";
import type { BuiltRequest, ToolDef } from "../catalog/types.js";
import type { CohereClient } from "../cohere/client.js";
import { CohereApiError, CohereTransportError } from "../cohere/errors.js";
import { readStream, STREAM_ACCEPT, StreamCutError } from "../cohere/stream.js";
import { runPoll } from "./poll.js";
import { retiredMessage } from "../catalog/models.js";
import { DEFAULTS } from "../config/options.js";
import { budgetText } from "../shape/budget.js";
import { shapeResult, type TextContent, type ToolResult } from "../shape/result.js";
import { redactDeep, redactTail, redactText, StreamRedactor, type Secrets } from "../redact.js";
import { usageOf } from "../telemetry/http-attempt.js";
import type { SpanHandle } from "../telemetry/index.js";

export { budgetText };
export type { TextContent, ToolResult };

/** What happened, for the audit log and metrics. */
export interface CallOutcome {
  ok: boolean;
  /** invalid_input | cohere_error | transport_error | cancelled | stream_cut | generation_error */
  failure?: string;
  status?: number;
  requestId?: string;
  attempts?: number;
  billedUnits?: Record<string, number>;
  resource?: string;
  sent: boolean;
  /** A streamed answer: the text pieces and UTF-8 bytes forwarded before it ended or was cut. */
  streamed?: { pieces: number; bytes: number };
}

export interface ExecContext {
  client: CohereClient;
  signal?: AbortSignal;
  maxOutputChars: number;
  onRetry?: (info: { attempt: number; delayMs: number; status?: number; reason: string }) => void;
  /** Set when the caller sent a progress token: streamed pieces and poll statuses go here, in order. */
  progress?: (message: string) => void;
  /** Wait tools: first poll interval and the server's bound on any wait. */
  pollIntervalMs?: number;
  maxWaitS?: number;
  /** The call's resource phrase when the caller has already made it (safeResource of this input). */
  resource?: string;
  /** The call's server span (--otel): the parent of each Cohere attempt's span. */
  span?: SpanHandle;
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
  if (parsed.success) {
    // Cohere no longer serves a retired model: say so (date, replacements) instead of sending it
    const retired = retiredMessage((parsed.data as Record<string, unknown>).model);
    if (!retired) return { ok: true, input: parsed.data };
    return { ok: false, result: errorResult(`Invalid arguments for ${tool.name}; nothing was sent to Cohere. Fix these and call again:\n- model: ${retired}`) };
  }
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

/** The input without the record's local keys (those are for cohere-mcp, never sent to Cohere). */
export function sendable(tool: ToolDef, input: Record<string, unknown>): Record<string, unknown> {
  if (!tool.localKeys?.length) return input;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (!tool.localKeys.includes(k)) out[k] = v;
  return out;
}

/** Fill the path template and split the rest of the input into query/body. Local keys never go. */
export function buildHttpRequest(
  tool: ToolDef,
  fullInput: Record<string, unknown>,
): { path: string } & BuiltRequest {
  const input = sendable(tool, fullInput);
  // most paths name no input (/v2/rerank): no template to fill, no key to keep out of the rest
  let pathKeys: Set<string> | undefined;
  const path = !tool.path.includes("{")
    ? tool.path
    : tool.path.replace(PLACEHOLDER, (_, key: string) => {
        (pathKeys ??= new Set()).add(key);
        return encodeURIComponent(String(input[key]));
      });
  if (tool.buildRequest) return { path, ...tool.buildRequest(input) };
  const get = tool.method === "GET" || tool.method === "DELETE";
  const queryKeys = tool.query;
  // every other defined input, in the input's order: all in the query (GET, DELETE), or split
  // between the query (the record's `query` keys) and the JSON body
  const rest: Record<string, unknown> = {};
  const query: Record<string, unknown> = {};
  let inQuery = 0;
  let inBody = 0;
  for (const k in input) {
    if (!Object.hasOwn(input, k)) continue;
    const v = input[k];
    if (v === undefined || pathKeys?.has(k)) continue;
    if (!get && queryKeys?.includes(k)) {
      query[k] = v;
      inQuery++;
    } else {
      rest[k] = v;
      inBody++;
    }
  }
  if (get) return { path, query: rest as BuiltRequest["query"] };
  const hasBody = inBody > 0 || tool.method === "PATCH";
  return {
    path,
    query: inQuery ? (query as BuiltRequest["query"]) : undefined,
    json: hasBody ? rest : undefined,
  };
}

/** Cohere's `meta.warnings` (v1 answers: a deprecated model, for one), told to the agent like X-API-Warning. */
function metaWarnings(data: unknown): string[] {
  const w = (data as { meta?: { warnings?: unknown } } | undefined)?.meta?.warnings;
  return Array.isArray(w) ? w.filter((x): x is string => typeof x === "string").slice(0, 5) : [];
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

/**
 * Run one validated call. Never throws: every failure becomes a tool result with isError,
 * keeping Cohere's status and message and saying what to do next.
 */
export async function executeTool(
  tool: ToolDef,
  input: Record<string, unknown>,
  ctx: ExecContext,
): Promise<{ result: ToolResult; outcome: CallOutcome }> {
  const resource = ctx.resource ?? safeResource(tool, input);
  // the Cohere key and every agent token: kept out of results and progress whatever Cohere sends
  const secrets = ctx.client.secrets();
  let req: ReturnType<typeof buildHttpRequest>;
  let streamed: CallOutcome["streamed"];
  try {
    req = buildHttpRequest(tool, input);
  } catch (err) {
    return {
      result: errorResult(`Invalid arguments for ${tool.name}; nothing was sent to Cohere: ${(err as Error).message}`),
      outcome: { ok: false, failure: "invalid_input", sent: false, resource },
    };
  }
  try {
    if (tool.poll) {
      const progress = ctx.progress;
      const { result, last, polls } = await runPoll(tool, tool.poll, req.path, input, {
        client: ctx.client,
        signal: ctx.signal,
        progress: progress && ((message: string) => progress(redactText(message, secrets))),
        maxOutputChars: ctx.maxOutputChars,
        pollIntervalMs: ctx.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
        maxWaitS: ctx.maxWaitS ?? DEFAULTS.maxWaitS,
        span: ctx.span,
      });
      return {
        result,
        outcome: { ok: true, status: last?.status, requestId: last?.requestId, attempts: polls, resource, sent: polls > 0 },
      };
    }
    const streaming = tool.stream !== undefined && ctx.progress !== undefined;
    // cancelled before the request left: nothing reached Cohere, nothing to charge
    if (ctx.signal?.aborted) {
      return { result: errorResult(`The ${tool.name} call was cancelled before it was sent.`), outcome: { ok: false, failure: "cancelled", resource, sent: false } };
    }
    const res = await ctx.client.request({
      method: tool.method,
      path: req.path,
      query: req.query,
      json: streaming ? { ...(req.json as Record<string, unknown>), stream: true } : req.json,
      multipart: req.multipart,
      // a stream asks for the format its parser expects (v1 stays NDJSON: no `Accepts` header)
      headers: streaming ? { ...req.headers, accept: STREAM_ACCEPT[tool.stream!] } : req.headers,
      retryable: tool.access === "read",
      signal: ctx.signal,
      onRetry: ctx.onRetry,
      stream: streaming,
      template: tool.path,
      span: ctx.span,
    });
    let data = res.data;
    if (streaming && res.body) {
      // pieces go out as progress: a secret split across pieces is held back until it is whole
      const red = new StreamRedactor(secrets);
      const progress = ctx.progress!;
      const send = (piece: string) => piece && progress(piece);
      const seen = (streamed = { pieces: 0, bytes: 0 });
      const onPiece = (piece: string) => {
        // what the caller received, counted before redaction holds anything back (the budget charges a cut stream at least this)
        seen.pieces++;
        seen.bytes += Buffer.byteLength(piece);
        send(red.push(piece));
      };
      try {
        // the parser follows the answer's content-type, whatever was asked for
        const streamed = await readStream(tool.stream!, res.body, onPiece, ctx.signal, res.headers["content-type"]);
        data = redactDeep(streamed, secrets);
        if (res.span) usageOf(res.span, data);
      } catch (err) {
        res.span?.fail(err instanceof StreamCutError ? "stream_cut" : ctx.signal?.aborted ? "cancelled" : "_OTHER");
        throw err;
      } finally {
        send(red.flush());
        // the attempt's span (--otel) lasts until the stream's end
        res.span?.set("cohere_mcp.stream.pieces", seen.pieces);
        res.span?.end();
      }
    }
    const result = shapeResult(tool, data, input, ctx.maxOutputChars, secrets, [res.warning, ...metaWarnings(data)]);
    return {
      result,
      outcome: {
        ok: result.isError !== true,
        failure: result.isError ? "generation_error" : undefined,
        status: res.status,
        requestId: res.requestId,
        attempts: res.attempts,
        billedUnits: billedUnits(data),
        resource,
        sent: true,
        streamed,
      },
    };
  } catch (err) {
    const f = failure(tool, err, resource, ctx.maxOutputChars, secrets);
    if (streamed) f.outcome.streamed = streamed;
    return f;
  }
}

export function failure(
  tool: ToolDef,
  err: unknown,
  resource: string | undefined,
  maxOutputChars = 20_000,
  secrets: Secrets = [],
): { result: ToolResult; outcome: CallOutcome } {
  if (err instanceof StreamCutError) {
    // the stream was cut: its end may be the start of a secret
    const partial = redactTail(redactText(err.partialText, secrets), secrets);
    const text = partial
      ? `${err.message} Text received so far (${partial.length} characters):\n${partial}`
      : `${err.message} No text had arrived. Try again.`;
    return {
      result: errorResult(budgetText(text, maxOutputChars, "Ask for a shorter reply (max_tokens).", secrets)),
      outcome: { ok: false, failure: "stream_cut", status: 200, resource, sent: true },
    };
  }
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
        sent: err.reached,
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
    result: errorResult(`Unexpected error in ${tool.name}: ${redactText(message, secrets)}`),
    outcome: { ok: false, failure: "internal", resource, sent: false },
  };
}

/** The record's resource phrase, or undefined if its hook throws on odd input. */
export function safeResource(tool: ToolDef, input: Record<string, unknown>): string | undefined {
  try {
    return tool.resource?.(input);
  } catch {
    return undefined;
  }
}
