/**
 * Agent credentials for HTTP: each agent has a bearer token, configured as its SHA-256 (hex), as
 * the name of an environment variable holding it, or as the name of an environment variable
 * holding its SHA-256 (a Kubernetes Secret of hashes) — never as plain text in the file.
 *
 * A presented token is hashed and compared with every agent's hash using crypto.timingSafeEqual
 * (equal-length digests, no early exit), so neither the comparison nor the loop leaks how much
 * of a token was right. Tokens are secrets: the ones the server knows (from the environment, or
 * learned when an agent first authenticates) are handed to the logger and the audit sink for
 * redaction.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError, type AgentConfig } from "../config/file.js";

export interface Agent {
  name: string;
  profile: string;
}

export type AuthFailure = "missing" | "malformed" | "invalid" | "expired";

export type AuthResult =
  /** `label`: the matched token's label (agents with `tokens`), for the audit. */
  | { ok: true; agent: Agent; label?: string }
  | { ok: false; reason: AuthFailure; message: string };

export interface Authenticator {
  readonly agents: readonly Agent[];
  /** Check an `Authorization` header value. */
  authenticate(authorization: string | undefined): AuthResult;
  /** Plain tokens known to this process, for redaction. */
  secrets(): string[];
}

/** Shortest token accepted from an environment variable. */
export const MIN_TOKEN_LENGTH = 16;

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

export function sha256Hex(text: string): string {
  return sha256(text).toString("hex");
}

interface Entry {
  agent: Agent;
  digest: Buffer;
  label?: string;
  /** ms since epoch: refused from then on. */
  notAfter?: number;
}

interface Credential {
  sha256?: string;
  env?: string;
  sha256_env?: string;
  label?: string;
  not_after?: string;
}

/** An agent's credentials, one per token: token_sha256 / token_env / token_sha256_env, then each of `tokens`. */
function credentialsOf(c: AgentConfig): Credential[] {
  const out: Credential[] = [];
  if (c.token_sha256) out.push({ sha256: c.token_sha256 });
  if (c.token_env) out.push({ env: c.token_env });
  if (c.token_sha256_env) out.push({ sha256_env: c.token_sha256_env });
  for (const t of c.tokens ?? []) out.push(t);
  return out;
}

const HEX_SHA256 = /^[A-Fa-f0-9]{64}$/;

/**
 * A token's SHA-256 read from the environment variable `name` (token_sha256_env / sha256_env):
 * 64 hex digits, either case, surrounding whitespace ignored (a file-made Secret's newline). The
 * problem names the variable, never its value.
 */
export function hashFromEnv(env: NodeJS.ProcessEnv, name: string): { digest: Buffer } | { problem: string } {
  const value = env[name]?.trim();
  if (!value) return { problem: `environment variable ${name} is not set or empty` };
  if (!HEX_SHA256.test(value)) {
    return {
      problem: `environment variable ${name} does not hold a token's SHA-256 (64 hex digits; \`cohere-mcp hash-token\` makes one from the token)`,
    };
  }
  return { digest: Buffer.from(value.toLowerCase(), "hex") };
}

export const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;
/** The characters of a bearer token (RFC 6750 b64token). */
export const TOKEN_CHARS = /^[A-Za-z0-9\-._~+/]+=*$/;

export function createAuthenticator(
  configs: readonly AgentConfig[],
  env: NodeJS.ProcessEnv,
  /** Told each plain token the process learns, so a logger can redact it at once. */
  onSecret: (token: string) => void = () => undefined,
  opts: { now?: () => number } = {},
): Authenticator {
  const now = opts.now ?? Date.now;
  const entries: Entry[] = [];
  const known = new Set<string>();
  const problems: string[] = [];
  for (const c of configs) {
    for (const cred of credentialsOf(c)) {
      const who = cred.label !== undefined ? `agent "${c.name}", token "${cred.label}"` : `agent "${c.name}"`;
      let digest: Buffer;
      if (cred.sha256) {
        digest = Buffer.from(cred.sha256.toLowerCase(), "hex");
      } else if (cred.sha256_env) {
        const got = hashFromEnv(env, cred.sha256_env);
        if ("problem" in got) {
          problems.push(`${who}: ${got.problem}`);
          continue;
        }
        digest = got.digest;
      } else {
        const name = cred.env!;
        const token = env[name];
        if (!token) {
          problems.push(`${who}: environment variable ${name} is not set or empty`);
          continue;
        }
        if (token.length < MIN_TOKEN_LENGTH || !TOKEN_CHARS.test(token)) {
          problems.push(
            `${who}: the token in ${name} must be at least ${MIN_TOKEN_LENGTH} characters of ` +
              "A-Z a-z 0-9 - . _ ~ + / (e.g. `openssl rand -hex 32`)",
          );
          continue;
        }
        known.add(token);
        onSecret(token);
        digest = sha256(token);
      }
      const clash = entries.find((e) => timingSafeEqual(e.digest, digest));
      if (clash) {
        problems.push(
          clash.agent.name === c.name
            ? `agent "${c.name}" has the same token twice`
            : `agents "${clash.agent.name}" and "${c.name}" have the same token; give each agent its own`,
        );
        continue;
      }
      const notAfter = cred.not_after !== undefined ? Date.parse(cred.not_after) : undefined;
      entries.push({ agent: { name: c.name, profile: c.profile }, digest, label: cred.label, notAfter });
    }
  }
  if (problems.length) throw new ConfigError(`Agent credentials are not usable:\n  - ${problems.join("\n  - ")}`);

  const agents = [...new Map(entries.map((e) => [e.agent.name, e.agent])).values()];
  return {
    agents,
    authenticate(header) {
      if (header === undefined || header.trim() === "") {
        return { ok: false, reason: "missing", message: "missing bearer token" };
      }
      const m = BEARER.exec(header);
      if (!m) return { ok: false, reason: "malformed", message: "Authorization is not a Bearer token" };
      const token = m[1]!;
      const presented = sha256(token);
      let match: Entry | undefined;
      for (const e of entries) {
        // Every entry is compared, whatever matched before.
        if (timingSafeEqual(presented, e.digest) && !match) match = e;
      }
      if (!match) return { ok: false, reason: "invalid", message: "unknown bearer token" };
      if (match.notAfter !== undefined && now() >= match.notAfter) {
        const what = match.label !== undefined ? `token "${match.label}"` : "token";
        return {
          ok: false,
          reason: "expired",
          message: `The bearer token has expired: this agent's ${what} was valid until ${new Date(match.notAfter).toISOString()}. Ask the operator for its current token.`,
        };
      }
      // Learn the plain token of a hash-configured agent so it is redacted from now on.
      if (!known.has(token)) {
        known.add(token);
        onSecret(token);
      }
      return match.label !== undefined ? { ok: true, agent: match.agent, label: match.label } : { ok: true, agent: match.agent };
    },
    secrets: () => [...known],
  };
}
