/**
 * Issue 20, finding 11 (Cohere key limits; store address; CO_API_URL): images inside embed
 * `inputs[].content` count against the key's image limit; the key guard runs after every other
 * guard (concurrency included), so a refused call never takes the shared key's per-minute slots;
 * an agent refused because the shared store is down is not told the store's address; a plain
 * http:// CO_API_URL to another host is warned about at start.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { createApp, type App } from "../src/app.js";
import { cleartextWarning } from "../src/config/cleartext.js";
import { parseOptions } from "../src/config/options.js";
import { createLogger } from "../src/logger.js";
import { concurrencyGuard } from "../src/policy/concurrency.js";
import { endpointCosts } from "../src/policy/cohere-limits.js";
import { callTool } from "../src/server.js";
import { TEST_KEY, textOf } from "./helpers.js";
import { startHttp, writeConfig } from "./http-support.js";

const TRIAL = "trial-key-VALUE-1111222233334444";
let emu: CohereEmulator;
const apps: App[] = [];
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await emu.stop();
});
beforeEach(() => emu.reset());

function rig(config: Record<string, unknown>) {
  const app = createApp(
    parseOptions(["--config", writeConfig(config)], { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url, COHERE_MCP_MAX_RETRIES: "0" }),
    createLogger("silent"),
    { env: { TRIAL_KEY: TRIAL, CO_API_KEY: TEST_KEY } },
  );
  apps.push(app);
  const call = (agent: string, tool: string, args: Record<string, unknown>) =>
    callTool(app, { agent, transport: "http", visible: app.profileVisible("t"), profile: "t" }, tool, args, {});
  return { app, call };
}
const sent = (path: string) => emu.requests.filter((r) => r.path === path).length;
const IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

describe("Cohere key limits", () => {
  it("images inside embed inputs[].content count against the image limit (6 images on a Trial key of 5 a minute: refused, nothing sent)", async () => {
    const inputs = Array.from({ length: 6 }, () => ({ content: [{ type: "image_url", image_url: { url: IMAGE } }] }));
    expect(endpointCosts({ name: "embed" }, { inputs })).toEqual([{ endpoint: "embed_images", cost: 6 }]);
    const mixed = [{ content: [{ type: "text", text: "a" }, { type: "image_url", image_url: { url: IMAGE } }] }, { content: [{ type: "text", text: "b" }] }];
    expect(endpointCosts({ name: "embed" }, { inputs: mixed })).toEqual([
      { endpoint: "embed", cost: 2 },
      { endpoint: "embed_images", cost: 1 },
    ]);
    const r = rig({ cohere_keys: { trial: { env: "TRIAL_KEY", type: "trial", max_wait_ms: 0 } }, profiles: { t: { tools: ["embed"], cohere_key: "trial" } } });
    const res = await r.call("a", "embed", { model: "embed-v4.0", input_type: "image", embedding_types: ["float"], inputs });
    expect(textOf(res)).toMatch(/limit for embed_images is 5 images a minute: this call has 6 images, more than fits in one window, so nothing was sent/);
    expect(sent("/v2/embed")).toBe(0);
  });

  it("calls refused for concurrency never take the key's per-minute slots (the key guard runs last)", async () => {
    const r = rig({
      cohere_keys: { trial: { env: "TRIAL_KEY", type: "trial", max_wait_ms: 0, per_minute: { chat: 3 } } },
      profiles: { t: { tools: ["chat"], cohere_key: "trial", limits: { max_concurrent_calls: 1 } } },
    });
    r.app.guards.push(concurrencyGuard({ config: () => r.app.config, httpDefault: 16, waitMs: 0 }));
    emu.setLatency(300);
    const CHAT = { model: "command-a-03-2025", messages: [{ role: "user", content: "hi" }] };
    const burst = await Promise.all(Array.from({ length: 8 }, () => r.call("a", "chat", CHAT)));
    expect(burst.filter((x) => !x.isError)).toHaveLength(1);
    for (const x of burst.filter((y) => y.isError)) expect(textOf(x)).toMatch(/concurrent|in flight/i);
    emu.setLatency(0);
    // 1 of the key's 3 chats a minute used: two more pass
    for (let i = 0; i < 2; i++) {
      const x = await r.call("a", "chat", CHAT);
      expect(x.isError, textOf(x)).toBeFalsy();
    }
    expect(textOf(await r.call("a", "chat", CHAT))).toMatch(/limit for chat on Cohere key "trial" .* is 3 a minute: retry in/);
    expect(sent("/v2/chat")).toBe(3);
  });
});

describe("CO_API_URL over plain http:// to another host", () => {
  it("is warned about at start; https:// and loopback are not", async () => {
    expect(cleartextWarning("http://api.example.com")).toMatch(/plain http:\/\/ to api\.example\.com.*in clear/);
    expect(cleartextWarning("http://10.0.0.5:8080/v1")).toMatch(/10\.0\.0\.5:8080/);
    for (const ok of ["https://api.cohere.com", "http://127.0.0.1:4010", "http://localhost:1", "http://[::1]:80"]) expect(cleartextWarning(ok)).toBeUndefined();
    const srv = await startHttp("http://192.0.2.10:9");
    try {
      expect(srv.stderr()).toMatch(/"level":"warn","msg":"CO_API_URL is plain http:\/\/ to 192\.0\.2\.10:9/);
    } finally {
      await srv.stop();
    }
    const local = await startHttp(emu.url);
    try {
      expect(local.stderr()).not.toMatch(/CO_API_URL is plain/);
    } finally {
      await local.stop();
    }
  });
});
