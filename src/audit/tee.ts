import type { AuditEvent, AuditNotice, AuditSink } from "./index.js";

/** What else sees every audit event beside the sink: the metrics, the console's activity stream. */
export interface AuditObserver {
  /** `line`: the line the sink wrote for it, when it returned one (the same redacted, bounded JSON). */
  event(e: AuditEvent, line?: string): void;
  /** `line`: the sink's line for it, when it returned one. */
  notice(n: AuditNotice, line?: string): void;
}

/**
 * The sink (if any) and one observer, fed by the same events: a call's two-step line still goes
 * out through the sink's `begin`, and the observer sees the whole event once it ends. The file
 * sink's health and reopen pass through (audit failure handling, logrotate).
 */
export function tee(sink: AuditSink | undefined, o: AuditObserver): AuditSink {
  return {
    record(e) {
      const line = sink?.record(e) ?? undefined;
      o.event(e, line);
      return line;
    },
    begin(head, resource) {
      const draft = sink?.begin?.(head, resource);
      return {
        finish(tail) {
          const e = { ...head, ...tail };
          const line = (draft ? draft.finish(tail) : sink?.record(e)) ?? undefined;
          o.event(e, line);
          return line;
        },
      };
    },
    note(n) {
      const line = sink?.note?.(n) ?? undefined;
      o.notice(n, line);
      return line;
    },
    health: sink?.health ? () => sink.health!() : undefined,
    reopen: sink?.reopen ? () => sink.reopen!() : undefined,
    close: () => sink?.close() ?? Promise.resolve(),
  };
}
