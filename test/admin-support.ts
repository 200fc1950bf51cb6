/** Harness for the console's API tests: a real server with --admin-port, and a small API client. */
import { readFileSync } from "node:fs";
import { eventually, rawRequest, sha256Hex, startHttp, type HttpServerProc, type RawResponse } from "./http-support.js";

export const LEAD_TOKEN = "lead-token-0f3c9a7e5d1b8c2a4e6f";
export const VIEWER_TOKEN = "viewer-token-7a2c4e6f8b0d1f3a5c";
export const SEARCH_TOKEN = "search-token-1b3d5f7a9c2e4a6c8e";
export const CURATOR_TOKEN = "curator-token-9e7c5a3b1d2f4a6b8c";
export const HELPER_TOKEN = "helper-token-2d4f6a8c0e1b3d5f7a";

export function teamConfig(extra: Record<string, unknown> = {}) {
  return {
    profiles: {
      search: { tools: ["rerank", "embed"] },
      curator: { tools: ["datasets"] },
      reader: { tools: ["models"] },
      budgeted: { tools: ["rerank"], budget: { calls: 100 } },
    },
    agents: [
      { name: "search-agent", profile: "search", token_sha256: sha256Hex(SEARCH_TOKEN) },
      { name: "curator", profile: "curator", token_sha256: sha256Hex(CURATOR_TOKEN) },
      { name: "helper-a", profile: "reader", token_sha256: sha256Hex(HELPER_TOKEN) },
      { name: "helper-b", profile: "reader", token_env: "HELPER_B_TOKEN" },
      { name: "budget-agent", profile: "budgeted", token_env: "BUDGET_TOKEN" },
    ],
    admins: [
      { name: "team-lead", role: "admin", token_sha256: sha256Hex(LEAD_TOKEN) },
      { name: "watcher", role: "viewer", token_sha256: sha256Hex(VIEWER_TOKEN) },
    ],
    ...extra,
  };
}

export const TEAM_ENV = { HELPER_B_TOKEN: "helper-b-token-5c7e9a1b3d5f7a9c", BUDGET_TOKEN: "budget-token-3e5a7c9e1f3b5d7f9a" };

export interface Console {
  srv: HttpServerProc;
  /** http://127.0.0.1:PORT */
  base: string;
}

export async function startConsole(emuUrl: string, args: string[], env: Record<string, string> = {}): Promise<Console> {
  const srv = await startHttp(emuUrl, ["--admin-port", "0", ...args], { ...TEAM_ENV, ...env });
  const base = await eventually(() => {
    const m = /cohere-mcp console on (http:\/\/[^/\s]+)\//.exec(srv.stderr());
    if (!m) throw new Error(`no console line yet:\n${srv.stderr()}`);
    return m[1]!;
  }, 10_000);
  return { srv, base };
}

export interface Session {
  cookie: string;
  csrf: string;
}

export interface Call {
  session?: Session;
  bearer?: string;
  /** Default: the console's own origin for state changes with a session. */
  origin?: string | null;
  csrf?: string | null;
  body?: unknown;
}

export async function api(c: Console, method: string, path: string, o: Call = {}): Promise<RawResponse & { json: any }> {
  const headers: Record<string, string> = {};
  if (o.body !== undefined) headers["Content-Type"] = "application/json";
  if (o.bearer) headers.Authorization = `Bearer ${o.bearer}`;
  if (o.session) {
    headers.Cookie = o.session.cookie;
    const csrf = o.csrf === undefined ? o.session.csrf : o.csrf;
    if (csrf !== null) headers["X-CSRF-Token"] = csrf;
  }
  const origin = o.origin === undefined ? (o.session && method !== "GET" ? c.base : undefined) : o.origin;
  if (origin) headers.Origin = origin;
  const r = await rawRequest(`${c.base}${path.startsWith("/") ? path : `/admin/api/v1/${path}`}`, {
    method,
    headers,
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  let parsed: unknown;
  try {
    parsed = r.body ? JSON.parse(r.body) : undefined;
  } catch {
    parsed = undefined;
  }
  return { ...r, json: parsed };
}

export async function login(c: Console, token: string): Promise<Session> {
  const r = await api(c, "POST", "login", { body: { token }, origin: c.base });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.body}`);
  const set = String((r.headers["set-cookie"] ?? [])[0] ?? "");
  return { cookie: set.split(";")[0]!, csrf: r.json.csrf };
}

export function auditLines(path: string): Array<Record<string, any>> {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);
}
