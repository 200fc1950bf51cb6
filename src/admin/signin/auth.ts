/**
 * Who may use the console: the config's `admins`, each with a sign-in token declared by its
 * SHA-256 (or an environment variable), compared like agents' tokens (every digest, constant
 * time). The table is rebuilt from the current configuration when it changes.
 */
import { timingSafeEqual } from "node:crypto";
import type { App } from "../../runtime/app.js";
import type { AdminRole } from "../../config/admins.js";
import { ConfigError, type ConfigFile } from "../../config/file.js";
import { hashFromEnv, sha256 } from "../../identity/static.js";

export interface Admin {
  name: string;
  role: AdminRole;
  /** How this sign-in was proven: a token (its label) or the identity provider. */
  via: string;
}

interface Entry {
  admin: Admin;
  digest: Buffer;
}

export interface AdminTable {
  /** The admin whose token this is, or undefined. */
  check(token: string): Admin | undefined;
  readonly size: number;
}

export function buildAdminTable(config: ConfigFile | undefined, env: NodeJS.ProcessEnv, addSecret: (s: string) => void): AdminTable {
  const entries: Entry[] = [];
  for (const a of config?.admins ?? []) {
    const tokens: Array<{ sha256?: string; env?: string; sha256_env?: string; label?: string }> = a.tokens
      ? a.tokens
      : a.token_sha256
        ? [{ sha256: a.token_sha256, label: "token" }]
        : a.token_env
          ? [{ env: a.token_env, label: "token" }]
          : a.token_sha256_env
            ? [{ sha256_env: a.token_sha256_env, label: "token" }]
            : [];
    tokens.forEach((t, i) => {
      const label = t.label ?? `token ${i + 1}`;
      let digest: Buffer;
      if (t.sha256) digest = Buffer.from(t.sha256.toLowerCase(), "hex");
      else if (t.sha256_env) {
        const got = hashFromEnv(env, t.sha256_env);
        if ("problem" in got) throw new ConfigError(`admin "${a.name}": ${got.problem}`);
        digest = got.digest;
      } else {
        const value = env[t.env!];
        if (!value) throw new ConfigError(`admin "${a.name}": environment variable ${t.env} is not set or empty`);
        addSecret(value);
        digest = sha256(value);
      }
      entries.push({ admin: { name: a.name, role: a.role, via: label }, digest });
    });
  }
  return {
    size: entries.length,
    check(token) {
      if (!token || token.length > 512) return undefined;
      const presented = sha256(token);
      let match: Entry | undefined;
      for (const e of entries) if (timingSafeEqual(presented, e.digest) && !match) match = e;
      if (match) addSecret(token);
      return match ? { ...match.admin } : undefined;
    },
  };
}

/** Why the console cannot start with this configuration, or undefined. */
export function adminProblem(config: ConfigFile | undefined): string | undefined {
  const admins = config?.admins ?? [];
  const rules = config?.oauth?.admin_rules ?? [];
  if (!admins.length && !rules.length) {
    return (
      "--admin-port needs at least one admin: add \"admins\": [{ \"name\": \"team-lead\", \"role\": \"admin\", \"token_sha256\": \"<sha256 of a token>\" }] " +
      "to the --config file (or oauth.admin_rules for single sign-on); see docs/console.md"
    );
  }
  return undefined;
}

/** The admin table of the current configuration (rebuilt when the configuration changes). */
export function liveAdmins(app: App, env: NodeJS.ProcessEnv): () => AdminTable {
  return app.live.derive("admins", (gen) => buildAdminTable(gen.config, env, (s) => app.addSecret(s)));
}
