/**
 * The Cohere keys of one configuration: each `cohere_keys` entry read from its environment
 * variable, with its type, its effective limits and the client that calls Cohere with it. A
 * profile picks one by name; without `cohere_key` an agent uses the key in CO_API_KEY (the
 * declared entry whose env is CO_API_KEY, or the process's key as "default").
 *
 * Key values are secrets: handed to `addSecret` at once, never logged, audited or returned.
 * Counters are keyed by a short hash of the value, so every config name (and every replica)
 * that uses the same Cohere key shares its limits.
 */
import { createHash } from "node:crypto";
import type { CohereClient } from "./client.js";
import { ConfigError, type ConfigFile } from "../config/file.js";
import {
  COHERE_ENDPOINTS,
  DEFAULT_KEY_WAIT_MS,
  DEFAULT_PER_MINUTE,
  DEFAULT_PER_MONTH,
  type CohereEndpoint,
  type KeyType,
} from "../config/keys.js";

export interface CohereKey {
  /** Config name ("default" for the process's key when no entry names CO_API_KEY). */
  name: string;
  /** Declared in cohere_keys (its name appears in the audit). */
  declared: boolean;
  env?: string;
  type?: KeyType;
  /** Short hash of the value: the counters' name for this key. */
  id: string;
  client: CohereClient;
  /** Effective per-minute limits and which came from the config rather than Cohere's table. */
  perMinute: Partial<Record<CohereEndpoint, number>>;
  overridden: ReadonlySet<string>;
  perMonth?: number;
  maxWaitMs: number;
}

export interface KeyRing {
  /** Declared keys by name. */
  byName: ReadonlyMap<string, CohereKey>;
  /** The key of agents whose profile picks none. */
  fallback: CohereKey;
  forProfile(profile: string | undefined): CohereKey;
}

export interface KeyRingDeps {
  env: NodeJS.ProcessEnv;
  /** The process's own key (CO_API_KEY or COHERE_API_KEY) and where it came from. */
  apiKey?: string;
  apiKeySource?: string;
  /** The client for a key value (cached by the app, so pools live across reloads). */
  clientFor(value: string | undefined): CohereClient;
  addSecret(value: string): void;
}

export const keyId = (value: string | undefined) =>
  value ? createHash("sha256").update(value, "utf8").digest("hex").slice(0, 16) : "none";

const missingKey = (name: string, env: string) => `cohere_keys.${name}: environment variable ${env} is not set or empty`;

/** Profiles naming a cohere_key that is not declared. */
function profileKeyProblems(config: ConfigFile | undefined): string[] {
  const problems: string[] = [];
  for (const [name, p] of Object.entries(config?.profiles ?? {})) {
    if (p.cohere_key !== undefined && !Object.hasOwn(config?.cohere_keys ?? {}, p.cohere_key)) {
      const names = Object.keys(config?.cohere_keys ?? {});
      problems.push(`profiles.${name}.cohere_key: no cohere_keys entry named "${p.cohere_key}" (keys: ${names.join(", ") || "none"})`);
    }
  }
  return problems;
}

/** Everything buildKeyRing would refuse, without building it (src/config/validate.ts). */
export function keyRingProblems(config: ConfigFile | undefined, env: NodeJS.ProcessEnv | undefined): string[] {
  const missing = Object.entries(config?.cohere_keys ?? {})
    .filter(([, k]) => env !== undefined && !env[k.env])
    .map(([name, k]) => missingKey(name, k.env));
  return [...missing, ...profileKeyProblems(config)];
}

export function buildKeyRing(config: ConfigFile | undefined, deps: KeyRingDeps): KeyRing {
  const byName = new Map<string, CohereKey>();
  const problems: string[] = [];
  for (const [name, k] of Object.entries(config?.cohere_keys ?? {})) {
    const value = deps.env[k.env] || undefined;
    if (!value) {
      problems.push(missingKey(name, k.env));
      continue;
    }
    deps.addSecret(value);
    const perMinute: Partial<Record<CohereEndpoint, number>> = { ...DEFAULT_PER_MINUTE[k.type] };
    const overridden = new Set<string>();
    for (const e of COHERE_ENDPOINTS) {
      const v = k.per_minute?.[e];
      if (v !== undefined) {
        perMinute[e] = v;
        overridden.add(e);
      }
    }
    if (k.per_month !== undefined) overridden.add("per_month");
    byName.set(name, {
      name,
      declared: true,
      env: k.env,
      type: k.type,
      id: keyId(value),
      client: deps.clientFor(value),
      perMinute,
      overridden,
      perMonth: k.per_month ?? DEFAULT_PER_MONTH[k.type],
      maxWaitMs: k.max_wait_ms ?? DEFAULT_KEY_WAIT_MS,
    });
  }
  problems.push(...profileKeyProblems(config));
  if (problems.length) throw new ConfigError(`Cohere keys are not usable:\n  - ${problems.join("\n  - ")}`);

  const sourceEnv = deps.apiKeySource ?? "CO_API_KEY";
  const fallback =
    [...byName.values()].find((k) => k.env === sourceEnv) ??
    [...byName.values()].find((k) => k.env === "CO_API_KEY") ?? {
      name: "default",
      declared: false,
      env: deps.apiKeySource,
      id: keyId(deps.apiKey),
      client: deps.clientFor(deps.apiKey),
      perMinute: {},
      overridden: new Set<string>(),
      maxWaitMs: 0,
    };
  return {
    byName,
    fallback,
    forProfile(profile) {
      const name = profile ? config?.profiles[profile]?.cohere_key : undefined;
      return (name !== undefined ? byName.get(name) : undefined) ?? fallback;
    },
  };
}
