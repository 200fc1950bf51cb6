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
 *
 * A throttle never switches off (issue 20, finding 4): while the store cannot be reached (e.g.
 * Redis down with --store-failure deny, where every store call throws), hits are counted in this
 * process's own memory, so the limit still holds per process; when the store answers again, what
 * was counted locally is added to the shared windows (reconciled) and the local counts are dropped.
 */
import { MemoryCounterStore } from "../store/memory.js";
import type { CounterReading, CounterStore } from "../store/types.js";
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
  /** Counts taken while the store could not be reached (merged into it when it is back). */
  private readonly local = new MemoryCounterStore(() => this.now());
  private merging: Promise<void> | undefined;

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

  /** Add to a window: in the store, or in this process while the store cannot be reached. */
  private async add(key: string, amount: number, ttlMs: number): Promise<CounterReading> {
    let shared: CounterReading;
    try {
      shared = await this.storeOf().add(key, amount, ttlMs);
    } catch {
      return this.local.add(key, amount, ttlMs);
    }
    // Hits counted here during an outage that are not merged yet still count.
    const [mine] = await this.local.get([key]);
    if (this.local.size) void this.reconcile();
    return mine!.count ? { count: shared.count + mine!.count, resetAt: shared.resetAt } : shared;
  }

  /** The store is back: add what was counted in this process meanwhile to its windows. */
  private reconcile(): Promise<void> {
    this.merging ??= (async () => {
      const windows = this.local.drain();
      for (const [i, w] of windows.entries()) {
        const ttl = w.resetAt - this.now();
        if (ttl <= 0) continue;
        try {
          await this.storeOf().add(w.key, w.count, ttl);
        } catch {
          // Down again: keep the rest for the next time.
          for (const rest of windows.slice(i)) if (rest.resetAt > this.now()) await this.local.add(rest.key, rest.count, rest.resetAt - this.now());
          break;
        }
      }
    })().finally(() => {
      this.merging = undefined;
    });
    return this.merging;
  }

  /** Current values: the store's plus what this process counted while it was unreachable. */
  private async read(key: string): Promise<CounterReading> {
    const [mine] = await this.local.get([key]);
    try {
      const [w] = await this.storeOf().get([key]);
      return { count: (w?.count ?? 0) + mine!.count, resetAt: w?.resetAt ?? mine!.resetAt };
    } catch {
      return mine!;
    }
  }

  /** Count one hit of `subject` against `limit` per window. */
  async hit(subject: string, limit: number, meta: M): Promise<ThrottleHit> {
    const w = await this.add(`${this.prefix}:${keyPart(subject)}`, 1, this.windowMs);
    const resetAt = w.resetAt ?? this.now() + this.windowMs;
    if (w.count <= limit) return { allowed: true, count: w.count, resetAt };
    await this.add(this.countKey(subject, resetAt), 1, 2 * this.windowMs + 1_000);
    if (w.count === limit + 1) this.schedule(subject, resetAt, meta);
    return { allowed: false, count: w.count, resetAt };
  }

  /** True for the first hit of `subject` in its window (a repeat is not counted again). */
  async first(subject: string): Promise<boolean> {
    return (await this.add(`${this.prefix}:${keyPart(subject)}`, 1, this.windowMs)).count === 1;
  }

  /** Is `subject` over `limit` in its current window? (no hit counted) */
  async over(subject: string, limit: number): Promise<ThrottleHit> {
    const w = await this.read(`${this.prefix}:${keyPart(subject)}`);
    const count = w.count;
    return { allowed: count < limit, count, resetAt: w.resetAt ?? this.now() };
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
    const suppressed = (await this.read(this.countKey(p.subject, p.resetAt))).count;
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
