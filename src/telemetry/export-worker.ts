/**
 * The worker thread of ./worker-export.ts: rebuilds each span the main thread sent (plain fields)
 * as the ReadableSpan the official OTLP exporter reads, and exports the batch with it (encoding,
 * HTTP, retries and timeouts are the exporter's own). Answers each batch with its result code.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { SpanContext } from "@opentelemetry/api";
import { ExportResultCode, hrTimeDuration } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { FromWorker, PlainSpan, ToWorker, WorkerInit } from "./worker-export.js";

const init = workerData as WorkerInit;
const resource = resourceFromAttributes(init.resource);
const config = init.url ? { url: init.url } : {};
const exporter: SpanExporter =
  init.protocol === "http/json"
    ? new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter(config)
    : new (await import("@opentelemetry/exporter-trace-otlp-proto")).OTLPTraceExporter(config);

const state = (s: string | undefined) => (s ? { serialize: () => s } : undefined);
const scopes = new Map<string, PlainSpan["scope"]>();

function readable(p: PlainSpan): ReadableSpan {
  const ctx = { traceId: p.traceId, spanId: p.spanId, traceFlags: p.traceFlags, traceState: state(p.traceState) } as SpanContext;
  // one scope object per scope, as the SDK has: the encoder groups spans by it
  const key = `${p.scope.name}@${p.scope.version ?? ""}:${p.scope.schemaUrl ?? ""}`;
  let scope = scopes.get(key);
  if (!scope) scopes.set(key, (scope = p.scope));
  const [da, de, dl] = p.dropped ?? [0, 0, 0];
  return {
    name: p.name,
    kind: p.kind,
    spanContext: () => ctx,
    parentSpanContext: p.parentSpanId ? { traceId: p.parentTraceId ?? p.traceId, spanId: p.parentSpanId, traceFlags: p.traceFlags, isRemote: p.parentIsRemote } : undefined,
    startTime: p.start,
    endTime: p.end,
    duration: hrTimeDuration(p.start, p.end),
    ended: true,
    attributes: p.attributes,
    status: p.status,
    links: (p.links ?? []).map((l) => ({
      context: { traceId: l.traceId, spanId: l.spanId, traceFlags: l.traceFlags, isRemote: l.isRemote, traceState: state(l.traceState) } as SpanContext,
      attributes: l.attributes,
    })),
    events: (p.events ?? []).map((e) => ({ name: e.name, time: e.time, attributes: e.attributes })),
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: da,
    droppedEventsCount: de,
    droppedLinksCount: dl,
  };
}

const port = parentPort!;
port.on("message", (m: ToWorker) => {
  const reply = (r: FromWorker) => port.postMessage(r);
  if (m.type === "shutdown") {
    exporter.shutdown().then(
      () => reply({ id: m.id, code: ExportResultCode.SUCCESS }),
      (err: Error) => reply({ id: m.id, code: ExportResultCode.FAILED, error: err.message }),
    );
    return;
  }
  exporter.export(m.spans.map(readable), (r) => reply({ id: m.id, code: r.code, error: r.error?.message }));
});
