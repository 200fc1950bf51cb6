/**
 * GET /metrics on its own port (--metrics-port, bound to --metrics-host, loopback by default),
 * never on the agents' port. Nothing else is served here.
 */
import http from "node:http";
import net from "node:net";
import type { App } from "../app.js";
import { ConfigError } from "../config/file.js";
import { isLoopbackHost } from "../transports/http/origin.js";
import { installTelemetry, type Telemetry } from "./index.js";

export const METRICS_PATH = "/metrics";

export interface MetricsHandle {
  url: string;
  telemetry: Telemetry;
  close(): Promise<void>;
}

export async function serveMetrics(app: App): Promise<MetricsHandle> {
  const o = app.options;
  const port = o.metricsPort ?? 0;
  if (o.mode === "http" && port !== 0 && port === o.port) {
    throw new ConfigError(`--metrics-port ${port} is the agents' port: give metrics a port of their own`);
  }
  if (!isLoopbackHost(o.metricsHost)) {
    app.logger.warn("metrics are served on a non-loopback address: anyone who reaches it can read agent names and usage", {
      host: o.metricsHost,
    });
  }
  const telemetry = installTelemetry(app);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== METRICS_PATH) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end(`not found; metrics are at ${METRICS_PATH}\n`);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain" }).end("method not allowed\n");
      return;
    }
    telemetry.registry.metrics().then(
      (text) => {
        res.writeHead(200, { "Content-Type": telemetry.registry.contentType, "Cache-Control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (err: unknown) => {
        app.logger.error("metrics could not be collected", { error: (err as Error)?.message });
        res.writeHead(500, { "Content-Type": "text/plain" }).end("metrics could not be collected\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(new ConfigError(`Cannot serve metrics on ${o.metricsHost}:${port}: ${err.code === "EADDRINUSE" ? "the port is in use" : err.message}`)),
    );
    server.listen(port, o.metricsHost, () => {
      server.removeAllListeners("error");
      resolve();
    });
  });
  server.unref();
  const addr = server.address() as net.AddressInfo;
  const bare = o.metricsHost.replace(/^\[|\]$/g, "");
  const url = `http://${net.isIPv6(bare) ? `[${bare}]` : o.metricsHost}:${addr.port}${METRICS_PATH}`;
  process.stderr.write(`cohere-mcp metrics on ${url}\n`);
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  app.onClose(close);
  return { url, telemetry, close };
}
