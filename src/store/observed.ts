/**
 * A CounterStore that reports how long each operation took and whether it failed (metrics), and
 * otherwise passes everything through unchanged.
 */
import type { CounterStore } from "./types.js";

export type StoreOp = "take" | "add" | "get" | "ping";

export interface StoreObserver {
  (op: StoreOp, seconds: number, failed: boolean): void;
}

export function observeStore(inner: CounterStore, observe: StoreObserver): CounterStore {
  const timed =
    <A extends unknown[], R>(op: StoreOp, fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const t0 = performance.now();
      try {
        const r = await fn(...a);
        observe(op, (performance.now() - t0) / 1000, false);
        return r;
      } catch (err) {
        observe(op, (performance.now() - t0) / 1000, true);
        throw err;
      }
    };
  const observed: CounterStore & { readonly fallback?: string } = {
    get kind() {
      return inner.kind;
    },
    // A shared store's failover note (--store-failure allow), when the store has one.
    get fallback() {
      return (inner as { fallback?: string }).fallback;
    },
    take: timed("take", (w) => inner.take(w)),
    add: timed("add", (k: string, a: number, t: number) => inner.add(k, a, t)),
    get: timed("get", (k) => inner.get(k)),
    ping: timed("ping", () => inner.ping()),
    close: () => inner.close(),
  };
  return observed;
}
