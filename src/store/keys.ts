/**
 * Counter keys are `:`-separated paths (`rl:<agent>:tool:<tool>:minute`). Every part that comes
 * from outside (an agent name an OAuth claim chose, a tool name, a client address, a key's
 * config name) goes through `keyPart`, so no value can spell another key: `%` and `:` are
 * percent-encoded, and nothing else changes (a plain name keeps the key it always had, so
 * counters survive an upgrade).
 */
export function keyPart(value: string): string {
  return /[%:]/.test(value) ? value.replace(/%/g, "%25").replace(/:/g, "%3A") : value;
}
