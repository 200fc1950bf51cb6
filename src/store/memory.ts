/**
 * One process's counters: the zero-setup default. Every operation is synchronous inside, so a
 * take is atomic with respect to every other caller of this process. Expired windows are dropped
 * as they are met and by a sweep every 1,024 operations, so nothing grows without bound.
 */
import { checkAmount, checkWindows, type CounterReading, type CounterStore, type TakeResult, type WindowSpec } from "./types.js";

interface Window {
  count: number;
  resetAt: number;
}

export class MemoryCounterStore implements CounterStore {
  readonly kind = "memory";
  private readonly windows = new Map<string, Window>();
  private ops = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private live(key: string, t: number): Window | undefined {
    const w = this.windows.get(key);
    if (w && w.resetAt <= t) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }

  private tick(t: number): void {
    if (++this.ops % 1024 === 0) for (const [k, w] of this.windows) if (w.resetAt <= t) this.windows.delete(k);
  }

  async take(specs: readonly WindowSpec[]): Promise<TakeResult> {
    checkWindows(specs);
    const t = this.now();
    this.tick(t);
    const found = specs.map((s) => this.live(s.key, t));
    for (let i = 0; i < specs.length; i++) {
      const s = specs[i]!;
      const count = found[i]?.count ?? 0;
      if (count + (s.cost ?? 1) > s.limit) {
        return { ok: false, index: i, count, resetAt: found[i]?.resetAt ?? t + s.ttlMs };
      }
    }
    const counts: number[] = [];
    const resetAts: number[] = [];
    specs.forEach((s, i) => {
      let w = found[i] ?? this.windows.get(s.key);
      if (!w) {
        w = { count: 0, resetAt: t + s.ttlMs };
        this.windows.set(s.key, w);
      }
      w.count += s.cost ?? 1;
      counts.push(w.count);
      resetAts.push(w.resetAt);
    });
    return { ok: true, counts, resetAts };
  }

  async add(key: string, amount: number, ttlMs: number): Promise<CounterReading> {
    checkAmount(key, amount, ttlMs);
    const t = this.now();
    this.tick(t);
    let w = this.live(key, t);
    if (!w) {
      w = { count: 0, resetAt: t + ttlMs };
      this.windows.set(key, w);
    }
    w.count += amount;
    return { count: w.count, resetAt: w.resetAt };
  }

  async get(keys: readonly string[]): Promise<CounterReading[]> {
    const t = this.now();
    return keys.map((k) => {
      const w = this.live(k, t);
      return w ? { count: w.count, resetAt: w.resetAt } : { count: 0 };
    });
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.windows.clear();
  }

  /** Every live window, removed from this store (the failover hands them to the shared store). */
  drain(): Array<{ key: string; count: number; resetAt: number }> {
    const t = this.now();
    const out: Array<{ key: string; count: number; resetAt: number }> = [];
    for (const [key, w] of this.windows) if (w.resetAt > t) out.push({ key, count: w.count, resetAt: w.resetAt });
    this.windows.clear();
    return out;
  }

  /** Live windows (for tests and metrics). */
  get size(): number {
    return this.windows.size;
  }
}
