/**
 * What a network client may cost before it has proved who it is (issue 8, findings 9 and 13):
 * a request target that is not a URL is a 400 (not a 500), one address may hold at most
 * --max-connections-per-address connections, and /readyz names the upstream host only to a
 * loopback caller or one with a valid token (the client address: behind a trusted proxy, the
 * one X-Forwarded-For names, forwarded.ts).
 */
import type http from "node:http";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { isGuess, type IdentityAuthenticator } from "../../../identity/index.js";
import type { Logger } from "../../../runtime/logger.js";
import type { AuthThrottle } from "./auththrottle.js";
import { plainAddress } from "../../../config/proxies.js";
import { headerValue, remoteOf } from "../io.js";
import { isLoopbackHost } from "./origin.js";

/** The request's URL, or undefined when its target does not parse (`POST http://[`). */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? "/", "http://localhost");
  } catch {
    return undefined;
  }
}

/**
 * Refuse connections past `max` open ones from the same address: a short 429 and close, before
 * any request on it is read. Counts are of this process's sockets, per peer address: behind a
 * load balancer that is the balancer's, so the connections of a trusted proxy (--trusted-proxies)
 * are not counted (the balancer bounds its own; counting them would lock every client out).
 */
export function capConnectionsPerAddress(server: http.Server, max: number, log: Logger, trusted: (address: string) => boolean = () => false): void {
  const open = new Map<string, number>();
  const warned = new Map<string, number>();
  const body = JSON.stringify({
    jsonrpc: "2.0",
    error: { code: -32000, message: `Too many connections from this address (more than ${max}, --max-connections-per-address); reuse or close some` },
    id: null,
  });
  const refusal =
    "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  server.on("connection", (socket: Socket) => {
    const address = plainAddress(socket.remoteAddress ?? "unknown");
    if (trusted(address)) return;
    const n = (open.get(address) ?? 0) + 1;
    if (n > max) {
      const now = Date.now();
      if ((warned.get(address) ?? 0) < now - 60_000) {
        if (warned.size >= 10_000) warned.clear();
        warned.set(address, now);
        log.warn("refused connections past --max-connections-per-address (logged once a minute per address)", { remote: address, max });
      }
      socket.pause(); // read nothing from it: no request reaches the handler
      socket.end(refusal);
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    open.set(address, n);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/**
 * May this /readyz caller see details (the upstream host, DNS answers, errors)? A loopback
 * caller, or one with a valid token. A wrong token here counts as a failed authentication, so
 * the probe is no way round the throttle (a valid token that is refused, 403, or one the issuer
 * cannot check now, 503, does not count, as on /mcp).
 */
export async function probeDetail(req: IncomingMessage, auth: IdentityAuthenticator | undefined, throttle: AuthThrottle | undefined): Promise<boolean> {
  const remote = remoteOf(req);
  if (isLoopbackHost(remote)) return true;
  const header = headerValue(req, "authorization");
  if (!auth || header === undefined) return false;
  const verdict = await auth.authenticate(header);
  if (verdict.ok) return true;
  // as on /mcp: only a guess (401) counts, not a valid token refused (403) or an issuer down (503)
  if (isGuess(verdict) && verdict.reason !== "missing") await throttle?.count(remote, header).catch(() => false);
  return false;
}
