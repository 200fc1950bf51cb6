import type { AuditEvent, AuditNotice, AuditSink } from "./index.js";

/** What else sees every audit event beside the sink: the metrics, the console's activity stream. */
export interface AuditObserver {
  event(e: AuditEvent): void;
  notice(n: AuditNotice): void;
}

/**
 * The sink (if any) and one observer, fed by the same events: a call's two-step line still goes
 * out through the sink's `begin`, and the observer sees the whole event once it ends. The file
 * sink's health and reopen pass through (audit failure handling, logrotate).
 */
export function tee(sink: AuditSink | undefined, o: AuditObserver): AuditSink {
  return {
    record(e) {
      sink?.record(e);
      o.event(e);
    },
    begin(head, resource) {
      const draft = sink?.begin?.(head, resource);
      return {
        finish(tail) {
          if (draft) draft.finish(tail);
          const e = { ...head, ...tail };
          if (!draft) sink?.record(e);
          o.event(e);
        },
      };
    },
    note(n) {
      sink?.note?.(n);
      o.notice(n);
    },
    health: sink?.health ? () => sink.health!() : undefined,
    reopen: sink?.reopen ? () => sink.reopen!() : undefined,
    close: () => sink?.close() ?? Promise.resolve(),
  };
}
