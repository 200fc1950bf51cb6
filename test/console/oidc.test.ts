/**
 * Sign in to the console with the team's identity provider, in Debian's chromium: the sign-in
 * page shows the single sign-on button only when the server says it is configured; the button
 * goes through a real oidc-provider (authorization code + PKCE, its own login form) and back to
 * the access grid as that user, with the role the claim rules give (admin / viewer).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { startEmulator, type CohereEmulator } from "../../emulator/server.js";
import { freePort } from "../../bench/lib.js";
import { TEST_KEY } from "../helpers.js";
import { writeConfig } from "../http-support.js";
import { startConsole, teamConfig, type Console } from "../admin-support.js";
import { axe, chromiumPath, launch, newContext, screenshot, serious } from "./browser.js";

const HAVE_CHROMIUM = chromiumPath() !== undefined;
const USERS: Record<string, string[]> = { alice: ["platform"], bob: ["auditors"] };
const SECRET = "console-oidc-secret-8d2e4f";

let emu: CohereEmulator;
let idp: { issuer: string; stop(): Promise<void> };
let c: Console;
let plain: Console; // a console without single sign-on
let browser: Browser;

/** oidc-provider on loopback with its development login form (any password), one client. */
async function startIdp(redirect: string): Promise<typeof idp> {
  let handler: http.RequestListener = (_q, s) => void s.writeHead(503).end();
  const server = http.createServer((q, s) => handler(q, s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: "console", client_secret: SECRET, redirect_uris: [redirect], grant_types: ["authorization_code"], response_types: ["code"] }],
    pkce: { required: () => true },
    claims: { openid: ["sub"], profile: ["preferred_username", "groups"] },
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) => (USERS[sub] ? { accountId: sub, claims: () => ({ sub, preferred_username: sub, groups: USERS[sub]! }) } : undefined),
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope("openid profile email");
      await grant.save();
      return grant;
    },
    features: { devInteractions: { enabled: true } },
  });
  handler = provider.callback();
  return { issuer, stop: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  emu = await startEmulator({ apiKey: TEST_KEY });
  const port = await freePort();
  const redirect = `http://127.0.0.1:${port}/admin/oidc/callback`;
  idp = await startIdp(redirect);
  const config = teamConfig({
    oauth: {
      issuer: idp.issuer,
      resource: "http://127.0.0.1:9/mcp",
      default_profile: "search",
      admin_client: { client_id: "console", client_secret_env: "CONSOLE_SECRET", redirect_uri: redirect },
      admin_rules: [
        { claim: "groups", includes: "platform", role: "admin" },
        { claim: "groups", includes: "auditors", role: "viewer" },
      ],
    },
  });
  c = await startConsole(emu.url, ["--config", writeConfig(config), "--admin-port", String(port)], { CONSOLE_SECRET: SECRET });
  plain = await startConsole(emu.url, ["--config", writeConfig(teamConfig())]);
  browser = await launch();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await c?.srv.stop();
  await plain?.srv.stop();
  await idp?.stop();
  await emu?.stop();
});

async function ssoSignIn(page: Page, user: string): Promise<void> {
  await page.goto(c.base + "/signin");
  const button = page.locator("#oidc-link");
  await button.waitFor();
  await button.click();
  // The provider's own login form, on its origin.
  await page.waitForURL((u) => u.origin === idp.issuer);
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill("any");
  await page.locator('button[type="submit"]').click();
  await page.waitForURL(c.base + "/");
  await page.locator("table.grid").waitFor();
}

describe.skipIf(!HAVE_CHROMIUM)("console sign-in with the identity provider", () => {
  it("no single sign-on configured: no button", async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    await page.goto(plain.base + "/signin");
    await page.getByLabel("Admin token").waitFor();
    // The page asked the server (401 of GET session) before deciding.
    await page.waitForLoadState("networkidle");
    expect(await page.locator("#oidc").isVisible()).toBe(false);
    await ctx.close();
  });

  it("a platform user signs in through the provider as an admin; an auditor as a viewer", async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    await page.goto(c.base + "/signin");
    await page.locator("#oidc-link").waitFor();
    const v = await axe(page);
    expect(serious(v), JSON.stringify(v)).toEqual([]);
    await screenshot(page, "signin-sso");
    await ssoSignIn(page, "alice");
    expect(await page.locator("#who").textContent()).toBe("alice (admin)");
    expect(await page.getByLabel("curator: Manage datasets").isDisabled()).toBe(false);
    await ctx.close();

    const ctx2 = await newContext(browser);
    const page2 = await ctx2.newPage();
    await ssoSignIn(page2, "bob");
    expect(await page2.locator("#who").textContent()).toBe("bob (viewer)");
    expect(await page2.getByLabel("curator: Manage datasets").isDisabled()).toBe(true);
    expect(await page2.locator("#banner").textContent()).toContain("viewer");
    await ctx2.close();
  });
});
