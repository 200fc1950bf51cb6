/**
 * The modern era (MCP 2026-07-28) over HTTP: no initialize and no sessions; every request
 * carries its envelope (`_meta` protocol version and capabilities, Mcp-Method / Mcp-Name
 * headers) and is answered by a fresh server from our factory, through the SDK's
 * createMcpHandler (strict: `legacy: 'reject'`). Legacy (2025-era) requests keep going to our
 * own stateless path or session table (index.ts); the SDK's isLegacyRequest is the one
 * classification, so the two legs never disagree.
 *
 * By the time a request gets here it has passed everything index.ts checks (Host/Origin,
 * credential, body size and JSON, OAuth scopes, the agent's scope); the scope reaches the
 * factory through AsyncLocalStorage. It is tracked like any POST: --request-timeout-ms and the
 * shutdown grace cancel it (the modern era's cancellation is the end of the request's stream).
 *
 * Two exceptions: a plain tools/list or tools/call takes the fast path (modern-fast.ts), and a
 * subscriptions/listen stream lasts (no request timeout; listen.ts tells it of reloads, and
 * shutdown ends it).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createMcpHandler, isLegacyRequest, PROTOCOL_VERSION_META_KEY, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/server";
import { createMcpServer } from "../../../server.js";
import type { App } from "../../../runtime/app.js";
import type { AgentScope } from "../../../policy/types.js";
import type { Identity } from "../../../identity/index.js";
import type { InFlight, InFlightRequests } from "../inflight.js";
import type { RpcRequestInfo } from "../rpc.js";
import { headerValue, rpcError, sendJson } from "../io.js";
import { authOf, sendResponse, webRequest } from "../web.js";
import { modernPlainCall, runModernPlainCall } from "./fastpath.js";
import { ConfigError } from "../../../config/file.js";
import { admitListener, ListenerBus, type Listener, type Rescope } from "./listen.js";

export interface ModernLeg {
  /** A plain modern tools/list or tools/call, answered without the SDK (modern-fast.ts); false when it is not one. */
  fast(req: IncomingMessage, res: ServerResponse, scope: AgentScope, who: Identity, body: unknown): Promise<void> | false;
  /** Is this POST for the modern era (it carries the 2026 envelope claim)? */
  claims(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<boolean>;
  serve(req: IncomingMessage, res: ServerResponse, scope: AgentScope, who: Identity, body: unknown, info: RpcRequestInfo): Promise<void>;
  /** After a reload: tell the subscriptions/listen streams whose tools changed; end the revoked ones (listen.ts). */
  reloaded(rescope: Rescope): { told: number; ended: number };
  /** Shutdown: end the subscriptions/listen streams. */
  endStreams(): void;
  close(): Promise<void>;
}

/** COHERE_MCP_MODERN_FAST: "off" sends every modern request to the SDK's handler (tests compare the two paths). */
export function modernFastPathOn(env: NodeJS.ProcessEnv): boolean {
  const v = env.COHERE_MCP_MODERN_FAST;
  if (v === undefined || v === "" || v === "on") return true;
  if (v === "off") return false;
  throw new ConfigError(`COHERE_MCP_MODERN_FAST must be "on" or "off", got "${v.slice(0, 40)}"`);
}

export function createModernLeg(app: App, requests: InFlightRequests, env: NodeJS.ProcessEnv = process.env): ModernLeg {
  const fastOn = modernFastPathOn(env);
  const scopes = new AsyncLocalStorage<{ scope: AgentScope; listener?: Listener }>();
  const bus = new ListenerBus(() => scopes.getStore()?.listener);
  const handler = createMcpHandler(
    () => {
      const scope = scopes.getStore()?.scope;
      if (!scope) throw new Error("modern request served outside its scope");
      return createMcpServer(app, scope, "modern");
    },
    {
      legacy: "reject",
      bus,
      keepAliveMs: 0,
      maxRequestBodySize: app.options.maxBodyBytes,
      onerror: (err) => app.logger.debug("modern-era request refused or failed", { error: err.message }),
    },
  );
  app.listenCounts = () => bus.byAgent();
  return {
    fast(req, res, scope, who, body) {
      const call = fastOn ? modernPlainCall(req, body) : undefined;
      return call ? runModernPlainCall(app, requests, req, res, scope, call, who) : false;
    },
    async claims(req, res, body) {
      // most traffic is plainly legacy (a 2025-era or no protocol header, no envelope key): no
      // need to build a Request for the SDK's classification
      if (!mayClaimModern(headerValue(req, "mcp-protocol-version"), body)) return false;
      return !(await isLegacyRequest(webRequest(req, res), body));
    },
    async serve(req, res, scope, who, body, info) {
      const cancel = new AbortController();
      if ((body as { method?: unknown } | null)?.method === "subscriptions/listen") {
        // A stream that lasts: no request timeout, not waited for by shutdown (endStreams ends it);
        // bounded per agent as sessions are (listen.ts).
        if (!admitListener(app, bus, req, res, who, scope.profile, (body as { id?: unknown }).id, requests.draining)) return;
        const url = new URL(req.url ?? "/", "http://localhost");
        const listener: Listener = {
          who,
          header: headerValue(req, "x-mcp-tools"),
          query: url.searchParams.get("tools") ?? undefined,
          visible: scope.visible,
          end: () => cancel.abort(),
        };
        const response = await scopes.run({ scope, listener }, () =>
          handler.fetch(webRequest(req, res, cancel.signal), { parsedBody: body, authInfo: authOf(req) }),
        );
        return sendResponse(res, response);
      }
      let cancelled: string | undefined;
      const f: InFlight = {
        res,
        who,
        cancel(message) {
          cancelled = message;
          cancel.abort();
          if (!res.headersSent) sendJson(res, 200, { ...(rpcError(-32001, message) as object), id: info.ids[0] ?? null });
          setTimeout(() => {
            if (!res.writableEnded) res.destroy();
          }, 1_000).unref();
        },
      };
      requests.add(f);
      const timer = info.ids.length ? requests.startTimer(f) : undefined;
      res.once("close", () => {
        clearTimeout(timer);
        requests.delete(f);
      });
      const response = await scopes.run({ scope }, () =>
        handler.fetch(webRequest(req, res, cancel.signal), { parsedBody: body, authInfo: authOf(req) }),
      );
      if (cancelled !== undefined && res.headersSent) {
        await response.body?.cancel().catch(() => undefined);
        return;
      }
      await sendResponse(res, response);
    },
    reloaded: (rescope) => bus.reloaded(rescope),
    endStreams: () => bus.endAll(),
    close: () => handler.close(),
  };
}

const LEGACY_VERSIONS = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);

/** Could this POST be modern? A protocol header that is not a 2025-era revision, or the envelope's key in a message's `_meta`. */
export function mayClaimModern(version: string | undefined, body: unknown): boolean {
  if (version !== undefined && !LEGACY_VERSIONS.has(version)) return true;
  for (const m of Array.isArray(body) ? body : [body]) {
    const meta = (m as { params?: { _meta?: unknown } } | null)?.params?._meta;
    if (meta && typeof meta === "object" && PROTOCOL_VERSION_META_KEY in meta) return true;
  }
  return false;
}
