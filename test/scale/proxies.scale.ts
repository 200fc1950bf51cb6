/**
 * Client addresses behind nginx (--trusted-proxies): three replicas sharing counters on Redis,
 * Debian's nginx in front running deploy/nginx/ (which sends X-Forwarded-For), every replica
 * started with --trusted-proxies 127.0.0.1. Clients reach nginx from different loopback
 * addresses (127.0.0.2, 127.0.0.3, ...); nginx adds the address it sees, and that is the client.
 *
 * One client sending wrong tokens is throttled (429) on all replicas, while another client
 * behind the same nginx keeps working, before, during and after; without --trusted-proxies every
 * client would have nginx's address and all would be throttled together.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../../emulator/server.js";
import { BENCH_KEY, proofDir, sleep } from "../../bench/lib.js";
import { startRedis, type RedisServer } from "../../bench/redis.js";
import { auditLines, makeReplica, MCP_HEADERS, request, startNginx, type Nginx, type Replica } from "./cluster.js";

const TOKEN = "scale-proxies-token-SECRET-7a8b9c";
const dir = proofDir();
const configPath = join(dir, `scale-proxies-config-${process.pid}.json`);
writeFileSync(
  configPath,
  JSON.stringify({ profiles: { reader: { tools: ["rerank"] } }, agents: [{ name: "reader", profile: "reader", token_env: "SCALE_PROXIES_TOKEN" }] }),
);
const BODY = (query: string) =>
  JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "rerank", arguments: { model: "rerank-v3.5", query, documents: ["a", "b"] } } });
const LIMIT = 5;

let emu: CohereEmulator;
let redis: RedisServer;
let replicas: Replica[] = [];
let nginx: Nginx | undefined;

beforeAll(async () => {
  emu = await startEmulator({ apiKey: BENCH_KEY, maxRecordedRequests: 10_000 });
  redis = await startRedis();
  replicas = await Promise.all(
    ["r1", "r2", "r3"].map((tag) =>
      makeReplica(tag, {
        emulatorUrl: emu.url,
        redisUrl: redis.url,
        args: ["--config", configPath, "--store-prefix", `scale-proxies-${process.pid}:`, "--trusted-proxies", "127.0.0.1", "--max-auth-failures", String(LIMIT)],
        env: { SCALE_PROXIES_TOKEN: TOKEN },
      }),
    ),
  );
  await Promise.all(replicas.map((r) => r.start()));
  nginx = await startNginx(replicas);
}, 60_000);
afterAll(async () => {
  await nginx?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
  await redis?.dispose();
  await emu?.stop();
});

describe("failed logins behind nginx are throttled per client, not per nginx", () => {
  it("a client sending wrong tokens gets 429 on every replica; another client behind the same nginx keeps working throughout", async () => {
    const mcp = `${nginx!.url}/mcp`;
    const call = (localAddress: string, token: string, query: string) =>
      request(mcp, { headers: { ...MCP_HEADERS, Authorization: `Bearer ${token}` }, body: BODY(query), localAddress });

    // the good client, in a loop for the whole test
    let running = true;
    const good: number[] = [];
    const loop = (async () => {
      let i = 0;
      while (running) {
        good.push(await call("127.0.0.3", TOKEN, `good-${i++}`).then((r) => r.status, () => 0));
        await sleep(20);
      }
    })();

    // the guesser: wrong tokens until throttled (bounded)
    const guesses: number[] = [];
    for (let i = 0; i < 40 && !guesses.includes(429); i++) guesses.push((await call("127.0.0.2", `wrong-token-${i}-abcdefghijklmnop`, "bad")).status);
    expect(guesses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(401));
    expect(guesses.at(-1)).toBe(429);
    // the counts are shared: at most a few more tries than the limit got through, whatever replica answered
    expect(guesses.length).toBeLessThanOrEqual(LIMIT + 3);
    // every further guess is 429, whichever replica nginx sends it to (the count is shared)
    const after: number[] = [];
    for (let i = 0; i < 9; i++) after.push((await call("127.0.0.2", `wrong-again-${i}-abcdefghijklmnop`, "after")).status);
    expect(after).toEqual(Array(9).fill(429));

    // a third client, and the good one: served
    expect((await call("127.0.0.4", TOKEN, "third")).status).toBe(200);
    for (let i = 0; i < 500 && good.length < 20; i++) await sleep(20); // a few more rounds after the throttle
    running = false;
    await loop;
    expect(good.length).toBeGreaterThanOrEqual(20);
    expect(good.every((s) => s === 200)).toBe(true);

    // the replicas' audits name the clients, never nginx's address
    const lines = replicas.flatMap((r) => auditLines(r.audit));
    const refused = lines.filter((l) => l.reason === "auth");
    expect(refused.length).toBeGreaterThanOrEqual(LIMIT);
    expect(refused.every((l) => l.remote === "127.0.0.2")).toBe(true);
    expect(lines.some((l) => l.remote === "127.0.0.1")).toBe(false);
    // an allowed call's line names its client too, after --trusted-proxies, and the replica (issue 22, item 9)
    const allowed = lines.filter((l) => l.decision === "allowed");
    expect(allowed.length).toBeGreaterThanOrEqual(20);
    expect(allowed.every((l) => l.remote === "127.0.0.3" || l.remote === "127.0.0.4")).toBe(true);
    expect(lines.every((l) => typeof l.replica === "string" && l.replica.length > 0)).toBe(true);
  });
});
