/**
 * Graceful shutdown: on SIGTERM or SIGINT stop accepting, let in-flight calls finish for up to
 * --shutdown-grace-ms, cancel what is left, close sessions, and exit 0. A second signal exits at
 * once.
 */
import type http from "node:http";
import type { App } from "../../app.js";
import type { InFlightRequests } from "./inflight.js";
import type { SessionTable } from "./sessions.js";

export function installShutdown(
  app: App,
  httpServer: http.Server,
  requests: InFlightRequests,
  sessions: SessionTable | undefined,
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
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      sessions?.closeStreams();
      await requests.drain(o.shutdownGraceMs, () => httpServer.closeIdleConnections());
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
