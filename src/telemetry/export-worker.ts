/**
 * The worker thread of ./worker-export.ts: rebuilds each span the main thread sent (plain fields)
 * as the ReadableSpan the SDK reads, and hands it to the SDK's BatchSpanProcessor (its queue,
 * batch size and delay, OTEL_BSP_* honoured) and the official OTLP exporter (encoding, HTTP,
 * retries and timeouts are its own). Tells the main thread how many spans it took, at most every
 * 50 ms, and answers flush and shutdown when done.
 */
import { isMainThread, parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { SpanContext } from "@opentelemetry/api";
import { hrTimeDuration } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { traceExporter } from "./otel-setup.js";
import type { FromWorker, PlainSpan, ToWorker, WorkerInit } from "./worker-export.js";

const state = (s: string | undefined) => (s ? { serialize: () => s } : undefined);
const scopes = new Map<string, PlainSpan["scope"]>();

function readable(p: PlainSpan, resource: ReadableSpan["resource"]): ReadableSpan {
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

async function serve(init: WorkerInit, port: MessagePort): Promise<void> {
  const resource = resourceFromAttributes(init.resource);
  // the same exporter the main thread would make (./otel-setup.ts)
  const exporter = await traceExporter(init.protocol, init.url);

  const batches = new BatchSpanProcessor(exporter);

  let took = 0;
  let ackTimer: NodeJS.Timeout | undefined;
  const ack = () => {
    ackTimer = undefined;
    port.postMessage({ type: "took", n: took } satisfies FromWorker);
    took = 0;
  };
  port.on("message", (m: ToWorker) => {
    if (m.type === "spans") {
      for (const p of m.spans) batches.onEnd(readable(p, resource));
      took += m.spans.length;
      ackTimer ??= setTimeout(ack, 50);
      return;
    }
    const done = () => port.postMessage({ type: "done", id: m.id } satisfies FromWorker);
    (m.type === "flush" ? batches.forceFlush() : batches.shutdown()).then(done, done);
  });
}

// Only as a worker: imported on the main thread (the container image's load check imports every
// module of dist/ to prove the pruning kept what they need) it does nothing.
if (!isMainThread && parentPort) await serve(workerData as WorkerInit, parentPort);
