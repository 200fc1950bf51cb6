/**
 * Issue 20, finding 12 (these items): a hard link inside an allowed directory to a file outside
 * it is refused; a config file that is not JSON (e.g. swapped through a symlink for a secret)
 * is reported as "not JSON" without any of its characters; OAuth claim values are split on the
 * ASCII space only; OAuth agents get their own metric labels (bounded) and budget gauges.
 */
import { linkSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp, type App } from "../src/app.js";
import { loadConfigFile } from "../src/config/file.js";
import { parseOptions } from "../src/config/options.js";
import { FileRefused, readAllowedFile } from "../src/files.js";
import { createLogger } from "../src/logger.js";
import { MAX_OAUTH_AGENT_LABELS, Telemetry } from "../src/metrics/index.js";
import { ruleMatches, tokenScopes } from "../src/oauth/mapping.js";
import { TEST_KEY } from "./helpers.js";
import { writeConfig } from "./http-support.js";

const root = realpathSync(mkdtempSync(join(tmpdir(), "cmcp-misc-")));
const apps: App[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});

describe("hard links", () => {
  it("a hard link inside the allowed directory to a file outside it is refused, nothing read; a plain file still reads", async () => {
    const allowed = join(root, "allowed");
    const outside = join(root, "outside");
    mkdirSync(allowed);
    mkdirSync(outside);
    writeFileSync(join(outside, "secret.txt"), "outside secret");
    linkSync(join(outside, "secret.txt"), join(allowed, "innocent.txt"));
    writeFileSync(join(allowed, "plain.txt"), "plain");
    const err = await readAllowedFile("innocent.txt", [allowed], 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileRefused);
    expect((err as Error).message).toMatch(/has 2 hard links, so it may be a file from outside the allowed directories.*nothing was read/);
    expect((err as Error).message).not.toContain("outside secret");
    expect(Buffer.from((await readAllowedFile("plain.txt", [allowed], 1000)).bytes).toString()).toBe("plain");
  });
});

describe("a config file that is not JSON", () => {
  it("is reported as not JSON, with none of its characters (a symlink swapped for a secret file)", () => {
    const secret = join(root, "secret-key.txt");
    writeFileSync(secret, "co-SECRETVALUE-0123456789abcdef\n");
    const link = join(root, "config.json");
    symlinkSync(secret, link);
    let message = "";
    try {
      loadConfigFile(link);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/is not JSON( \(the error is at byte offset \d+\))?; none of its content is shown/);
    expect(message).not.toMatch(/SECRET|co-S|0123/);
    unlinkSync(link);
    writeFileSync(join(root, "half.json"), '{"profiles": {"p": "hunter2-password');
    expect(() => loadConfigFile(join(root, "half.json"))).toThrow(/not JSON/);
    try {
      loadConfigFile(join(root, "half.json"));
    } catch (e) {
      expect((e as Error).message).not.toContain("hunter2");
    }
  });
});

describe("OAuth claim values split on the ASCII space only (RFC 6749 §3.3)", () => {
  it("tab, NBSP and other whitespace do not separate values", () => {
    const rule = { claim: "groups", includes: "admins", profile: "p" };
    expect(ruleMatches(rule, { groups: "staff admins" })).toBe(true);
    for (const sep of ["\t", "\u00a0", "\n", "\u2003", "\u3000"]) expect(ruleMatches(rule, { groups: `staff${sep}admins` }), JSON.stringify(sep)).toBe(false);
    expect(tokenScopes({ scope: "cohere:read cohere:write" }, ["scope"])).toEqual(["cohere:read", "cohere:write"]);
    expect(tokenScopes({ scope: "cohere:read\u00a0cohere:write" }, ["scope"])).toEqual(["cohere:read\u00a0cohere:write"]);
    expect(tokenScopes({ scope: "cohere:read\tcohere:destructive" }, ["scope"])).toEqual(["cohere:read\tcohere:destructive"]);
  });
});

describe("metrics name OAuth agents (bounded) and give them budget gauges", () => {
  it(`the first ${MAX_OAUTH_AGENT_LABELS} distinct OAuth agents get their own label, the rest "other"; a budgeted OAuth agent has budget gauges`, async () => {
    const app = createApp(
      parseOptions(["--config", writeConfig({ profiles: { p: { tools: ["tokenize"], budget: { calls: 10 } } } })], { CO_API_KEY: TEST_KEY }),
      createLogger("silent"),
    );
    apps.push(app);
    const t = new Telemetry(app);
    const guard = t.inFlightGuard();
    const tool = app.tools.find((x) => x.name === "tokenize")!;
    const scope = (agent: string) => ({ agent, transport: "http" as const, visible: new Set(["tokenize"]), profile: "p", claims: { sub: `sub-${agent}` } });
    const verdict = await guard.check(scope("oauth-bob"), tool, {});
    if (verdict.ok && verdict.after) await verdict.after({ ok: true, sent: true });
    await app.live.current.budgets!.check(scope("oauth-bob"), tool, {});
    for (let i = 0; i < MAX_OAUTH_AGENT_LABELS + 20; i++) {
      t.observe({ time: "", agent: `oauth-${i}`, sub: `s${i}`, transport: "http", tool: "tokenize", decision: "allowed", outcome: "ok", latencyMs: 1 });
    }
    // a name without OAuth claims is never given a label of its own
    t.observe({ time: "", agent: "not-configured", transport: "http", tool: "tokenize", decision: "allowed", outcome: "ok", latencyMs: 1 });
    const text = await t.registry.metrics();
    expect(text).toMatch(/cohere_mcp_calls_total\{agent="oauth-0",tool="tokenize",decision="allowed",outcome="ok"\} 1/);
    const labelled = new Set([...text.matchAll(/cohere_mcp_calls_total\{agent="(oauth-[^"]+)"/g)].map((m) => m[1]));
    expect(labelled.size).toBe(MAX_OAUTH_AGENT_LABELS - 1); // oauth-bob took one of the labels
    expect(text).toMatch(/cohere_mcp_calls_total\{agent="other",tool="tokenize",decision="allowed",outcome="ok"\} 22/);
    expect(text).not.toContain('agent="not-configured"');
    expect(text).toMatch(/cohere_mcp_budget_used\{agent="oauth-bob",unit="calls"\} 1/);
    expect(text).toMatch(/cohere_mcp_budget_remaining\{agent="oauth-bob",unit="calls"\} 9/);
  });
});
