/**
 * Replicas, one process at a time (the three-replica proof behind nginx is `npm run test:scale`):
 * session ids carry the replica tag, --store and its secrets, and what a call gets while the
 * shared store cannot be reached (--store-failure deny | allow), then once it is back.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { runCli, textOf, TEST_KEY, connectStdio } from "./helpers.js";
import { bearer, connectHttp, eventually, rawRequest, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";
import { freePort } from "../bench/lib.js";
import { redisServerPath, startRedis, type RedisServer } from "../bench/redis.js";

const HAVE_REDIS = redisServerPath() !== undefined;
if (!HAVE_REDIS) console.warn("replicas.test.ts: redis-server is not installed: the tests that need a live Redis are skipped");

const LIMITED_TOKEN = "limited-token-3c9e1f7a2b";
const FREE_TOKEN = "free-token-8a1d5e2c9f";
const TEAM = {
  profiles: {
    limited: { tools: ["rerank"], rate_limit: { per_minute: 2, per_month: 1000 } },
    free: { tools: ["rerank"] },
    counted: { tools: ["rerank"], rate_limit: { per_month: 1000 } },
  },
  agents: [
    { name: "limited-agent", profile: "limited", token_env: "LIMITED_TOKEN" },
    { name: "free-agent", profile: "free", token_env: "FREE_TOKEN" },
    { name: "counted-agent", profile: "counted", token_env: "COUNTED_TOKEN" },
  ],
};
const COUNTED_TOKEN = "counted-token-7b2e9d4c1a";
const TEAM_ENV = { LIMITED_TOKEN, FREE_TOKEN, COUNTED_TOKEN };
const RERANK = { model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "paris is the capital"] };
const STORE_PASSWORD = "store-pw-SECRET-5e8a1c";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const rerankCalls = () => emu.requests.filter((r) => r.path.includes("rerank")).length;

async function call(srv: HttpServerProc, token: string) {
  const c = await connectHttp(srv.url, bearer(token));
  try {
    return await c.client.callTool({ name: "rerank", arguments: RERANK });
  } finally {
    await c.close();
  }
}

function auditLines(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("replica tag", () => {
  it("--sessions: every session id is <replica tag>.<uuid>", async () => {
    const srv = await startHttp(emu.url, ["--sessions", "--replica-id", "r7"]);
    try {
      const c = await connectHttp(srv.url);
      expect(c.transport.sessionId).toMatch(/^r7\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      await c.close();
    } finally {
      await srv.stop();
    }
  });

  it("the tag defaults to a short random one, and a bad tag or store URL is refused at start", async () => {
    const srv = await startHttp(emu.url, ["--sessions"]);
    try {
      const c = await connectHttp(srv.url);
      expect(c.transport.sessionId).toMatch(/^[0-9a-f]{6}\.[0-9a-f-]{36}$/);
      await c.close();
    } finally {
      await srv.stop();
    }
    const bad = await runCli(["--http", "--replica-id", "a.b"], { CO_API_KEY: TEST_KEY });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--replica-id must be 1 to 32 letters, digits, - or _/);
    const url = await runCli(["--http", "--store", `http://:${STORE_PASSWORD}@127.0.0.1:1/0`], { CO_API_KEY: TEST_KEY });
    expect(url.code).toBe(2);
    expect(url.stderr).toMatch(/--store must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(url.stderr).not.toContain(STORE_PASSWORD);
    const mode = await runCli(["--http", "--store-failure", "maybe"], { CO_API_KEY: TEST_KEY });
    expect(mode.stderr).toMatch(/--store-failure must be deny or allow/);
  });
});

describe("shared store unreachable", () => {
  let deadPort: number;
  beforeAll(async () => {
    deadPort = await freePort(); // nothing listens there
  });

  it("deny (default): a call that counts is refused with a clear error, nothing sent, audited; /readyz is 503; an agent without limits is not affected; the password never shows", async () => {
    const audit = tempFile("audit.jsonl");
    const srv = await startHttp(
      emu.url,
      ["--config", writeConfig(TEAM), "--store", `redis://:${STORE_PASSWORD}@127.0.0.1:${deadPort}/0`, "--audit-log", audit, "--log-level", "debug"],
      TEAM_ENV,
    );
    try {
      const r = await call(srv, LIMITED_TOKEN);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/shared counter store cannot be reached.*nothing was sent to Cohere/);
      // the agent is not told where the store is (issue 20): the log, the audit detail and /readyz say it
      expect(textOf(r)).not.toMatch(/127\.0\.0\.1|redis:/);
      expect(rerankCalls()).toBe(0);
      const free = await call(srv, FREE_TOKEN);
      expect(free.isError).toBeFalsy();
      expect(rerankCalls()).toBe(1);

      const ready = await rawRequest(`${srv.origin}/readyz`, { method: "GET" });
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body).checks.store).toMatch(/unreachable.*--store-failure deny/);

      await eventually(() => expect(auditLines(audit).length).toBe(2));
      const denied = auditLines(audit).find((l) => l.agent === "limited-agent")!;
      expect(denied).toMatchObject({ decision: "denied", reason: "store_unavailable", tool: "rerank" });
      expect(String(denied.text)).toMatch(/denied \(store unavailable: shared counter store redis:\/\/127\.0\.0\.1:\d+\/0 unreachable\)/);
      for (const text of [srv.stderr(), readFileSync(audit, "utf8"), ready.body]) expect(text).not.toContain(STORE_PASSWORD);
    } finally {
      await srv.stop();
    }
  });

  it("allow: the replica counts on its own, enforces the limit locally, and the audit line says so", async () => {
    const audit = tempFile("audit.jsonl");
    const srv = await startHttp(
      emu.url,
      ["--config", writeConfig(TEAM), "--store", `redis://127.0.0.1:${deadPort}/0`, "--store-failure", "allow", "--audit-log", audit],
      { ...TEAM_ENV, COHERE_MCP_STORE_PASSWORD: STORE_PASSWORD },
    );
    try {
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await call(srv, LIMITED_TOKEN));
      expect(results.map((r) => Boolean(r.isError))).toEqual([false, false, true]);
      expect(textOf(results[2])).toMatch(/Rate limited \(429\).*rate_limit\.per_minute/);
      expect(rerankCalls()).toBe(2);
      await eventually(() => expect(auditLines(audit).length).toBe(3));
      const lines = auditLines(audit);
      expect(lines.map((l) => l.counters)).toEqual(["local", "local", "local"]);
      expect(String(lines[0]!.text)).toMatch(/allowed, 200 .*limits counted on this replica only \(shared counter store unreachable\)/);
      const ready = await rawRequest(`${srv.origin}/readyz`, { method: "GET" });
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.body).checks.store).toMatch(/--store-failure allow/);
      expect(srv.stderr()).toMatch(/counting on this replica only/);
      expect(srv.stderr()).not.toContain(STORE_PASSWORD);
    } finally {
      await srv.stop();
    }
  });
});

describe.runIf(HAVE_REDIS)("with a live Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis({ password: STORE_PASSWORD });
  });
  afterAll(async () => redis?.dispose());

  it("two processes share one limit (password from COHERE_MCP_STORE_PASSWORD), and /readyz says the store is reachable", async () => {
    const args = ["--config", writeConfig(TEAM), "--store", redis.url, "--store-prefix", `shared-${Date.now()}:`];
    const env = { ...TEAM_ENV, COHERE_MCP_STORE_PASSWORD: STORE_PASSWORD };
    const [a, b] = await Promise.all([startHttp(emu.url, args, env), startHttp(emu.url, args, env)]);
    try {
      const results = [await call(a, LIMITED_TOKEN), await call(b, LIMITED_TOKEN), await call(a, LIMITED_TOKEN), await call(b, LIMITED_TOKEN)];
      // per_minute 2 across both processes, not 2 each
      expect(results.map((r) => Boolean(r.isError))).toEqual([false, false, true, true]);
      expect(rerankCalls()).toBe(2);
      const ready = await rawRequest(`${a.origin}/readyz`, { method: "GET" });
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body).checks.store).toBe("redis reachable");
      expect(a.stderr() + b.stderr()).not.toContain(STORE_PASSWORD);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("a wrong password: not ready and calls that count are refused (deny), without the password in any log", async () => {
    const srv = await startHttp(
      emu.url,
      ["--config", writeConfig(TEAM), "--store", redis.url.replace("redis://", "redis://:wrong-pw-SECRET-1@")],
      TEAM_ENV,
    );
    try {
      const r = await call(srv, LIMITED_TOKEN);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/cannot be reached/);
      expect((await rawRequest(`${srv.origin}/readyz`, { method: "GET" })).status).toBe(503);
      expect(srv.stderr()).not.toContain("wrong-pw-SECRET-1");
    } finally {
      await srv.stop();
    }
  });

  it("a Redis that hangs (SIGSTOP): a decision waits at most --store-timeout-ms, then deny refuses; when it answers again, service resumes", async () => {
    const srv = await startHttp(
      emu.url,
      ["--config", writeConfig(TEAM), "--store", redis.url, "--store-timeout-ms", "300", "--store-prefix", `hang-${Date.now()}:`],
      { ...TEAM_ENV, COHERE_MCP_STORE_PASSWORD: STORE_PASSWORD },
    );
    try {
      expect((await call(srv, COUNTED_TOKEN)).isError).toBeFalsy();
      redis.pause();
      try {
        const t0 = Date.now();
        const r = await call(srv, COUNTED_TOKEN);
        expect(r.isError).toBe(true);
        expect(textOf(r)).toMatch(/cannot be reached/);
        expect(Date.now() - t0).toBeLessThan(5_000); // bounded by the 300 ms deadline, not a hang
        expect((await rawRequest(`${srv.origin}/readyz`, { method: "GET" })).status).toBe(503);
        expect(rerankCalls()).toBe(1);
      } finally {
        redis.resume();
      }
      await eventually(async () => expect((await rawRequest(`${srv.origin}/readyz`, { method: "GET" })).status).toBe(200), 10_000, 100);
      await eventually(async () => expect((await call(srv, COUNTED_TOKEN)).isError).toBeFalsy(), 10_000, 200);
      expect(rerankCalls()).toBe(2);
    } finally {
      await srv.stop();
    }
  });

  it("rediss:// (TLS): the store verifies Redis's certificate and shares counters over it", async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), "cohere-mcp-tls-"));
    try {
      const openssl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
      try {
        openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.pem"]);
      } catch {
        ctx.skip(); // no openssl on this machine
      }
      writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
      openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "redis.key", "-out", "redis.csr"]);
      openssl(["x509", "-req", "-in", "redis.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "redis.pem"]);
      const tls = await startRedis({ tls: { cert: join(dir, "redis.pem"), key: join(dir, "redis.key"), ca: join(dir, "ca.pem") } });
      try {
        expect(tls.url).toMatch(/^rediss:\/\//);
        const args = ["--config", writeConfig(TEAM), "--store", tls.url, "--store-prefix", `tls-${Date.now()}:`];
        // Trusted through NODE_EXTRA_CA_CERTS: calls count in Redis (per_minute 2 across both processes)
        const env = { ...TEAM_ENV, NODE_EXTRA_CA_CERTS: join(dir, "ca.pem") };
        const [a, b] = await Promise.all([startHttp(emu.url, args, env), startHttp(emu.url, args, env)]);
        try {
          const results = [await call(a, LIMITED_TOKEN), await call(b, LIMITED_TOKEN), await call(a, LIMITED_TOKEN)];
          expect(results.map((r) => Boolean(r.isError))).toEqual([false, false, true]);
          expect(textOf(results[2])).toMatch(/Rate limited \(429\)/);
        } finally {
          await Promise.all([a.stop(), b.stop()]);
        }
        // Not trusted: the connection is refused, so (deny) a call that counts is refused too.
        const untrusted = await startHttp(emu.url, args, TEAM_ENV);
        try {
          expect(textOf(await call(untrusted, LIMITED_TOKEN))).toMatch(/cannot be reached/);
          expect((await rawRequest(`${untrusted.origin}/readyz`, { method: "GET" })).status).toBe(503);
        } finally {
          await untrusted.stop();
        }
      } finally {
        await tls.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stdio shares the same counters", async () => {
    const prefix = `stdio-${Date.now()}:`;
    const conn = await connectStdio(emu.url, ["--config", writeConfig(TEAM), "--profile", "limited", "--store", redis.url, "--store-prefix", prefix], {
      CO_API_KEY: TEST_KEY,
      COHERE_MCP_STORE_PASSWORD: STORE_PASSWORD,
    });
    try {
      const r = await conn.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError).toBeFalsy();
      const { createClient } = await import("@redis/client");
      const raw = createClient({ url: redis.url, password: STORE_PASSWORD });
      await raw.connect();
      try {
        const keys = await raw.keys(`${prefix}*`);
        expect(keys.sort()).toEqual([`${prefix}rl:limited:minute`, `${prefix}rl:limited:month:${new Date().toISOString().slice(0, 7)}`]);
      } finally {
        await raw.close();
      }
    } finally {
      await conn.close();
    }
  });
});
