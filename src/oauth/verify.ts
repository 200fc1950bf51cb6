/**
 * Access-token verification for the resource server, with `jose` (no hand-written JWT or JWKS
 * code): the issuer's metadata by RFC 8414 / OpenID discovery (the SDK's
 * discoverAuthorizationServerMetadata) unless `jwks_uri` is given; the JWKS through jose's
 * remote key set (cached for jwks_max_age_s, fetched again on an unknown `kid` at most once per
 * jwks_cooldown_s, so the issuer can rotate keys without a restart); then `iss`, `aud`,
 * `exp`/`nbf` with clock_skew_s of leeway, and the algorithm on an asymmetric allowlist.
 *
 * A token that is not a JWT goes to RFC 7662 introspection when that is configured, and is
 * refused otherwise. An issuer that cannot be reached makes a 503 (retry later), never a 401:
 * the token may be fine, and a 401 would only make the client fetch another one.
 */
import { createHash } from "node:crypto";
import { createLocalJWKSet, createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { DEFAULT_ALGS, urlProblem, type OAuthConfig } from "../config/oauth.js";
import type { Logger } from "../runtime/logger.js";

export type Claims = JWTPayload & Record<string, unknown>;

export type Verified =
  | { ok: true; claims: Claims; via: "jwt" | "introspection" }
  /** `retryAfterS` with a 401: the token names a key the issuer may have just started to use
   *  (not fetched yet: the JWKS cooldown); not a guess, worth retrying then. */
  | { ok: false; status: 401 | 503; message: string; retryAfterS?: number };

export interface TokenVerifier {
  verify(token: string): Promise<Verified>;
  /** The audience tokens must carry. */
  readonly audience: string;
}

/** Three base64url segments whose first decodes to a JSON object with a string `alg`. */
export function looksLikeJwt(token: string): boolean {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token)) return false;
  try {
    return typeof decodeProtectedHeader(token).alg === "string";
  } catch {
    return false;
  }
}

/** A fetch with the configured timeout, for every request to the issuer. */
function timedFetch(timeoutMs: number): typeof fetch {
  return (input, init) => fetch(input, { ...init, redirect: "manual", signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
}

interface IssuerInfo {
  jwksUri?: string;
  introspectionEndpoint?: string;
}

/** Retry a failed discovery at most this often. */
const DISCOVERY_RETRY_MS = 5_000;

const UNAUTHORISED = new Set<string>([
  errors.JWTExpired.code,
  errors.JWTClaimValidationFailed.code,
  errors.JWTInvalid.code,
  errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JWKInvalid.code,
]);

function describeJoseError(err: errors.JOSEError): string {
  if (err instanceof errors.JWTExpired) return "token expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "aud") return "token was issued for another audience (resource), not for this server";
    if (err.claim === "iss") return "token was issued by another issuer";
    if (err.claim === "nbf") return "token is not valid yet (nbf)";
    if (err.claim === "iat") return "token issued in the future (iat)";
    if (err.claim === "typ") return 'token is not an access token (its header typ is not "at+jwt", RFC 9068)';
    return `token claim ${err.claim} is missing or invalid`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return "token signing algorithm is not accepted";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "token signature does not verify";
  if (err instanceof errors.JWKSNoMatchingKey) return "token is signed by a key the issuer does not publish";
  if (err instanceof errors.JWKSMultipleMatchingKeys) return "token names no key id and the issuer publishes several";
  return "token is not a valid signed JWT";
}

const DEFAULT_MAX_LIFETIME_S = 86_400;

/** `iat` in the future beyond the skew, or a lifetime (exp − iat) above the maximum: a token no issuer should mint. */
function lifetimeProblem(payload: JWTPayload, skew: number, maxLifetimeS: number): string | undefined {
  const now = Date.now() / 1000;
  if (typeof payload.iat === "number" && payload.iat - skew > now) return "token issued in the future (iat)";
  const from = typeof payload.iat === "number" ? payload.iat : now;
  if (typeof payload.exp === "number" && payload.exp - from > maxLifetimeS) {
    return `token lifetime is longer than this server accepts (${maxLifetimeS} s, oauth.max_token_lifetime_s)`;
  }
  return undefined;
}

/** Backoff between failed key fetches: doubles from the first to the last. */
const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;

class KeysUnavailable extends Error {
  constructor(readonly retryAfterS: number) {
    super(`the issuer's keys could not be fetched; next try in ${retryAfterS} s`);
  }
}

class KeyNotYetKnown extends Error {
  constructor(readonly retryAfterS: number) {
    super("key id not known yet");
  }
}

/**
 * What is learnt from the issuer — its metadata, the remote key set, the last good keys, the
 * backoff after failed fetches — kept across configuration reloads while issuer, jwks_uri and
 * audience stay the same (finding 8): a SIGHUP during an IdP outage keeps accepting tokens signed
 * with the keys already fetched.
 */
interface KeyState {
  info?: Promise<IssuerInfo>;
  infoFailedAt: number;
  remote?: ReturnType<typeof createRemoteJWKSet>;
  lastGood?: JSONWebKeySet;
  /** When the key set was last fetched; `fresh`: not yet copied to lastGood. */
  keysAt: number;
  fresh: boolean;
  failUntil: number;
  backoffMs: number;
}

const keyStates = new Map<string, KeyState>();
/** Issuers remembered at once (each reload with another issuer adds one; the oldest go). */
const MAX_KEY_STATES = 16;

function keyStateFor(cfg: OAuthConfig, audience: string): KeyState {
  const id = JSON.stringify([cfg.issuer, cfg.jwks_uri ?? "", audience, cfg.introspection?.endpoint ?? ""]);
  let st = keyStates.get(id);
  if (!st) {
    st = { infoFailedAt: 0, keysAt: 0, fresh: false, failUntil: 0, backoffMs: 0 };
    if (keyStates.size >= MAX_KEY_STATES) keyStates.delete(keyStates.keys().next().value!);
    keyStates.set(id, st);
  }
  return st;
}

/** After a fetch that brought keys: keep a copy of them, and end the backoff. */
function noteKeys(state: KeyState, remote: ReturnType<typeof createRemoteJWKSet>): void {
  if (!state.fresh) return;
  state.fresh = false;
  state.failUntil = 0;
  state.backoffMs = 0;
  state.lastGood = remote.jwks() ?? state.lastGood;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

export function createTokenVerifier(cfg: OAuthConfig, env: NodeJS.ProcessEnv, logger: Logger): TokenVerifier {
  const audience = cfg.audience ?? cfg.resource;
  // The resource URL with or without one trailing slash is the same resource (as the SDK compares).
  const audiences = cfg.audience ? [cfg.audience] : [...new Set([cfg.resource, cfg.resource.replace(/\/$/, ""), `${cfg.resource.replace(/\/$/, "")}/`])];
  const algorithms = [...(cfg.algorithms ?? DEFAULT_ALGS)];
  const skew = cfg.clock_skew_s ?? 30;
  const timeoutMs = cfg.fetch_timeout_ms ?? 5_000;
  const fetchFn = timedFetch(timeoutMs);
  const secret = cfg.introspection ? env[cfg.introspection.client_secret_env] : undefined;

  const state = keyStateFor(cfg, audience);
  const configuredJwks = cfg.jwks_uri;

  // --- issuer metadata, found once (retried after a failure, at most every few seconds) ---
  const issuerInfo = (): Promise<IssuerInfo> => {
    if (state.info && !(state.infoFailedAt && Date.now() - state.infoFailedAt > DISCOVERY_RETRY_MS)) return state.info;
    state.infoFailedAt = 0;
    const info = (async (): Promise<IssuerInfo> => {
      const needsDiscovery = !configuredJwks || (cfg.introspection && !cfg.introspection.endpoint);
      if (!needsDiscovery) return { jwksUri: configuredJwks, introspectionEndpoint: cfg.introspection?.endpoint };
      // the SDK v2's client-side helper, loaded only when an issuer is looked up (never on stdio)
      const { discoverAuthorizationServerMetadata } = await import("@modelcontextprotocol/client");
      const meta = await discoverAuthorizationServerMetadata(cfg.issuer, { fetchFn });
      if (!meta) throw new Error(`no RFC 8414 or OpenID metadata found for ${cfg.issuer}`);
      // RFC 8414 §3.3: the metadata must name the issuer it was fetched for.
      if (meta.issuer !== cfg.issuer) throw new Error(`the metadata of ${cfg.issuer} names another issuer (${meta.issuer})`);
      const m = meta as { jwks_uri?: unknown; introspection_endpoint?: unknown };
      const jwksUri = configuredJwks ?? (typeof m.jwks_uri === "string" ? m.jwks_uri : undefined);
      const introspectionEndpoint =
        cfg.introspection?.endpoint ?? (typeof m.introspection_endpoint === "string" ? m.introspection_endpoint : undefined);
      for (const [what, u, named] of [
        ["jwks_uri", jwksUri, configuredJwks !== undefined],
        ["introspection_endpoint", introspectionEndpoint, cfg.introspection?.endpoint !== undefined],
      ] as const) {
        const p = u ? urlProblem(u, `the issuer's ${what}`) : undefined;
        if (p) throw new Error(p);
        // The issuer's metadata does not decide where keys are fetched or the introspection
        // secret is sent (finding 11): only the issuer's own origin, unless the config names it.
        if (u && !named && !sameOrigin(u, cfg.issuer)) {
          throw new Error(`the issuer's metadata names a ${what} (${new URL(u).origin}) outside the issuer's origin; set oauth.${what === "jwks_uri" ? "jwks_uri" : "introspection.endpoint"} to accept it`);
        }
      }
      return { jwksUri, introspectionEndpoint };
    })();
    state.info = info;
    info.catch((err: unknown) => {
      state.infoFailedAt = Date.now();
      logger.warn("cannot read the OAuth issuer's metadata; access tokens are answered 503 until it works", {
        issuer: cfg.issuer,
        error: (err as Error)?.message ?? String(err),
      });
    });
    return info;
  };
  // Start discovery now, so the first request does not wait for it (failures are retried).
  void issuerInfo().catch(() => undefined);

  // --- keys: jose's remote set, plus the last good set when the issuer is briefly unreachable ---
  const cooldownMs = (cfg.jwks_cooldown_s ?? 30) * 1000;
  const getKey: JWTVerifyGetKey = async (header, token) => {
    // A failed fetch is not tried again by every request: all wait for the same backoff (finding 9).
    const now = Date.now();
    if (now < state.failUntil) {
      if (state.lastGood) return createLocalJWKSet(state.lastGood)(header, token);
      throw new KeysUnavailable(Math.ceil((state.failUntil - now) / 1000));
    }
    if (!state.remote) {
      let jwksUri: string | undefined;
      try {
        ({ jwksUri } = await issuerInfo());
      } catch {
        // Logged where discovery failed (once per try, at most every few seconds), not per request.
        throw new KeysUnavailable(Math.ceil(DISCOVERY_RETRY_MS / 1000));
      }
      if (!jwksUri) throw new Error(`the issuer's metadata has no jwks_uri; set oauth.jwks_uri`);
      state.remote ??= createRemoteJWKSet(new URL(jwksUri), {
        cooldownDuration: cooldownMs,
        cacheMaxAge: (cfg.jwks_max_age_s ?? 600) * 1000,
        timeoutDuration: timeoutMs,
        [customFetch]: async (url: string, init: RequestInit) => {
          const res = await fetch(url, { ...init, redirect: "manual" });
          if (res.ok) {
            state.keysAt = Date.now();
            state.fresh = true;
          }
          return res;
        },
      });
    }
    const remote = state.remote;
    const fetchedBefore = state.keysAt;
    try {
      const key = await remote(header, token);
      noteKeys(state, remote);
      return key;
    } catch (err) {
      if (err instanceof errors.JOSEError && UNAUTHORISED.has(err.code)) {
        noteKeys(state, remote);
        // A key id the set does not hold while a new fetch is not allowed yet (the cooldown):
        // maybe a key the issuer has just started to sign with. Not a guess; retry after.
        if (err instanceof errors.JWKSNoMatchingKey && typeof header.kid === "string" && remote.coolingDown && state.keysAt === fetchedBefore) {
          const left = Math.max(1, Math.ceil((state.keysAt + cooldownMs - Date.now()) / 1000));
          throw new KeyNotYetKnown(Math.min(left, Math.ceil(cooldownMs / 1000)));
        }
        throw err;
      }
      state.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(MIN_BACKOFF_MS, state.backoffMs * 2));
      state.failUntil = Date.now() + state.backoffMs;
      if (!state.lastGood) throw err;
      logger.warn("cannot refresh the OAuth issuer's keys; using the last keys fetched", { error: (err as Error)?.message });
      return createLocalJWKSet(state.lastGood)(header, token);
    }
  };

  const verifyJwt = async (token: string): Promise<Verified> => {
    // Cheap checks on the unverified claims first: clearer answers, and a foreign token does not
    // make us fetch keys. Everything is checked again, verified, below.
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      return { ok: false, status: 401, message: "token is not a valid JWT" };
    }
    if (unverified.iss !== cfg.issuer) return { ok: false, status: 401, message: "token was issued by another issuer" };
    const aud = unverified.aud === undefined ? [] : Array.isArray(unverified.aud) ? unverified.aud : [unverified.aud];
    if (!aud.some((a) => audiences.includes(a))) {
      return { ok: false, status: 401, message: "token was issued for another audience (resource), not for this server" };
    }
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer: cfg.issuer,
        audience: audiences,
        algorithms,
        clockTolerance: skew,
        requiredClaims: ["exp"],
        // RFC 9068 §4: an access token, not an ID token or any other JWT the issuer signs
        ...(cfg.token_typ === "any" ? {} : { typ: "at+jwt" }),
      });
      const problem = lifetimeProblem(payload, skew, cfg.max_token_lifetime_s ?? DEFAULT_MAX_LIFETIME_S);
      if (problem) return { ok: false, status: 401, message: problem };
      return { ok: true, claims: payload as Claims, via: "jwt" };
    } catch (err) {
      if (err instanceof KeyNotYetKnown) {
        return {
          ok: false,
          status: 401,
          retryAfterS: err.retryAfterS,
          message: `token is signed with a key id this server has not fetched yet; the issuer's keys are fetched again in ${err.retryAfterS} s: retry then`,
        };
      }
      if (err instanceof errors.JOSEError && UNAUTHORISED.has(err.code)) return { ok: false, status: 401, message: describeJoseError(err) };
      // Logged once per failed fetch, not for every request waiting out its backoff.
      if (!(err instanceof KeysUnavailable)) {
        logger.warn("cannot verify an access token: the issuer's keys are unavailable", { error: (err as Error)?.message ?? String(err) });
      }
      return { ok: false, status: 503, message: "the identity provider's keys cannot be fetched right now; retry shortly" };
    }
  };

  // --- RFC 7662 introspection for opaque tokens, with a short cache keyed by the token's hash ---
  const cache = new Map<string, { claims: Claims; until: number }>();
  const cacheMs = (cfg.introspection?.cache_s ?? 30) * 1000;
  const introspect = async (token: string): Promise<Verified> => {
    const key = createHash("sha256").update(token).digest("base64url");
    const hit = cache.get(key);
    const now = Date.now();
    if (hit && hit.until > now) return { ok: true, claims: hit.claims, via: "introspection" };
    if (hit) cache.delete(key);
    let endpoint: string | undefined;
    try {
      endpoint = (await issuerInfo()).introspectionEndpoint;
    } catch {
      return { ok: false, status: 503, message: "the identity provider cannot be reached right now; retry shortly" };
    }
    if (!endpoint || !secret) return { ok: false, status: 503, message: "token introspection is not available (no endpoint or client secret)" };
    let answer: Record<string, unknown>;
    try {
      const basic = Buffer.from(`${encodeURIComponent(cfg.introspection!.client_id)}:${encodeURIComponent(secret)}`).toString("base64");
      const res = await fetchFn(endpoint, {
        method: "POST",
        headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: new URLSearchParams({ token, token_type_hint: "access_token" }).toString(),
      });
      if (!res.ok) throw new Error(`introspection answered HTTP ${res.status}`);
      answer = (await res.json()) as Record<string, unknown>;
    } catch (err) {
      logger.warn("token introspection failed", { error: (err as Error)?.message ?? String(err) });
      return { ok: false, status: 503, message: "the identity provider cannot be reached right now; retry shortly" };
    }
    const nowS = now / 1000;
    if (answer.active !== true) return { ok: false, status: 401, message: "token is not active (revoked, expired or unknown)" };
    if (answer.iss !== undefined && answer.iss !== cfg.issuer) return { ok: false, status: 401, message: "token was issued by another issuer" };
    const aud = answer.aud === undefined ? [] : Array.isArray(answer.aud) ? answer.aud : [answer.aud];
    if (!aud.some((a) => typeof a === "string" && audiences.includes(a))) {
      return { ok: false, status: 401, message: "token was issued for another audience (resource), not for this server" };
    }
    if (typeof answer.exp !== "number") return { ok: false, status: 401, message: "token claim exp is missing or invalid" };
    if (answer.exp + skew <= nowS) return { ok: false, status: 401, message: "token expired" };
    if (typeof answer.nbf === "number" && answer.nbf - skew > nowS) return { ok: false, status: 401, message: "token is not valid yet (nbf)" };
    const claims = { ...answer, iss: cfg.issuer } as Claims;
    if (cacheMs > 0) {
      if (cache.size >= 10_000) cache.delete(cache.keys().next().value!);
      cache.set(key, { claims, until: Math.min(now + cacheMs, (answer.exp + skew) * 1000) });
    }
    return { ok: true, claims, via: "introspection" };
  };

  return {
    audience,
    async verify(token) {
      if (looksLikeJwt(token)) return verifyJwt(token);
      if (cfg.introspection) return introspect(token);
      return { ok: false, status: 401, message: "token is not a JWT access token" };
    },
  };
}
