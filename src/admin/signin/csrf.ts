/**
 * Cross-site request forgery: a state-changing request signed in by cookie must carry the
 * session's CSRF token in `X-CSRF-Token` AND an `Origin` that is this console's own origin (a
 * missing Origin is refused too). Requests with an admin token as a bearer (scripts) carry no
 * ambient credential, so they need neither.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { headerValue } from "../../transports/http/io.js";
import { normaliseOrigin } from "../../transports/http/admission/origin.js";

export const CSRF_HEADER = "x-csrf-token";

export const isStateChange = (method: string) => !["GET", "HEAD", "OPTIONS"].includes(method);

/** The console's own origin as the browser sees it (scheme from TLS or a trusted proxy, the Host header). */
export function ownOrigin(req: IncomingMessage, secure: boolean): string | undefined {
  const host = headerValue(req, "host");
  if (!host) return undefined;
  return normaliseOrigin(`${secure ? "https" : "http"}://${host}`);
}

/** Why this request's Origin is not acceptable for a cookie state change, or undefined. */
export function originProblem(req: IncomingMessage, secure: boolean): string | undefined {
  const origin = headerValue(req, "origin");
  if (origin === undefined) return "a signed-in browser request that changes something must carry an Origin header";
  const own = ownOrigin(req, secure);
  const got = normaliseOrigin(origin);
  if (!got || !own || got !== own) return `Origin "${origin.slice(0, 200)}" is not this console's origin`;
  return undefined;
}

export function csrfProblem(req: IncomingMessage, expected: string): string | undefined {
  const got = headerValue(req, CSRF_HEADER);
  if (!got) return "missing X-CSRF-Token header (read it from GET /admin/api/v1/session)";
  const a = Buffer.from(got);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return "wrong X-CSRF-Token";
  return undefined;
}
