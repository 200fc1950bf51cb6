/**
 * Requests being handled: each POST is tracked so that --request-timeout-ms and the shutdown
 * grace can cancel its calls and answer them with a JSON-RPC error, and so that shutdown knows
 * when the last one has finished.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/server";
import type { NodeHttpTransport } from "./web.js";
import type { Logger } from "../../runtime/logger.js";
import type { RpcRequestInfo } from "./rpc.js";
import type { Identity } from "../../identity/index.js";

/** One POST being handled: what to cancel if it outlives its timeout or the shutdown grace. */
export interface InFlight {
  res: ServerResponse;
  /** Whose request it is: a reload that revokes the agent's credential cancels it. */
  who?: Pick<Identity, "agent" | "kind">;
  /** Answer every open call of this request with an error and stop its work. */
  cancel(message: string): void;
}

/** A call a fast path answers itself (legacy/fastpath.ts, modern/fastpath.ts), tracked like any POST. */
export interface TrackedCall {
  /** Aborted (an AbortError, audited as "cancelled") when the client goes, the request times out, or a reload revokes its agent. */
  signal: AbortSignal;
  /** Claim the one answer: true the first time (then write it), false once the call was answered or cancelled. */
  claim(): boolean;
}

export const timeoutMessage = (ms: number) => `Request timed out after ${ms} ms (--request-timeout-ms); the call was cancelled`;

/** Cancel the calls of a request served by the SDK transport, answering each with an error. */
export function cancelTransportCalls(
  transport: NodeHttpTransport,
  ids: RequestId[],
  res: ServerResponse,
  message: string,
): void {
  for (const id of ids) {
    try {
      transport.onmessage?.({
        jsonrpc: "2.0",
        method: "notifications/cancelled",
        params: { requestId: id, reason: message },
      } as JSONRPCMessage);
    } catch {
      /* already finished */
    }
    transport.send({ jsonrpc: "2.0", id, error: { code: -32001, message } } as JSONRPCMessage).catch(() => undefined);
  }
  // Whatever did not get an answer is cut after a moment.
  setTimeout(() => {
    if (!res.writableEnded) res.destroy();
  }, 1_000).unref();
}

export class InFlightRequests {
  private readonly set = new Set<InFlight>();
  private onDrained: (() => void) | undefined;
  /** Set by shutdown: no new requests. */
  draining = false;

  constructor(
    private readonly log: Logger,
    private readonly requestTimeoutMs: number,
  ) {}

  get size(): number {
    return this.set.size;
  }

  add(f: InFlight): void {
    this.set.add(f);
  }

  delete(f: InFlight): void {
    this.set.delete(f);
    if (this.draining && this.set.size === 0) this.onDrained?.();
  }

  /** Start the request's timer: on expiry its calls are cancelled. */
  startTimer(f: InFlight): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.log.warn("request timed out; cancelling its calls", { ms: this.requestTimeoutMs });
      f.cancel(timeoutMessage(this.requestTimeoutMs));
    }, this.requestTimeoutMs);
    timer.unref();
    return timer;
  }

  /** Resolves when nothing is in flight, or after `graceMs`, whichever is first; calls
   *  `whileWaiting` every 100 ms meanwhile (to close connections that went idle). */
  async drain(graceMs: number, whileWaiting: () => void): Promise<void> {
    if (this.set.size === 0) return;
    await new Promise<void>((resolve) => {
      const idle = setInterval(whileWaiting, 100);
      idle.unref();
      const finish = () => {
        clearInterval(idle);
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(finish, graceMs);
      t.unref();
      this.onDrained = finish;
    });
    this.onDrained = undefined;
  }

  cancelAll(message: string): void {
    for (const f of this.set) f.cancel(message);
  }

  /** Cancel the requests of the identities `revoked` names (a reload removed or rotated them); how many. */
  cancelWhere(revoked: (who: Pick<Identity, "agent" | "kind">) => boolean, message: string): number {
    let n = 0;
    for (const f of [...this.set]) {
      if (!f.who || !revoked(f.who)) continue;
      n++;
      f.cancel(message);
    }
    return n;
  }

  /**
   * Track one call a fast path answers: --request-timeout-ms, shutdown and revocation cancel it
   * (`answerCancelled` writes the error, unless the call was answered first); a client that goes
   * before the answer cancels it upstream at once.
   */
  trackCall(res: ServerResponse, who: Pick<Identity, "agent" | "kind"> | undefined, answerCancelled: (message: string) => void): TrackedCall {
    const ac = new AbortController();
    const abort = (message: string) => ac.abort(new DOMException(message, "AbortError"));
    let answered = false;
    const claim = () => !answered && (answered = true);
    const f: InFlight = {
      res,
      who,
      cancel: (message) => {
        abort(message);
        if (claim()) answerCancelled(message);
      },
    };
    this.add(f);
    const timer = this.startTimer(f);
    res.once("close", () => {
      clearTimeout(timer);
      if (!answered) abort("the client closed the connection");
      this.delete(f);
    });
    return { signal: ac.signal, claim };
  }

  /** Hand a POST (or GET/DELETE) to an SDK transport, tracked for timeout and shutdown. */
  async runTransport(
    req: IncomingMessage,
    res: ServerResponse,
    transport: NodeHttpTransport,
    body: unknown,
    info: RpcRequestInfo,
    onDone: () => void,
    who?: Pick<Identity, "agent" | "kind">,
  ): Promise<void> {
    const f: InFlight = { res, who, cancel: (message) => cancelTransportCalls(transport, info.ids, res, message) };
    const tracked = req.method !== "GET";
    if (tracked) this.add(f);
    const timer = tracked && info.ids.length ? this.startTimer(f) : undefined;
    res.once("close", () => {
      clearTimeout(timer);
      if (tracked) this.delete(f);
      onDone();
    });
    await transport.handleNodeRequest(req, res, body);
  }
}
