/**
 * The console's Activity: every audit event of every replica, newest first, live.
 *
 * Recording: the audit sink is fanned out (like the metrics) so each event — a call, a reload, a
 * console change — is also made into its audit line (the same redaction, bounds and escaping as
 * the audit file: src/audit/line.ts) and appended to the capped stream `activity` of the shared
 * state (a Redis stream, XADD MAXLEN ~ --activity-max, with --store; else a ring buffer in this
 * process). Appends are not awaited by the call: the agent never waits for the console. The same
 * event is counted in the durable usage counters (./usage-counters.ts), also not awaited.
 *
 * Reading: filters (agent, tool, decision, outcome, since, until) over the newest entries; the
 * live stream (SSE) polls the stream for entries after the last one it sent.
 */
import type { App } from "../../runtime/app.js";
import { auditLine, type AuditEvent, type AuditNotice } from "../../audit/index.js";
import { tee } from "../../audit/tee.js";
import { redact } from "../../audit/line.js";
import { compareStreamIds } from "../../store/shared.js";
import { usageRecorder } from "./usage-counters.js";

export const ACTIVITY_STREAM = "activity";

export interface ActivityItem {
  /** Stream id: a cursor for `before` and the live stream. */
  id: string;
  time: string;
  replica: string;
  sentence: string;
  event: Record<string, unknown>;
}

export interface ActivityFilter {
  agent?: string;
  tool?: string;
  decision?: string;
  outcome?: string;
  since?: number;
  until?: number;
}

/** Fan the audit sink out to the activity stream. Installed on every replica of a console fleet. */
export function installActivity(app: App): void {
  const max = app.options.activityMax;
  const replica = app.options.replicaId;
  let failing = false;
  const push = (line: string) => {
    app.shared.append(ACTIVITY_STREAM, JSON.stringify({ r: replica, l: line }), max).then(
      () => {
        failing = false;
      },
      (err: unknown) => {
        if (!failing) app.logger.warn("could not add an event to the console's activity stream", { error: (err as Error)?.message });
        failing = true;
      },
    );
  };
  const usage = usageRecorder(app);
  // the last counts are written before the shared state closes
  app.onClose(() => usage.flush());
  const record = (e: AuditEvent) => {
    push(auditLine(e, app.secrets()));
    usage.count(e);
  };
  // like the audit file's: the sentence starts with its time
  const note = (n: AuditNotice) => push(redact(JSON.stringify({ type: "audit", ...n, replica: n.replica ?? replica, text: `${n.time} ${n.text}` }), app.secrets()));
  app.audit = tee(app.audit, { event: record, notice: note });
}

export function itemOf(id: string, value: string): ActivityItem | undefined {
  try {
    const v = JSON.parse(value) as { r: string; l: string };
    const event = JSON.parse(v.l) as Record<string, unknown>;
    const time = String(event.time ?? new Date(Number(id.split("-")[0])).toISOString());
    const text = String(event.text ?? "");
    // The stored line is the audit file's, whose sentence starts with its time; `time` is its own
    // field here, so the sentence is given without it (the page shows the time once).
    const sentence = text.startsWith(`${time} `) ? text.slice(time.length + 1) : text;
    return { id, time, replica: v.r, sentence, event };
  } catch {
    return undefined;
  }
}

export function matches(item: ActivityItem, f: ActivityFilter): boolean {
  const e = item.event;
  if (f.agent !== undefined && e.agent !== f.agent && e.admin !== f.agent) return false;
  if (f.tool !== undefined && e.tool !== f.tool) return false;
  if (f.decision !== undefined && e.decision !== f.decision) return false;
  if (f.outcome !== undefined && e.outcome !== f.outcome) return false;
  const t = Date.parse(item.time);
  if (f.since !== undefined && !(t >= f.since)) return false;
  if (f.until !== undefined && !(t < f.until)) return false;
  return true;
}

/** Newest first: up to `limit` items that match, older than the cursor `before`. Scans at most --activity-max entries. */
export async function queryActivity(app: App, f: ActivityFilter, limit: number, before?: string): Promise<ActivityItem[]> {
  const out: ActivityItem[] = [];
  let cursor = before;
  let scanned = 0;
  const page = 500;
  while (out.length < limit && scanned < app.options.activityMax) {
    const entries = await app.shared.latest(ACTIVITY_STREAM, page, cursor);
    if (!entries.length) break;
    scanned += entries.length;
    for (const e of entries) {
      const item = itemOf(e.id, e.value);
      if (item && matches(item, f)) out.push(item);
      if (out.length >= limit) break;
      // Older than `since`: nothing further down can match.
      if (item && f.since !== undefined && Date.parse(item.time) < f.since - 60_000) return out;
    }
    cursor = entries[entries.length - 1]!.id;
    if (entries.length < page) break;
  }
  return out;
}

/** Oldest first: items after `after`. */
export async function activitySince(app: App, after: string, f: ActivityFilter): Promise<{ items: ActivityItem[]; last: string }> {
  const entries = await app.shared.since(ACTIVITY_STREAM, after, 500);
  let last = after;
  const items: ActivityItem[] = [];
  for (const e of entries) {
    if (compareStreamIds(e.id, last) > 0) last = e.id;
    const item = itemOf(e.id, e.value);
    if (item && matches(item, f)) items.push(item);
  }
  return { items, last };
}

/** The id of the newest entry ("0-0" when empty): where a live stream starts. */
export async function newestId(app: App): Promise<string> {
  const [e] = await app.shared.latest(ACTIVITY_STREAM, 1);
  return e?.id ?? "0-0";
}
