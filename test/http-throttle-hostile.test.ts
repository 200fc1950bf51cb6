/**
 * Issue 20 (second outside review), the static-token and store findings, against the real
 * server (and a real redis-server for finding 4):
 *
 *  - finding 3: 10 wrong tokens from an address do not lock out a valid agent behind it;
 *  - finding 4: with --store-failure deny and Redis stopped, the failed-login throttle and the
 *    refusal throttle keep counting (in the process), and reconcile into Redis when it is back;
 *  - finding 7: the session cap's exemption goes by identity kind, never by the name "anonymous";
 *  - finding 11: IPv6 clients are throttled per /64 (--ipv6-prefix).
 */
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { redisServerPath, startRedis, type RedisServer } from "../bench/redis.js";
import { bearer, INIT, MCP_HEADERS, rawRequest, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";

const GOOD = "hostile-good-token-1a2b3c4d5e6f7a8b";
const ENV = { GOOD_TOKEN: GOOD };
const TEAM = {
  profiles: { reader: { tools: ["rerank", "tokenize"], rate_limit: { per_minute: 1000 } } },
  agents: [{ name: "good", profile: "reader", token_env: "GOOD_TOKEN" }],
};
const RERANK = { model: "rerank-v3.5", query: "q", documents: ["a", "b"] };
const rerank = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "rerank", arguments: RERANK } });
const wrong = (i: number) => `hostile-wrong-${i}-abcdefghijklmnopqrstuv`;
type Line = { reason?: string; tool?: string; suppressed?: number; remote?: string; agent?: string };
const auditLines = (file: string): Line[] => {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line);
  } catch {
    return [];
  }
};

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: "test-key-SECRET-0123456789" });
});
afterAll(async () => emu?.stop());
beforeEach(() => emu.reset());

describe("finding 3 and 11: who the failed-login throttle stops", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    // behind a load balancer on loopback, so that X-Forwarded-For names IPv6 clients
    srv = await startHttp(emu.url, ["--config", writeConfig(TEAM), "--trusted-proxies", "127.0.0.1"], ENV);
  });
  afterAll(async () => srv?.stop());
  const send = (token: string, client: string) =>
    rawRequest(srv.url, { headers: { ...MCP_HEADERS, ...bearer(token), "X-Forwarded-For": client }, body: rerank(1) });

  it("10 wrong tokens from an address (the default limit), then more: 429 for wrong tokens, 200 for the valid agent behind the same address", async () => {
    const got: number[] = [];
    for (let i = 0; i < 12; i++) got.push((await send(wrong(i), "198.51.100.7")).status);
    expect(got).toEqual([...Array(10).fill(401), 429, 429]);
    const valid = await send(GOOD, "198.51.100.7");
    console.log(`finding 3: a valid agent's status after 10 wrong tokens from its address: ${valid.status}`);
    expect(valid.status).toBe(200);
    expect(valid.body).toMatch(/results/);
  });

  it("300 wrong tokens over 30 addresses of one IPv6 /64: 10 × 401, then 429; another /64 is not affected", async () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const r = await send(wrong(1000 + i), `2001:db8:1:2::${(i % 30) + 1}`);
      counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ 401: 10, 429: 290 });
    expect((await send(wrong(5000), "2001:db8:1:3::1")).status).toBe(401);
    // the valid agent in the throttled /64 is still served
    expect((await send(GOOD, "2001:db8:1:2::99")).status).toBe(200);
  }, 60_000);
});

describe("finding 7: the session cap exempts the anonymous identity by kind, not by name", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    const config = { profiles: TEAM.profiles, agents: [{ name: "anonymous", profile: "reader", token_env: "GOOD_TOKEN" }] };
    srv = await startHttp(emu.url, ["--config", writeConfig(config), "--sessions", "--max-sessions", "8"], ENV);
  });
  afterAll(async () => srv?.stop());

  it("a static agent named 'anonymous' gets a quarter of --max-sessions (2 of 8), not all of them", async () => {
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push((await rawRequest(srv.url, { headers: { ...MCP_HEADERS, ...bearer(GOOD) }, body: JSON.stringify(INIT) })).status);
    expect(got).toEqual([200, 200, 429]);
  });
});

const REDIS = redisServerPath();
describe.skipIf(!REDIS)("finding 4: the throttles keep counting while Redis is down (--store-failure deny)", () => {
  let redis: RedisServer;
  let a: HttpServerProc;
  let b: HttpServerProc;
  const audit = tempFile("store-down-audit.jsonl");
  beforeAll(async () => {
    redis = await startRedis();
    const args = ["--config", writeConfig(TEAM), "--store", redis.url, "--store-failure", "deny", "--max-refusals-per-minute", "5"];
    a = await startHttp(emu.url, [...args, "--audit-log", audit], ENV);
    b = await startHttp(emu.url, args, ENV);
  }, 30_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.dispose();
  });

  it("Redis stopped: 300 wrong tokens → 10 × 401 then 429; refused calls past 5 are summarised; when Redis is back the counts reach it", async () => {
    expect((await rawRequest(a.url, { headers: { ...MCP_HEADERS, ...bearer(GOOD) }, body: rerank(1) })).status).toBe(200);
    await redis.stop();
    const counts = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const r = await rawRequest(a.url, { headers: { ...MCP_HEADERS, ...bearer(wrong(i)) }, body: rerank(1), localAddress: "127.0.0.31" });
      counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    }
    console.log(`finding 4: 300 wrong tokens with Redis down: ${JSON.stringify(Object.fromEntries(counts))}`);
    expect(Object.fromEntries(counts)).toEqual({ 401: 10, 429: 290 });
    expect(auditLines(audit).filter((l) => l.reason === "auth")).toHaveLength(10);

    // refusals for the store outage itself: 30 calls, 5 audited one by one
    for (let i = 0; i < 30; i++) {
      const r = await rawRequest(a.url, { headers: { ...MCP_HEADERS, ...bearer(GOOD) }, body: rerank(i + 2) });
      expect(r.body).toMatch(/shared counter store/);
    }
    expect(auditLines(audit).filter((l) => l.reason === "store_unavailable")).toHaveLength(5);
    expect(emu.requests.filter((q) => q.path === "/v2/rerank")).toHaveLength(1);

    // Redis back: the next hit on replica a adds what it counted meanwhile to the shared windows,
    // so replica b, which never saw those failures, refuses that address too
    await redis.restart();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await rawRequest(a.url, { headers: { ...MCP_HEADERS, ...bearer(GOOD) }, body: rerank(99) });
      if (!/shared counter store/.test(r.body)) break;
      if (Date.now() > deadline) throw new Error("replica a did not get its store back");
      await new Promise((res) => setTimeout(res, 200));
    }
    await rawRequest(a.url, { headers: { ...MCP_HEADERS, ...bearer(wrong(9999)) }, body: rerank(1), localAddress: "127.0.0.32" });
    // b alone would need 11 wrong tokens from that address to answer 429: 4 tries prove the merge
    const onB: number[] = [];
    for (let i = 0; i < 4 && !onB.includes(429); i++) {
      await new Promise((res) => setTimeout(res, 500));
      onB.push((await rawRequest(b.url, { headers: { ...MCP_HEADERS, ...bearer(wrong(10_000 + i)) }, body: rerank(1), localAddress: "127.0.0.31" })).status);
    }
    expect(onB).toContain(429);
  }, 90_000);
});

describe("finding 11: the metrics port has the agents' port Host rules and slow-client timeouts", () => {
  let srv: HttpServerProc;
  let url: URL;
  beforeAll(async () => {
    srv = await startHttp(emu.url, ["--config", writeConfig(TEAM), "--metrics-port", "0", "--headers-timeout-ms", "1000"], ENV);
    const m = await (async () => {
      for (let i = 0; i < 100; i++) {
        const found = /cohere-mcp metrics on (http:\/\/\S+)/.exec(srv.stderr());
        if (found) return found[1]!;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("no metrics URL");
    })();
    url = new URL(m);
  });
  afterAll(async () => srv?.stop());

  it("a foreign Host (DNS rebinding) gets 403 and no agent names; loopback names and IP addresses are served", async () => {
    const evil = await rawRequest(url.href, { method: "GET", headers: { Host: `rebind.attacker.example:${url.port}` } });
    expect(evil.status).toBe(403);
    expect(evil.body).not.toMatch(/good/);
    for (const host of [`127.0.0.1:${url.port}`, `localhost:${url.port}`]) {
      const r = await rawRequest(url.href, { method: "GET", headers: { Host: host } });
      expect(r.status).toBe(200);
    }
  });

  it("50 half-sent requests are closed within a few seconds", async () => {
    const t0 = Date.now();
    const closed = await Promise.all(
      Array.from({ length: 50 }, () => {
        const s = net.connect({ host: url.hostname, port: Number(url.port) });
        s.on("connect", () => s.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
        s.on("error", () => undefined);
        setTimeout(() => s.destroy(), 20_000).unref();
        return new Promise<number>((r) => s.on("close", () => r(Date.now() - t0)));
      }),
    );
    const slowest = Math.max(...closed);
    console.log(`finding 11: 50 half-sent requests to the metrics port all closed after ${slowest} ms`);
    expect(slowest).toBeLessThan(5_000);
  }, 30_000);
});

describe("finding 11: removal is revocation (SIGHUP)", () => {
  let srv: HttpServerProc;
  let config: string;
  const LEAVER = "hostile-leaver-token-9f8e7d6c5b4a3928";
  const audit = tempFile("revoke-audit.jsonl");
  beforeAll(async () => {
    config = writeConfig({ ...TEAM, agents: [...TEAM.agents, { name: "leaver", profile: "reader", token_env: "LEAVER_TOKEN" }] });
    srv = await startHttp(emu.url, ["--config", config, "--sessions", "--audit-log", audit], { ...ENV, LEAVER_TOKEN: LEAVER });
  });
  afterAll(async () => srv?.stop());

  it("a reload that removes an agent ends its GET stream and cancels its running call at once, and says so in the reload's audit line", async () => {
    const headers = { ...MCP_HEADERS, ...bearer(LEAVER) };
    const init = await rawRequest(srv.url, { headers, body: JSON.stringify(INIT) });
    const sid = String(init.headers["mcp-session-id"]);
    await rawRequest(srv.url, { headers: { ...headers, "Mcp-Session-Id": sid }, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
    // the GET stream, held open
    const u = new URL(srv.url);
    const stream = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "GET", headers: { Accept: "text/event-stream", ...bearer(LEAVER), "Mcp-Session-Id": sid } }, resolve);
      req.on("error", reject);
      req.end();
    });
    expect(stream.statusCode).toBe(200);
    const streamEnded = new Promise<number>((resolve) => {
      stream.on("close", () => resolve(Date.now()));
      stream.resume();
    });
    // a call held upstream for 10 s
    emu.addFault({ path: "/v2/rerank", fault: { kind: "delay", ms: 10_000 } });
    const running = rawRequest(srv.url, { headers: { ...headers, "Mcp-Session-Id": sid }, body: rerank(5) });
    await new Promise((r) => setTimeout(r, 300));

    const t0 = Date.now();
    writeFileSync(config, JSON.stringify(TEAM)); // leaver removed
    srv.child.kill("SIGHUP");
    const ended = await streamEnded;
    const call = await running;
    console.log(`finding 11: after the SIGHUP removing the agent, its GET stream ended in ${ended - t0} ms and its call was answered in ${Date.now() - t0} ms`);
    expect(ended - t0).toBeLessThan(3_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(call.body).toMatch(/credential was removed or replaced by a configuration reload/);
    const line = auditLines(audit).find((l) => (l as { event?: string }).event === "config_reload") as { text?: string } | undefined;
    expect(line?.text).toMatch(/revoked leaver: their sessions, streams and running calls ended/);
    emu.clearFaults();
  }, 30_000);
});
