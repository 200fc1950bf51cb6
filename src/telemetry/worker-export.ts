/**
 * The span exporter the SDK's BatchSpanProcessor hands its batches to, on the main thread: each
 * batch's spans go as plain fields (a structured clone, ~1.6 µs a span) to a worker thread
 * (./export-worker.ts) where the official OTLP exporter encodes and sends them. Encoding (~4 µs a
 * span), the HTTP client and the garbage both make stay off the thread that serves the calls.
 *
 * The worker never keeps the process alive (it is unref()ed): a server that is told to stop
 * (stdin's end, SIGTERM) flushes what is queued with a bounded wait, then the worker is
 * terminated, so the process always exits, whether the collector answers, hangs or is down.
 */
import { Worker } from "node:worker_threads";
import type { Attributes, HrTime, SpanContext } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

/** One span as the worker receives it: what the OTLP encoding reads, nothing else. */
export interface PlainSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
  parentSpanId?: string;
  parentTraceId?: string;
  parentIsRemote?: boolean;
  start: HrTime;
  end: HrTime;
  attributes: Attributes;
  status: { code: number; message?: string };
  links?: Array<{ traceId: string; spanId: string; traceFlags: number; traceState?: string; isRemote?: boolean; attributes?: Attributes }>;
  events?: Array<{ name: string; time: HrTime; attributes?: Attributes }>;
  dropped?: [attributes: number, events: number, links: number];
  scope: { name: string; version?: string; schemaUrl?: string };
}

export interface WorkerInit {
  protocol: "http/protobuf" | "http/json";
  /** undefined: the exporter reads OTEL_EXPORTER_OTLP_*ENDPOINT itself (the worker shares the environment) */
  url?: string;
  resource: Attributes;
}

export type ToWorker = { type: "export"; id: number; spans: PlainSpan[] } | { type: "shutdown"; id: number };
export type FromWorker = { id: number; code: number; error?: string };

function plain(s: ReadableSpan): PlainSpan {
  const ctx: SpanContext = s.spanContext();
  const p = s.parentSpanContext;
  const out: PlainSpan = {
    name: s.name,
    kind: s.kind,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    traceFlags: ctx.traceFlags,
    start: s.startTime,
    end: s.endTime,
    attributes: s.attributes,
    status: s.status,
    scope: s.instrumentationScope,
  };
  const ts = ctx.traceState?.serialize();
  if (ts) out.traceState = ts;
  if (p) {
    out.parentSpanId = p.spanId;
    out.parentTraceId = p.traceId;
    if (p.isRemote) out.parentIsRemote = true;
  }
  if (s.links.length) {
    out.links = s.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      traceFlags: l.context.traceFlags,
      traceState: l.context.traceState?.serialize(),
      isRemote: l.context.isRemote,
      attributes: l.attributes,
    }));
  }
  if (s.events.length) out.events = s.events.map((e) => ({ name: e.name, time: e.time, attributes: e.attributes }));
  if (s.droppedAttributesCount || s.droppedEventsCount || s.droppedLinksCount) out.dropped = [s.droppedAttributesCount, s.droppedEventsCount, s.droppedLinksCount];
  return out;
}

/** Batches handed to the worker and not yet sent (or failed) there: 8 × 512 spans at most. */
const MAX_IN_FLIGHT = 8;

/** How long a stopping server waits for the worker's last sends before terminating it. */
const SHUTDOWN_MS = 2_000;

export class WorkerSpanExporter implements SpanExporter {
  private readonly worker: Worker;
  /** The batches at the worker (and the shutdown request) by id, until it answers them. */
  private readonly pending = new Map<number, (r: ExportResult) => void>();
  private next = 0;
  private dead: Error | undefined;
  private stopped = false;

  constructor(init: WorkerInit, onError: (message: string) => void) {
    this.worker = new Worker(new URL("./export-worker.js", import.meta.url), { workerData: init });
    this.worker.on("message", (m: FromWorker) => {
      const done = this.pending.get(m.id);
      if (!done) return;
      this.pending.delete(m.id);
      done(m.code === ExportResultCode.SUCCESS ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error(m.error ?? "export failed") });
    });
    const fail = (err: Error) => {
      if (this.dead) return;
      this.dead = err;
      if (!this.stopped) onError(err.message);
      for (const done of this.pending.values()) done({ code: ExportResultCode.FAILED, error: err });
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`the span export worker exited (${code})`)));
    // after the listeners: adding a "message" listener refs the worker again, and a process whose
    // only handle is this worker would then never exit (the bench hang of the last attempt)
    this.worker.unref();
  }

  /**
   * Hand a batch to the worker and answer the batch processor at once: it may then cut the next
   * batch while this one is encoded and sent (it keeps one export in flight, and a round trip to
   * a thread that has to be scheduled would make its queue overflow under load). At most
   * MAX_IN_FLIGHT batches are at the worker; past that a batch is refused (the processor counts
   * it dropped), so a stalled collector or worker holds a bounded amount of memory.
   */
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.dead || this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: this.dead ?? new Error("exporter shut down") });
      return;
    }
    if (this.pending.size >= MAX_IN_FLIGHT) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error(`${MAX_IN_FLIGHT} span batches already at the export worker`) });
      return;
    }
    const id = ++this.next;
    this.pending.set(id, () => undefined);
    const msg: ToWorker = { type: "export", id, spans: spans.map(plain) };
    this.worker.postMessage(msg);
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /** Ask the worker to finish its sends (bounded), then terminate it: the process can always exit. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.dead) {
      const id = ++this.next;
      const done = new Promise<void>((ok) => this.pending.set(id, () => ok()));
      // the wait holds the process open (a ref'd timer), never longer than SHUTDOWN_MS
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((ok) => (timer = setTimeout(ok, SHUTDOWN_MS)));
      this.worker.postMessage({ type: "shutdown", id } satisfies ToWorker);
      await Promise.race([done, bound]);
      clearTimeout(timer);
    }
    await this.worker.terminate();
  }

  async forceFlush(): Promise<void> {
    // the batch processor waits for each export's callback: nothing else is held here
  }
}
