/**
 * The Cohere HTTP client: one undici keep-alive Pool per origin, JSON and multipart bodies,
 * repeat-form query arrays, a timeout per attempt, and retries on 408/429/5xx that honour
 * Retry-After. Write and destructive calls are retried only when the failure happened before
 * the request reached Cohere (connection refused, DNS, connect timeout).
 */
import type { Pool, Dispatcher } from "undici";
import { AttemptSignal } from "./attempt.js";
import { abortError, CohereApiError, CohereTransportError, requestIdOf, sleep } from "./errors.js";
import { cutRedacted, redactHeaders, redactParsed, redactText, type Secrets } from "../redact.js";
import type { MultipartPart } from "../catalog/types.js";
import { telemetry, type SpanHandle } from "../telemetry/index.js";
import { attemptSpan, usageOf } from "../telemetry/http-attempt.js";

export interface ClientOptions {
  baseUrl: string;
  apiKey?: string;
  clientName: string;
  /** Per attempt, until the response headers arrive (like Cohere's SDK). */
  timeoutMs: number;
  maxRetries: number;
  /** Base of exponential backoff when no Retry-After is sent. */
  retryBaseMs: number;
  /** Cap for any single wait, Retry-After included. */
  maxRetryDelayMs: number;
  userAgent?: string;
  /**
   * Every secret to keep out of what the client returns (the key is always one): an upstream or
   * proxy may echo the Authorization header in a body or a header. Read on each request, so
   * tokens added later count.
   */
  secrets?: () => Secrets;
}

export type QueryValue = string | number | boolean | Array<string | number | boolean> | undefined;

export interface CohereRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string; // already filled in, starting with /v1 or /v2
  query?: Record<string, QueryValue>;
  json?: unknown;
  multipart?: MultipartPart[];
  headers?: Record<string, string>;
  /** May this request be sent again after it may have reached Cohere? */
  retryable: boolean;
  signal?: AbortSignal;
  /** Return the body as a stream instead of parsing it. */
  stream?: boolean;
  /** Called before each retry wait, e.g. to report progress. */
  onRetry?: (info: { attempt: number; delayMs: number; status?: number; reason: string }) => void;
  /** The span each attempt's span is a child of (--otel): the call's, passed along explicitly. */
  span?: SpanHandle;
  /** The path as the catalog writes it (`/v1/datasets/{id}`): names each attempt's span (--otel). */
  template?: string;
}

export interface CohereResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON (or undefined for an empty body). Absent when `stream` was requested. */
  data?: unknown;
  /** The raw body stream when `stream` was requested. */
  body?: Dispatcher.ResponseData["body"];
  attempts: number;
  requestId?: string;
  /** Cohere's X-API-Warning (deprecated operation, model or parameter), when it sent one. */
  warning?: string;
  /** A stream's attempt span (--otel), ended by whoever reads the body. */
  span?: SpanHandle;
}

let undiciModule: Promise<typeof import("undici")> | undefined;
const loadUndici = () => (undiciModule ??= import("undici"));

const RETRY_STATUS = (s: number) => s === 408 || s === 429 || s >= 500;

/** Error codes that mean the request never left this machine, so any method may be retried. */
const PRE_SEND_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

export function normaliseBaseUrl(raw: string): string {
  let u = raw.trim().replace(/\/+$/, "");
  u = u.replace(/\/v[12]$/, "");
  const parsed = new URL(u); // throws on garbage: caught by config
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`CO_API_URL must be http(s), got ${parsed.protocol}`);
  }
  return u;
}

export function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v];
    for (const item of values) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(item))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** Seconds or HTTP date → milliseconds to wait, or undefined. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const secs = Number(trimmed);
    return secs >= 0 ? secs * 1000 : undefined;
  }
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function headerRecord(h: Dispatcher.ResponseData["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(h)) {
    const v = h[k];
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}


function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === "object"; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export class CohereClient {
  private readonly pools = new Map<string, Pool>();
  readonly options: ClientOptions;
  private readonly origin: string;
  private readonly basePath: string;

  constructor(options: ClientOptions) {
    this.options = options;
    const u = new URL(options.baseUrl);
    this.origin = u.origin;
    this.basePath = u.pathname.replace(/\/+$/, "");
  }

  /** The pool once it exists (a call then does not wait a turn for it). */
  private ready: Pool | undefined;

  /** undici is loaded on the first Cohere call, not at start-up (it costs ~80 ms of cold start). */
  private async pool(): Promise<Pool> {
    let p = this.pools.get(this.origin);
    if (!p) {
      const { Pool } = await loadUndici();
      if ((p = this.pools.get(this.origin))) return p;
      p = new Pool(this.origin, {
        connections: 64,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 120_000,
        headersTimeout: 0, // we enforce our own per-attempt timeout
        bodyTimeout: 0,
      });
      this.pools.set(this.origin, p);
    }
    this.ready = p;
    return p;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
    this.pools.clear();
    this.ready = undefined;
  }

  private secretsOf?: { more: Secrets; all: Secrets };

  /** The key and every other secret the process knows (the same array while they do not change). */
  secrets(): Secrets {
    const more = this.options.secrets?.() ?? [];
    const key = this.options.apiKey;
    if (!key || more.includes(key)) return more;
    if (this.secretsOf?.more !== more) this.secretsOf = { more, all: [key, ...more] };
    return this.secretsOf.all;
  }

  private redact(text: string): string {
    return redactText(text, this.secrets());
  }

  /** Send a request with retries. Throws CohereApiError (HTTP error) or CohereTransportError. */
  async request(req: CohereRequest): Promise<CohereResponse> {
    const { apiKey } = this.options;
    if (!apiKey) {
      throw new CohereTransportError(
        "missing_key",
        "No Cohere API key is configured. Set CO_API_KEY (or COHERE_API_KEY) in the server's environment and restart it.",
        false,
      );
    }
    const path = this.basePath + req.path + buildQuery(req.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${apiKey}`,
      accept: req.stream ? "text/event-stream, application/stream+json, application/json" : "application/json",
      "x-client-name": this.options.clientName,
      "user-agent": this.options.userAgent ?? "cohere-mcp",
      ...req.headers,
    };
    let body: string | InstanceType<typeof import("undici").FormData> | undefined;
    if (req.multipart) {
      const { FormData } = await loadUndici();
      const fd = new FormData();
      for (const part of req.multipart) {
        if (typeof part.value === "string" && part.filename === undefined) fd.append(part.name, part.value);
        else {
          const bytes = typeof part.value === "string" ? new TextEncoder().encode(part.value) : part.value;
          fd.append(part.name, new Blob([bytes], { type: part.contentType ?? "application/octet-stream" }), part.filename ?? part.name);
        }
      }
      body = fd;
    } else if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers["content-type"] = "application/json";
    }

    const max = Math.max(0, this.options.maxRetries);
    const tel = telemetry();
    /** Some attempt may have reached Cohere (all but connections refused before a byte was written). */
    let reached = false;
    for (let attempt = 0; ; attempt++) {
      if (req.signal?.aborted) throw abortError(req.signal);
      // The attempt's signal: the caller's abort, or our timer (src/cohere/attempt.ts). Not
      // AbortSignal.timeout/any: those objects outlive the call and piled up to ~60 MiB of extra
      // heap over 10,000 calls (bench §6). A stream's timeout ends when the headers arrive (like
      // Cohere's SDK): the body may then flow for as long as the generation takes, until the
      // caller's signal aborts it.
      const signal = new AttemptSignal(req.signal, this.options.timeoutMs);
      // each attempt is a CLIENT span of the call's (--otel; HTTP client conventions)
      const span = tel.enabled ? attemptSpan(tel, req, this.origin, attempt, this.secrets(), req.span) : undefined;
      let res: Dispatcher.ResponseData;
      try {
        res = await (this.ready ?? (await this.pool())).request({ method: req.method, path, headers, body, signal });
      } catch (err) {
        signal.stopTimer();
        const code = errorCode(err);
        const timedOut = signal.timedOut;
        if (span) {
          span.fail(req.signal?.aborted ? "cancelled" : timedOut ? "timeout" : (code ?? "network_error"));
          span.end();
        }
        if (req.signal?.aborted) throw abortError(req.signal);
        const preSend = code !== undefined && PRE_SEND_CODES.has(code);
        if (!preSend) reached = true;
        const canRetry = attempt < max && (preSend || (req.retryable && !timedOut));
        if (canRetry) {
          const delay = this.backoff(attempt);
          req.onRetry?.({ attempt: attempt + 1, delayMs: delay, reason: code ?? "network error" });
          await this.wait(delay, req.signal, code ?? "network error", req.span);
          continue;
        }
        if (timedOut) {
          throw new CohereTransportError(
            "timeout",
            `Cohere did not answer within ${this.options.timeoutMs} ms (${req.method} ${req.path}). ` +
              "Try again, send less input, or ask the operator to raise --timeout.",
            !req.retryable,
          );
        }
        const msg = this.redact(err instanceof Error ? err.message : String(err));
        throw new CohereTransportError(
          "network",
          `Could not reach Cohere at ${this.origin} (${code ?? msg}). Check the network and CO_API_URL, then try again.`,
          !preSend && !req.retryable,
          // refused before a byte was written, on every attempt made: Cohere never saw it
          reached,
        );
      }
      reached = true;
      // headers are in: a stream's timer stops here; the caller may still abort until the body closes
      if (req.stream && res.statusCode >= 200 && res.statusCode < 300) signal.stopTimer();

      const secrets = this.secrets();
      const resHeaders = redactHeaders(headerRecord(res.headers), secrets);
      const status = res.statusCode;
      let spanOpen = span !== undefined;
      if (span) {
        span.set("http.response.status_code", status);
        span.set("cohere.request_id", requestIdOf(resHeaders)?.slice(0, 100));
        if (status >= 400) span.fail(String(status));
      }
      try {
        if (status >= 200 && status < 300) {
          const requestId = requestIdOf(resHeaders);
          const warning = resHeaders["x-api-warning"] || undefined;
          if (req.stream) {
            spanOpen = false; // the reader of the body ends it (src/call/executor.ts)
            return { status, headers: resHeaders, body: res.body, attempts: attempt + 1, requestId, warning, span };
          }
          let text: string;
          try {
            text = await res.body.text();
          } catch (err) {
            if (req.signal?.aborted) throw abortError(req.signal);
            // the response was cut while reading: retry only what may be repeated
            span?.fail("connection_reset");
            if (attempt < max && req.retryable) {
              const delay = this.backoff(attempt);
              req.onRetry?.({ attempt: attempt + 1, delayMs: delay, reason: "connection reset while reading" });
              if (span && spanOpen) (span.end(), (spanOpen = false));
              await this.wait(delay, req.signal, "connection reset while reading", req.span);
              continue;
            }
            throw new CohereTransportError(
              "reset",
              `The connection to Cohere was cut while reading the answer to ${req.method} ${req.path}. ` +
                (req.retryable ? "Try again." : "The action may or may not have happened: check its status before retrying."),
              !req.retryable,
            );
          }
          let data: unknown = undefined;
          if (text.length > 0) {
            try {
              data = redactParsed(text, JSON.parse(text) as unknown, secrets);
              if (span) usageOf(span, data);
            } catch {
              throw new CohereTransportError(
                "bad_body",
                `Cohere answered ${status} with a body that is not JSON (${text.length} bytes, starting ${JSON.stringify(
                  cutRedacted(text, 80, secrets),
                )}). This is usually a proxy or a Cohere outage: try again shortly.`,
                false,
              );
            }
          }
          return { status, headers: resHeaders, data, attempts: attempt + 1, requestId, warning };
        }

        // HTTP error
        let errText = "";
        try {
          errText = await res.body.text();
        } catch {
          /* ignore */
        }
        if (RETRY_STATUS(status) && attempt < max && req.retryable) {
          const retryAfter = parseRetryAfter(resHeaders["retry-after"]);
          const delay = Math.min(retryAfter ?? this.backoff(attempt), this.options.maxRetryDelayMs);
          req.onRetry?.({ attempt: attempt + 1, delayMs: delay, status, reason: `HTTP ${status}` });
          if (span && spanOpen) (span.end(), (spanOpen = false));
          await this.wait(delay, req.signal, `HTTP ${status}`, req.span);
          continue;
        }
        throw CohereApiError.from(status, errText, resHeaders, attempt + 1, secrets);
      } finally {
        if (!(req.stream && status >= 200 && status < 300)) signal.stopTimer();
        if (span && spanOpen) span.end();
      }
    }
  }

  /** The wait before a retry: a child span of the call's when --otel is on. */
  private wait(delayMs: number, signal: AbortSignal | undefined, reason: string, parent?: SpanHandle): Promise<void> {
    const tel = telemetry();
    if (!tel.enabled) return sleep(delayMs, signal);
    return tel.step("cohere_mcp.retry_wait", { "cohere_mcp.retry.delay_ms": delayMs, "cohere_mcp.retry.reason": reason }, () => sleep(delayMs, signal), parent);
  }

  private backoff(attempt: number): number {
    const base = this.options.retryBaseMs * 2 ** attempt;
    const jitter = 1 + (Math.random() * 0.2 - 0.1);
    return Math.min(Math.round(base * jitter), this.options.maxRetryDelayMs);
  }
}

