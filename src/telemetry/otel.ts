/**
 * The real telemetry: the OpenTelemetry SDK, imported only when export is on (src/telemetry/index.ts).
 *
 * Traces: one SERVER span per MCP request by the MCP semantic conventions (name
 * `{mcp.method.name} {gen_ai.tool.name}`), its parent the caller's `params._meta.traceparent`,
 * else the HTTP request's `traceparent` header (a header beside a `_meta` parent becomes a link);
 * child spans for the guards and their store round trips, the confirmation, file reads, each
 * Cohere HTTP attempt (CLIENT) and the waits between attempts.
 * Metrics: `mcp.server.operation.duration` and our own, from each call's audit event (the
 * source of the Prometheus metrics too). Logs: with --audit-otlp, each audit event as a log
 * record (./audit-ship.ts: bounded queue, retries, drop counter).
 *
 * The standard OTEL_* variables are honoured (the exporters read endpoint, headers, timeout and
 * compression themselves); the config's `otel` section only fills what they leave unset.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { detectResources, envDetector, resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import type { AuditEvent } from "../audit/index.js";
import { auditLine } from "../audit/line.js";
import { redactText } from "../redact.js";
import { AuditShipper } from "./audit-ship.js";
import { httpServerSpan, httpSpanContext } from "./http-server.js";
import { callMetrics } from "./call-metrics.js";
import { checkUrl, headerSecrets, logExporter, metricExporter, protocolOf, samplerOf, traceExporter, urlOf } from "./otel-setup.js";
import { WorkerSpanProcessor } from "./worker-export.js";
import type { Attrs, AttrValue, McpRequestInfo, SpanHandle, StartDeps, Telemetry, TelemetrySettings } from "./index.js";

const SERVICE_VERSION = "0.1.0";
const OUTCOMES = new Set(["ok", "cohere_error", "transport_error", "cancelled", "stream_cut", "generation_error", "missing_key", "invalid_input", "internal"]);
const SCOPE = "cohere-mcp";
const getter: TextMapGetter<Record<string, unknown>> = {
  keys: (c) => Object.keys(c),
  get: (c, key) => {
    const v = c[key];
    return typeof v === "string" ? v : undefined;
  },
};

class Handle implements SpanHandle {
  private own: Context | undefined;
  constructor(
    readonly span: Span,
    private readonly parent: Context,
  ) {}
  /**
   * The context this span is the active span of: its children's parent, passed along explicitly.
   * Made on first use (a context is a copied map): most spans (an attempt, a wait) have no child.
   */
  get ctx(): Context {
    return (this.own ??= trace.setSpan(this.parent, this.span));
  }
  set(key: string, value: AttrValue | undefined): void {
    if (value !== undefined) this.span.setAttribute(key, value);
  }
  fail(errorType: string, message?: string): void {
    this.span.setAttribute("error.type", errorType);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  end(): void {
    this.span.end();
  }
}

function attributes(a: Attrs | undefined): Attributes | undefined {
  if (!a) return undefined;
  const out: Attributes = {};
  for (const k in a) if (a[k] !== undefined) out[k] = a[k];
  return out;
}

/** The context a child of `parent` starts in: the handle's own, else the active one (--store tracks it). */
const parentOf = (parent: SpanHandle | undefined): Context => (parent instanceof Handle ? parent.ctx : context.active());

/** A JSON-RPC error's code, when the thrown error carries one (McpError). */
const rpcCode = (err: unknown): number | undefined => {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === "number" ? c : undefined;
};

export async function startOtel(s: TelemetrySettings, env: NodeJS.ProcessEnv, deps: StartDeps): Promise<Telemetry> {
  const cfg = s.config ?? {};
  if (cfg.endpoint) checkUrl("otel.endpoint", cfg.endpoint);
  const protocols = {
    traces: protocolOf("traces", env, cfg.protocol),
    metrics: protocolOf("metrics", env, cfg.protocol),
    logs: protocolOf("logs", env, cfg.protocol),
  };
  const urls = { traces: urlOf("traces", env, cfg.endpoint), metrics: urlOf("metrics", env, cfg.endpoint), logs: urlOf("logs", env, cfg.endpoint) };
  const sampler = samplerOf(env, cfg.sample_ratio);
  for (const secret of headerSecrets(env)) deps.addSecret?.(secret);

  // service.name: OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) wins over the config's, then ours
  const base = resourceFromAttributes({
    "service.name": cfg.service_name ?? "cohere-mcp",
    "service.version": SERVICE_VERSION,
    "service.instance.id": deps.replica,
  });
  const resource: Resource = base.merge(detectResources({ detectors: [envDetector] }));

  // AsyncLocalStorage follows every promise of the process (~50 µs of CPU a call on Node 20, most
  // of it inside undici's AsyncResources): only the shared store's spans need it; everything else
  // gets its parent passed along (SpanHandle.ctx)
  if (deps.trackContext) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // the SDK's batch processor and OTLP exporter on the main thread; COHERE_MCP_OTEL_EXPORT_WORKER=1
  // sends each ended span within milliseconds to a worker thread where they batch, encode and send
  // (./worker-export.ts): less time on the main thread, more CPU in all (docs/tracing.md, "What it
  // costs"); the A/B harnesses compare the two
  const inWorker = (env.COHERE_MCP_OTEL_EXPORT_WORKER ?? "").trim() === "1";
  const spans: SpanProcessor = inWorker
    ? new WorkerSpanProcessor({ protocol: protocols.traces, url: urls.traces, resource: resource.attributes }, (why) =>
        deps.logger.warn("OpenTelemetry: the span export worker stopped; spans are no longer exported", { error: why }),
      )
    : new BatchSpanProcessor(await traceExporter(protocols.traces, urls.traces));
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [spans],
    // no key at all when OTEL_TRACES_SAMPLER names it: `sampler: undefined` would override the
    // SDK's reading of the variable and sample everything
    ...(sampler ? { sampler } : {}),
  });
  trace.setGlobalTracerProvider(tracerProvider);
  const tracer = tracerProvider.getTracer(SCOPE, SERVICE_VERSION);

  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000);
  const metricsOut = await metricExporter(protocols.metrics, urls.metrics);
  // the call and session metrics are counted by ./call-metrics.ts and read by the SDK's reader at
  // export time: an SDK instrument hashes its attributes on every record (several µs a call)
  const counted = callMetrics({ name: SCOPE, version: SERVICE_VERSION }, metricsOut);
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: metricsOut,
        exportIntervalMillis: Number.isFinite(interval) && interval > 0 ? interval : 60_000,
        metricProducers: [counted],
      }),
    ],
  });

  const shipper = s.auditOtlp
    ? new AuditShipper(await logExporter(protocols.logs, urls.logs), resource, {
        queue: cfg.audit_queue ?? 2048,
        retryBaseMs: Number(env.COHERE_MCP_AUDIT_OTLP_RETRY_MS ?? 500) || 500,
        logger: deps.logger,
        onDrop: deps.onDrop,
      })
    : undefined;

  // the span as the active context only where something reads it (--store's round trips):
  // without a context manager context.with is a plain call, and the context need not be made
  const inContext = <T>(handle: Handle, fn: (span: SpanHandle) => Promise<T>): Promise<T> =>
    deps.trackContext ? context.with(handle.ctx, () => fn(handle)) : fn(handle);
  const t: Telemetry = {
    enabled: true,
    async request<T>(info: McpRequestInfo, fn: (span: SpanHandle) => Promise<T>): Promise<T> {
      const fromMeta = info.meta ? propagation.extract(ROOT_CONTEXT, info.meta as Record<string, unknown>, getter) : undefined;
      const tp = info.headers?.traceparent;
      // the request's HTTP span (./http-server.ts) when it wrote this traceparent, else the caller's header
      const fromHeader = tp ? (httpSpanContext(tp) ?? propagation.extract(ROOT_CONTEXT, info.headers as Record<string, unknown>, getter)) : undefined;
      const metaSpan = fromMeta && trace.getSpanContext(fromMeta);
      const headerSpan = fromHeader && trace.getSpanContext(fromHeader);
      let parent: Context = context.active();
      const links: Link[] = [];
      if (metaSpan && trace.isSpanContextValid(metaSpan)) {
        parent = fromMeta!;
        if (headerSpan && trace.isSpanContextValid(headerSpan)) links.push({ context: headerSpan });
      } else if (headerSpan && trace.isSpanContextValid(headerSpan)) {
        parent = fromHeader!;
      }
      const isCall = info.method === "tools/call";
      const name = info.tool !== undefined ? `${info.method} ${info.tool}` : info.method;
      const span = tracer.startSpan(
        name,
        {
          kind: SpanKind.SERVER,
          links,
          attributes: attributes({
            "mcp.method.name": info.method,
            "gen_ai.tool.name": info.tool,
            "gen_ai.operation.name": isCall ? "execute_tool" : undefined,
            "jsonrpc.request.id": info.requestId !== undefined ? String(info.requestId) : undefined,
            "mcp.session.id": info.sessionId,
            "mcp.protocol.version": info.protocolVersion,
            "network.transport": info.transport === "stdio" ? "pipe" : "tcp",
            "network.protocol.name": info.transport === "http" ? "http" : undefined,
            "cohere_mcp.agent": info.agent,
          }),
        },
        parent,
      );
      const handle = new Handle(span, parent);
      try {
        const result = await inContext(handle, fn);
        if ((result as { isError?: unknown } | null)?.isError === true) handle.fail("tool_error");
        return result;
      } catch (err) {
        const code = rpcCode(err);
        if (code !== undefined) span.setAttribute("rpc.response.status_code", String(code));
        handle.fail(code !== undefined ? String(code) : "_OTHER", code !== undefined ? "JSON-RPC error" : "internal error");
        throw err;
      } finally {
        span.end();
      }
    },
    async step<T>(name: string, attrs: Attrs | undefined, fn: (span: SpanHandle) => Promise<T>, parent?: SpanHandle): Promise<T> {
      const ctx = parentOf(parent);
      const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes: attributes(attrs) }, ctx);
      const handle = new Handle(span, ctx);
      try {
        return await inContext(handle, fn);
      } catch (err) {
        handle.fail(err instanceof Error ? err.name : "_OTHER");
        throw err;
      } finally {
        span.end();
      }
    },
    start(name, attrs, kind = "internal", parent) {
      const ctx = parentOf(parent);
      return new Handle(tracer.startSpan(name, { kind: kind === "client" ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes: attributes(attrs) }, ctx), ctx);
    },
    record(name, startedAt, endedAt, attrs, failed) {
      if (!trace.getSpan(context.active())?.isRecording()) return;
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, startTime: startedAt, attributes: attributes(attrs) });
      if (failed) new Handle(span, ROOT_CONTEXT).fail(failed);
      span.end(endedAt);
    },
    annotate(key, value, span) {
      trace.getSpan(parentOf(span))?.setAttribute(key, value);
    },
    ids(span) {
      // our own span's context is valid by construction: only its sampled flag is checked
      if (span instanceof Handle) {
        const own = span.span.spanContext();
        return own.traceFlags & 1 ? { trace_id: own.traceId, span_id: own.spanId } : undefined;
      }
      const sc = trace.getSpan(parentOf(span))?.spanContext();
      // a trace that is not recorded leads nowhere: its ids stay out of the audit line
      if (!sc || !(sc.traceFlags & 1) || !trace.isSpanContextValid(sc)) return undefined;
      return { trace_id: sc.traceId, span_id: sc.spanId };
    },
    audit(e: AuditEvent, line?: string) {
      if (e.suppressed === undefined) {
        const failed = e.decision === "denied" || (e.outcome !== undefined && e.outcome !== "ok");
        // a catalog tool's name, else _OTHER: the attribute sets stay few, and each is made once
        const tool = e.access !== undefined ? e.tool : "_OTHER";
        const outcome = e.decision === "denied" ? "refused" : OUTCOMES.has(e.outcome ?? "") ? e.outcome! : "_OTHER";
        const key = `${tool}\0${e.transport}\0${outcome}`;
        counted.call(key, e.latencyMs / 1000, () => {
          const op: Attributes = {
            "mcp.method.name": "tools/call",
            "gen_ai.tool.name": tool,
            "gen_ai.operation.name": "execute_tool",
            "network.transport": e.transport === "stdio" ? "pipe" : "tcp",
          };
          if (failed) op["error.type"] = "tool_error";
          return { op, calls: { "gen_ai.tool.name": tool, "cohere_mcp.decision": e.decision, "cohere_mcp.outcome": outcome } };
        });
        const units = e.billedUnits;
        if (units?.input_tokens) counted.tokens("input", units.input_tokens);
        if (units?.output_tokens) counted.tokens("output", units.output_tokens);
      }
      if (shipper) shipper.push(line ?? auditLine(e, deps.secrets()));
    },
    notice(n, line) {
      if (shipper) shipper.push(line ?? redactText(JSON.stringify({ type: "audit", ...n, text: `${n.time} ${n.text}` }), deps.secrets()));
    },
    httpRequest(req, res, facts) {
      httpServerSpan(tracer, deps.secrets, req, res, facts);
    },
    sessionEnded(e) {
      const version = e.protocolVersion ?? "";
      counted.session(Math.max(0, e.endedAt - e.startedAt) / 1000, `${e.transport}\0${version}`, () => {
        const a: Attributes = { "network.transport": e.transport === "stdio" ? "pipe" : "tcp" };
        if (e.transport === "http") a["network.protocol.name"] = "http";
        if (version) a["mcp.protocol.version"] = version;
        return a;
      });
    },
    async close() {
      const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 3_000).unref())]);
      await Promise.all([bounded(tracerProvider.shutdown()), bounded(meterProvider.shutdown()), shipper ? bounded(shipper.close()) : undefined]);
    },
  };
  // the origin only: a URL's user:password never reaches a log
  deps.logger.info("OpenTelemetry export on", {
    endpoint: urls.traces ? new URL(urls.traces).origin : "OTEL_EXPORTER_OTLP_* (default http://localhost:4318)",
    protocol: protocols.traces,
    audit_otlp: s.auditOtlp,
  });
  return t;
}
