/**
 * serveUi(): the console's pages and assets as the admin server hands them out — the strict CSP
 * on each, revalidation by ETag, and nothing outside the page list and the assets directory.
 * (The pages themselves are tested in a browser: test/console/, npm run test:console.)
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_CSP, serveUi, UI_PATHS } from "../src/admin/ui/index.js";
import { connect } from "node:net";

/** One request with the path exactly as written (fetch and URL would resolve the dots). */
function raw(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1", () => sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let out = "";
    sock.on("data", (d) => (out += String(d)));
    sock.on("end", () => resolve(out));
    sock.on("error", reject);
  });
}

let server: Server;
let port = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (!serveUi(req, res)) {
      res.writeHead(404);
      res.end("not the console's");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const get = (path: string, headers: Record<string, string> = {}, method = "GET") =>
  fetch(`http://127.0.0.1:${port}${path}`, { method, headers });

describe("serveUi", () => {
  it("every page: HTML with the strict CSP, no caching, its one stylesheet and module, no inline script or style", async () => {
    expect([...UI_PATHS].sort()).toEqual(["/", "/activity", "/agents", "/signin", "/usage"]);
    for (const path of UI_PATHS) {
      const r = await get(path);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(r.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
      expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
      expect(r.headers.get("cache-control")).toBe("no-store");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      const html = await r.text();
      expect(html).toMatch(/<script type="module" src="\/assets\/[a-z]+\.js"><\/script>/);
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/);
      expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
      expect(html).not.toMatch(/https?:\/\//);
    }
  });

  it("assets are served with their type and revalidated by ETag (304)", async () => {
    for (const [path, type] of [
      ["/assets/grid.js", "text/javascript; charset=utf-8"],
      ["/assets/console.css", "text/css; charset=utf-8"],
      ["/assets/icon.svg", "image/svg+xml"],
    ]) {
      const r = await get(path!);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe(type);
      const etag = r.headers.get("etag")!;
      expect(etag).toMatch(/^"[\w-]{22}"$/);
      expect((await get(path!, { "if-none-match": etag })).status).toBe(304);
    }
    const head = await get("/assets/common.js", {}, "HEAD");
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("the scripts never write markup from data (no innerHTML, outerHTML, insertAdjacentHTML, document.write, eval)", async () => {
    for (const name of ["common", "signin", "grid", "agents", "activity", "usage"]) {
      const js = await (await get(`/assets/${name}.js`)).text();
      expect(js, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    }
  });

  it("anything else is left to the caller: other paths, other methods, paths out of the assets directory", async () => {
    for (const path of ["/admin/api/v1/grid", "/nope", "/assets/", "/assets/missing.js", "/assets/../index.js", "/assets/%2e%2e/index.ts", "/assets/..%2fpages.js"]) {
      const r = await raw(port, path);
      expect(r, path).toMatch(/^HTTP\/1\.1 404/);
    }
    const post = await get("/", {}, "POST");
    expect(post.status).toBe(404);
  });
});
