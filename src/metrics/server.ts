/**
 * GET /metrics on its own port (--metrics-port, bound to --metrics-host, loopback by default),
 * never on the agents' port. Nothing else is served here.
 *
 * The same protections as the agents' port (issue 20, finding 11): a Host that is not on
 * --allowed-hosts (default: the loopback names) gets 403, so a DNS-rebinding page in a local
 * browser cannot read agent names and usage — an IP-address Host is also accepted, as no
 * rebinding attack can send one; headers must arrive within --headers-timeout-ms, a whole request
 * within 10 s; --max-connections-per-address bounds one peer's connections.
 */
import http from "node:http";
import net from "node:net";
import type { App } from "../runtime/app.js";
import { ConfigError } from "../config/file.js";
import { hostAllowed, isLoopbackHost, splitHost } from "../transports/http/admission/origin.js";
import { capConnectionsPerAddress } from "../transports/http/admission/clients.js";
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
  const limits = o.limits;
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: Math.max(10_000, limits.headersTimeoutMs),
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2))),
    },
    (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const host = req.headers.host;
    if (!hostAllowed(host, o.allowedHosts) && !(host && net.isIP(splitHost(host).name.replace(/^\[|\]$/g, "")))) {
      res.writeHead(403, { "Content-Type": "text/plain" }).end("forbidden: this Host is not allowed (--allowed-hosts)\n");
      return;
    }
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
    },
  );
  capConnectionsPerAddress(server, limits.maxConnectionsPerAddress, app.logger);
  // Our own deadline as well (Node's headersTimeout check is periodic and, seen under load, not
  // always prompt): a connection must deliver a request's headers within --headers-timeout-ms of
  // opening or of its last answer, else it is closed. A scraper's idle keep-alive connection is
  // closed too; it reconnects.
  const deadlines = new WeakMap<net.Socket, NodeJS.Timeout>();
  const arm = (socket: net.Socket) => {
    clearTimeout(deadlines.get(socket));
    const t = setTimeout(() => socket.destroy(), limits.headersTimeoutMs);
    t.unref();
    deadlines.set(socket, t);
  };
  server.on("connection", (socket: net.Socket) => {
    arm(socket);
    socket.once("close", () => clearTimeout(deadlines.get(socket)));
  });
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    clearTimeout(deadlines.get(req.socket));
    res.once("finish", () => {
      if (!req.socket.destroyed) arm(req.socket);
    });
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    // Closed, not just half-closed: a client that keeps trickling bytes must not keep the socket.
    if (socket.writable) {
      socket.end(`HTTP/1.1 ${err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : "400 Bad Request"}\r\nConnection: close\r\n\r\n`);
      setTimeout(() => socket.destroy(), 250).unref();
    } else socket.destroy();
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
