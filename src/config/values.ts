/** Small parsers shared by the flag modules: integers with a floor, boolean env values. */
import { ConfigError } from "./file.js";

export function intOpt(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

export function boolEnv(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
}
