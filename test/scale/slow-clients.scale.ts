/**
 * Slow and greedy clients through the shipped nginx configuration (issue 20, finding 10): the
 * replicas skip their own per-address connection cap for nginx (a trusted proxy), so
 * deploy/nginx/nginx.conf + cohere-mcp.conf, run as shipped (no edits), must bound each client:
 *
 *  - 300 connections from one address that send half a request header are cut within seconds
 *    (client_header_timeout), and meanwhile another client's calls are served;
 *  - 150 requests from one address that send their headers and then stall their body: beyond
 *    limit_conn's 64 they get 429 at once, the rest are cut within seconds (client_body_timeout),
 *    and another client is served throughout;
 *  - a burst of requests from one address past limit_req gets 429, another address does not.
 */
import net from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../../emulator/server.js";
import { BENCH_KEY, proofDir, sleep } from "../../bench/lib.js";
import { startRedis, type RedisServer } from "../../bench/redis.js";
import { makeReplica, MCP_HEADERS, request, startNginx, type Nginx, type Replica } from "./cluster.js";

const TOKEN = "scale-slow-token-SECRET-1f2e3d4c";
const configPath = join(proofDir(), `scale-slow-config-${process.pid}.json`);
writeFileSync(
  configPath,
  JSON.stringify({ profiles: { reader: { tools: ["rerank"] } }, agents: [{ name: "reader", profile: "reader", token_env: "SCALE_SLOW_TOKEN" }] }),
);
const BODY = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a", "b"] } } });

let emu: CohereEmulator;
let redis: RedisServer;
let replicas: Replica[] = [];
let nginx: Nginx;

beforeAll(async () => {
  emu = await startEmulator({ apiKey: BENCH_KEY });
  redis = await startRedis();
  replicas = await Promise.all(
    ["r1", "r2", "r3"].map((tag) =>
      makeReplica(tag, {
        emulatorUrl: emu.url,
        redisUrl: redis.url,
        args: ["--config", configPath, "--store-prefix", `scale-slow-${process.pid}:`, "--trusted-proxies", "127.0.0.1"],
        env: { SCALE_SLOW_TOKEN: TOKEN },
      }),
    ),
  );
  await Promise.all(replicas.map((r) => r.start()));
  nginx = await startNginx(replicas); // as shipped
}, 60_000);
afterAll(async () => {
  await nginx?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
  await redis?.dispose();
  await emu?.stop();
});

/** A connection from `from` that writes `first` and then nothing; resolves when nginx closes it, with what nginx wrote. */
function stall(from: string, first: string): { closed: Promise<{ at: number; reply: string }> } {
  const s = net.connect({ host: "127.0.0.1", port: nginx.port, localAddress: from });
  let reply = "";
  s.on("data", (d) => (reply += d.toString()));
  s.on("connect", () => s.write(first));
  const closed = new Promise<{ at: number; reply: string }>((resolve) => {
    s.on("close", () => resolve({ at: Date.now(), reply }));
    s.on("error", () => undefined);
  });
  setTimeout(() => s.destroy(), 30_000).unref(); // the test's own bound
  return { closed };
}

/** Calls from `from` in a loop until `stop` resolves; their statuses. */
async function serveLoop(from: string, stop: Promise<unknown>): Promise<number[]> {
  let running = true;
  void stop.then(() => (running = false));
  const got: number[] = [];
  while (running) {
    got.push(await request(`${nginx.url}/mcp`, { headers: { ...MCP_HEADERS, Authorization: `Bearer ${TOKEN}` }, body: BODY, localAddress: from }).then((r) => r.status, () => 0));
    await sleep(100);
  }
  return got;
}

describe("the shipped nginx configuration bounds slow and greedy clients", () => {
  it("300 connections sending half a header are cut within seconds; another client is served meanwhile", async () => {
    const t0 = Date.now();
    const held = Array.from({ length: 300 }, () => stall("127.0.0.2", "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    const all = Promise.all(held.map((h) => h.closed));
    const good = await serveLoop("127.0.0.3", all);
    const ends = await all;
    const slowest = Math.max(...ends.map((e) => e.at)) - t0;
    console.log(`finding 10: 300 half-sent headers from one client all cut after ${slowest} ms; the other client's ${good.length} calls: ${[...new Set(good)].join(",")}`);
    expect(slowest).toBeLessThan(10_000);
    expect(good.length).toBeGreaterThanOrEqual(5);
    expect(good.every((s) => s === 200)).toBe(true);
  }, 60_000);

  it("150 requests with a stalled body from one client: 429 past 64 at once, the rest cut within seconds; another client is served", async () => {
    const t0 = Date.now();
    const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1000\r\n\r\n{"jsonrpc"`;
    const held: Array<ReturnType<typeof stall>> = [];
    for (let i = 0; i < 150; i++) {
      held.push(stall("127.0.0.4", head));
      if (i % 25 === 24) await sleep(50); // headers read before the next ones come
    }
    const all = Promise.all(held.map((h) => h.closed));
    const good = await serveLoop("127.0.0.5", all);
    const ends = await all;
    const slowest = Math.max(...ends.map((e) => e.at)) - t0;
    const refused = ends.filter((e) => e.reply.startsWith("HTTP/1.1 429")).length;
    console.log(`finding 10: 150 stalled bodies from one client: ${refused} answered 429 at once, all closed after ${slowest} ms; the other client's ${good.length} calls: ${[...new Set(good)].join(",")}`);
    expect(refused).toBeGreaterThanOrEqual(150 - 64);
    expect(slowest).toBeLessThan(12_000);
    expect(good.length).toBeGreaterThanOrEqual(5);
    expect(good.every((s) => s === 200)).toBe(true);
  }, 60_000);

  it("a burst of 400 requests at once from one address gets 429 past limit_conn and limit_req; another address is served", async () => {
    const burst = await Promise.all(
      Array.from({ length: 400 }, () => request(`${nginx.url}/healthz`, { method: "GET", localAddress: "127.0.0.6" }).then((r) => r.status, () => 0)),
    );
    const limited = burst.filter((s) => s === 429).length;
    console.log(`finding 10: 400 requests at once from one address: ${limited} × 429`);
    expect(limited).toBeGreaterThan(0);
    const other = await request(`${nginx.url}/mcp`, { headers: { ...MCP_HEADERS, Authorization: `Bearer ${TOKEN}` }, body: BODY, localAddress: "127.0.0.7" });
    expect(other.status).toBe(200);
  }, 30_000);
});
