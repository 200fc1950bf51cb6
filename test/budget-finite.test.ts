/**
 * Finding 5 of issue 20: every cost, limit and correction that reaches a counter store is a
 * finite whole number. A call whose figures are not (generate with max_tokens 1e308 ×
 * num_generations 5 at a price of 0: NaN nano-dollars) is refused before anything is counted or
 * sent, with a tool error saying what to fix; the agent's budget keeps refusing; and an error
 * caused by one call's values refuses that call only — the shared store is not "down" for anyone
 * (deny and allow modes, memory and Redis).
 */
import { createClient } from "@redis/client";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { createApp, type App } from "../src/runtime/app.js";
import type { AuditEvent } from "../src/audit/index.js";
import { parseOptions } from "../src/config/options.js";
import { createLogger } from "../src/runtime/logger.js";
import { callTool } from "../src/server.js";
import { MemoryCounterStore } from "../src/store/memory.js";
import { openStore } from "../src/store/open.js";
import { StoreValueError } from "../src/store/types.js";
import { TEST_KEY, textOf } from "./helpers.js";
import { writeConfig } from "./http-support.js";
import { redisServerPath, startRedis, type RedisServer } from "../bench/redis.js";

const HAVE_REDIS = !!redisServerPath();
if (!HAVE_REDIS) console.warn("budget-finite.test.ts: the Redis half is skipped (redis-server is not installed)");

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

type Mode = "memory" | "redis-deny" | "redis-allow";
const modes: Mode[] = HAVE_REDIS ? ["memory", "redis-deny", "redis-allow"] : ["memory"];
let prefixSeq = 0;

async function rig(mode: Mode): Promise<{ app: App; events: AuditEvent[]; call: (agent: string, tool: string, args: Record<string, unknown>) => ReturnType<typeof callTool> }> {
  // generate's "command" is free in this table; everything else costs $1 a token
  const path = writeConfig({
    profiles: { p: { tools: ["chat", "generate"], budget: { usd: 30 } } },
    prices_usd_per_million: { command: { input_tokens: 0, output_tokens: 0 }, "*": { input_tokens: 1_000_000, output_tokens: 1_000_000 } },
  });
  const storeArgs = mode === "memory" ? [] : ["--store", redis!.url, "--store-prefix", `finite-${++prefixSeq}:`, "--store-failure", mode.slice(6)];
  const options = parseOptions(["--config", path, ...storeArgs], { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url, COHERE_MCP_MAX_RETRIES: "0" });
  const app = createApp(options, createLogger("silent"));
  if (mode !== "memory") app.store = await openStore(options, createLogger("silent"));
  apps.push(app);
  const events: AuditEvent[] = [];
  app.audit = { record: (e) => events.push(e), close: async () => undefined };
  return {
    app,
    events,
    call: (agent, tool, args) => callTool(app, { agent, transport: "http", visible: app.profileVisible("p"), profile: "p" }, tool, args, {}),
  };
}

const WILD = { prompt: "hello", model: "command", max_tokens: 1e308, num_generations: 5 };
const CHAT = { model: "command-a-03-2025", messages: [{ role: "user", content: "hello there" }], max_tokens: 20 };

describe.each(modes)("non-finite figures (%s)", (mode) => {
  it("generate with max_tokens 1e308 × 5 at a price of 0 is refused before sending; the agent's budget still refuses; another agent is unaffected", async () => {
    const r = await rig(mode);
    const res = await r.call("mallory", "generate", WILD);
    expect(res.isError).toBe(true);
    expect(textOf(res)).toMatch(/^Budget: this call may bill .* more than agent "mallory"'s budget \(profile "p", budget\.usd\) can count; nothing was sent to Cohere/);
    expect(emu.requests).toHaveLength(0);
    expect(r.events.at(-1)).toMatchObject({ decision: "denied", reason: "budget" });
    // The budget was not poisoned: $30 at $1 a token, max_tokens 20 → a few calls, then refusals.
    const outcomes: boolean[] = [];
    for (let i = 0; i < 20; i++) outcomes.push(!(await r.call("mallory", "chat", CHAT)).isError);
    expect(outcomes.filter(Boolean).length).toBeGreaterThan(0);
    expect(outcomes.filter((ok) => !ok).length).toBeGreaterThan(10);
    // Another agent: every call served, no store outage said anywhere.
    for (let i = 0; i < 3; i++) await r.call("mallory", "generate", WILD);
    for (let i = 0; i < 2; i++) {
      const x = await r.call("alice", "chat", { ...CHAT, max_tokens: 5 });
      expect(x.isError, textOf(x)).toBeFalsy();
    }
    expect(r.events.some((e) => e.reason === "store_unavailable" || e.counters === "local")).toBe(false);
    expect(r.app.store.fallback).toBeUndefined();
  });
});

describe("limits and prices in the config are finite whole numbers the store can hold", () => {
  it.each([
    ['"budget": { "output_tokens": 1e400 }', /output_tokens/],
    ['"budget": { "output_tokens": 1e300 }', /output_tokens/],
    ['"budget": { "usd": 1e400 }', /usd/],
    ['"rate_limit": { "per_minute": 1e300 }', /per_minute/],
  ])("%s fails at start", (fragment, field) => {
    const path = writeConfig({});
    writeFileSync(path, `{ "profiles": { "p": { "tools": ["chat"], ${fragment} } } }`);
    expect(() => createApp(parseOptions(["--config", path], { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url }), createLogger("silent"))).toThrow(field);
  });
});

describe("the stores refuse figures that are not whole numbers, and that is not an outage", () => {
  it("memory: NaN, Infinity, fractions and negative costs throw StoreValueError and change nothing", async () => {
    const s = new MemoryCounterStore();
    for (const cost of [NaN, Infinity, -1, 0.5, 1e308]) {
      await expect(s.take([{ key: "k", limit: 10, ttlMs: 1000, cost }])).rejects.toBeInstanceOf(StoreValueError);
    }
    await expect(s.take([{ key: "k", limit: NaN, ttlMs: 1000 }])).rejects.toBeInstanceOf(StoreValueError);
    await expect(s.add("k", NaN, 1000)).rejects.toBeInstanceOf(StoreValueError);
    expect((await s.take([{ key: "k", limit: 1, ttlMs: 1000 }])).ok).toBe(true);
    expect((await s.take([{ key: "k", limit: 1, ttlMs: 1000 }])).ok).toBe(false);
  });

  it.skipIf(!HAVE_REDIS).each(["deny", "allow"] as const)("redis (%s): a bad value or a command Redis refuses fails that call only; the store stays shared", async (failure) => {
    const prefix = `values-${failure}:`;
    const options = parseOptions(["--store", redis!.url, "--store-prefix", prefix, "--store-failure", failure], { CO_API_KEY: TEST_KEY });
    const store = await openStore(options, createLogger("silent"));
    try {
      await expect(store.take([{ key: "w", limit: 10, ttlMs: 60_000, cost: NaN }])).rejects.toBeInstanceOf(StoreValueError);
      await expect(store.add("w", Infinity, 60_000)).rejects.toBeInstanceOf(StoreValueError);
      // A key holding something that is not a number: Redis answers an error for this command only.
      const raw = createClient({ url: redis!.url });
      await raw.connect();
      await raw.set(`${prefix}junk`, "not a number");
      await raw.close();
      await expect(store.add("junk", 1, 60_000)).rejects.toBeInstanceOf(StoreValueError);
      // Everyone else's decisions are still shared, at once (no cool-down, no local fallback).
      expect((await store.take([{ key: "w", limit: 10, ttlMs: 60_000 }])).ok).toBe(true);
      expect(store.fallback).toBeUndefined();
      const [w] = await store.get(["w"]);
      expect(w!.count).toBe(1);
    } finally {
      await store.close();
    }
  });
});
