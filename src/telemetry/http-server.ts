/**
 * The HTTP SERVER span of each request to the HTTP transport (OpenTelemetry's HTTP server
 * conventions), imported with the SDK only (./otel.ts). It covers what never reaches MCP: an
 * auth refusal (401/403), a body too large (413), a throttle (429) is an HTTP span with its
 * `error.type` and no MCP span under it.
 *
 * Its parent is the request's `traceparent` header; the request's MCP span(s) are its children:
 * once the span is started, the request's own `traceparent` header names it (the carrier every
 * path after it reads: the fast path, the SDK's transports, the modern leg), so no context has to
 * be threaded through the transport and no AsyncLocalStorage is needed. A caller's
 * `params._meta.traceparent` still wins as the MCP span's parent, this span then its link (the MCP
 * conventions: "link current ambient context").
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type TextMapGetter, type Tracer } from "@opentelemetry/api";
import { cutRedacted } from "../redact.js";
import type { HttpSpanFacts } from "./index.js";

const METHODS = new Set(["GET", "POST", "DELETE", "OPTIONS", "HEAD", "PUT", "PATCH", "CONNECT", "TRACE"]);

const getter: TextMapGetter<IncomingMessage["headers"]> = {
  keys: (c) => Object.keys(c),
  get: (c, key) => c[key],
};

/**
 * The contexts of the requests in flight, by the traceparent this module wrote for them: the MCP
 * span finds its parent here instead of parsing the header it was just given (a few µs a call).
 */
const inFlight = new Map<string, Context>();

/** The context of an HTTP span in flight whose traceparent this is (undefined: parse the header). */
export const httpSpanContext = (traceparent: string): Context | undefined => inFlight.get(traceparent);

/** Start the span of one request, ended when its response closes (finished, or cut by the client). */
export function httpServerSpan(tracer: Tracer, secrets: () => readonly string[], req: IncomingMessage, res: ServerResponse, facts: HttpSpanFacts): void {
  const target = req.url ?? "/";
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  if (facts.skip.has(path)) return; // probes: not traffic
  const method = req.method && METHODS.has(req.method) ? req.method : "_OTHER";
  const route = path === facts.route ? facts.route : undefined;
  const parent = typeof req.headers.traceparent === "string" ? propagation.extract(ROOT_CONTEXT, req.headers, getter) : ROOT_CONTEXT;
  const socket = req.socket;
  const attributes: Attributes = {
    "http.request.method": method,
    // the path only, never the query; a path we do not serve may be anything a client wrote
    "url.path": route ?? cutRedacted(path, 100, secrets()),
    "url.scheme": (socket as { encrypted?: boolean }).encrypted ? "https" : "http",
    "network.protocol.version": req.httpVersion,
    "server.address": socket.localAddress,
    "server.port": socket.localPort,
  };
  if (route) attributes["http.route"] = route;
  if (method === "_OTHER") attributes["http.request.method_original"] = (req.method ?? "").slice(0, 20);
  const span = tracer.startSpan(route ? `${method} ${route}` : method === "_OTHER" ? "HTTP" : method, { kind: SpanKind.SERVER, attributes }, parent);
  const sc = span.spanContext();
  // the carrier the MCP span reads its parent from (tracestate, if any, goes on as it came)
  const carried = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
  req.headers.traceparent = carried;
  inFlight.set(carried, trace.setSpan(parent, span));
  res.once("close", () => {
    inFlight.delete(carried);
    const status = res.headersSent ? res.statusCode : 0;
    if (status) span.setAttribute("http.response.status_code", status);
    // the client address as the transport worked it out (X-Forwarded-For from a trusted proxy)
    span.setAttribute("client.address", facts.client(req));
    const aborted = !res.writableFinished;
    if (status >= 400 || aborted) span.setAttribute("error.type", status >= 400 ? String(status) : "aborted");
    // a 4xx is the client's error, not the server's (HTTP server conventions): no ERROR status
    if (status >= 500 || aborted) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}
