/**
 * Failed authentications, throttled per client address (issue 8, finding 8). The first
 * --max-auth-failures failures of an address in a minute are answered 401 and audited as before;
 * past that, every request from the address gets 429 with Retry-After until the window ends —
 * its token is not even looked at, so a right guess cannot be told from a wrong one — and the
 * audit and the log get ONE summary line per window instead of one per try.
 *
 * The failure counts live in app.store (shared by replicas); each process also remembers the
 * addresses it has seen go over, so that it refuses them before checking a token.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../app.js";
import { UNAUTHENTICATED } from "../../audit.js";
import { WindowThrottle } from "../../policy/throttle.js";
import { remoteOf, rpcError, sendJson } from "./io.js";

/** Addresses remembered as blocked at once; the oldest are forgotten beyond (the store still counts). */
const MAX_BLOCKED = 10_000;

export interface AuthThrottle {
  /** Answered 429 (and true) when the request's address is over its failures for this window. */
  refuseIfBlocked(req: IncomingMessage, res: ServerResponse): boolean;
  /** Count a failed authentication; answered 429 (and true) when it is over the limit. */
  failed(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Count a failed authentication without answering (e.g. a wrong token on /readyz); true when over. */
  count(remote: string): Promise<boolean>;
  blocked(remote: string): boolean;
}

export function createAuthThrottle(app: App): AuthThrottle | undefined {
  const limit = app.options.limits.maxAuthFailures;
  if (limit <= 0) return undefined;
  const windowMs = app.options.rateWindowMs;
  const per = windowMs === 60_000 ? "a minute" : `per ${windowMs / 1000} s`;
  const blockedUntil = new Map<string, number>();
  const throttle = new WindowThrottle<null>(
    () => app.store,
    "af",
    windowMs,
    (s) => {
      const from = new Date(s.from).toISOString();
      const to = new Date(s.to).toISOString();
      app.audit?.record({
        time: to,
        agent: UNAUTHENTICATED,
        transport: "http",
        tool: "(failed authentications)",
        decision: "denied",
        reason: "throttled",
        detail: `past ${limit} ${per}, --max-auth-failures`,
        suppressed: s.suppressed,
        windowFrom: from,
        windowTo: to,
        remote: s.subject,
        latencyMs: 0,
      });
      app.logger.warn("failed authentications past --max-auth-failures were answered 429 and not logged one by one", {
        remote: s.subject,
        suppressed: s.suppressed,
        from,
        to,
      });
    },
  );
  app.onClose.push(() => throttle.close());

  const blocked = (remote: string): boolean => {
    const until = blockedUntil.get(remote);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    blockedUntil.delete(remote);
    return false;
  };
  const answer = (res: ServerResponse, until: number) => {
    const retryS = Math.max(1, Math.ceil((until - Date.now()) / 1000));
    sendJson(
      res,
      429,
      rpcError(-32001, `Too many failed authentications from this address (429): retry in ${retryS} s with a valid bearer token`),
      { "Retry-After": String(retryS), Connection: "close" },
    );
  };
  const count = async (remote: string): Promise<boolean> => {
    const hit = await throttle.hit(remote, limit, null);
    if (hit.allowed) return false;
    if (blockedUntil.size >= MAX_BLOCKED) blockedUntil.delete(blockedUntil.keys().next().value as string);
    blockedUntil.set(remote, hit.resetAt);
    return true;
  };
  return {
    blocked,
    refuseIfBlocked(req, res) {
      const remote = remoteOf(req);
      if (!blocked(remote)) return false;
      void throttle.hit(remote, limit, null).catch(() => undefined); // counted in the summary
      answer(res, blockedUntil.get(remote)!);
      return true;
    },
    count,
    async failed(req, res) {
      const remote = remoteOf(req);
      let over: boolean;
      try {
        over = await count(remote);
      } catch (err) {
        app.logger.error("the failed-authentication throttle could not count", { error: (err as Error)?.message });
        return false;
      }
      if (over) answer(res, blockedUntil.get(remote)!);
      return over;
    },
  };
}
