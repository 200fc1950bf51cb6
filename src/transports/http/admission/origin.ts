/**
 * Host, Origin and bind-address checks (pure; unit-tested). DNS-rebinding protection: a request
 * whose Host or Origin is not on the allowlist is refused before anything else is looked at.
 */
import net from "node:net";
import { plainAddress } from "../../../config/proxies.js";

const DEFAULT_HOSTS = ["localhost", "127.0.0.1", "[::1]"];
const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** Is this bind address reachable only from this machine? */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1") return true;
  const v4 = plainAddress(h);
  return net.isIPv4(v4) && v4.startsWith("127.");
}

/** `example.com:8080` → {name: "example.com", port: "8080"}; `[::1]:3000` → {name: "[::1]", port: "3000"}. */
export function splitHost(value: string): { name: string; port?: string } {
  const v = value.trim().toLowerCase();
  if (v.startsWith("[")) {
    const end = v.indexOf("]");
    if (end < 0) return { name: v };
    const rest = v.slice(end + 1);
    if (rest && !rest.startsWith(":")) return { name: "" };
    return { name: v.slice(0, end + 1), port: rest ? rest.slice(1) : undefined };
  }
  const i = v.lastIndexOf(":");
  if (i >= 0 && v.indexOf(":") === i) return { name: v.slice(0, i), port: v.slice(i + 1) };
  return { name: v };
}

/**
 * Host header check. Entries are `name` (any port), `name:port`, or `*` (any Host: only for
 * servers behind a proxy that sets it, with agents configured). Default: loopback names.
 */
export function hostAllowed(header: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (!header) return false;
  const got = splitHost(header);
  if (!got.name || (got.port !== undefined && !/^\d{1,5}$/.test(got.port))) return false;
  for (const entry of allowed ?? DEFAULT_HOSTS) {
    if (entry === "*") return true;
    const want = splitHost(entry);
    if (want.name === got.name && (want.port === undefined || want.port === got.port)) return true;
  }
  return false;
}

export function normaliseOrigin(value: string): string | undefined {
  try {
    const u = new URL(value);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    return u.origin;
  } catch {
    return undefined;
  }
}

/**
 * Origin header check. No Origin (not a browser) passes. Default: http(s) origins on a loopback
 * name, any port. Configured: exact origins (`https://app.example.com`).
 */
export function originAllowed(header: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (header === undefined) return true;
  const origin = normaliseOrigin(header);
  if (!origin) return false; // "null", file:, garbage
  if (!allowed) return LOOPBACK_NAMES.has(new URL(origin).hostname);
  return allowed.some((a) => normaliseOrigin(a) === origin);
}


/** CORS headers for an allowed browser origin (none for non-browser clients): the origin as
 *  normalised (`http://localhost:3000`), never the raw header (`http://localhost:3000/x?y`). */
export function corsHeaders(header: string | undefined): Record<string, string> {
  const origin = header === undefined ? undefined : normaliseOrigin(header);
  return origin
    ? {
        "Access-Control-Allow-Origin": origin,
        Vary: "Origin",
        "Access-Control-Expose-Headers": "Mcp-Session-Id, WWW-Authenticate, Retry-After",
      }
    : {};
}
