/**
 * What refused credentials may cost, per client address (issue 8, finding 8; issue 20,
 * findings 3, 9, 11). The throttle limits what failures cost — audit and log lines, and guessing —
 * never who may enter: a request with a valid credential is served even from an address that is
 * over its limit (a static token is a hash lookup, a JWT with a known key a local verify), so one
 * misconfigured agent behind a NAT, proxy or Kubernetes node does not lock out the others.
 *
 * - Guesses (401: a malformed or wrong token): the first --max-auth-failures DIFFERENT tokens from
 *   an address in a minute are answered 401 and audited; past that, wrong tokens get 429 with
 *   Retry-After and ONE summary line per window. One token repeated (a client retrying with a
 *   stale token) is one guess, not one per retry.
 * - No token at all (a client discovering that it must log in), a token whose key id is not
 *   fetched yet (the issuer may have just rotated; 401 with Retry-After), a valid token this
 *   server will not serve (403), an issuer that cannot be reached (503): no guesses, never 429,
 *   but audited one by one only up to a limit a minute (--max-auth-failures for tokenless
 *   requests, --max-refusals-per-minute for the rest), then counted in a summary line.
 *
 * IPv6 addresses count per network (--ipv6-prefix, default /64: buckets.ts). The counts live in
 * app.store (shared by replicas), and in this process while the store cannot be reached
 * (policy/throttle.ts); each process also remembers the addresses it has seen go over.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../../runtime/app.js";
import { UNAUTHENTICATED } from "../../../audit/index.js";
import { isGuess, type Refusal } from "../../../identity/index.js";
import { WindowThrottle, type ThrottleSummary } from "../../../policy/throttle.js";
import { addressBucket } from "./buckets.js";
import { remoteOf, rpcError, sendJson } from "../io.js";

/** Addresses remembered as blocked at once; the oldest are forgotten beyond (the store still counts). */
const MAX_BLOCKED = 10_000;

/** What to do with a refused credential: already answered (429), answer and audit, or answer quietly. */
export type FailureHandling = "answered" | "audit" | "quiet";

export interface AuthThrottle {
  /** A refused credential (`token`: the bearer value, when one was sent): counted, maybe answered 429. */
  refused(req: IncomingMessage, res: ServerResponse, verdict: Refusal, token: string | undefined): Promise<FailureHandling>;
  /** Count a guess without answering (a wrong token on /readyz); true when over. */
  count(remote: string, token?: string): Promise<boolean>;
  /** Is the address (its bucket) over its guesses in this window? */
  blocked(remote: string): boolean;
}

export function createAuthThrottle(app: App): AuthThrottle {
  const o = app.options;
  const limit = o.limits.maxAuthFailures;
  const windowMs = o.rateWindowMs;
  const per = windowMs === 60_000 ? "a minute" : `per ${windowMs / 1000} s`;
  const bucket = (remote: string) => addressBucket(remote, o.limits.ipv6Prefix);
  const blockedUntil = new Map<string, number>();
  const summary = (what: string, answered: string, flag: string, max: number) => (s: ThrottleSummary<null>) => {
    const from = new Date(s.from).toISOString();
    const to = new Date(s.to).toISOString();
    app.audit?.record({
      time: to,
      agent: UNAUTHENTICATED,
      transport: "http",
      tool: `(${what})`,
      decision: "denied",
      reason: "throttled",
      detail: `past ${max} ${per}, ${flag}`,
      suppressed: s.suppressed,
      windowFrom: from,
      windowTo: to,
      remote: s.subject,
      latencyMs: 0,
    });
    app.logger.warn(`${what} past ${flag} were answered ${answered} and not logged one by one`, {
      remote: s.subject,
      suppressed: s.suppressed,
      from,
      to,
    });
  };
  const store = () => app.store;
  const guesses = new WindowThrottle<null>(store, "af", windowMs, summary("failed authentications", "429", "--max-auth-failures", limit));
  const tokenless = new WindowThrottle<null>(store, "an", windowMs, summary("requests without a token", "401", "--max-auth-failures", limit));
  const refusals = o.limits.maxRefusalsPerMinute;
  const others = new WindowThrottle<null>(
    store,
    "ar",
    windowMs,
    summary("refused credentials", "as usual (403, 503, 401 for a key not fetched yet or a repeated token)", "--max-refusals-per-minute", refusals),
  );
  const seen = new WindowThrottle<null>(store, "at", windowMs, () => undefined);
  for (const t of [guesses, tokenless, others]) app.onClose(() => t.close());

  const blocked = (subject: string): boolean => {
    const until = blockedUntil.get(subject);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    blockedUntil.delete(subject);
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
  /** Audit this refusal, or count it in the window's summary. */
  const lines = async (t: WindowThrottle<null>, subject: string, max: number): Promise<FailureHandling> =>
    max <= 0 || (await t.hit(subject, max, null)).allowed ? "audit" : "quiet";
  const tokenHash = (token: string) => createHash("sha256").update(token).digest("base64url").slice(0, 22);
  /** A new guess from `subject` (false: this token was already counted in this window). */
  const isNew = async (subject: string, token: string | undefined) => token === undefined || (await seen.first(`${subject}|${tokenHash(token)}`));
  const count = async (subject: string): Promise<boolean> => {
    const hit = await guesses.hit(subject, limit, null);
    if (hit.allowed) return false;
    if (blockedUntil.size >= MAX_BLOCKED) blockedUntil.delete(blockedUntil.keys().next().value as string);
    blockedUntil.set(subject, hit.resetAt);
    return true;
  };
  return {
    blocked: (remote) => blocked(bucket(remote)),
    async count(remote, token) {
      const subject = bucket(remote);
      if (limit <= 0 || blocked(subject)) return blocked(subject);
      return (await isNew(subject, token)) ? count(subject) : false;
    },
    async refused(req, res, verdict, token) {
      const subject = bucket(remoteOf(req));
      if (verdict.reason === "missing") return limit > 0 ? lines(tokenless, subject, limit) : "audit";
      if (!isGuess(verdict) || limit <= 0) return lines(others, subject, refusals);
      if (blocked(subject)) {
        await guesses.hit(subject, limit, null); // counted in the window's summary
        answer(res, blockedUntil.get(subject)!);
        return "answered";
      }
      if (!(await isNew(subject, token))) return lines(others, subject, refusals);
      if (!(await count(subject))) return "audit";
      answer(res, blockedUntil.get(subject)!);
      return "answered";
    },
  };
}
