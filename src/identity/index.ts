/**
 * Who is calling over HTTP, whatever the credential: one Identity type for static-token agents
 * (src/identity/static.ts) and OAuth agents (src/oauth/), used by the rest of the HTTP layer (scopes,
 * sessions, audit).
 *
 * The credential decides the path: a bearer value is first compared (in constant time) with the
 * static agents' token hashes; only a value that is no static token goes to the OAuth verifier.
 * A static token can never pass as a JWT (it would have to verify against the issuer's keys),
 * and a JWT can never pass as a static token (it would have to equal one, which start-up
 * refuses: a static token may not look like a JWT when oauth is configured).
 */
import { BEARER, type Agent, type Authenticator } from "./static.js";
import type { Access } from "../catalog/types.js";
import type { AuditClaims } from "../audit/index.js";
import type { OAuthResource } from "../oauth/index.js";

export const ALL_CLASSES: ReadonlySet<Access> = new Set<Access>(["read", "write", "destructive"]);

export interface Identity {
  kind: "static" | "oauth" | "anonymous";
  /** The agent name: audit lines, rate limits, logs. */
  agent: string;
  /** The agent's profile (its ceiling); undefined for the anonymous agent without --profile. */
  profile?: string;
  /** Sessions belong to this: another owner's request on the session is refused. */
  owner: string;
  /** Access classes the credential grants (static and anonymous: all; OAuth: by scope). */
  classes: ReadonlySet<Access>;
  /** OAuth: the token's scopes. */
  scopes?: readonly string[];
  /** OAuth: sub, client_id, jti for the audit (never the token). */
  claims?: AuditClaims;
}

/** A refused credential: 401 (none, or not valid), 403 (valid, but not allowed here), 503 (cannot check now). */
export interface Refusal {
  ok: false;
  status: 401 | 403 | 503;
  reason: "missing" | "malformed" | "invalid" | "expired" | "unknown_key" | "forbidden" | "insufficient_scope" | "unavailable";
  message: string;
  /** Retry-After (s): a 503, or a 401 for a key id not fetched yet (unknown_key: not a guess). */
  retryAfterS?: number;
  /** The WWW-Authenticate value, when not the plain static-token one ("": none). */
  challenge?: string;
  /** 403: the mapped agent (or the claim's value), for the audit. */
  agent?: string;
  claims?: AuditClaims;
}

export type IdentityResult = { ok: true; identity: Identity } | Refusal;

export interface IdentityAuthenticator {
  /** Static-token agents. */
  readonly agents: readonly Agent[];
  readonly oauth?: OAuthResource;
  authenticate(authorization: string | undefined): Promise<IdentityResult>;
  /** Plain secrets known to this process, for redaction. */
  secrets(): string[];
}

/** A static agent; `label`: which of its tokens (agents with `tokens`), named in the audit. */
export function staticIdentity(agent: Agent, label?: string): Identity {
  const id: Identity = { kind: "static", agent: agent.name, profile: agent.profile, owner: `static\u0000${agent.name}`, classes: ALL_CLASSES };
  if (label !== undefined) id.claims = { token_label: label };
  return id;
}

export function anonymousIdentity(name: string, profile: string | undefined): Identity {
  return { kind: "anonymous", agent: name, profile, owner: `anonymous\u0000${name}`, classes: ALL_CLASSES };
}

export function createIdentityAuthenticator(staticAuth: Authenticator, oauth?: OAuthResource): IdentityAuthenticator {
  return {
    agents: staticAuth.agents,
    oauth,
    async authenticate(header) {
      const s = staticAuth.authenticate(header);
      if (s.ok) return { ok: true, identity: staticIdentity(s.agent, s.label) };
      if (!oauth) return { ok: false, status: 401, reason: s.reason, message: s.message };
      if (s.reason !== "invalid") {
        return {
          ok: false,
          status: 401,
          reason: s.reason,
          message: s.message,
          // No error code without a token (RFC 6750 §3.1); the scopes a client should ask for.
          challenge:
            s.reason === "missing"
              ? oauth.challenge({ scope: oauth.allScopes })
              : oauth.challenge({ error: "invalid_token", description: s.message }),
        };
      }
      return oauth.authenticate(BEARER.exec(header!)![1]!);
    },
    secrets: () => [...staticAuth.secrets(), ...(oauth?.secrets() ?? [])],
  };
}

/** A refusal that counts as a guessed credential (for the failed-authentication throttle): a 401. */
export function isGuess(r: Refusal): r is Refusal & { reason: "missing" | "malformed" | "invalid" | "expired" } {
  return r.status === 401 && (r.reason === "missing" || r.reason === "malformed" || r.reason === "invalid" || r.reason === "expired");
}
