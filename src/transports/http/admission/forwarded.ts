/**
 * Who the client is behind a load balancer (--trusted-proxies). The per-address limits (the
 * failed-login throttle, /readyz details, the audit's `remote`) use the client address:
 *
 *  - a request whose socket does not come from a trusted proxy: the socket's peer address, and
 *    X-Forwarded-For is ignored (anyone can write that header);
 *  - from a trusted proxy: X-Forwarded-For read from the right, skipping the trusted proxies'
 *    own addresses; the first address that is not a trusted proxy is the client (the proxy
 *    appended it, so the client cannot forge it). When every address is a trusted proxy, the
 *    left-most one. A header with an entry that is not an IP address, met before the client is
 *    found, is ignored whole (the peer address is used).
 *
 * The connection cap (clients.ts) counts per peer socket, and not at all for trusted proxies.
 */
import type { IncomingMessage } from "node:http";
import net from "node:net";
import { plainAddress } from "../../../config/proxies.js";

/** One X-Forwarded-For entry as an address: `a.b.c.d`, `a.b.c.d:port`, `::1`, `[::1]`, `[::1]:port`; undefined otherwise. */
export function forwardedAddress(entry: string): string | undefined {
  let e = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(e);
  if (bracketed) e = bracketed[1]!;
  else if (/^[\d.]+:\d{1,5}$/.test(e)) e = e.slice(0, e.lastIndexOf(":"));
  e = plainAddress(e);
  return net.isIP(e) ? e : undefined;
}

/** The client address of a request from `peer` carrying `header` (X-Forwarded-For), under `trusted`. */
export function clientAddress(peer: string, header: string | undefined, trusted: (address: string) => boolean): string {
  const from = plainAddress(peer);
  if (header === undefined || !trusted(from)) return from;
  const hops = header.split(",");
  let leftmost: string | undefined;
  for (let i = hops.length - 1; i >= 0; i--) {
    const address = forwardedAddress(hops[i]!);
    if (address === undefined) return from; // malformed: ignored whole
    if (!trusted(address)) return address;
    leftmost = address;
  }
  return leftmost ?? from;
}

/** The peer address of a request's socket ("unknown" once the socket is gone). */
export function peerOf(req: IncomingMessage): string {
  return plainAddress(req.socket.remoteAddress ?? "unknown");
}
