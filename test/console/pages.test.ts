/**
 * The console's pages in Debian's chromium, against a stand-in of the admin API written from its
 * contract (contract-server.ts): every page passes axe-core with no serious or critical violation
 * at 1280×800 and at a phone's 390 px, loads nothing from another origin, breaks no CSP rule,
 * shows hostile agent names and audit sentences as text; the grid's first load stays under
 * 200 KB; the grid is operable from the keyboard, asks a second confirmation for destructive
 * tools, shows a conflict, hides saving from viewers; a new token is shown once; Activity is live.
 * The end-to-end behaviours against the real admin server are in e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { axe, chromiumPath, launch, newContext, record, screenshot, serious } from "./browser.js";
import { HOSTILE_AGENT, HOSTILE_SENTENCE, startContractServer, type ContractServer } from "./contract-server.js";

const HAVE_CHROMIUM = chromiumPath() !== undefined;
if (!HAVE_CHROMIUM) console.warn("pages.test.ts: chromium is not on the PATH: skipped (.ci/run installs it)");

let api: ContractServer;
let browser: Browser;

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  api = await startContractServer();
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
});

async function signIn(ctx: BrowserContext, base: string, token: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(base + "/signin");
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(base + "/");
  await page.locator("table.grid").waitFor();
  return page;
}

const PAGES: Array<[string, string, string]> = [
  ["grid", "/", "table.grid"],
  ["agents", "/agents", "section.agent"],
  ["activity", "/activity", "li.event"],
  ["usage", "/usage", "svg.chart"],
];

describe.skipIf(!HAVE_CHROMIUM)("console pages (against the API contract)", () => {
  it("sign-in page: token form and the single sign-on button; a wrong token is refused in words", async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    const rec = record(page);
    await page.goto(api.url + "/");
    await page.waitForURL(/\/signin/);
    await expect.poll(() => page.locator("#oidc").isVisible()).toBe(true);
    expect(await page.locator("#oidc-link").textContent()).toBe("Sign in with Example SSO");
    const v = await axe(page);
    expect(serious(v), JSON.stringify(v)).toEqual([]);
    await screenshot(page, "signin");
    await page.getByLabel("Admin token").fill("not-a-token");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#signin-error").textContent()).toBe("That token was not accepted.");
    expect(rec.errors.filter((e) => !e.includes("401"))).toEqual([]);
    await ctx.close();
  });

  for (const phone of [false, true]) {
    it(`every page at ${phone ? "390 px" : "1280×800"}: axe clean, same origin only, no CSP error, hostile strings stay text`, async () => {
      const ctx = await newContext(browser, { phone });
      const page = await signIn(ctx, api.url, api.tokens.admin);
      const rec = record(page);
      const report: string[] = [];
      for (const [name, path, ready] of PAGES) {
        await page.goto(api.url + path);
        await page.locator(ready).first().waitFor();
        const v = await axe(page);
        report.push(`${name}: ${v.length ? v.map((x) => `${x.id}(${x.impact})`).join(" ") : "no violations"}`);
        expect(serious(v), `${name}: ${JSON.stringify(v, null, 1)}`).toEqual([]);
        await screenshot(page, `${name}${phone ? "-phone" : ""}`);
        expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
        // No horizontal scroll of the page itself (nor of the grid: see "the grid fits").
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
      }
      console.log(`axe (${phone ? "390 px" : "1280×800"}): ${report.join("; ")}`);
      const foreign = rec.requests.filter((r) => new URL(r.url).origin !== api.origin);
      expect(foreign).toEqual([]);
      expect(rec.errors).toEqual([]);
      await ctx.close();
    });
  }

  it("hostile names and sentences are shown as text, never as markup", async () => {
    const ctx = await newContext(browser);
    const page = await signIn(ctx, api.url, api.tokens.admin);
    await expect.poll(() => page.locator(".agent-name", { hasText: HOSTILE_AGENT }).count()).toBe(1);
    expect(await page.locator("main img").count()).toBe(0);
    await page.goto(api.url + "/activity");
    await expect.poll(() => page.locator(".sentence", { hasText: HOSTILE_SENTENCE }).count()).toBe(1);
    expect(await page.locator("main script").count()).toBe(0);
    await page.goto(api.url + "/usage");
    await page.locator("svg.chart").first().waitFor();
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await ctx.close();
  });

  for (const phone of [false, true]) {
    it(`the grid fits ${phone ? "a phone's 390 px" : "1280×800"} without scrolling sideways, every level readable`, async () => {
      const ctx = await newContext(browser, { phone });
      const page = await signIn(ctx, api.url, api.tokens.admin);
      const fit = await page.evaluate(() => {
        const wrap = document.getElementById("grid-wrap")!;
        const probe = document.createElement("canvas").getContext("2d")!;
        // a select shows its chosen level whole: the widest option's text fits inside its box,
        // beside the arrow (drawn in its padding when appearance is none, else about 1.2em)
        const clipped: string[] = [];
        for (const sel of document.querySelectorAll<HTMLSelectElement>("table.grid select")) {
          const st = getComputedStyle(sel);
          probe.font = st.font;
          const widest = Math.max(...[...sel.options].map((o) => probe.measureText(o.text).width));
          const inner = sel.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight) - (st.appearance === "none" ? 0 : 1.2 * parseFloat(st.fontSize));
          if (inner < widest) clipped.push(`${sel.getAttribute("aria-label")} (${Math.round(inner)} < ${Math.round(widest)})`);
        }
        return {
          wrap: wrap.scrollWidth - wrap.clientWidth,
          page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          columns: document.querySelectorAll("table.grid thead th").length,
          clipped,
        };
      });
      await screenshot(page, `grid-fit${phone ? "-phone" : ""}`);
      expect(fit.columns).toBeGreaterThanOrEqual(15);
      expect(fit.wrap, "the grid scrolls sideways").toBeLessThanOrEqual(0);
      expect(fit.page, "the page scrolls sideways").toBeLessThanOrEqual(0);
      expect(fit.clipped).toEqual([]);
      await ctx.close();
    });
  }

  it("Agents lists each open session with the replica holding it; End ends one there and says where", async () => {
    const ctx = await newContext(browser);
    const page = await signIn(ctx, api.url, api.tokens.admin);
    await page.goto(api.url + "/agents");
    const list = page.locator("section.agent", { hasText: "search-agent" }).locator("ul.sessions");
    await expect.poll(() => list.locator("li").count()).toBe(2);
    expect(await list.locator("li").nth(1).textContent()).toContain("on replica r2");
    await page.getByRole("button", { name: "End session r2.7a1d3b5c-2222-4b4b-8c8c-000000000002" }).click();
    await expect.poll(() => page.locator("#status").textContent()).toBe("Session ended on replica r2.");
    await expect.poll(() => list.locator("li").count()).toBe(1);
    await ctx.close();
  });

  it("the grid's first load is under 200 KB of decoded bodies", async () => {
    // A fresh browser profile signed in through the API: nothing cached, the grid is its first page.
    const ctx = await newContext(browser);
    const login = await ctx.request.post(api.url + "/admin/api/v1/login", { data: { token: api.tokens.admin }, headers: { Origin: api.origin } });
    expect(login.status()).toBe(200);
    const page = await ctx.newPage();
    const rec = record(page);
    await page.goto(api.url + "/");
    await page.locator("table.grid").waitFor();
    await page.waitForLoadState("networkidle");
    const total = rec.requests.reduce((s, r) => s + r.bytes, 0);
    const byPath = rec.requests.map((r) => `${new URL(r.url).pathname} ${r.bytes}`).join(", ");
    console.log(`grid page weight: ${total} bytes decoded over ${rec.requests.length} responses (${byPath})`);
    expect(total).toBeLessThan(200 * 1024);
    await ctx.close();
  });

  it("from the keyboard: set Datasets to Full use, see the preview naming the destructive tool, confirm a second time, save", async () => {
    const ctx = await newContext(browser);
    const page = await signIn(ctx, api.url, api.tokens.admin);
    const before = api.version();
    const select = page.getByLabel("curator: Manage datasets");
    await select.focus();
    // The focused control is visibly outlined.
    const outline = await select.evaluate((e) => getComputedStyle(e).outlineStyle);
    expect(outline).not.toBe("none");
    await select.selectOption("full");
    await expect.poll(() => page.locator("#savebar").isVisible()).toBe(true);
    expect(await page.locator("td.changed .hint").textContent()).toContain("delete_dataset");
    await page.locator("#review").focus();
    await page.keyboard.press("Enter");
    const dlg = page.locator("#preview");
    await dlg.waitFor();
    expect(await page.locator("#preview-sentences").textContent()).toContain("gains create_dataset, delete_dataset");
    expect(await page.locator("#preview-destructive-text").textContent()).toContain("cannot be undone: delete_dataset");
    expect(await page.locator("#preview-save").isDisabled()).toBe(true);
    const v = await axe(page);
    expect(serious(v), JSON.stringify(v)).toEqual([]);
    await screenshot(page, "grid-preview");
    await page.locator("#confirm-destructive").focus();
    await page.keyboard.press("Space");
    expect(await page.locator("#preview-save").isDisabled()).toBe(false);
    await page.locator("#preview-save").focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => api.version()).toBe(before + 1);
    await expect.poll(() => page.locator("#savebar").isVisible()).toBe(false);
    expect(await page.getByLabel("curator: Manage datasets").inputValue()).toBe("full");
    // Back to Read, so the next tests start from the seed.
    await page.getByLabel("curator: Manage datasets").selectOption("read");
    await page.locator("#review").click();
    await page.locator("#preview-save").click();
    await expect.poll(() => page.locator("#savebar").isVisible()).toBe(false);
    expect(await page.getByLabel("curator: Manage datasets").inputValue()).toBe("read");
    await ctx.close();
  });

  it("from the keyboard alone: Tab reaches the skip link, navigation and controls of every page, each with a visible focus ring", async () => {
    const ctx = await newContext(browser);
    const page = await signIn(ctx, api.url, api.tokens.admin);
    for (const [name, path, ready] of PAGES) {
      await page.goto(api.url + path);
      await page.locator(ready).first().waitFor();
      const seen: string[] = [];
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press("Tab");
        const f = await page.evaluate(() => {
          const e = document.activeElement as HTMLElement | null;
          if (!e || e === document.body) return null;
          const st = getComputedStyle(e);
          return { tag: e.tagName.toLowerCase(), text: (e.getAttribute("aria-label") || e.id || e.textContent || "").trim().slice(0, 40), ring: st.outlineStyle !== "none" && parseFloat(st.outlineWidth) >= 2 };
        });
        if (!f) continue;
        expect(f.ring, `${name}: ${f.tag} "${f.text}" has no visible focus ring`).toBe(true);
        seen.push(`${f.tag}:${f.text}`);
      }
      expect(seen[0], name).toBe("a:Skip to content");
      expect(seen.some((x) => x.startsWith("a:Agents")), name).toBe(true);
      expect(seen.some((x) => x.startsWith("select") || x.startsWith("input") || x.startsWith("summary")), `${name}: ${seen.join(", ")}`).toBe(true);
    }
    await ctx.close();
  });

  it("a custom group opens the per-tool view, deprecated tools marked", async () => {
    const ctx = await newContext(browser);
    const page = await signIn(ctx, api.url, api.tokens.admin);
    // search-agent has get_dataset alone: Datasets is Custom.
    expect(await page.getByLabel("search-agent: Manage datasets").inputValue()).toBe("custom");
    await page.getByRole("button", { name: "Manage datasets tools for search-agent" }).click();
    const dlg = page.locator("#tools");
    await dlg.waitFor();
    expect(await dlg.getByLabel(/get_dataset\b/).first().isChecked()).toBe(true);
    expect(await dlg.getByLabel(/delete_dataset/).isChecked()).toBe(false);
    await page.locator("#tools-close").click();
    await page.getByRole("button", { name: "Per-tool settings for search-agent" }).click();
    expect(await page.locator("#tools .badge.deprecated").count()).toBeGreaterThan(5);
    const v = await axe(page);
    expect(serious(v), JSON.stringify(v)).toEqual([]);
    await screenshot(page, "grid-tools");
    await page.keyboard.press("Escape");
    await ctx.close();
  });

  it("two admins' conflicting saves: the second sees what the first changed", async () => {
    const a = await newContext(browser);
    const b = await newContext(browser);
    const pa = await signIn(a, api.url, api.tokens.admin);
    const pb = await signIn(b, api.url, api.tokens.admin2);
    await pa.getByLabel("search-agent: Generate chat replies").selectOption("read");
    await pa.locator("#review").click();
    await pa.locator("#preview-save").click();
    await expect.poll(() => pa.locator("#savebar").isVisible()).toBe(false);
    await pb.getByLabel("curator: Create embeddings").selectOption("read");
    await pb.locator("#review").click();
    await pb.locator("#preview-save").click();
    const box = pb.locator("#conflict");
    await box.waitFor();
    expect(await box.textContent()).toContain("team-lead (admin) set search-agent's Generate chat replies → Read");
    await screenshot(pb, "grid-conflict");
    await pb.getByRole("button", { name: /Load their version/ }).click();
    // The second admin's change is kept, now on the current version, and saves.
    await expect.poll(() => pb.getByLabel("search-agent: Generate chat replies").inputValue()).toBe("read");
    expect(await pb.getByLabel("curator: Create embeddings").inputValue()).toBe("read");
    await pb.locator("#review").click();
    await pb.locator("#preview-save").click();
    await expect.poll(() => pb.locator("#savebar").isVisible()).toBe(false);
    await a.close();
    await b.close();
  });

  it("a viewer sees the grid read-only: a banner, disabled cells, no save control", async () => {
    const ctx = await newContext(browser);
    const page = await signIn(ctx, api.url, api.tokens.viewer);
    expect(await page.locator("#banner").textContent()).toContain("viewer");
    expect(await page.getByLabel("curator: Manage datasets").isDisabled()).toBe(true);
    expect(await page.locator("#savebar").isVisible()).toBe(false);
    expect(await page.locator("#review").isVisible()).toBe(false);
    await page.goto(api.url + "/agents");
    await page.locator("section.agent").first().waitFor();
    expect(await page.locator("#create").isVisible()).toBe(false);
    expect(await page.getByRole("button", { name: /Revoke/ }).count()).toBe(0);
    await ctx.close();
  });

  it("a view-only configuration shows where it lives", async () => {
    const ro = await startContractServer({ editable: false });
    const ctx = await newContext(browser);
    try {
      const page = await signIn(ctx, ro.url, ro.tokens.admin);
      expect(await page.locator("#banner").textContent()).toContain("/etc/cohere-mcp/config.json");
      expect(await page.getByLabel("curator: Manage datasets").isDisabled()).toBe(true);
      await screenshot(page, "grid-readonly");
    } finally {
      await ctx.close();
      await ro.close();
    }
  });

  it("a new agent's token is shown once, copyable, and gone when the dialog closes", async () => {
    const ctx = await newContext(browser);
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: api.origin });
    const page = await signIn(ctx, api.url, api.tokens.admin);
    await page.goto(api.url + "/agents");
    await page.getByLabel("Name", { exact: true }).fill("new-agent");
    await page.getByLabel("Profile", { exact: true }).fill("search");
    await page.getByRole("button", { name: "Create" }).click();
    const dlg = page.locator("#secret");
    await dlg.waitFor();
    const token = await page.locator("#secret-value").inputValue();
    expect(token).toMatch(/^tok-[0-9a-f]{24}$/);
    await page.getByRole("button", { name: "Copy" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await screenshot(page, "agents-token");
    await page.getByRole("button", { name: "Done" }).click();
    await expect.poll(() => page.locator("#secret-value").inputValue()).toBe("");
    expect(await page.content()).not.toContain(token);
    await expect.poll(() => page.locator("h2", { hasText: "new-agent" }).count()).toBe(1);
    await ctx.close();
  });

  it("Activity is live, a line opens into its JSON, exports carry the filters", async () => {
    const ctx = await newContext(browser);
    const page = await signIn(ctx, api.url, api.tokens.admin);
    await page.goto(api.url + "/activity");
    await expect.poll(() => page.locator("#live").textContent()).toBe("Live");
    api.emit("curator called list_datasets: allowed, ok in 12 ms", { agent: "curator", tool: "list_datasets", decision: "allowed", outcome: "ok" });
    const first = page.locator("li.event").first();
    await expect.poll(() => first.locator(".sentence").textContent(), { timeout: 2_000 }).toBe("curator called list_datasets: allowed, ok in 12 ms");
    await first.locator("summary").focus();
    await page.keyboard.press("Enter");
    expect(JSON.parse((await first.locator("pre").textContent())!)).toMatchObject({ tool: "list_datasets", decision: "allowed" });
    await page.getByLabel("Decision").selectOption("denied");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.locator("li.event").count()).toBe(1);
    expect(await page.locator("#export-csv").getAttribute("href")).toBe("/admin/api/v1/activity/export?decision=denied&format=csv");
    await ctx.close();
  });
});
