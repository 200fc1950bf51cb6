/**
 * The content hash of the effective configuration: the validated config (defaults filled in by
 * the schema) as canonical JSON — keys sorted at every level, no whitespace — hashed with
 * SHA-256, shown as its first 12 hex digits. Two replicas with the same hash decide alike; the
 * hash says nothing about the tokens or keys inside (a one-way digest of the whole document).
 */
import { createHash } from "node:crypto";

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? "null" : canonicalJson(x))).join(",")}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
}

export const HASH_CHARS = 12;

export function configHash(config: unknown): string {
  return createHash("sha256").update(canonicalJson(config ?? null)).digest("hex").slice(0, HASH_CHARS);
}
