/**
 * The signal one attempt of a Cohere request hands to undici: aborted when the caller's signal
 * aborts, or when the attempt's own timer fires (the per-attempt timeout).
 *
 * It used to be an AbortController per attempt, fed by a listener on the caller's signal: a
 * fresh AbortSignal, a listener on it (undici's) and one on the caller's, ~7 µs of CPU a call.
 * undici needs only `aborted`, `reason` and add/removeEventListener("abort") of what it is given
 * (an EventTarget or EventEmitter), so this object passes undici's listener straight to the
 * caller's signal and calls it itself on a timeout: one listener, no extra signal.
 *
 * The timeouts are one native timer for every attempt in flight (`Deadlines`), not one each: a
 * setTimeout and a clearTimeout per attempt cost ~5 µs of CPU a call. Each attempt notes its
 * deadline in a set; the timer is set for the earliest and, when it fires, times out the attempts
 * whose deadline has passed and is set again for the earliest left. An attempt that ends just
 * leaves the set. Timeouts stay precise to the millisecond (undici's own headersTimeout ticks in
 * ~0.5 s steps: a 200 ms timeout fired after ~1 s), never early.
 */

type Listener = () => void;

/** The reason an attempt that timed out was aborted with. */
export const timeoutReason = (): DOMException => new DOMException("The operation was aborted due to timeout", "TimeoutError");

/** The attempts in flight and the one timer that times them out (see above). */
export class Deadlines {
  private readonly live = new Set<AttemptSignal>();
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (performance.now() time), while it is set. */
  private at = Infinity;

  add(a: AttemptSignal): void {
    this.live.add(a);
    if (a.deadline < this.at) this.arm(a.deadline);
  }

  delete(a: AttemptSignal): void {
    // the timer stays set (unref'd): when it fires with nothing due it is set again, or not at all
    this.live.delete(a);
  }

  /** Attempts in flight (tests). */
  get size(): number {
    return this.live.size;
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.at = at;
    // never early: a timer may fire up to a millisecond before its time by performance.now()
    this.timer = setTimeout(() => this.fire(), Math.min(2 ** 31 - 1, Math.max(1, Math.ceil(at - performance.now()))));
    // an attempt's socket keeps the process alive while it is in flight, not this timer
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.at = Infinity;
    const now = performance.now();
    let next = Infinity;
    const due: AttemptSignal[] = [];
    for (const a of this.live) {
      if (a.deadline <= now) due.push(a);
      else if (a.deadline < next) next = a.deadline;
    }
    for (const a of due) this.live.delete(a);
    if (next < Infinity) this.arm(next);
    for (const a of due) a.timeout();
  }
}

/** The process's attempts in flight: one timer for them all. */
const DEADLINES = new Deadlines();

/** Attempts of the process's Cohere clients still waiting for their headers (tests: none is left behind). */
export const attemptsInFlight = (): number => DEADLINES.size;

export class AttemptSignal {
  /** Set when the timer fired before the attempt ended. */
  timedOut = false;
  /** When this attempt times out (performance.now() time). */
  readonly deadline: number;
  private listener: Listener | undefined;
  private stopped = false;

  constructor(
    private readonly caller: AbortSignal | undefined,
    timeoutMs: number,
    private readonly deadlines: Deadlines = DEADLINES,
  ) {
    this.deadline = performance.now() + timeoutMs;
    deadlines.add(this);
  }

  get aborted(): boolean {
    return this.timedOut || this.caller?.aborted === true;
  }

  get reason(): unknown {
    return this.timedOut ? timeoutReason() : this.caller?.reason;
  }

  addEventListener(type: string, listener: Listener, options?: { once?: boolean }): void {
    if (type !== "abort") return;
    this.listener = listener;
    this.caller?.addEventListener("abort", listener, options);
  }

  removeEventListener(type: string, listener: Listener): void {
    if (type !== "abort") return;
    if (this.listener === listener) this.listener = undefined;
    this.caller?.removeEventListener("abort", listener);
  }

  /** The headers are in (a stream's body then has no timeout) or the attempt ended. */
  stopTimer(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.deadlines.delete(this);
  }

  /** Its deadline passed (Deadlines calls this once, unless the attempt ended before). */
  timeout(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.caller?.aborted) return;
    this.timedOut = true;
    const listener = this.listener;
    if (!listener) return;
    this.removeEventListener("abort", listener);
    listener();
  }
}
