/**
 * Cohere errors, turned into messages an agent can act on. The API key and agent tokens never
 * appear in them: the message and every header value copied are redacted before any cut.
 */
import { cutRedacted, type Secrets } from "../redact.js";
import { specificAdvice } from "./advice.js";

/** Longest upstream error message kept (after redaction). */
export const MAX_ERROR_MESSAGE = 2000;

const asList = (secrets: string | Secrets | undefined): Secrets =>
  secrets === undefined ? [] : typeof secrets === "string" ? [secrets] : secrets;

/**
 * The id Cohere gives a request: its `x-debug-trace-id` header (on every answer; the spec
 * declares no request-id header), or an `x-request-id` a proxy in front of it may add.
 */
export function requestIdOf(headers: Record<string, string>): string | undefined {
  return headers["x-debug-trace-id"] || headers["x-request-id"] || headers["x-cohere-request-id"] || undefined;
}

/** What to do about each status, from Cohere's own error table. */
const ADVICE: Record<number, string> = {
  400: "Fix the fields or values named in the message and call again.",
  401: "The Cohere API key is missing, invalid or expired: the operator must set a valid CO_API_KEY.",
  402: "The Cohere account reached a billing or spending limit: the operator must add or update the payment method in the Cohere dashboard.",
  403: "This key may not use that resource or model (some models need a Production key).",
  404: "Check the id or model name (list the resources first) and that it belongs to this account.",
  408: "Cohere timed out: try again.",
  422: "The request was well formed but Cohere could not process it: change the inputs.",
  429: "Rate limit reached: wait before calling again, send fewer calls per minute, or ask the operator for a Production key (Trial keys allow far fewer calls).",
  498: "The API token is invalid: the operator must set a valid CO_API_KEY.",
  499: "The request was cancelled before it completed: call again when ready.",
  500: "Cohere had an internal error (already retried): try again later; contact Cohere support if it persists.",
  501: "Cohere does not implement this for the chosen model or options.",
  502: "Cohere's gateway failed (already retried): try again later.",
  503: "Cohere is unavailable (already retried): try again later.",
  504: "Cohere timed out (already retried): try again later, or send less input.",
};

export function adviceFor(status: number, cohereMessage = ""): string {
  return specificAdvice(status, cohereMessage) ?? ADVICE[status] ?? (status >= 500 ? ADVICE[500]! : "Check the request and try again.");
}

export class CohereApiError extends Error {
  constructor(
    readonly status: number,
    readonly cohereMessage: string,
    readonly requestId: string | undefined,
    readonly attempts: number,
    readonly retryAfter: string | undefined,
  ) {
    super(`Cohere returned ${status}: ${cohereMessage}`);
    this.name = "CohereApiError";
  }

  static from(
    status: number,
    body: string,
    headers: Record<string, string>,
    attempts: number,
    /** The Cohere key, or every secret the process knows. */
    secrets: string | Secrets | undefined,
  ): CohereApiError {
    const list = asList(secrets);
    let message = "";
    let bodyId: string | undefined;
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === "object" && typeof (parsed as { message?: unknown }).message === "string") {
        message = (parsed as { message: string }).message;
      } else message = body;
      // the spec's error body is {message, id}
      const id = (parsed as { id?: unknown } | null)?.id;
      if (typeof id === "string" && id) bodyId = id;
    } catch {
      message = body;
    }
    message = cutRedacted(message.trim(), MAX_ERROR_MESSAGE, list) || "(no message)";
    const header = (v: string | undefined) => (v === undefined ? undefined : cutRedacted(v, 200, list));
    return new CohereApiError(
      status,
      message,
      header(requestIdOf(headers) ?? bodyId),
      attempts,
      header(headers["retry-after"]),
    );
  }

  /** The text an agent sees. */
  toToolText(): string {
    const parts = [`Cohere API error ${this.status}: ${this.cohereMessage}`, adviceFor(this.status, this.cohereMessage)];
    if (this.status === 429 && this.retryAfter) parts.push(`Cohere asked to wait ${this.retryAfter} s (Retry-After).`);
    if (this.attempts > 1) parts.push(`(${this.attempts} attempts made.)`);
    if (this.requestId) parts.push(`Request id: ${this.requestId}.`);
    return parts.join(" ");
  }
}

export type TransportKind = "missing_key" | "timeout" | "network" | "reset" | "bad_body" | "cancelled" | "stream";

export class CohereTransportError extends Error {
  constructor(
    readonly kind: TransportKind,
    message: string,
    /** True when a write may have happened: the agent must check before retrying. */
    readonly outcomeUnknown: boolean,
    /** False when the request never left (no key, connection refused): nothing to charge. */
    readonly reached: boolean = kind !== "missing_key",
  ) {
    super(message);
    this.name = "CohereTransportError";
  }
}

/** The error a cancelled call ends with: the caller's own Error reason, or a "cancelled" transport error. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  // an abort or a timeout keeps its own error; any other reason (a client's string, the MCP
  // SDK's "connection closed" error when the client went away) is a cancellation
  if (reason instanceof Error && (reason.name === "AbortError" || reason.name === "TimeoutError")) return reason;
  return new CohereTransportError("cancelled", "The request was cancelled.", false);
}

/** Wait `ms`, or reject with abortError() as soon as `signal` aborts (retry backoff, polling). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal!));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
