/**
 * Graceful shutdown: on SIGTERM or SIGINT stop accepting, let in-flight calls finish for up to
 * --shutdown-grace-ms, cancel what is left, close sessions, and exit 0. A second signal exits at
 * once. Open keep-alive connections are left for their peers to close (see below), so that a
 * replica behind a load balancer leaves without failing a request.
 */
import type http from "node:http";
import net from "node:net";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../runtime/app.js";
import type { InFlightRequests } from "./inflight.js";
import type { SessionTable } from "./legacy/sessions.js";
import { DRAINING_RETRY_AFTER_S, headerValue, remoteOf, rpcError, sendJson } from "./io.js";
import { mayClaimModern, type ModernLeg } from "./modern/handler.js";

/**
 * While draining, in --sessions mode, a request that would open a session (any legacy request
 * without Mcp-Session-Id: initialize, or one the SDK would refuse for want of a session) is
 * answered 503 with Retry-After before anything else is done with it: no credential check, no
 * body read, no audit line, no session. A session opened now would die with this process a few
 * seconds later and its client would find it gone (404) on its next request. A load balancer
 * retries the 503 on another replica (deploy/nginx/cohere-mcp.conf); /readyz already says not
 * ready. Requests of sessions this replica holds are served until the drain ends, and so is a
 * request of the modern era (2026-07-28, no sessions) and, in stateless mode, everything (no
 * state is left behind). Answered: true when it refused.
 */
export function refuseNewSessionWhileDraining(app: App, req: IncomingMessage, res: ServerResponse): boolean {
  const o = app.options;
  if (!o.sessions || !o.eras.has("legacy") || headerValue(req, "mcp-session-id") !== undefined) return false;
  // A modern-era request says so in its protocol header (or only in its body: that one is refused
  // too, harmlessly, since it is retried elsewhere and did nothing here).
  if (o.eras.has("modern") && mayClaimModern(headerValue(req, "mcp-protocol-version"), undefined)) return false;
  app.logger.info("refused a new session: shutting down", { method: req.method, remote: remoteOf(req) });
  sendJson(
    res,
    503,
    rpcError(-32000, "Service Unavailable: this server is shutting down and opens no new sessions; retry (another replica will answer)"),
    { "Retry-After": String(DRAINING_RETRY_AFTER_S), Connection: "close" },
  );
  return true;
}

export function installShutdown(
  app: App,
  httpServer: http.Server,
  requests: InFlightRequests,
  sessions: SessionTable | undefined,
  modern?: Pick<ModernLeg, "endStreams">,
): () => Promise<void> {
  const o = app.options;
  const log = app.logger;
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    if (shuttingDown) return shuttingDown;
    requests.draining = true;
    shuttingDown = (async () => {
      log.info("shutting down: no new requests; waiting for in-flight calls", {
        inFlight: requests.size,
        graceMs: o.shutdownGraceMs,
      });
      // Stop accepting, but do not close idle keep-alive connections (http.Server.close would):
      // a load balancer may be writing a request on one right now, and a POST it already sent is
      // not retried elsewhere. Requests still arriving on them are served with Connection: close
      // (index.ts); idle ones end when the peer closes them (nginx after its keepalive_timeout,
      // deploy/nginx/cohere-mcp.conf: 4 s) or, at the latest, when the wait below is over.
      const started = Date.now();
      const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(httpServer, () => resolve()));
      sessions?.closeStreams();
      modern?.endStreams(); // modern clients' subscriptions/listen streams
      await requests.drain(o.shutdownGraceMs, () => undefined);
      const linger = Math.min(o.shutdownGraceMs - (Date.now() - started), httpServer.keepAliveTimeout + 500);
      if (requests.size === 0 && linger > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, linger)))]);
        clearTimeout(timer);
        // a call that came in on a keep-alive connection meanwhile gets the rest of the grace
        await requests.drain(Math.max(0, o.shutdownGraceMs - (Date.now() - started)), () => undefined);
      }
      if (requests.size > 0) {
        log.warn("shutdown grace over: cancelling the calls still running", { count: requests.size });
        requests.cancelAll("Server shut down before the call finished; it was cancelled");
        await new Promise((r) => setTimeout(r, 200).unref());
      }
      sessions?.closeAll("server shutdown");
      httpServer.closeAllConnections();
      await closed;
      await app.close();
      log.info("shut down");
    })();
    return shuttingDown;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      log.warn(`${signal} again: exiting now`);
      process.exit(0);
    }
    void shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("shutdown failed", { error: (err as Error)?.message });
        process.exit(0);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return shutdown;
}
