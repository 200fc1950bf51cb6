/**
 * A throttle over fixed windows that also keeps the audit short: the first `limit` hits of a
 * subject (an agent's refused calls, an address's failed logins) in a window pass and are written
 * one by one; the rest are refused and only counted, and ONE summary says how many there were
 * when the window ends.
 *
 * Both counts live in the app's CounterStore, so replicas sharing a store share the throttle:
 * the window is `PREFIX:subject`, the suppressed count `PREFIX:subject:RESETAT:n`. The process
 * whose hit is the first over the limit (exactly one, the store's add is atomic) owns the
 * window's summary: it reads the suppressed count when the window ends and reports it.
 */
import type { CounterStore } from "../store/types.js";
import { keyPart } from "../store/keys.js";

export interface ThrottleHit {
  /** Within the limit: handle (and audit) it as usual. */
  allowed: boolean;
  /** Hits in this window so far, this one included. */
  count: number;
  /** When the window ends (epoch ms). */
  resetAt: number;
}

export interface ThrottleSummary<M> {
  subject: string;
  suppressed: number;
  from: number;
  to: number;
  meta: M;
}

/** Most windows waiting for their summary at once (each a timer); beyond, summaries are dropped. */
const MAX_PENDING = 10_000;

export class WindowThrottle<M> {
  private readonly pending = new Map<string, { timer: NodeJS.Timeout; resetAt: number; meta: M; subject: string }>();
  private dropped = 0;

  constructor(
    /** Read at each use: the app may swap its store (e.g. for a shared one) after start-up. */
    private readonly storeOf: () => CounterStore,
    private readonly prefix: string,
    private readonly windowMs: number,
    private readonly report: (s: ThrottleSummary<M>) => void,
    private readonly now: () => number = Date.now,
  ) {}

  private countKey(subject: string, resetAt: number): string {
    return `${this.prefix}:${keyPart(subject)}:${resetAt}:n`;
  }

  /** Count one hit of `subject` against `limit` per window. */
  async hit(subject: string, limit: number, meta: M): Promise<ThrottleHit> {
    const w = await this.storeOf().add(`${this.prefix}:${keyPart(subject)}`, 1, this.windowMs);
    const resetAt = w.resetAt ?? this.now() + this.windowMs;
    if (w.count <= limit) return { allowed: true, count: w.count, resetAt };
    await this.storeOf().add(this.countKey(subject, resetAt), 1, 2 * this.windowMs + 1_000);
    if (w.count === limit + 1) this.schedule(subject, resetAt, meta);
    return { allowed: false, count: w.count, resetAt };
  }

  /** Is `subject` over `limit` in its current window? (no hit counted) */
  async over(subject: string, limit: number): Promise<ThrottleHit> {
    const [w] = await this.storeOf().get([`${this.prefix}:${keyPart(subject)}`]);
    const count = w?.count ?? 0;
    return { allowed: count < limit, count, resetAt: w?.resetAt ?? this.now() };
  }

  private schedule(subject: string, resetAt: number, meta: M): void {
    const key = `${subject}\u0000${resetAt}`;
    if (this.pending.has(key)) return;
    if (this.pending.size >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    const timer = setTimeout(() => void this.flush(key), Math.max(0, resetAt - this.now()) + 10);
    timer.unref();
    this.pending.set(key, { timer, resetAt, meta, subject });
  }

  private async flush(key: string): Promise<void> {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    clearTimeout(p.timer);
    let suppressed = 0;
    try {
      [{ count: suppressed }] = (await this.storeOf().get([this.countKey(p.subject, p.resetAt)])) as [{ count: number }];
    } catch {
      /* the store is gone (shutdown): report what is known, nothing */
    }
    if (suppressed > 0) this.report({ subject: p.subject, suppressed, from: p.resetAt - this.windowMs, to: p.resetAt, meta: p.meta });
  }

  /** Summaries not written because too many windows were pending at once. */
  get droppedSummaries(): number {
    return this.dropped;
  }

  /** Write every pending summary now (shutdown): the count so far. */
  async close(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((k) => this.flush(k)));
  }
}
