/**
 * The policy as a config document for the browser: every token hash removed (and said so).
 * `cohere-mcp policy export` (src/cli/policy-export.ts) writes the whole document instead — it is
 * the operator's file.
 */
const HASH_FIELDS = new Set(["token_sha256", "sha256"]);

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (HASH_FIELDS.has(k)) continue;
      out[k] = strip(x);
    }
    return out;
  }
  return v;
}

export function exportPolicy(raw: Record<string, unknown>, version: string, where: string) {
  return {
    version,
    where,
    token_hashes_removed: true,
    note: "Token hashes (agents' and admins' token_sha256 / sha256) are removed from this copy. `cohere-mcp policy export --config FILE [--store URL]` writes the complete document.",
    config: strip(raw),
  };
}
