/**
 * --audit-otlp: each audit line also as an OTLP log record, never instead of the file. A collector
 * that is slow, down or refusing never blocks a call: lines wait in a bounded queue (the oldest
 * kept, a new line dropped when it is full), one batch is exported at a time, a failed batch is
 * tried again with backoff (3 tries in all), then dropped. Every drop is counted (the Prometheus
 * counter cohere_mcp_audit_otlp_dropped_total) and summed up in one log line at most every 10 s.
 *
 * The record is the audit line itself, already redacted and bounded (src/audit/line.ts): its
 * sentence as the body, its other fields as attributes, its trace_id/span_id as the record's
 * trace context. Operator notices (reloads, console changes) go the same way, event name
 * `cohere_mcp.notice`.
 */
import type { LogAttributes, LogBody } from "@opentelemetry/api-logs";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { LogRecordExporter, ReadableLogRecord } from "@opentelemetry/sdk-logs";
import type { StartDeps } from "./index.js";

const BATCH = 256;
const TRIES = 3;
const SUMMARY_EVERY_MS = 10_000;
/** Longest a record waits for its batch (like the SDK's BatchLogRecordProcessor's scheduled delay). */
const FLUSH_MS = 1_000;
const SCOPE = { name: "cohere-mcp.audit", version: "0.1.0" };

export interface ShipperOptions {
  /** Most lines waiting. */
  queue: number;
  /** First wait before a failed batch is sent again (doubles each try). */
  retryBaseMs: number;
  /** Longest a record waits for its batch (default 1 s). */
  flushMs?: number;
  logger: StartDeps["logger"];
  onDrop?: (n: number) => void;
}

const SEVERITY_INFO = 9;
const SEVERITY_WARN = 13;

function hrTimeOf(ms: number): [number, number] {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** An audit line (one JSON object) → a log record. */
export function recordOf(line: string, resource: Resource): ReadableLogRecord {
  const fields = JSON.parse(line) as Record<string, unknown>;
  const { text, type: _type, trace_id, span_id, ...rest } = fields;
  const time = typeof fields.time === "string" ? Date.parse(fields.time) : Date.now();
  const now = hrTimeOf(Date.now());
  const attributes: LogAttributes = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined && v !== null) attributes[`cohere_mcp.audit.${k}`] = v as LogAttributes[string];
  const denied = fields.decision === "denied" || fields.outcome === "rejected";
  return {
    hrTime: Number.isFinite(time) ? hrTimeOf(time) : now,
    hrTimeObserved: now,
    spanContext:
      typeof trace_id === "string" && typeof span_id === "string" ? { traceId: trace_id, spanId: span_id, traceFlags: 1 } : undefined,
    severityNumber: denied ? SEVERITY_WARN : SEVERITY_INFO,
    severityText: denied ? "WARN" : "INFO",
    body: (typeof text === "string" ? text : "") as LogBody,
    // an operator notice (a reload, a console change) names its event; a call's line does not
    eventName: typeof fields.event === "string" ? "cohere_mcp.notice" : "cohere_mcp.audit",
    resource,
    instrumentationScope: SCOPE,
    attributes,
    droppedAttributesCount: 0,
  };
}

export class AuditShipper {
  private readonly lines: string[] = [];
  private busy = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  /** Drops since the last summary line, and why the last one happened. */
  private unreported = 0;
  private why = "";
  private lastSummary = 0;
  private summaryTimer: NodeJS.Timeout | undefined;
  /** Everything dropped since the start. */
  dropped = 0;

  constructor(
    private readonly exporter: LogRecordExporter,
    private readonly resource: Resource,
    private readonly o: ShipperOptions,
  ) {}

  /** Queue one audit line (never blocks, never throws). */
  push(line: string): void {
    if (this.closed) return;
    if (this.lines.length >= this.o.queue) {
      this.drop(1, "the queue was full (the collector is slow or down)");
      return;
    }
    this.lines.push(line);
    // a batch every FLUSH_MS (or as soon as one is full): one request for many lines, not one a call
    if (this.busy) return;
    if (this.lines.length >= BATCH) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.pump(), 0);
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.pump(), this.o.flushMs ?? FLUSH_MS);
    }
    this.timer.unref();
  }

  private drop(n: number, why: string): void {
    this.dropped += n;
    this.unreported += n;
    this.why = why;
    this.o.onDrop?.(n);
    const wait = this.lastSummary + SUMMARY_EVERY_MS - Date.now();
    if (wait <= 0) this.summary();
    else if (!this.summaryTimer) {
      this.summaryTimer = setTimeout(() => this.summary(), wait);
      this.summaryTimer.unref();
    }
  }

  private summary(): void {
    this.summaryTimer = undefined;
    if (!this.unreported) return;
    this.lastSummary = Date.now();
    this.o.logger.warn(
      `the OTLP audit export dropped ${this.unreported} record${this.unreported === 1 ? "" : "s"} (${this.why}); the audit file has every line`,
      { dropped: this.unreported, total: this.dropped },
    );
    this.unreported = 0;
  }

  private async pump(): Promise<void> {
    this.timer = undefined;
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.lines.length) {
        const batch = this.lines.splice(0, BATCH);
        let records: ReadableLogRecord[];
        try {
          records = batch.map((l) => recordOf(l, this.resource));
        } catch {
          this.drop(batch.length, "a line could not be read back");
          continue;
        }
        let ok = false;
        let why = "";
        for (let i = 0; i < TRIES && !ok; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, this.o.retryBaseMs * 2 ** (i - 1)).unref());
          const r = await this.export(records);
          ok = r.code === ExportResultCode.SUCCESS;
          if (!ok) why = `the collector refused or could not be reached: ${(r.error?.message ?? "export failed").slice(0, 120)}`;
        }
        if (!ok) this.drop(batch.length, why);
      }
    } finally {
      this.busy = false;
    }
  }

  private export(records: ReadableLogRecord[]): Promise<ExportResult> {
    return new Promise((resolve) => {
      try {
        this.exporter.export(records, resolve);
      } catch (err) {
        resolve({ code: ExportResultCode.FAILED, error: err as Error });
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.busy && this.lines.length) await this.pump();
    this.summary();
    await this.exporter.shutdown().catch(() => undefined);
  }
}
