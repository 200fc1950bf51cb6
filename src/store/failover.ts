/**
 * What a decision gets while the shared store cannot be reached (--store-failure):
 *
 * - deny (default): every take, add and get throws StoreUnavailableError at once; callTool turns
 *   it into a refusal that says so (nothing sent, audited).
 * - allow: decisions are made on this replica's own memory counters, and `fallback` says so
 *   (callTool writes it into the audit line). When the store is back, what was counted locally
 *   is added to the shared windows (so a month's budget still sees those calls) and the local
 *   counters are emptied.
 *
 * "Unreachable" means: the client is not connected (it reconnects by itself), or a command failed
 * or timed out less than a second ago (a hung server is not waited on by every call).
 */
import { MemoryCounterStore } from "./memory.js";
import { checkAmount, checkWindows, StoreUnavailableError, StoreValueError, type CounterReading, type CounterStore, type TakeResult, type WindowSpec } from "./types.js";
import type { StoreFailureMode } from "../config/options.js";
import type { Logger } from "../runtime/logger.js";

/** The part of a shared store the failover needs besides the contract. */
export interface SharedStore extends CounterStore {
  readonly ready: boolean;
  readonly where: string;
}

/** After a failed command, decisions skip the store this long before trying it again. */
const COOL_DOWN_MS = 1_000;

export class FailoverCounterStore implements CounterStore {
  readonly kind: string;
  private readonly local = new MemoryCounterStore();
  private failedAt = 0;
  private lastError = "";
  private outage = false;
  private merging: Promise<void> | undefined;

  constructor(
    private readonly shared: SharedStore,
    private readonly mode: StoreFailureMode,
    private readonly log: Logger,
  ) {
    this.kind = shared.kind;
  }

  /** Set while decisions are made on this replica's counters only (allow mode, store down). */
  get fallback(): string | undefined {
    return this.mode === "allow" && !this.usable() ? "local" : undefined;
  }

  private usable(): boolean {
    return this.shared.ready && Date.now() - this.failedAt >= COOL_DOWN_MS;
  }

  /** The store answered: the outage (if any) is over. */
  private recovered(): void {
    if (!this.outage) return;
    this.outage = false;
    this.log.info("shared counter store reachable again; decisions are shared again", { store: this.shared.where });
    if (this.mode === "allow") void this.mergeLocal();
  }

  /** Called by the store's connection events and by failed commands. */
  noteDown(why: string): void {
    this.failedAt = Date.now();
    this.lastError = why;
    if (this.outage) return;
    this.outage = true;
    this.log.warn(
      this.mode === "deny"
        ? "shared counter store unreachable: calls that count against a limit are refused until it is back (--store-failure deny)"
        : "shared counter store unreachable: counting on this replica only until it is back (--store-failure allow)",
      { store: this.shared.where, error: why.slice(0, 300) },
    );
  }

  noteUp(): void {
    this.failedAt = 0;
    this.recovered();
  }

  /** Add what was counted locally during the outage to the shared windows, then forget it. */
  private mergeLocal(): Promise<void> {
    if (this.merging) return this.merging;
    this.merging = (async () => {
      const windows = this.local.drain();
      let merged = 0;
      for (const [i, w] of windows.entries()) {
        const ttl = w.resetAt - Date.now();
        if (ttl <= 0 || w.count === 0) continue;
        try {
          await this.shared.add(w.key, w.count, ttl);
          merged++;
        } catch (err) {
          // Down again: keep what is left for the next recovery.
          for (const rest of windows.slice(i)) if (rest.resetAt > Date.now()) await this.local.add(rest.key, rest.count, rest.resetAt - Date.now());
          this.noteDown((err as Error)?.message ?? String(err));
          break;
        }
      }
      if (merged) this.log.info("added the counts taken during the outage to the shared store", { windows: merged });
    })().finally(() => {
      this.merging = undefined;
    });
    return this.merging;
  }

  private unavailable(): StoreUnavailableError {
    return new StoreUnavailableError(this.shared.where, this.lastError);
  }

  private async decide<T>(remote: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (this.usable()) {
      try {
        const r = await remote();
        this.recovered();
        return r;
      } catch (err) {
        // One call's values (a cost that is not a whole number, a command Redis refused for its
        // arguments) refuse that call only: the store answered, it is not down.
        if (err instanceof StoreValueError) throw err;
        this.noteDown((err as Error)?.message ?? String(err));
      }
    } else if (!this.outage) {
      this.noteDown(this.shared.ready ? this.lastError : "not connected");
    }
    if (this.mode === "deny") throw this.unavailable();
    return local();
  }

  async take(specs: readonly WindowSpec[]): Promise<TakeResult> {
    checkWindows(specs);
    return this.decide(
      () => this.shared.take(specs),
      () => this.local.take(specs),
    );
  }

  async add(key: string, amount: number, ttlMs: number): Promise<CounterReading> {
    checkAmount(key, amount, ttlMs);
    return this.decide(
      () => this.shared.add(key, amount, ttlMs),
      () => this.local.add(key, amount, ttlMs),
    );
  }

  get(keys: readonly string[]): Promise<CounterReading[]> {
    return this.decide(
      () => this.shared.get(keys),
      () => this.local.get(keys),
    );
  }

  async ping(): Promise<void> {
    try {
      await this.shared.ping();
    } catch (err) {
      const mode =
        this.mode === "deny" ? "calls that count are refused (--store-failure deny)" : "counting on this replica only (--store-failure allow)";
      throw new Error(`${(err as Error).message}; ${mode}`);
    }
  }

  async close(): Promise<void> {
    await this.merging;
    await this.shared.close();
    await this.local.close();
  }
}
