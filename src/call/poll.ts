/**
 * Wait tools: poll a record's GET with backoff until a terminal status or the agent's deadline
 * (bounded by the server's --max-wait-s), report each poll's status as progress, stop at once
 * when cancelled. Each GET is bounded by what is left of the deadline.
 */
import type { SpanHandle } from "../telemetry/index.js";
import type { PollSpec, ToolDef } from "../catalog/types.js";
import type { CohereClient, CohereResponse } from "../cohere/client.js";
import { CohereTransportError, sleep } from "../cohere/errors.js";
import { finishResult, type ToolResult } from "../shape/result.js";

export interface PollContext {
  client: CohereClient;
  signal?: AbortSignal;
  progress?: (message: string) => void;
  maxOutputChars: number;
  /** First wait between polls; grows ×1.5 up to MAX_INTERVAL_MS. */
  pollIntervalMs: number;
  /** Server bound on any wait, in seconds. */
  maxWaitS: number;
  /** The call's server span (--otel): each GET's attempt spans are its children. */
  span?: SpanHandle;
}

export const DEFAULT_WAIT_S = 50;
const MAX_INTERVAL_MS = 30_000;


export interface PollOutcome {
  result: ToolResult;
  last?: CohereResponse;
  polls: number;
}

export async function runPoll(
  tool: ToolDef,
  spec: PollSpec,
  path: string,
  input: Record<string, unknown>,
  ctx: PollContext,
): Promise<PollOutcome> {
  const asked = typeof input.timeout_s === "number" ? input.timeout_s : DEFAULT_WAIT_S;
  const limitS = Math.min(asked, ctx.maxWaitS);
  const started = Date.now();
  const deadline = started + limitS * 1000;
  let interval = ctx.pollIntervalMs;
  let polls = 0;
  let last: CohereResponse | undefined;
  let resource: Record<string, unknown> | undefined;
  let status = "unknown";
  let done = false;
  const warnings: string[] = [];

  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const deadlineSignal = AbortSignal.timeout(left);
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadlineSignal]) : deadlineSignal;
    try {
      last = await ctx.client.request({ method: "GET", path, retryable: true, signal, span: ctx.span });
    } catch (err) {
      if (ctx.signal?.aborted) throw new CohereTransportError("cancelled", "The request was cancelled.", false);
      if (deadlineSignal.aborted) break; // the deadline fell during a GET: report what we know
      throw err;
    }
    polls++;
    if (last.warning) warnings.push(last.warning);
    resource = spec.pick(last.data) ?? resource;
    status = typeof resource?.status === "string" ? resource.status : "unknown";
    done = spec.terminal.includes(status);
    const waited = Math.round((Date.now() - started) / 1000);
    ctx.progress?.(`${spec.key} status: ${status} (poll ${polls}, ${waited} s)`);
    if (done) break;
    const rest = deadline - Date.now();
    if (rest <= 0) break;
    await sleep(Math.min(interval, rest), ctx.signal);
    interval = Math.min(Math.round(interval * 1.5), MAX_INTERVAL_MS);
  }

  const waitedS = Math.round((Date.now() - started) / 100) / 10;
  const res = resource ?? {};
  const next = spec.next(res, done);
  const structured: Record<string, unknown> = { status, done, waited_s: waitedS, polls, next, [spec.key]: res };
  if (!done) structured.timed_out = true;
  const capped = asked > ctx.maxWaitS ? ` (timeout_s capped at the server's limit of ${ctx.maxWaitS} s)` : "";
  const head = done
    ? `${spec.key} ${status} after ${waitedS} s (${polls} polls). ${next}`
    : `Still ${status} after ${waitedS} s${capped} (${polls} polls); stopped waiting. ${next}`;
  const text = `${head}\n${JSON.stringify(res)}`;
  // an X-API-Warning is told once, however many polls carried it
  return { result: finishResult(tool, { structured, text }, input, ctx.maxOutputChars, undefined, ctx.client.secrets(), warnings), last, polls };
}
