/** Small parsers shared by the flag modules: integers with a floor, boolean env values. */
import { ConfigError } from "./file.js";

export function intOpt(name: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`}, got "${value.slice(0, 40)}"`);
  }
  return n;
}

/** A boolean environment variable: 1/true/yes/on or 0/false/no/off (any case), empty or unset is false; anything else stops the start. */
export function boolEnv(v: string | undefined, name = "a boolean environment variable"): boolean {
  if (v === undefined) return false;
  const t = v.trim();
  if (/^(1|true|yes|on)$/i.test(t)) return true;
  if (t === "" || /^(0|false|no|off)$/i.test(t)) return false;
  throw new ConfigError(`${name} must be true or false (1/0, yes/no, on/off), got "${t.slice(0, 40)}"`);
}

/** A TCP port (0-65535; 0 picks a free one). */
export function portOpt(name: string, value: string | undefined, fallback: number): number {
  const n = intOpt(name, value, fallback, 0);
  if (n > 65535) throw new ConfigError(`${name} must be a port number (0-65535), got "${value}"`);
  return n;
}
