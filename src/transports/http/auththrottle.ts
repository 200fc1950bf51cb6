/**
 * Failed authentications, throttled per client address (issue 8, finding 8). The first
 * --max-auth-failures wrong (or malformed) tokens from an address in a minute are answered 401
 * and audited as before; past that, every request from the address gets 429 with Retry-After
 * until the window ends — its token is not even looked at, so a right guess cannot be told from
 * a wrong one — and the audit and the log get ONE summary line per window instead of one per try.
 *
 * Requests with no token at all are not guesses (a client discovering that it must log in
 * sends one): they are always answered 401, but past the same number a minute they too are
 * counted in a summary line instead of being written one by one.
 *
 * The counts live in app.store (shared by replicas); each process also remembers the addresses
 * it has seen go over, so that it refuses them before checking a token.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../app.js";
import { UNAUTHENTICATED } from "../../audit.js";
import { WindowThrottle, type ThrottleSummary } from "../../policy/throttle.js";
import type { AuthFailure } from "../../auth.js";
import { remoteOf, rpcError, sendJson } from "./io.js";

/** Addresses remembered as blocked at once; the oldest are forgotten beyond (the store still counts). */
const MAX_BLOCKED = 10_000;

/** What to do with a failed authentication: already answered (429), answer 401 and audit, or answer 401 quietly. */
export type FailureHandling = "answered" | "audit" | "quiet";

export interface AuthThrottle {
  /** Answered 429 (and true) when the request's address is over its failures for this window. */
  refuseIfBlocked(req: IncomingMessage, res: ServerResponse): boolean;
  /** Count a failed authentication; a wrong token over the limit is answered 429 here. */
  failed(req: IncomingMessage, res: ServerResponse, reason: AuthFailure): Promise<FailureHandling>;
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
  const summary = (what: string, answered: string) => (s: ThrottleSummary<null>) => {
    const from = new Date(s.from).toISOString();
    const to = new Date(s.to).toISOString();
    app.audit?.record({
      time: to,
      agent: UNAUTHENTICATED,
      transport: "http",
      tool: `(${what})`,
      decision: "denied",
      reason: "throttled",
      detail: `past ${limit} ${per}, --max-auth-failures`,
      suppressed: s.suppressed,
      windowFrom: from,
      windowTo: to,
      remote: s.subject,
      latencyMs: 0,
    });
    app.logger.warn(`${what} past --max-auth-failures were answered ${answered} and not logged one by one`, {
      remote: s.subject,
      suppressed: s.suppressed,
      from,
      to,
    });
  };
  const throttle = new WindowThrottle<null>(() => app.store, "af", windowMs, summary("failed authentications", "429"));
  const tokenless = new WindowThrottle<null>(() => app.store, "an", windowMs, summary("requests without a token", "401"));
  app.onClose(() => throttle.close());
  app.onClose(() => tokenless.close());

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
    async failed(req, res, reason) {
      const remote = remoteOf(req);
      try {
        if (reason === "missing") return (await tokenless.hit(remote, limit, null)).allowed ? "audit" : "quiet";
        if (!(await count(remote))) return "audit";
      } catch (err) {
        app.logger.error("the failed-authentication throttle could not count", { error: (err as Error)?.message });
        return "audit";
      }
      answer(res, blockedUntil.get(remote)!);
      return "answered";
    },
  };
}
