/**
 * OpenTelemetry, as the rest of the code sees it: a tiny interface, a no-op by default. The
 * executor, the guards, the confirmation, file reads and the Cohere client call `telemetry()`;
 * with export off (the default) every call is a no-op and nothing of the OpenTelemetry SDK is
 * imported. `startTelemetry` loads the real implementation (./otel.ts, by dynamic import) only
 * when it is on: `--otel`, the config's `otel.enabled`, any `OTEL_EXPORTER_OTLP_*ENDPOINT`, or
 * `--audit-otlp`; `OTEL_SDK_DISABLED=true` turns it off whatever else says on.
 *
 * What may go in an attribute: names from our catalog and configuration, statuses, sizes, ids
 * that Cohere or the protocol gave (request ids, session ids), the model name. Never arguments,
 * results, tokens, the key (docs/tracing.md).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuditEvent, AuditNotice } from "../audit/index.js";

export type AttrValue = string | number | boolean;
export type Attrs = Record<string, AttrValue | undefined>;

/** A span as the code sees it. */
export interface SpanHandle {
  set(key: string, value: AttrValue | undefined): void;
  /** The operation failed: `error.type` and an ERROR status (message: a fixed, secret-free phrase). */
  fail(errorType: string, message?: string): void;
  end(): void;
}

/** One MCP request as it arrives, for its server span (MCP semantic conventions). */
export interface McpRequestInfo {
  method: string;
  /** tools/call: the tool's name as the caller gave it (only a catalog name goes in the span name). */
  tool?: string;
  requestId?: string | number;
  sessionId?: string;
  protocolVersion?: string;
  /** W3C trace context from `params._meta` (preferred parent) and from the HTTP request's headers. */
  meta?: { traceparent?: unknown; tracestate?: unknown };
  headers?: { traceparent?: string; tracestate?: string };
  transport: "stdio" | "http";
  agent?: string;
}

/** What the HTTP transport tells the HTTP server span (./http-server.ts). */
export interface HttpSpanFacts {
  /** The one route it serves MCP on (`http.route`). */
  route: string;
  /** Paths that get no span (probes). */
  skip: ReadonlySet<string>;
  /** The client's address, read when the response closes (after --trusted-proxies). */
  client(req: IncomingMessage): string;
}

/** An MCP session that ended (stdio's connection, an HTTP --sessions session): `mcp.server.session.duration`. */
export interface SessionEnd {
  transport: "stdio" | "http";
  startedAt: number;
  endedAt: number;
  protocolVersion?: string;
}

export interface Telemetry {
  /** true once the SDK is loaded and exporting. */
  readonly enabled: boolean;
  /** Run one MCP request inside its server span (the span is the active context for `fn`). */
  request<T>(info: McpRequestInfo, fn: (span: SpanHandle) => Promise<T>): Promise<T>;
  /**
   * Run `fn` inside a child span of `parent` (the call's span, passed along explicitly: no
   * AsyncLocalStorage on the hot path), else of the active one.
   */
  step<T>(name: string, attrs: Attrs | undefined, fn: (span: SpanHandle) => Promise<T>, parent?: SpanHandle): Promise<T>;
  /** A child span of `parent` (else the active one), ended by the caller (a Cohere HTTP attempt). */
  start(name: string, attrs: Attrs | undefined, kind?: "client" | "internal", parent?: SpanHandle): SpanHandle;
  /** A child span that already happened (a store round trip timed by its wrapper). */
  record(name: string, startedAt: number, endedAt: number, attrs: Attrs | undefined, failed?: string): void;
  /** Set an attribute on `span` (else the active one): a refusal's reason. */
  annotate(key: string, value: AttrValue, span?: SpanHandle): void;
  /** The ids of `span` (else the active one), for the audit line (absent when nothing is sampled). */
  ids(span?: SpanHandle): { trace_id: string; span_id: string } | undefined;
  /**
   * A call's audit event, the one source of the OTLP metrics and (--audit-otlp) its log record:
   * `line`, the audit file's line for it when there is a file (else it is made here).
   */
  audit(e: AuditEvent, line?: string): void;
  /** An operator notice (a reload, a console change): with --audit-otlp, its line as a log record. */
  notice(n: AuditNotice, line?: string): void;
  /** Start the HTTP SERVER span of a request to the HTTP transport (its MCP spans become its children). */
  httpRequest(req: IncomingMessage, res: ServerResponse, facts: HttpSpanFacts): void;
  /** An MCP session ended: its duration (`mcp.server.session.duration`). */
  sessionEnded(s: SessionEnd): void;
  /** Flush and stop the exporters (bounded). */
  close(): Promise<void>;
}

export const NOOP_SPAN: SpanHandle = Object.freeze({
  set() {},
  fail() {},
  end() {},
});

export const NOOP: Telemetry = Object.freeze({
  enabled: false,
  request: <T>(_info: McpRequestInfo, fn: (span: SpanHandle) => Promise<T>) => fn(NOOP_SPAN),
  step: <T>(_name: string, _attrs: Attrs | undefined, fn: (span: SpanHandle) => Promise<T>) => fn(NOOP_SPAN),
  start: () => NOOP_SPAN,
  record() {},
  annotate() {},
  ids: () => undefined,
  audit() {},
  notice() {},
  httpRequest() {},
  sessionEnded() {},
  close: () => Promise.resolve(),
});

let current: Telemetry = NOOP;

/** The process's telemetry (the no-op until `startTelemetry` turned it on). */
export const telemetry = (): Telemetry => current;

/** Tests and shutdown: set (or reset) the process's telemetry. */
export function setTelemetry(t: Telemetry): void {
  current = t;
}

/** What the flags, the config and the environment ask for. */
export interface TelemetrySettings {
  /** --otel / COHERE_MCP_OTEL=1 */
  flag: boolean;
  /** --audit-otlp / COHERE_MCP_AUDIT_OTLP=1 / audit_otlp: true */
  auditOtlp: boolean;
  /** The config file's `otel` section. */
  config?: OtelConfig;
}

/** The config file's `otel` section (config.schema.json); the OTEL_* variables win over it. */
export interface OtelConfig {
  enabled?: boolean;
  endpoint?: string;
  protocol?: "http/protobuf" | "http/json";
  service_name?: string;
  sample_ratio?: number;
  audit_queue?: number;
}

const ENDPOINT_VARS = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
] as const;

/** Is export on? `OTEL_SDK_DISABLED=true` wins; then the flag, the config, an endpoint variable, --audit-otlp. */
export function otelWanted(s: TelemetrySettings, env: NodeJS.ProcessEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? "").trim().toLowerCase() === "true") return false;
  if (s.flag || s.auditOtlp || s.config?.enabled === true) return true;
  return ENDPOINT_VARS.some((v) => (env[v] ?? "").trim() !== "");
}

export interface StartDeps {
  logger: { info(m: string, f?: Record<string, unknown>): void; warn(m: string, f?: Record<string, unknown>): void; error(m: string, f?: Record<string, unknown>): void };
  secrets: () => readonly string[];
  /** Remember a secret (a collector's header value): redacted from every log from now on. */
  addSecret?: (secret: string) => void;
  replica: string;
  /**
   * Track the active span across awaits (AsyncLocalStorage): only where a span's parent cannot be
   * passed along, the shared store's round trips (--store). It costs every promise of the process.
   */
  trackContext?: boolean;
  /** Audit records the OTLP queue dropped (the Prometheus counter reads it). */
  onDrop?: (n: number) => void;
}

/**
 * Load and start the SDK when export is wanted; otherwise leave the no-op in place and import
 * nothing. Misconfiguration (a bad endpoint, protocol or sampler) throws: the start fails.
 */
export async function startTelemetry(s: TelemetrySettings, env: NodeJS.ProcessEnv, deps: StartDeps): Promise<Telemetry> {
  if (!otelWanted(s, env)) return current;
  let otel: typeof import("./otel.js");
  try {
    otel = await import("./otel.js");
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code !== "ERR_MODULE_NOT_FOUND") throw err;
    // the desktop bundle leaves the SDK out (scripts/prune-bundle.ts)
    const { ConfigError } = await import("../config/file.js");
    throw new ConfigError(
      "OpenTelemetry export (--otel, --audit-otlp, OTEL_EXPORTER_OTLP_*ENDPOINT) needs the @opentelemetry packages, which this install leaves out " +
        "(the desktop bundle does): run cohere-mcp from npm or its container image, or unset them (OTEL_SDK_DISABLED=true)",
    );
  }
  const { startOtel } = otel;
  current = await startOtel(s, env, deps);
  return current;
}
