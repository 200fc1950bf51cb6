/**
 * The console end to end, against the real admin server: two cohere-mcp replicas sharing a
 * redis-server (started here), the Cohere emulator, Debian's chromium on one replica's console
 * and a real MCP client (the SDK over streamable HTTP, with the curator's bearer token) on the
 * OTHER replica. Skipped until the server has --admin-port (branch `console`).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { startEmulator, type CohereEmulator } from "../../emulator/server.js";
import { freePort, ROOT } from "../../bench/lib.js";
import { redisServerPath, startRedis, type RedisServer } from "../../bench/redis.js";
import { TEST_KEY, textOf } from "../helpers.js";
import { eventually, sha256Hex, startHttp, tempFile, writeConfig, type HttpServerProc } from "../http-support.js";
import { axe, chromiumPath, launch, newContext, record, screenshot, serious } from "./browser.js";

const HAVE_ADMIN = (() => {
  try {
    return readFileSync(join(ROOT, "dist", "src", "config", "flags.js"), "utf8").includes("--admin-port");
  } catch {
    return false;
  }
})();
const READY = HAVE_ADMIN && chromiumPath() !== undefined && redisServerPath() !== undefined;
if (!READY) console.warn("e2e.test.ts: skipped (needs the admin server's --admin-port, chromium and redis-server)");

const ADMIN_TOKEN = "admin-token-console-e2e-7d1f";
const ADMIN2_TOKEN = "admin2-token-console-e2e-2b9c";
const VIEWER_TOKEN = "viewer-token-console-e2e-5e3a";
const CURATOR_TOKEN = "curator-token-console-e2e-9a4d";
const SEARCH_TOKEN = "search-token-console-e2e-1c8e";
const RERANK = { model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "paris is the capital"] };
const CONFIG = {
  admins: [
    { name: "team-lead", role: "admin", token_sha256: sha256Hex(ADMIN_TOKEN) },
    { name: "second-lead", role: "admin", token_sha256: sha256Hex(ADMIN2_TOKEN) },
    { name: "auditor", role: "viewer", token_sha256: sha256Hex(VIEWER_TOKEN) },
  ],
  profiles: {
    curator: { tools: ["list_datasets", "get_dataset", "get_dataset_usage"] },
    search: { tools: ["rerank", "embed"], budget: { calls: 100 } },
  },
  agents: [
    { name: "curator", profile: "curator", token_sha256: sha256Hex(CURATOR_TOKEN) },
    { name: "search-agent", profile: "search", token_sha256: sha256Hex(SEARCH_TOKEN) },
  ],
};

let emu: CohereEmulator;
let redis: RedisServer;
let a: HttpServerProc; // the replica whose console the browser uses
let b: HttpServerProc; // the replica the MCP client uses
let adminUrl = "";
let browser: Browser;
const figures: string[] = [];

async function waitAdmin(url: string): Promise<void> {
  await eventually(async () => {
    const r = await fetch(url + "/admin/api/v1/session");
    expect(r.status).toBe(401);
  }, 10_000);
}

beforeAll(async () => {
  if (!READY) return;
  emu = await startEmulator({ apiKey: TEST_KEY });
  redis = await startRedis();
  const config = writeConfig(CONFIG);
  const portA = await freePort();
  const portB = await freePort();
  // These tests probe rotated and revoked tokens on purpose, from one address: the sign-in
  // throttle (tested in test/http-hardening and test/admin-api) is off so it does not answer first.
  const common = ["--config", config, "--store", redis.url, "--sessions", "--max-auth-failures", "0"];
  a = await startHttp(emu.url, [...common, "--replica-id", "ra", "--admin-port", String(portA), "--audit-log", tempFile("a.jsonl")]);
  b = await startHttp(emu.url, [...common, "--replica-id", "rb", "--admin-port", String(portB), "--audit-log", tempFile("b.jsonl")]);
  adminUrl = `http://127.0.0.1:${portA}`;
  await waitAdmin(adminUrl);
  browser = await launch();
});

afterAll(async () => {
  if (figures.length) console.log("console e2e figures:\n  " + figures.join("\n  "));
  await browser?.close();
  await a?.stop();
  await b?.stop();
  await redis?.dispose();
  await emu?.stop();
});

async function signIn(ctx: BrowserContext, token: string, path = "/"): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(adminUrl + "/signin");
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(adminUrl + "/");
  await page.locator("table.grid").waitFor();
  if (path !== "/") await page.goto(adminUrl + path);
  return page;
}

/** A cookie session from node (the page's own calls, made by hand). */
async function apiSession(token: string): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(adminUrl + "/admin/api/v1/login", {
    method: "POST",
    headers: { "content-type": "application/json", origin: adminUrl },
    body: JSON.stringify({ token }),
  });
  expect(r.status).toBe(200);
  const cookie = (r.headers.getSetCookie()[0] ?? "").split(";")[0]!;
  const body = (await r.json()) as { csrf: string };
  return { cookie, csrf: body.csrf };
}

async function mcpClient(url: string, token: string, onElicit?: () => "accept" | "decline") {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: "console-e2e", version: "1.0.0" }, { capabilities: { elicitation: {} } });
  const asked: string[] = [];
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params.message);
    return { action: onElicit ? onElicit() : "accept", content: {} };
  });
  await client.connect(transport);
  return { client, transport, asked, close: () => client.close() };
}

async function setLevel(page: Page, agent: string, groupLabel: string, level: "off" | "read" | "full"): Promise<number> {
  await page.getByLabel(`${agent}: ${groupLabel}`).selectOption(level);
  await page.locator("#review").click();
  await page.locator("#preview").waitFor();
  if (await page.locator("#preview-destructive").isVisible()) await page.locator("#confirm-destructive").check();
  const saved = page.waitForResponse((r) => r.url().endsWith("/admin/api/v1/grid") && r.request().method() === "PUT");
  await page.locator("#preview-save").click();
  const res = await saved;
  expect(res.status(), await res.text()).toBe(200);
  return Date.now();
}

describe.skipIf(!READY)("console end to end (two replicas on Redis)", () => {
  it("Datasets → Full use on replica A: the curator on replica B sees delete_dataset within 2 s, calls it, confirms, and Activity shows it within 2 s; back to Read → refused", async () => {
    const ctx = await newContext(browser);
    const grid = await signIn(ctx, ADMIN_TOKEN);
    const activityCtx = await newContext(browser);
    const activity = await signIn(activityCtx, ADMIN_TOKEN, "/activity");
    await expect.poll(() => activity.locator("#live").textContent()).toBe("Live");
    let answer: "accept" | "decline" = "accept";
    const mcp = await mcpClient(b.url, CURATOR_TOKEN, () => answer);
    try {
      const before = (await mcp.client.listTools()).tools.map((t) => t.name);
      expect(before).not.toContain("delete_dataset");

      const savedAt = await setLevel(grid, "curator", "Manage datasets", "full");
      await eventually(async () => {
        const names = (await mcp.client.listTools()).tools.map((t) => t.name);
        expect(names).toContain("delete_dataset");
      }, 2_000, 25);
      const applied = Date.now() - savedAt;
      figures.push(`change saved on replica A → delete_dataset listed on replica B: ${applied} ms`);
      expect(applied).toBeLessThan(2_000);
      await screenshot(grid, "e2e-grid");

      const made = (await mcp.client.callTool({ name: "create_dataset", arguments: { name: "e2e-tickets", type: "embed-input", data_text: '{"text":"a"}\n' } }, undefined, { timeout: 10_000 })) as { isError?: boolean; structuredContent?: { id: string } };
      expect(made.isError, textOf(made)).toBeFalsy();
      const id = made.structuredContent!.id;
      const del = await mcp.client.callTool({ name: "delete_dataset", arguments: { id } }, undefined, { timeout: 10_000 });
      const calledAt = Date.now();
      expect((del as { isError?: boolean }).isError, textOf(del)).toBeFalsy();
      expect(mcp.asked, "the destructive call was confirmed through elicitation").toHaveLength(1);
      // The call's own line (its JSON names the tool), not the admin change that mentioned it.
      const callLine = activity.locator("li.event", { has: activity.locator("pre", { hasText: '"tool": "delete_dataset"' }) });
      await expect.poll(() => callLine.count(), { timeout: 2_000, interval: 25 }).toBeGreaterThan(0);
      const shown = Date.now() - calledAt;
      figures.push(`delete_dataset called on replica B → visible in replica A's Activity: ${shown} ms`);
      expect(shown).toBeLessThan(2_000);
      await screenshot(activity, "e2e-activity");

      // Back to Read. Until replica B has applied it, a probe would still be allowed: it is declined
      // at the confirmation, so nothing reaches Cohere while we wait for the refusal.
      answer = "decline";
      await setLevel(grid, "curator", "Manage datasets", "read");
      await eventually(async () => {
        const r = (await mcp.client.callTool({ name: "delete_dataset", arguments: { id: "ds-any" } }, undefined, { timeout: 1_000 })) as { isError?: boolean };
        expect(r.isError).toBe(true);
        expect(textOf(r)).toMatch(/is not enabled for this agent, so nothing was sent to Cohere/);
      }, 2_000, 50);
    } finally {
      await mcp.close();
      await ctx.close();
      await activityCtx.close();
    }
  });

  it("a viewer cannot save: no control on the page, and a direct PUT is refused with 403", async () => {
    const ctx = await newContext(browser);
    const page = await signIn(ctx, VIEWER_TOKEN);
    expect(await page.getByLabel("curator: Manage datasets").isDisabled()).toBe(true);
    expect(await page.locator("#review").isVisible()).toBe(false);
    await ctx.close();
    const s = await apiSession(VIEWER_TOKEN);
    const g = (await (await fetch(adminUrl + "/admin/api/v1/grid", { headers: { cookie: s.cookie } })).json()) as { version: unknown };
    const r = await fetch(adminUrl + "/admin/api/v1/grid", {
      method: "PUT",
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf, origin: adminUrl, "content-type": "application/json" },
      body: JSON.stringify({ version: g.version, changes: [{ agent: "curator", group: "chat", level: "read" }] }),
    });
    expect(r.status).toBe(403);
  });

  it("a cookie PUT or POST without the CSRF token, or with a foreign or missing Origin, is refused and changes nothing", async () => {
    const s = await apiSession(ADMIN_TOKEN);
    const grid = async () => (await (await fetch(adminUrl + "/admin/api/v1/grid", { headers: { cookie: s.cookie } })).json()) as { version: unknown };
    const before = await grid();
    const body = JSON.stringify({ version: before.version, changes: [{ agent: "curator", group: "chat", level: "read" }] });
    const noCsrf = await fetch(adminUrl + "/admin/api/v1/grid", { method: "PUT", headers: { cookie: s.cookie, origin: adminUrl, "content-type": "application/json" }, body });
    expect(noCsrf.status).toBe(403);
    const foreign = await fetch(adminUrl + "/admin/api/v1/grid", {
      method: "PUT",
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf, origin: "https://evil.example", "content-type": "application/json" },
      body,
    });
    expect(foreign.status).toBe(403);
    expect((await grid()).version).toEqual(before.version);
    // A POST the same way: no agent is made.
    const create = JSON.stringify({ name: "csrf-probe", profile: "search" });
    const postNoCsrf = await fetch(adminUrl + "/admin/api/v1/agents", { method: "POST", headers: { cookie: s.cookie, origin: adminUrl, "content-type": "application/json" }, body: create });
    expect(postNoCsrf.status).toBe(403);
    const postForeign = await fetch(adminUrl + "/admin/api/v1/agents", {
      method: "POST",
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf, origin: "https://evil.example", "content-type": "application/json" },
      body: create,
    });
    expect(postForeign.status).toBe(403);
    const postNoOrigin = await fetch(adminUrl + "/admin/api/v1/agents", { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": s.csrf, "content-type": "application/json" }, body: create });
    expect(postNoOrigin.status).toBe(403);
    const agents = (await (await fetch(adminUrl + "/admin/api/v1/agents", { headers: { cookie: s.cookie } })).json()) as Array<{ name: string }>;
    expect(agents.map((x) => x.name)).not.toContain("csrf-probe");
  });

  it("two admins' conflicting saves: the second sees what the first changed", async () => {
    const c1 = await newContext(browser);
    const c2 = await newContext(browser);
    const p1 = await signIn(c1, ADMIN_TOKEN);
    const p2 = await signIn(c2, ADMIN2_TOKEN);
    await setLevel(p1, "search-agent", "Generate chat replies", "read");
    await p2.getByLabel("curator: Create embeddings").selectOption("read");
    await p2.locator("#review").click();
    const refused = p2.waitForResponse((r) => r.url().endsWith("/admin/api/v1/grid") && r.request().method() === "PUT");
    await p2.locator("#preview-save").click();
    const res = await refused;
    expect(res.status()).toBe(409);
    const body = (await res.json()) as { changed: string[] };
    expect(body.changed.length).toBeGreaterThan(0);
    // The page shows what the server says changed, and nothing was saved.
    const box = p2.locator("#conflict");
    await box.waitFor();
    for (const line of body.changed) expect(await box.textContent()).toContain(line);
    expect(await p2.locator("#savebar").isVisible()).toBe(true);
    await screenshot(p2, "e2e-conflict");
    await c1.close();
    await c2.close();
  });

  it("a token created on the Agents page works once shown; rotating replaces it; revoking ends its session", async () => {
    const ctx = await newContext(browser);
    const page = await signIn(ctx, ADMIN_TOKEN, "/agents");
    await page.getByLabel("Name", { exact: true }).fill("e2e-new-agent");
    await page.getByLabel("Profile", { exact: true }).fill("search");
    await page.getByRole("button", { name: "Create" }).click();
    await page.locator("#secret").waitFor();
    const token = await page.locator("#secret-value").inputValue();
    expect(token.length).toBeGreaterThan(16);
    await page.getByRole("button", { name: "Done" }).click();
    // Created on replica A; replica B takes it within 2 s (the policy is announced through the store).
    const createdAt = Date.now();
    const first = await eventually(() => mcpClient(b.url, token), 2_000, 50);
    figures.push(`agent created on replica A → its token accepted on replica B: ${Date.now() - createdAt} ms`);
    let second: Awaited<ReturnType<typeof mcpClient>> | undefined;
    try {
      expect((await first.client.listTools()).tools.map((t) => t.name)).toContain("rerank");
      const card = page.locator("section.agent", { has: page.locator("h2", { hasText: "e2e-new-agent" }) });
      // Rotate: a new token shown once, the old one refused and its session ended.
      page.once("dialog", (d) => void d.accept());
      await card.getByRole("button", { name: /^Rotate/ }).first().click();
      await page.locator("#secret").waitFor();
      const rotated = await page.locator("#secret-value").inputValue();
      expect(rotated).not.toBe(token);
      await page.getByRole("button", { name: "Done" }).click();
      await eventually(async () => {
        await expect(first.client.listTools(undefined, { timeout: 1_000 })).rejects.toThrow();
      }, 2_000, 50);
      second = await eventually(() => mcpClient(b.url, rotated), 2_000, 50);
      expect((await second.client.listTools()).tools.map((t) => t.name)).toContain("rerank");
      // Revoke: its open session ends.
      await expect.poll(() => card.getByRole("button", { name: /^Revoke/ }).count()).toBe(1);
      page.once("dialog", (d) => void d.accept());
      await card.getByRole("button", { name: /^Revoke/ }).click();
      const s2 = second;
      await eventually(async () => {
        await expect(s2.client.listTools(undefined, { timeout: 1_000 })).rejects.toThrow();
      }, 2_000, 50);
    } finally {
      await first.close().catch(() => undefined);
      await second?.close().catch(() => undefined);
      await ctx.close();
    }
  });

  it("Agents page: budget used and left, top up and reset; an open session listed and ended", async () => {
    // The session is opened on replica A: the page lists the sessions of the replica it is served by.
    const mcp = await mcpClient(a.url, SEARCH_TOKEN);
    const ctx = await newContext(browser);
    try {
      for (let i = 0; i < 3; i++) {
        const r = (await mcp.client.callTool({ name: "rerank", arguments: RERANK }, undefined, { timeout: 10_000 })) as { isError?: boolean };
        expect(r.isError, textOf(r)).toBeFalsy();
      }
      const page = await signIn(ctx, ADMIN_TOKEN, "/agents");
      const card = page.locator("section.agent", { has: page.locator("h2", { hasText: /^search-agent/ }) });
      await expect.poll(() => card.locator(".budget").textContent()).toContain("3 of 100 calls used, 97 left");
      await card.getByLabel("Top up by").fill("2");
      await card.getByRole("button", { name: "Top up", exact: true }).click();
      await expect.poll(() => card.locator(".budget").textContent()).toContain("1 of 100 calls used, 99 left");
      page.once("dialog", (d) => void d.accept());
      await card.getByRole("button", { name: "Reset this month" }).click();
      await expect.poll(() => card.locator(".budget").textContent()).toContain("0 of 100 calls used, 100 left");
      const sid = mcp.transport.sessionId!;
      await expect.poll(() => card.locator(".sessions code").allTextContents()).toContain(sid);
      await screenshot(page, "e2e-agents-session");
      await card.getByRole("button", { name: `End session ${sid}` }).click();
      await eventually(async () => {
        await expect(mcp.client.listTools(undefined, { timeout: 1_000 })).rejects.toThrow();
      }, 2_000, 50);
    } finally {
      await mcp.close().catch(() => undefined);
      await ctx.close();
    }
  });

  it("every page of the real server: axe clean, nothing from another origin, the grid under 200 KB", async () => {
    const ctx = await newContext(browser);
    const login = await ctx.request.post(adminUrl + "/admin/api/v1/login", { data: { token: ADMIN_TOKEN }, headers: { Origin: adminUrl } });
    expect(login.status()).toBe(200);
    const page = await ctx.newPage();
    const rec = record(page);
    await page.goto(adminUrl + "/");
    await page.locator("table.grid").waitFor();
    await page.waitForLoadState("networkidle");
    const weight = rec.requests.reduce((s, r) => s + r.bytes, 0);
    figures.push(`grid first load (real server): ${weight} bytes decoded over ${rec.requests.length} responses`);
    expect(weight).toBeLessThan(200 * 1024);
    const results: string[] = [];
    for (const [name, path, ready] of [
      ["grid", "/", "table.grid"],
      ["agents", "/agents", "section.agent"],
      ["activity", "/activity", "#events"],
      ["usage", "/usage", "#by-agent table, #by-agent p"],
    ] as const) {
      await page.goto(adminUrl + path);
      await page.locator(ready).first().waitFor();
      const v = await axe(page);
      results.push(`${name}: ${v.length ? v.map((x) => `${x.id}(${x.impact})`).join(" ") : "none"}`);
      expect(serious(v), JSON.stringify(v)).toEqual([]);
      await screenshot(page, `e2e-${name}`);
    }
    figures.push(`axe on the real server: ${results.join("; ")}`);
    expect(rec.requests.filter((r) => new URL(r.url).origin !== adminUrl)).toEqual([]);
    expect(rec.errors).toEqual([]);
    await ctx.close();
  });
});

/**
 * The README's screenshots (docs/img/console-*.png), from this real two-replica run: written only
 * when CONSOLE_DOC_IMAGES=1 (`CONSOLE_DOC_IMAGES=1 npm run test:console`), so a normal run leaves
 * the committed files alone. Runs after the tests above, so Activity and Usage have real calls.
 */
describe.skipIf(!READY || process.env.CONSOLE_DOC_IMAGES !== "1")("README screenshots (real server)", () => {
  it("the grid with a change under review, Activity, Usage", async () => {
    const out = join(ROOT, "docs", "img");
    mkdirSync(out, { recursive: true });
    const ctx = await newContext(browser);
    try {
      const page = await signIn(ctx, ADMIN_TOKEN);
      await page.getByLabel("curator: Manage datasets").selectOption("full");
      await page.locator("#review").click();
      await page.locator("#preview-sentences li").first().waitFor();
      await page.screenshot({ path: join(out, "console-grid.png"), clip: { x: 0, y: 0, width: 1280, height: 560 } });
      await page.keyboard.press("Escape");
      // The curator's calls (the page takes its filters from the query), the confirmed delete opened.
      await page.goto(adminUrl + "/activity?agent=curator");
      const call = page
        .locator("li.event")
        .filter({ has: page.locator("pre", { hasText: '"tool": "delete_dataset"' }) })
        .filter({ has: page.locator("pre", { hasText: '"outcome": "ok"' }) })
        .first();
      await call.waitFor();
      await call.locator("summary").click();
      await page.screenshot({ path: join(out, "console-activity.png"), clip: { x: 0, y: 0, width: 1280, height: 560 } });
      await page.goto(adminUrl + "/usage");
      await page.locator("svg.chart").first().waitFor();
      await page.screenshot({ path: join(out, "console-usage.png"), clip: { x: 0, y: 0, width: 1280, height: 480 } });
    } finally {
      await ctx.close();
    }
  });
});
