/**
 * Shared counters: every limit, budget and throttle the gateway keeps is a set of windows in one
 * CounterStore. One process uses the memory store; replicas share a store (Redis) so that a limit
 * of 100 means 100 across all of them.
 *
 * A window is a counter under a key that starts at its first hit and lives `ttlMs` (a fixed
 * window: "60 calls per minute" counts from the first call of that minute; a calendar month is a
 * key named after the month with a TTL to its end). Each decision is one atomic step of the
 * store, so concurrent callers on any replica can never pass a limit together.
 */
export interface WindowSpec {
  key: string;
  /** The most the window may hold. */
  limit: number;
  /** Life of a window started by this take. */
  ttlMs: number;
  /** How much this take adds (default 1). */
  cost?: number;
}

export type TakeResult =
  | { ok: true; counts: number[]; resetAts: number[] }
  /** `index`: the first window without room; nothing was added to any window. */
  | { ok: false; index: number; count: number; resetAt: number };

export interface CounterReading {
  /** 0 when the window does not exist (or has ended). */
  count: number;
  /** When the window ends (epoch ms); undefined when it does not exist. */
  resetAt?: number;
}

export interface CounterStore {
  /** Which implementation, for logs and /readyz ("memory", "redis"). */
  readonly kind: string;
  /**
   * All or nothing: when every window has room for its cost, add it to each and say ok;
   * otherwise add nothing and name the first full window.
   */
  take(windows: readonly WindowSpec[]): Promise<TakeResult>;
  /** Add `amount` without a limit (charging after the fact; may be negative to give back). */
  add(key: string, amount: number, ttlMs: number): Promise<CounterReading>;
  /** Current values, in order. */
  get(keys: readonly string[]): Promise<CounterReading[]>;
  /** Throws when the store cannot be reached (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Set while a shared store is unreachable and decisions are made on this replica's own
   * counters instead (--store-failure allow): the audit line of a call says so.
   */
  readonly fallback?: string;
}

/**
 * Thrown by take/add/get while a shared store is unreachable and --store-failure is deny:
 * callTool refuses the call with this message (nothing sent) and audits it.
 */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  constructor(
    readonly where: string,
    readonly lastError?: string,
  ) {
    // The agent is not told where the store is (an address is the operator's business: the log,
    // the audit line's detail and /readyz name it).
    super(
      "The shared counter store cannot be reached, so this call could not be counted against its limits " +
        "and was refused; nothing was sent to Cohere. Retry in a few seconds; if it persists, tell the operator " +
        "(the gateway runs with --store-failure deny and reconnects by itself).",
    );
  }
}

/**
 * A decision the store refused because of the values one call brought (a cost, limit or
 * correction that is not a finite whole number), or a command Redis rejected for its
 * arguments: that call is refused, and nothing else — it is not an outage (failover.ts).
 */
export class StoreValueError extends Error {
  override name = "StoreValueError";
}

/** Whole numbers a counter can hold exactly. */
const whole = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n);

/** Every cost and limit of a take is a finite, non-negative whole number, and every TTL finite and positive. */
export function checkWindows(specs: readonly WindowSpec[]): void {
  for (const s of specs) {
    const cost = s.cost ?? 1;
    if (!whole(cost) || cost < 0) throw new StoreValueError(`counter ${s.key}: cost ${String(cost)} is not a non-negative whole number`);
    if (!whole(s.limit) || s.limit < 0) throw new StoreValueError(`counter ${s.key}: limit ${String(s.limit)} is not a non-negative whole number`);
    if (!(Number.isFinite(s.ttlMs) && s.ttlMs > 0)) throw new StoreValueError(`counter ${s.key}: window ${String(s.ttlMs)} ms is not a positive duration`);
  }
}

/** A charge or a correction (negative to give back) is a finite whole number. */
export function checkAmount(key: string, amount: number, ttlMs: number): void {
  if (!whole(amount)) throw new StoreValueError(`counter ${key}: amount ${String(amount)} is not a whole number`);
  if (!(Number.isFinite(ttlMs) && ttlMs > 0)) throw new StoreValueError(`counter ${key}: window ${String(ttlMs)} ms is not a positive duration`);
}
