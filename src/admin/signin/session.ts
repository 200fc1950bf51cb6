/**
 * Console sign-ins: a random session id in an HttpOnly, SameSite=Strict cookie; the session
 * itself (who, role, CSRF token, when it began) lives in the shared state under the id's SHA-256
 * (so any replica honours it, and the store never holds a usable cookie). It ends after
 * --admin-session-idle-ms unused, or --admin-session-max-ms after it began.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { App } from "../../runtime/app.js";
import { sha256Hex } from "../../identity/static.js";
import type { Admin } from "./auth.js";
import { headerValue } from "../../transports/http/io.js";

export const COOKIE = "cohere_mcp_admin";

export interface AdminSession {
  admin: Admin;
  csrf: string;
  created: number;
  last: number;
}

const key = (id: string) => `admin:session:${sha256Hex(id)}`;

export function cookieOf(req: IncomingMessage): string | undefined {
  const raw = headerValue(req, "cookie");
  if (!raw) return undefined;
  for (const part of raw.split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    if (part.slice(0, i).trim() === COOKIE) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{20,128}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

/** Served over TLS, or behind a trusted proxy that says the browser used https. */
export function isSecure(app: App, req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  return app.options.trustedProxies.length > 0 && /^https$/i.test(headerValue(req, "x-forwarded-proto") ?? "");
}

export function cookieHeader(app: App, req: IncomingMessage, id: string | undefined, maxAgeS: number): string {
  const parts = [`${COOKIE}=${id ?? ""}`, "Path=/", "HttpOnly", "SameSite=Strict", `Max-Age=${Math.max(0, Math.floor(maxAgeS))}`];
  if (isSecure(app, req)) parts.push("Secure");
  return parts.join("; ");
}

export interface SessionStore {
  create(admin: Admin): Promise<{ id: string; session: AdminSession }>;
  /** The session of this id, refreshed (idle timer), or undefined when unknown or over. */
  get(id: string): Promise<AdminSession | undefined>;
  end(id: string): Promise<void>;
}

export function createSessionStore(app: App, now: () => number = Date.now): SessionStore {
  const o = app.options;
  const ttl = (s: AdminSession, t: number) => Math.min(o.adminSessionIdleMs, s.created + o.adminSessionMaxMs - t);
  return {
    async create(admin) {
      const id = randomBytes(32).toString("base64url");
      const t = now();
      const session: AdminSession = { admin, csrf: randomBytes(24).toString("base64url"), created: t, last: t };
      await app.shared.put(key(id), JSON.stringify(session), ttl(session, t));
      return { id, session };
    },
    async get(id) {
      const raw = await app.shared.fetch(key(id));
      if (!raw) return undefined;
      let s: AdminSession;
      try {
        s = JSON.parse(raw) as AdminSession;
      } catch {
        return undefined;
      }
      const t = now();
      const left = ttl(s, t);
      if (left <= 0 || t - s.last > o.adminSessionIdleMs) {
        await app.shared.remove(key(id));
        return undefined;
      }
      // Refresh the idle timer at most every few seconds (one write, not one per request).
      if (t - s.last > 5_000) {
        s.last = t;
        await app.shared.put(key(id), JSON.stringify(s), ttl(s, t));
      }
      return s;
    },
    async end(id) {
      await app.shared.remove(key(id));
    },
  };
}
