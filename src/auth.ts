/**
 * Agent credentials for HTTP: each agent has a bearer token, configured either as its SHA-256
 * (hex) or as the name of an environment variable holding it — never as plain text in the file.
 *
 * A presented token is hashed and compared with every agent's hash using crypto.timingSafeEqual
 * (equal-length digests, no early exit), so neither the comparison nor the loop leaks how much
 * of a token was right. Tokens are secrets: the ones the server knows (from the environment, or
 * learned when an agent first authenticates) are handed to the logger and the audit sink for
 * redaction.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError, type AgentConfig } from "./config/file.js";

export interface Agent {
  name: string;
  profile: string;
}

export type AuthFailure = "missing" | "malformed" | "invalid";

export type AuthResult =
  | { ok: true; agent: Agent }
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
}

export const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;
/** The characters of a bearer token (RFC 6750 b64token). */
export const TOKEN_CHARS = /^[A-Za-z0-9\-._~+/]+=*$/;

export function createAuthenticator(
  configs: readonly AgentConfig[],
  env: NodeJS.ProcessEnv,
  /** Told each plain token the process learns, so a logger can redact it at once. */
  onSecret: (token: string) => void = () => undefined,
): Authenticator {
  const entries: Entry[] = [];
  const known = new Set<string>();
  const problems: string[] = [];
  for (const c of configs) {
    let digest: Buffer;
    if (c.token_sha256) {
      digest = Buffer.from(c.token_sha256.toLowerCase(), "hex");
    } else {
      const name = c.token_env!;
      const token = env[name];
      if (!token) {
        problems.push(`agent "${c.name}": environment variable ${name} is not set or empty`);
        continue;
      }
      if (token.length < MIN_TOKEN_LENGTH || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
        problems.push(
          `agent "${c.name}": the token in ${name} must be at least ${MIN_TOKEN_LENGTH} characters of ` +
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
      problems.push(`agents "${clash.agent.name}" and "${c.name}" have the same token; give each agent its own`);
      continue;
    }
    entries.push({ agent: { name: c.name, profile: c.profile }, digest });
  }
  if (problems.length) throw new ConfigError(`Agent credentials are not usable:\n  - ${problems.join("\n  - ")}`);

  return {
    agents: entries.map((e) => e.agent),
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
      // Learn the plain token of a hash-configured agent so it is redacted from now on.
      if (!known.has(token)) {
        known.add(token);
        onSecret(token);
      }
      return { ok: true, agent: match.agent };
    },
    secrets: () => [...known],
  };
}
