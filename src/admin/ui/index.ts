/**
 * The console's pages and assets, served by the admin server itself (no CDN, no build step that
 * downloads anything): each page is a small server-rendered HTML shell (pages.ts) and one vanilla
 * ES module from /assets/ that fills it through the admin API (/admin/api/v1/). No inline script
 * or style, so the strict Content-Security-Policy holds. The admin server calls `serveUi` for every
 * path outside /admin/api/; it answers the paths it knows and returns false for the rest.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { PAGES, renderPage } from "./pages.js";

/** The policy the admin server sends on every answer; set here too for pages served alone. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

let assets: Map<string, Asset> | undefined;
let pages: Map<string, Asset> | undefined;

const etagOf = (body: Buffer) => `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;

/** The files of ./assets (next to this module in src/ and, copied by `npm run build`, in dist/). */
function loadAssets(): Map<string, Asset> {
  const dir = fileURLToPath(new URL("./assets/", import.meta.url));
  const out = new Map<string, Asset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new Error(`console assets missing at ${dir}: run npm run build (it copies src/admin/ui/assets)`);
  }
  for (const name of names) {
    const type = TYPES[name.slice(name.lastIndexOf(".") + 1)];
    if (!type || !/^[a-z0-9-]+\.[a-z]+$/.test(name)) continue;
    const body = readFileSync(dir + name);
    out.set(`/assets/${name}`, { body, type, etag: etagOf(body) });
  }
  return out;
}

function loadPages(): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [path, page] of Object.entries(PAGES)) {
    const body = Buffer.from(renderPage(page), "utf8");
    out.set(path, { body, type: "text/html; charset=utf-8", etag: etagOf(body) });
  }
  return out;
}

function send(req: IncomingMessage, res: ServerResponse, a: Asset, cache: string): void {
  if (!res.hasHeader("content-security-policy")) res.setHeader("Content-Security-Policy", CONSOLE_CSP);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Cache-Control", cache);
  res.setHeader("ETag", a.etag);
  if (req.headers["if-none-match"] === a.etag) {
    res.writeHead(304);
    res.end();
    return;
  }
  res.setHeader("Content-Type", a.type);
  res.setHeader("Content-Length", a.body.length);
  res.writeHead(200);
  res.end(req.method === "HEAD" ? undefined : a.body);
}

/**
 * Answer a console page or asset. Returns false (and writes nothing) for any other path or method,
 * so the caller can answer 404 / 405 as it does for the rest of the port.
 */
export function serveUi(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const path = new URL(req.url ?? "/", "http://console.invalid").pathname;
  pages ??= loadPages();
  const page = pages.get(path);
  if (page) {
    send(req, res, page, "no-store");
    return true;
  }
  if (!path.startsWith("/assets/")) return false;
  assets ??= loadAssets();
  const asset = assets.get(path);
  if (!asset) return false;
  // Revalidated every load (ETag → 304), so a new build is picked up without a stale script.
  send(req, res, asset, "no-cache");
  return true;
}

/** Paths serveUi answers (for the admin server's router and the tests). */
export const UI_PATHS: readonly string[] = Object.keys(PAGES);
