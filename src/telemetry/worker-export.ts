/**
 * The span processor on the main thread: each ended, sampled span goes as plain fields (a
 * structured clone, ~1.5 µs a span) to a worker thread (./export-worker.ts), every few
 * milliseconds, where the SDK's BatchSpanProcessor (OTEL_BSP_* honoured) batches them for the
 * official OTLP exporter, which encodes and sends them. The main thread holds no span longer than
 * that: its span objects die young (no batch of 512 outliving a few scavenges into the old
 * generation), and encoding (~4 µs a span), the HTTP client and their garbage run on the worker.
 *
 * The worker never keeps the process alive (it is unref()ed): a server that is told to stop
 * (stdin's end, SIGTERM) flushes what is queued with a bounded wait, then the worker is
 * terminated, so the process always exits, whether the collector answers, hangs or is down.
 */
import { Worker } from "node:worker_threads";
import type { Attributes, HrTime, SpanContext } from "@opentelemetry/api";
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base";

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

export type ToWorker = { type: "spans"; spans: PlainSpan[] } | { type: "flush"; id: number } | { type: "shutdown"; id: number };
/** `done`: a flush or shutdown finished; `took`: spans the worker has taken since its last ack. */
export type FromWorker = { type: "done"; id: number } | { type: "took"; n: number };

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

/** How long spans wait on the main thread before they go to the worker (a timer, never holding the process). */
const SEND_MS = 10;
/** ... or fewer, when this many have ended. */
const SEND_AT = 64;
/** Spans sent and not yet taken by the worker: past this (a stalled worker), spans are dropped, so memory stays bounded. */
const MAX_UNTAKEN = 8_192;
/** How long a stopping server waits for the worker's last sends before terminating it. */
const SHUTDOWN_MS = 2_000;

export class WorkerSpanProcessor implements SpanProcessor {
  private readonly worker: Worker;
  private buf: PlainSpan[] = [];
  private timer: NodeJS.Timeout | undefined;
  private untaken = 0;
  private readonly waiting = new Map<number, () => void>();
  private next = 0;
  private dead = false;
  private stopped = false;
  /** Spans dropped because the worker did not keep up (or had stopped). */
  dropped = 0;

  constructor(init: WorkerInit, onError: (message: string) => void) {
    this.worker = new Worker(new URL("./export-worker.js", import.meta.url), { workerData: init });
    this.worker.on("message", (m: FromWorker) => {
      if (m.type === "took") this.untaken = Math.max(0, this.untaken - m.n);
      else this.waiting.get(m.id)?.();
    });
    const fail = (err: Error) => {
      if (this.dead) return;
      this.dead = true;
      if (!this.stopped) onError(err.message);
      for (const done of this.waiting.values()) done();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`the span export worker exited (${code})`)));
    // after the listeners: adding a "message" listener refs the worker again, and a process whose
    // only handle is this worker would then never exit (the bench hang of the last attempt)
    this.worker.unref();
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (!(span.spanContext().traceFlags & 1)) return;
    if (this.dead || this.stopped || this.untaken + this.buf.length >= MAX_UNTAKEN) {
      this.dropped++;
      return;
    }
    this.buf.push(plain(span));
    if (this.buf.length >= SEND_AT) this.send();
    else if (!this.timer) this.timer = setTimeout(this.send, SEND_MS).unref();
  }

  private readonly send = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buf.length || this.dead) return;
    const spans = this.buf;
    this.buf = [];
    this.untaken += spans.length;
    this.worker.postMessage({ type: "spans", spans } satisfies ToWorker);
  };

  /** Send what waits, ask the worker for `type`, and wait for its answer: never longer than `ms` (a ref'd timer holds the process meanwhile). */
  private async ask(type: "flush" | "shutdown", ms: number): Promise<void> {
    this.send();
    if (this.dead) return;
    const id = ++this.next;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((ok) => {
        this.waiting.set(id, ok);
        this.worker.postMessage({ type, id } satisfies ToWorker);
      }),
      new Promise<void>((ok) => (timer = setTimeout(ok, ms))),
    ]);
    clearTimeout(timer);
    this.waiting.delete(id);
  }

  forceFlush(): Promise<void> {
    return this.ask("flush", 30_000);
  }

  /** Flush what is queued (bounded), then terminate the worker: the process can always exit. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    await this.ask("shutdown", SHUTDOWN_MS);
    this.stopped = true;
    await this.worker.terminate();
  }
}
