/**
 * The console's port (--admin-port, bound to --admin-host, loopback by default; never the agents'
 * port): the pages at / (src/admin/ui, when present) and the admin API under /admin/api/v1/.
 *
 * Every answer carries a strict Content-Security-Policy. Every request goes through the agents'
 * Host / Origin rules (src/transports/http/admission/origin.ts), then: sign-in (./signin/auth.ts, ./signin/session.ts),
 * for a cookie request that changes something the CSRF token and a same-origin Origin
 * (./signin/csrf.ts), the admin role for a change (a viewer gets 403, audited), then the route (./api/routes.ts).
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net from "node:net";
import type { App } from "../runtime/app.js";
import { ConfigError } from "../config/file.js";
import { BEARER } from "../identity/static.js";
import { hostAllowed, originAllowed } from "../transports/http/admission/origin.js";
import { headerValue, remoteOf, setRemote } from "../transports/http/io.js";
import { clientAddress, peerOf } from "../transports/http/admission/forwarded.js";
import { proxyMatcher } from "../config/proxies.js";
import { createAuthThrottle } from "../transports/http/admission/auththrottle.js";
import { adminProblem, buildAdminTable, liveAdmins, type Admin } from "./signin/auth.js";
import { cookieHeader, cookieOf, createSessionStore, isSecure } from "./signin/session.js";
import { csrfProblem, isStateChange, originProblem, ownOrigin } from "./signin/csrf.js";
import { finishOidc, OIDC_CALLBACK, OIDC_LOGIN, oidcConfigured, startOidc } from "./signin/oidc.js";
import { HttpError, json, readJson, securityHeaders } from "./http.js";
import { findRoute, who, type Caller } from "./api/routes.js";
import { auditAdmin, type AdminContext } from "./grid/apply.js";
import { loginBody } from "./api/schemas.js";
import { openApiDocument } from "./api/openapi.js";
import { FilePolicy, StorePolicy, type PolicySource } from "./grid/policy-source.js";
import { closeStreams } from "./activity/stream.js";
import { describeStoreUrl } from "../store/redis.js";

export const API_PREFIX = "/admin/api/v1/";
export const OPENAPI_PATH = "/admin/api/openapi.json";

export interface AdminHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

type UiModule = { serveUi(req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean> };
let ui: UiModule | null | undefined;
async function loadUi(): Promise<UiModule | null> {
  if (ui !== undefined) return ui;
  const spec = "./ui/index.js"; // the pages (src/admin/ui), when built into this tree
  try {
    ui = (await import(spec)) as UiModule;
  } catch {
    ui = null;
  }
  return ui;
}

const PLACEHOLDER = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cohere-mcp console</title></head>
<body><main><h1>cohere-mcp console</h1><p>The admin API is at <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a>.</p></main></body></html>`;

/**
 * Fails (ConfigError) when the console cannot start: no admins, an admin's token variable unset
 * or not a hash (before any port listens), the agents' port, stdio mode.
 */
export function checkAdmin(app: App, env: NodeJS.ProcessEnv = process.env): void {
  const o = app.options;
  if (o.adminPort === undefined) return;
  if (o.mode !== "http") throw new ConfigError("--admin-port needs --http: the console manages HTTP agents");
  if (o.adminPort !== 0 && o.adminPort === o.port) throw new ConfigError(`--admin-port ${o.adminPort} is the agents' port: give the console a port of its own`);
  if (o.metricsPort !== undefined && o.adminPort !== 0 && o.adminPort === o.metricsPort) throw new ConfigError(`--admin-port ${o.adminPort} is the metrics port: give the console a port of its own`);
  if (!o.configPath) throw new ConfigError("--admin-port needs --config FILE: admins and the policy the console edits live there");
  const problem = adminProblem(app.config);
  if (problem) throw new ConfigError(problem);
  buildAdminTable(app.config, env, () => undefined);
}

export function policySourceFor(app: App): PolicySource {
  const o = app.options;
  if (o.policyStore) return new StorePolicy(app.shared, describeStoreUrl(o.store ?? ""), o.adminReadonly);
  return new FilePolicy(o.configPath!, o.adminReadonly);
}

export async function serveAdmin(app: App, announce: () => Promise<void>, env: NodeJS.ProcessEnv = process.env): Promise<AdminHandle> {
  checkAdmin(app, env);
  const o = app.options;
  const log = app.logger;
  const admins = liveAdmins(app, env);
  const sessions = createSessionStore(app);
  const throttle = createAuthThrottle(app);
  const trusted = proxyMatcher(o.trustedProxies);
  const source = policySourceFor(app);
  const ctx: AdminContext = { app, source, announce };
  if (source.readonlyReason) log.warn("the console is view-only", { why: source.readonlyReason });

  const refuseGuess = async (req: IncomingMessage): Promise<never> => {
    const remote = remoteOf(req);
    let over = false;
    try {
      over = (await throttle?.count(remote)) ?? false;
    } catch {
      /* counted where possible */
    }
    log.warn("refused a console sign-in with an unknown token", { remote });
    if (over || throttle?.blocked(remote)) throw new HttpError(429, "too many failed sign-ins from this address; wait a minute and try again", {});
    throw new HttpError(401, "unknown admin token");
  };

  const login = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = headerValue(req, "origin");
    if (origin !== undefined && originProblem(req, isSecure(app, req))) throw new HttpError(403, `Origin "${origin.slice(0, 200)}" is not this console's origin`);
    const body = await readJson(req, loginBody, 16 * 1024);
    const admin = admins().check(body.token);
    if (!admin) return refuseGuess(req);
    const { id, session } = await sessions.create(admin);
    auditAdmin(app, admin, "admin_signin", "POST login", `${admin.name} (${admin.role}) signed in to the console with a token from ${remoteOf(req)}`);
    json(res, 200, { admin: { name: admin.name, role: admin.role }, csrf: session.csrf }, {
      "Set-Cookie": cookieHeader(app, req, id, Math.min(o.adminSessionMaxMs, o.adminSessionMaxMs) / 1000),
    });
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL, sub: string) => {
    const method = req.method ?? "GET";
    if (sub === "login") {
      if (method !== "POST") throw new HttpError(405, "sign in with POST");
      return login(req, res);
    }
    // Who is calling: an admin token as a bearer (scripts), else the session cookie.
    let caller: Caller | undefined;
    let cookieId: string | undefined;
    const authz = headerValue(req, "authorization");
    if (authz !== undefined) {
      const m = BEARER.exec(authz);
      const admin: Admin | undefined = m ? admins().check(m[1]!) : undefined;
      if (!admin) return refuseGuess(req);
      caller = { admin };
    } else {
      cookieId = cookieOf(req);
      const s = cookieId ? await sessions.get(cookieId) : undefined;
      if (s) caller = { admin: s.admin, csrf: s.csrf };
    }
    if (!caller) {
      throw new HttpError(401, "sign in first (POST /admin/api/v1/login), or send an admin token as a bearer", {
        ...(oidcConfigured(app) ? { oidc: { login_url: OIDC_LOGIN, name: "your identity provider" } } : {}),
      });
    }
    if (sub === "logout") {
      if (method !== "POST") throw new HttpError(405, "sign out with POST");
      if (cookieId) {
        const p = originProblem(req, isSecure(app, req)) ?? csrfProblem(req, caller.csrf ?? "");
        if (p) throw new HttpError(403, p);
        await sessions.end(cookieId);
      }
      res.writeHead(204, { "Set-Cookie": cookieHeader(app, req, undefined, 0), "Cache-Control": "no-store" });
      return void res.end();
    }
    const found = findRoute(method, sub);
    if (found === "method") throw new HttpError(405, `${method} is not allowed on ${API_PREFIX}${sub}`);
    if (!found) throw new HttpError(404, `no such API path: ${API_PREFIX}${sub.slice(0, 100)}`);
    if (cookieId && isStateChange(method)) {
      const p = originProblem(req, isSecure(app, req)) ?? csrfProblem(req, caller.csrf ?? "");
      if (p) {
        log.warn("refused a console request without a valid CSRF token or Origin", { admin: caller.admin.name, path: url.pathname, why: p });
        throw new HttpError(403, p);
      }
    }
    if (found.route.change && caller.admin.role !== "admin") {
      const action = `${method} ${url.pathname}`;
      auditAdmin(app, caller.admin, "admin_denied", action, `${who(caller)} tried ${action} and was refused: viewers cannot change anything`, false);
      throw new HttpError(403, "viewers cannot change anything: ask an admin");
    }
    await found.route.handler(ctx, req, res, caller, found.params, url);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    securityHeaders(res);
    if (o.trustedProxies.length) setRemote(req, clientAddress(peerOf(req), headerValue(req, "x-forwarded-for"), trusted));
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://console.invalid");
    } catch {
      return json(res, 400, { error: "the request target is not a valid URL path" });
    }
    const host = headerValue(req, "host");
    const origin = headerValue(req, "origin");
    if (!hostAllowed(host, o.allowedHosts)) return json(res, 403, { error: `Host "${(host ?? "").slice(0, 200)}" is not allowed` });
    if (!originAllowed(origin, o.allowedOrigins)) return json(res, 403, { error: `Origin "${(origin ?? "").slice(0, 200)}" is not allowed` });
    const path = url.pathname;
    if (path === OPENAPI_PATH) {
      if (req.method !== "GET" && req.method !== "HEAD") return json(res, 405, { error: "GET only" });
      const text = openApiDocument();
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-cache" });
      return void res.end(req.method === "HEAD" ? undefined : text);
    }
    if (path.startsWith(API_PREFIX)) {
      try {
        await api(req, res, url, path.slice(API_PREFIX.length));
      } catch (err) {
        if (res.headersSent) return void res.end();
        if (err instanceof HttpError) return json(res, err.status, { error: err.message, ...err.extra });
        if (err instanceof ConfigError) return json(res, 400, { error: err.message });
        log.error("a console API request failed", { path, error: (err as Error)?.message });
        return json(res, 500, { error: "internal error; see the server log" });
      }
      return;
    }
    if (path.startsWith("/admin/api/")) return json(res, 404, { error: `the API is under ${API_PREFIX}` });
    if (path === OIDC_LOGIN || path === OIDC_CALLBACK) {
      try {
        const origin = ownOrigin(req, isSecure(app, req)) ?? "http://localhost";
        if (path === OIDC_LOGIN) return await startOidc(app, env, res, origin);
        const admin = await finishOidc(app, env, req, origin);
        const { id } = await sessions.create(admin);
        auditAdmin(app, admin, "admin_signin", "GET oidc/callback", `${admin.name} (${admin.role}) signed in to the console through the identity provider from ${remoteOf(req)}`);
        // A page that moves on to / (not a 302: a SameSite=Strict cookie set on the way back from
        // another site would not be sent with the redirect that follows it).
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Set-Cookie": cookieHeader(app, req, id, o.adminSessionMaxMs / 1000) });
        return void res.end('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/"><title>Signed in</title></head><body><p><a href="/">Continue to the console</a></p></body></html>');
      } catch (err) {
        const status = err instanceof HttpError ? err.status : 500;
        if (!(err instanceof HttpError)) log.error("console single sign-on failed", { error: (err as Error)?.message });
        return json(res, status, { error: err instanceof HttpError ? err.message : "single sign-on failed; see the server log" });
      }
    }
    const pages = await loadUi();
    if (pages && (await pages.serveUi(req, res))) return;
    if (path === "/" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" });
      return void res.end(PLACEHOLDER);
    }
    json(res, 404, { error: "not found" });
  };

  const server = http.createServer({ headersTimeout: o.limits.headersTimeoutMs, requestTimeout: 300_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error("console request failed", { error: (err as Error)?.message });
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(new ConfigError(`Cannot serve the console on ${o.adminHost}:${o.adminPort}: ${err.code === "EADDRINUSE" ? "the port is in use" : err.message}`)),
    );
    server.listen(o.adminPort ?? 0, o.adminHost, () => {
      server.removeAllListeners("error");
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;
  const bare = o.adminHost.replace(/^\[|\]$/g, "");
  const url = `http://${net.isIPv6(bare) ? `[${bare}]` : o.adminHost}:${addr.port}/`;
  process.stderr.write(`cohere-mcp console on ${url}\n`);
  log.info("console ready", { url, policy: source.where, editable: !source.readonlyReason });
  const close = () =>
    new Promise<void>((resolve) => {
      closeStreams();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  app.onClose(close);
  return { url, port: addr.port, close };
}
