/**
 * Finding 6 of issue 20: counter keys are `:`-separated paths, and OAuth agent names may hold
 * any character. Agent `alpha:tool:rerank` once wrote the key of `alpha`'s per-tool rerank window
 * (three list_models calls by the first rate-limited the second's first rerank). Every key part
 * taken from an identity, a tool, a key name or an address is now encoded: names built from every
 * separator and escape never reach another agent's counters, on the memory store and on Redis.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../../emulator/server.js";
import { createApp, type App } from "../../src/runtime/app.js";
import { parseOptions } from "../../src/config/options.js";
import { createLogger } from "../../src/runtime/logger.js";
import { budgetKey } from "../../src/policy/budget.js";
import { minuteKey } from "../../src/policy/ratelimit.js";
import { callTool } from "../../src/server.js";
import { keyPart } from "../../src/store/keys.js";
import { openStore } from "../../src/store/open.js";
import { redisServerPath, startRedis, type RedisServer } from "../../bench/redis.js";
import { TEST_KEY, textOf } from "../helpers.js";
import { writeConfig } from "../http-support.js";

const HAVE_REDIS = !!redisServerPath();
let emu: CohereEmulator;
let redis: RedisServer | undefined;
const apps: App[] = [];
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  if (HAVE_REDIS) redis = await startRedis();
}, 20_000);
afterAll(async () => {
  for (const a of apps) await a.close();
  await redis?.dispose();
  await emu.stop();
});
beforeEach(() => emu.reset());

/** Names spelled from the key grammar: separators, escapes, tool names, periods and units. */
function hostileNames(victim: string): string[] {
  const month = new Date().toISOString().slice(0, 7);
  const tails = ["tool:rerank", "tool:rerank:minute", "minute", `month:${month}`, `${month}:calls`, `${month}:output_tokens`, "", ":", "%3A", "%25", "1:n"];
  const out = new Set<string>();
  for (const t of tails) {
    out.add(`${victim}:${t}`);
    out.add(`${victim}%3A${t}`);
    out.add(`${victim}${t}`);
  }
  out.add(`:${victim}`);
  out.add(`${victim}:`);
  out.add(victim.replace(/a/g, "%61"));
  out.delete(victim);
  return [...out];
}

describe("key parts are encoded: no value spells another key", () => {
  it("the key of every hostile name differs from every key of its victim (rate limit, per-tool, month, budget)", () => {
    const month = "2026-01";
    const keysOf = (agent: string) => [
      minuteKey(agent),
      `rl:${keyPart(agent)}:tool:${keyPart("rerank")}:minute`,
      `rl:${keyPart(agent)}:month:${month}`,
      ...(["calls", "output_tokens", "usd"] as const).map((u) => budgetKey(agent, month, u)),
    ];
    const victim = new Set(keysOf("alpha"));
    const names = hostileNames("alpha");
    expect(names.length).toBeGreaterThan(30);
    for (const name of names) for (const k of keysOf(name)) expect(victim.has(k), `${name} → ${k}`).toBe(false);
    // encoding is one-to-one on the two characters that matter, and leaves plain names alone
    expect(keyPart("alpha")).toBe("alpha");
    expect(keyPart("a:b")).not.toBe(keyPart("a%3Ab"));
  });

  const stores = HAVE_REDIS ? (["memory", "redis"] as const) : (["memory"] as const);
  it.each(stores)("%s: hostile agents exhausting their own limits never rate-limit alpha's rerank or spend its budget", async (store) => {
    const path = writeConfig({
      profiles: {
        p: { tools: ["list_models", "rerank"], rate_limit: { per_minute: 3, per_tool_per_minute: { rerank: 3 } }, budget: { calls: 3 } },
      },
    });
    const argv = ["--config", path, ...(store === "redis" ? ["--store", redis!.url, "--store-prefix", "keys-bypass:"] : [])];
    const options = parseOptions(argv, { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url, COHERE_MCP_MAX_RETRIES: "0" });
    const app = createApp(options, createLogger("silent"));
    if (store === "redis") app.store = await openStore(options, createLogger("silent"));
    apps.push(app);
    const call = (agent: string, tool: string, args: Record<string, unknown>) =>
      callTool(app, { agent, transport: "http", visible: app.profileVisible("p"), profile: "p" }, tool, args, {});
    const RERANK = { model: "rerank-v3.5", query: "q", documents: ["a", "b"] };
    for (const name of hostileNames("alpha")) {
      // each hostile agent spends all it may: 3 calls, then refused
      for (let i = 0; i < 4; i++) await call(name, "list_models", {});
    }
    const first = await call("alpha", "rerank", RERANK);
    expect(first.isError, textOf(first)).toBeFalsy();
    for (let i = 0; i < 2; i++) expect((await call("alpha", "rerank", RERANK)).isError).toBeFalsy();
    expect(textOf(await call("alpha", "rerank", RERANK))).toMatch(/agent "alpha" has used/);
  });
});
