/**
 * Durable usage (the console's Usage page and GET usage): counters per agent and per Cohere key,
 * per day — not a sum over the activity stream — so usage covers more calls than --activity-max
 * keeps, in memory mode and on Redis, and survives a replica restart there.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { TEST_KEY } from "./helpers.js";
import { bearer, connectHttp, eventually, writeConfig } from "./http-support.js";
import { redisServerPath, startRedis, type RedisServer } from "../bench/redis.js";
import { MemorySharedState } from "../src/store/shared-memory.js";
import { RedisSharedState } from "../src/store/shared-redis.js";
import { usageTtlMs } from "../src/admin/activity/usage-counters.js";
import { api, LEAD_TOKEN, SEARCH_TOKEN, startConsole, teamConfig, type Console } from "./admin-support.js";

const HAVE_REDIS = redisServerPath() !== undefined;
const rerank = { model: "rerank-v3.5", query: "capital", documents: ["paris", "bananas"] };
// $2000 per million search units: one rerank (1 search unit) costs $0.002
const PRICED = teamConfig({ prices_usd_per_million: { "*": { search_units: 2000 } } });
const month = () => new Date().toISOString().slice(0, 7);

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
}, 30_000);
afterAll(async () => {
  await emu?.stop();
});

/** `n` reranks and one refused call of search-agent, on one MCP session. */
async function calls(c: Console, n: number): Promise<void> {
  const agent = await connectHttp(c.srv.url, bearer(SEARCH_TOKEN));
  try {
    for (let i = 0; i < n; i++) await agent.client.callTool({ name: "rerank", arguments: rerank });
    await agent.client.callTool({ name: "delete_dataset", arguments: { id: "x" } }); // refused
  } finally {
    await agent.close();
  }
}

async function usageOf(c: Console) {
  const r = await api(c, "GET", `usage?month=${month()}`, { bearer: LEAD_TOKEN });
  expect(r.status, r.body).toBe(200);
  const agent = r.json.agents.find((a: { agent: string }) => a.agent === "search-agent");
  const key = r.json.keys.find((k: { key: string }) => k.key === "default");
  return { agent, key };
}

describe("durable usage", () => {
  it("memory mode: usage counts every call, beyond what --activity-max keeps", async () => {
    const c = await startConsole(emu.url, ["--config", writeConfig(PRICED), "--sessions", "--activity-max", "10"]);
    try {
      await calls(c, 30);
      // the activity stream keeps about 10 events; usage has all 30 calls. Usage is written in
      // batches (src/admin/activity/usage-counters.ts): the refused call may land in the batch after the 30, so wait
      // for both (waiting for the calls alone failed once in CI with denied still 0)
      const { agent, key } = await eventually(async () => {
        const u = await usageOf(c);
        expect(u.agent.calls).toBe(30);
        expect(u.agent.denied).toBe(1);
        return u;
      }, 2_000);
      expect(agent.units.search_units).toBe(30);
      expect(agent.usd).toBeCloseTo(0.06, 9);
      expect(agent.days).toEqual([{ day: new Date().toISOString().slice(0, 10), calls: 30, usd: agent.usd }]);
      expect(key.calls).toBe(30);
      expect(key.units.search_units).toBe(30);
      const act = await api(c, "GET", "activity?agent=search-agent&limit=1000", { bearer: LEAD_TOKEN });
      expect(act.json.events.length).toBeLessThan(31);
    } finally {
      await c.srv.stop();
    }
  });

  it.skipIf(!HAVE_REDIS)("on Redis: both replicas' calls are counted, beyond --activity-max, and survive a replica restart", async () => {
    const redis: RedisServer = await startRedis();
    const configPath = writeConfig(PRICED);
    const replica = (tag: string) => startConsole(emu.url, ["--config", configPath, "--sessions", "--store", redis.url, "--replica-id", tag, "--activity-max", "10"]);
    let a = await replica("ua");
    const b = await replica("ub");
    try {
      // XADD MAXLEN ~ trims whole stream nodes (100 entries): enough calls that it does
      await calls(b, 70);
      await calls(a, 70);
      // stopped at once: what it counted last is written on the way out
      await a.srv.stop();
      await eventually(async () => {
        const { agent } = await usageOf(b);
        expect(agent.calls).toBe(140);
        expect(agent.denied).toBe(2); // written in batches: the refused calls may come a batch later
      }, 2_000);
      const act = await api(b, "GET", "activity?agent=search-agent&limit=1000", { bearer: LEAD_TOKEN });
      expect(act.json.events.length).toBeLessThan(142);
      a = await replica("ua");
      const { agent, key } = await usageOf(a);
      expect(agent.calls).toBe(140);
      expect(agent.denied).toBe(2);
      expect(agent.units.search_units).toBe(140);
      expect(agent.usd).toBeCloseTo(0.28, 9);
      expect(key.calls).toBe(140);
      expect((await usageOf(b)).agent.calls).toBe(140);
    } finally {
      await a.srv.stop();
      await b.srv.stop();
      await redis.dispose();
    }
  }, 60_000);

  it("a month's counters are kept through the month after it; the memory store adds atomically and forgets ended maps", async () => {
    // counted on 31 January: kept until 1 March (the previous month stays readable all February)
    const jan31 = Date.UTC(2026, 0, 31, 12);
    expect(jan31 + usageTtlMs("2026-01", jan31)).toBe(Date.UTC(2026, 2, 1));
    let now = Date.UTC(2026, 1, 10);
    const s = new MemorySharedState(() => now);
    await s.addFields("usage:2026-02", { x: 2, y: 1 }, 1000);
    await s.addFields("usage:2026-02", { x: 3 }, 1000);
    expect(await s.fields("usage:2026-02")).toEqual({ x: "5", y: "1" });
    await expect(s.addFields("usage:2026-02", { x: 0.5 }, 1000)).rejects.toThrow(/whole number/);
    now += 1001;
    expect(await s.fields("usage:2026-02")).toEqual({});
  });

  it.skipIf(!HAVE_REDIS)("on Redis, adds from two connections at once are all counted; a bad amount adds nothing; the map ends with its TTL", async () => {
    const redis = await startRedis();
    const open = async () => {
      const s = new RedisSharedState({ url: redis.url, prefix: `usage-test:${process.pid}:`, timeoutMs: 2_000 });
      expect(await s.connect(5_000)).toBe(true);
      return s;
    };
    const [x, y] = await Promise.all([open(), open()]);
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? x : y).addFields("usage:2026-12", { calls: 1, "u:search_units": 2 }, 60_000)));
      expect(await x.fields("usage:2026-12")).toEqual({ calls: "200", "u:search_units": "400" });
      await expect(y.addFields("usage:2026-12", { calls: 1, "u:search_units": 1.5 }, 60_000)).rejects.toThrow(/whole number/);
      expect((await y.fields("usage:2026-12")).calls).toBe("200");
      await x.addFields("usage:short", { calls: 1 }, 150);
      await eventually(async () => expect(await y.fields("usage:short")).toEqual({}), 2_000);
    } finally {
      await x.close();
      await y.close();
      await redis.dispose();
    }
  });
});
