/**
 * The signal one attempt of a Cohere request hands to undici: aborted when the caller's signal
 * aborts, or when the attempt's own timer fires (the per-attempt timeout).
 *
 * It used to be an AbortController per attempt, fed by a listener on the caller's signal: a
 * fresh AbortSignal, a listener on it (undici's) and one on the caller's, ~7 µs of CPU a call.
 * undici needs only `aborted`, `reason` and add/removeEventListener("abort") of what it is given
 * (an EventTarget or EventEmitter), so this object passes undici's listener straight to the
 * caller's signal and calls it itself on a timeout: one listener, no extra signal. The timer is a
 * plain native one (undici's own headersTimeout ticks in ~0.5 s steps: a 200 ms timeout fired
 * after ~1 s), cleared when the attempt ends.
 */

type Listener = () => void;

/** The reason an attempt that timed out was aborted with. */
export const timeoutReason = (): DOMException => new DOMException("The operation was aborted due to timeout", "TimeoutError");

export class AttemptSignal {
  /** Set when the timer fired before the attempt ended. */
  timedOut = false;
  private listener: Listener | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly caller: AbortSignal | undefined,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(() => this.timeout(), timeoutMs);
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
    clearTimeout(this.timer);
  }

  private timeout(): void {
    if (this.caller?.aborted) return;
    this.timedOut = true;
    const listener = this.listener;
    if (!listener) return;
    this.removeEventListener("abort", listener);
    listener();
  }
}
