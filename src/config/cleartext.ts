/**
 * CO_API_URL over plain http:// to another machine sends the Cohere key in clear on every call.
 * Loopback (an emulator, a local proxy) is fine; anything else gets a warning at start-up.
 */
import { isIP } from "node:net";

function loopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^::ffff:127\./.test(h) || /^0*:(0*:){6}0*1$/.test(h);
  return false;
}

/** The warning to log for this Cohere base URL, or undefined when it is https:// or loopback. */
export function cleartextWarning(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined; // parseOptions reports a bad URL
  }
  if (u.protocol !== "http:" || loopback(u.hostname)) return undefined;
  return (
    `CO_API_URL is plain http:// to ${u.host}, not a loopback address: the Cohere key and every prompt travel in clear. ` +
    "Use https://, or a loopback proxy that speaks TLS to Cohere."
  );
}
