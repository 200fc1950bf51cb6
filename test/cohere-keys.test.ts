/**
 * Several Cohere keys, limited the way Cohere limits them: per key (across every agent on it) per
 * endpoint per minute, and a Trial key's calls per month. A call over a limit waits for the
 * window (bounded) or is refused with when to retry; nothing is ever sent over a limit (checked
 * on the emulator's recorded requests, by the key each carried). Through the real App and
 * callTool, against the emulator over a real socket.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { createApp, type App } from "../src/runtime/app.js";
import type { AuditEvent } from "../src/audit/index.js";
import { parseOptions } from "../src/config/options.js";
import { createLogger } from "../src/runtime/logger.js";
import { callTool } from "../src/server.js";
import { TEST_KEY, textOf } from "./helpers.js";
import { writeConfig } from "./http-support.js";

const TRIAL = "trial-key-VALUE-1111222233334444";
const PROD = "prod-key-VALUE-5555666677778888";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const apps: App[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});

const TOOLS = ["chat", "embed", "tokenize", "rerank"];

function rig(config: Record<string, unknown>, env: Record<string, string> = {}) {
  const path = writeConfig(config);
  const app = createApp(
    parseOptions(["--config", path], {
      CO_API_KEY: TEST_KEY,
      CO_API_URL: emu.url,
      COHERE_MCP_MAX_RETRIES: "0",
      COHERE_MCP_RETRY_BASE_MS: "5",
      ...env,
    }),
    createLogger("silent"),
    { env: { TRIAL_KEY: TRIAL, PROD_KEY: PROD, CO_API_KEY: TEST_KEY } },
  );
  apps.push(app);
  const events: AuditEvent[] = [];
  app.audit = { record: (e) => events.push(e), close: async () => undefined };
  const call = (agent: string, profile: string, tool: string, args: Record<string, unknown>) =>
    callTool(app, { agent, transport: "http", visible: app.profileVisible(profile), profile }, tool, args, {});
  return { app, events, call };
}

const sentWith = (key: string, path?: string) =>
  emu.requests.filter((r) => r.headers.authorization === `Bearer ${key}` && (!path || r.path === path)).length;

const CHAT = { model: "command-a-03-2025", messages: [{ role: "user", content: "hi" }] };
const embed = (n: number) => ({ model: "embed-v4.0", input_type: "search_document", texts: Array.from({ length: n }, (_, i) => `t${i}`) });

describe("Cohere's limits per key", () => {
  it("two agents on one Trial key share its 20 chats a minute; a third on a Production key is unaffected; nothing is sent over", async () => {
    const r = rig({
      cohere_keys: {
        "team-trial": { env: "TRIAL_KEY", type: "trial", max_wait_ms: 0 },
        prod: { env: "PROD_KEY", type: "production" },
      },
      profiles: { t: { tools: TOOLS, cohere_key: "team-trial" }, pr: { tools: TOOLS, cohere_key: "prod" } },
    });
    const shared: boolean[] = [];
    const refusals: string[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await r.call(i % 2 ? "agent-b" : "agent-a", "t", "chat", CHAT);
      shared.push(!res.isError);
      if (res.isError) refusals.push(textOf(res));
    }
    const prod = await Promise.all(Array.from({ length: 25 }, () => r.call("agent-c", "pr", "chat", CHAT)));

    expect(shared.filter(Boolean)).toHaveLength(20);
    expect(shared.slice(0, 20).every(Boolean)).toBe(true);
    expect(sentWith(TRIAL, "/v2/chat")).toBe(20);
    for (const m of refusals) {
      expect(m).toMatch(
        /^Cohere's Trial limit for chat is 20 a minute: retry in \d+ s or use a Production key\. Key "team-trial" is shared by every agent that uses it; nothing was sent to Cohere\.$/,
      );
    }
    expect(prod.every((x) => !x.isError)).toBe(true);
    expect(sentWith(PROD, "/v2/chat")).toBe(25);
    expect(sentWith(TEST_KEY)).toBe(0);

    // The audit names the key by its config name, never by its value.
    expect(r.events.filter((e) => e.agent === "agent-a").every((e) => e.key === "team-trial")).toBe(true);
    expect(r.events.filter((e) => e.agent === "agent-c").every((e) => e.key === "prod")).toBe(true);
    expect(r.events.filter((e) => e.reason === "cohere_limit")).toHaveLength(5);
    const all = JSON.stringify(r.events);
    expect(all).not.toContain(TRIAL);
    expect(all).not.toContain(PROD);
    expect(r.app.secrets()).toEqual(expect.arrayContaining([TRIAL, PROD]));
  });

  it("waits for the window when it ends within max_wait_ms, refuses when it does not", async () => {
    const env = { COHERE_MCP_RATE_WINDOW_MS: "1500" };
    const keys = (wait: number) => ({ w: { env: "TRIAL_KEY", type: "trial", per_minute: { chat: 2 }, max_wait_ms: wait } });
    const waits = rig({ cohere_keys: keys(5_000), profiles: { t: { tools: TOOLS, cohere_key: "w" } } }, env);
    const t0 = Date.now();
    const done: number[] = [];
    const results = await Promise.all(
      [0, 1, 2].map(async () => {
        const res = await waits.call("a", "t", "chat", CHAT);
        done.push(Date.now() - t0);
        return res;
      }),
    );
    expect(results.every((x) => !x.isError)).toBe(true);
    expect(sentWith(TRIAL, "/v2/chat")).toBe(3);
    // The third waited for the next 1.5 s window rather than being sent inside the first.
    expect(Math.max(...done)).toBeGreaterThanOrEqual(1_400);

    emu.reset();
    const refuses = rig({ cohere_keys: keys(0), profiles: { t: { tools: TOOLS, cohere_key: "w" } } }, env);
    const again = await Promise.all([0, 1, 2].map(() => refuses.call("a", "t", "chat", CHAT)));
    expect(again.filter((x) => !x.isError)).toHaveLength(2);
    expect(textOf(again.find((x) => x.isError)!)).toMatch(
      /^The limit for chat on Cohere key "w" \(Trial, cohere_keys\.w\.per_minute\.chat\) is 2 per 1\.5 s: retry in [12] s or use a Production key\./,
    );
    expect(sentWith(TRIAL, "/v2/chat")).toBe(2);
  });

  it("embed counts inputs; a call larger than the window is refused with 'split it'", async () => {
    const r = rig({
      cohere_keys: { e: { env: "PROD_KEY", type: "production", per_minute: { embed: 5 }, max_wait_ms: 0 } },
      profiles: { t: { tools: TOOLS, cohere_key: "e" } },
    });
    expect((await r.call("a", "t", "embed", embed(3))).isError).toBeFalsy();
    expect(textOf(await r.call("b", "t", "embed", embed(3)))).toMatch(
      /^The limit for embed on Cohere key "e" \(Production, cohere_keys\.e\.per_minute\.embed\) is 5 inputs a minute: retry in \d+ s\. /,
    );
    expect(textOf(await r.call("a", "t", "embed", embed(6)))).toMatch(/this call has 6 inputs, more than fits in one window.*Split it/);
    expect((await r.call("a", "t", "embed", embed(2))).isError).toBeFalsy();
    expect(sentWith(PROD, "/v2/embed")).toBe(2);
  });

  it("a Trial key's calls per month count every request Cohere sees (retries too), across endpoints", async () => {
    emu.addFault({ path: "/v2/chat", fault: { kind: "status", status: 503 } });
    const r = rig(
      {
        cohere_keys: { m: { env: "TRIAL_KEY", type: "trial", per_month: 3, max_wait_ms: 0 } },
        profiles: { t: { tools: TOOLS, cohere_key: "m" } },
      },
      { COHERE_MCP_MAX_RETRIES: "1" },
    );
    expect((await r.call("a", "t", "chat", CHAT)).isError).toBeFalsy(); // 503, retried: 2 requests
    expect((await r.call("b", "t", "tokenize", { model: "command-a-03-2025", text: "x" })).isError).toBeFalsy(); // 3
    const refused = await r.call("a", "t", "rerank", { model: "rerank-v3.5", query: "q", documents: ["d"] });
    expect(textOf(refused)).toMatch(
      /^Cohere's Trial key "m" has used its 3 calls this month \(\d{4}-\d{2}, UTC\) \(cohere_keys\.m\.per_month\); nothing was sent to Cohere\. It renews at \d{4}-\d{2}-01T00:00:00\.000Z; until then, use a Production key\.$/,
    );
    expect(sentWith(TRIAL)).toBe(3);
  });

  it("without cohere_key a profile uses the key in CO_API_KEY, named when declared (and limited as its type)", async () => {
    const r = rig({
      cohere_keys: { main: { env: "CO_API_KEY", type: "trial", per_minute: { tokenize: 1 }, max_wait_ms: 0 } },
      profiles: { plain: { tools: TOOLS } },
    });
    const tok = { model: "command-a-03-2025", text: "x" };
    expect((await r.call("a", "plain", "tokenize", tok)).isError).toBeFalsy();
    expect(textOf(await r.call("a", "plain", "tokenize", tok))).toMatch(/^The limit for tokenize on Cohere key "main"/);
    expect(sentWith(TEST_KEY, "/v1/tokenize")).toBe(1);
    expect(r.events[0]).toMatchObject({ key: "main", decision: "allowed" });

    // No cohere_keys at all: the process's key, no key limits, no key in the audit (as before).
    const bare = rig({ profiles: { plain: { tools: TOOLS } } });
    for (let i = 0; i < 3; i++) expect((await bare.call("a", "plain", "tokenize", tok)).isError).toBeFalsy();
    expect(bare.events[0]!.key).toBeUndefined();
  });

  it("refuses a configuration whose key variable is unset or whose profile names no key", () => {
    expect(() => rig({ cohere_keys: { x: { env: "NOT_SET_ANYWHERE", type: "trial" } }, profiles: {} })).toThrow(
      /cohere_keys\.x: environment variable NOT_SET_ANYWHERE is not set or empty/,
    );
    expect(() => rig({ cohere_keys: { x: { env: "TRIAL_KEY", type: "trial" } }, profiles: { p: { cohere_key: "y" } } })).toThrow(
      /profiles\.p\.cohere_key: no cohere_keys entry named "y" \(keys: x\)/,
    );
    expect(() => rig({ cohere_keys: { x: { env: "TRIAL_KEY", type: "gold" } }, profiles: {} })).toThrow(/cohere_keys\.x\.type/);
  });
});
