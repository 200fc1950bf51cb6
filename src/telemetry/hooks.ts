/**
 * What turning telemetry on adds around the App (no SDK here): the audit sink fanned out to it
 * (the OTLP metrics and --audit-otlp records come from each call's audit event, like the
 * Prometheus metrics), and the shared store's round trips recorded as child spans.
 */
import type { AuditEvent, AuditNotice, AuditSink } from "../audit/index.js";
import { tee } from "../audit/tee.js";
import type { CounterStore } from "../store/types.js";
import type { Telemetry } from "./index.js";

/** The audit sink (if any) and the telemetry, fed by the same events (src/audit/tee.ts). */
export function auditToTelemetry(sink: AuditSink | undefined, t: Telemetry): AuditSink {
  // the metrics and the log record are made after the answer has gone (off the call's latency),
  // the events of one turn of the event loop together (one setImmediate, not one a call)
  let queued: Array<[AuditEvent, string | undefined]> = [];
  const drain = () => {
    const batch = queued;
    queued = [];
    for (const [e, line] of batch) t.audit(e, line);
  };
  return tee(sink, {
    // the file's own line, when there is one: --audit-otlp ships it without serializing it again
    event: (e: AuditEvent, line?: string) => {
      if (queued.push([e, line]) === 1) setImmediate(drain);
    },
    // operator notices (reloads, console changes): with --audit-otlp, log records too
    notice: (n: AuditNotice, line?: string) => void setImmediate(() => t.notice(n, line)),
  });
}

/** A shared (Redis) store whose round trips are child spans of the call that made them. */
export function tracedStore(inner: CounterStore, t: Telemetry): CounterStore {
  if (inner.kind === "memory") return inner;
  const system = inner.kind;
  const timed =
    <A extends unknown[], R>(op: string, fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const t0 = performance.timeOrigin + performance.now();
      try {
        const r = await fn(...a);
        t.record(`store ${op}`, t0, performance.timeOrigin + performance.now(), { "db.system.name": system, "db.operation.name": op });
        return r;
      } catch (err) {
        t.record(`store ${op}`, t0, performance.timeOrigin + performance.now(), { "db.system.name": system, "db.operation.name": op }, (err as Error)?.name ?? "_OTHER");
        throw err;
      }
    };
  const traced: CounterStore & { readonly fallback?: string } = {
    get kind() {
      return inner.kind;
    },
    get fallback() {
      return (inner as { fallback?: string }).fallback;
    },
    take: timed("take", (w) => inner.take(w)),
    add: timed("add", (k: string, a: number, ttl: number) => inner.add(k, a, ttl)),
    get: timed("get", (k) => inner.get(k)),
    ping: timed("ping", () => inner.ping()),
    close: () => inner.close(),
  };
  return traced;
}
