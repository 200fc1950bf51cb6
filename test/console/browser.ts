/**
 * The browser side of the console tests: Debian's chromium driven by playwright-core (never a
 * downloaded browser), axe-core injected from node_modules, every request of a page recorded
 * (origin, size of the decoded body), screenshots under test-artifacts/console/.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "../../bench/lib.js";

export const ARTIFACTS = join(ROOT, "test-artifacts", "console");

/** chromium on the PATH (Debian's package installs /usr/bin/chromium), or undefined. */
export function chromiumPath(): string | undefined {
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      const p = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (p) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export async function launch(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error("chromium is not on the PATH: apt-get install chromium (.ci/run does)");
  const args = ["--disable-gpu", "--disable-dev-shm-usage"];
  if (process.getuid?.() === 0) args.push("--no-sandbox");
  return chromium.launch({ executablePath, headless: true, args });
}

export interface Recorded {
  url: string;
  method: string;
  status: number;
  /** Decoded body bytes (what the page had to process), 0 for bodies not read (streams). */
  bytes: number;
  type: string;
}

/** Record every request a page makes and every console error / CSP violation it reports. */
export function record(page: Page): { requests: Recorded[]; errors: string[] } {
  const requests: Recorded[] = [];
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => {
    const failure = r.failure()?.errorText ?? "";
    // Streams closed by navigation are not failures of the page.
    if (!r.url().includes("/activity/stream") && !failure.includes("ERR_ABORTED")) errors.push(`request failed: ${r.url()} ${failure}`);
  });
  page.on("response", async (res) => {
    const req = res.request();
    const type = res.headers()["content-type"] ?? "";
    let bytes = 0;
    if (!type.startsWith("text/event-stream")) {
      try {
        bytes = (await res.body()).length;
      } catch {
        bytes = 0;
      }
    }
    requests.push({ url: req.url(), method: req.method(), status: res.status(), bytes, type });
  });
  return { requests, errors };
}

const AXE = readFileSync(join(ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
  targets: string[];
}

/** Run axe-core (WCAG 2 A/AA + best practices) on the page as it is now. */
export async function axe(page: Page): Promise<AxeViolation[]> {
  // Injected through the DevTools protocol (page.evaluate), which the page's CSP does not govern.
  await page.evaluate(AXE);
  const result = (await page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }> }> } };
    const r = await w.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length, targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) }));
  })) as AxeViolation[];
  return result;
}

export const serious = (v: AxeViolation[]) => v.filter((x) => x.impact === "serious" || x.impact === "critical");

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

export async function newContext(browser: Browser, opts: { phone?: boolean } = {}): Promise<BrowserContext> {
  return browser.newContext(
    opts.phone
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
  );
}
