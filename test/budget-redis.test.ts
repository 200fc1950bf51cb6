/**
 * One budget shared by two replicas through the Redis store (--store): two cohere-mcp processes on
 * one redis-server started here on a free loopback port. Runs when redis-server is installed and
 * this checkout has the Redis store (the --store flag); otherwise it is skipped, saying why.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { FLAGS } from "../src/config/options.js";
import { MCP_HEADERS, rawRequest, startHttp, writeConfig, type HttpServerProc } from "./http-support.js";

function redisServer(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}
const REDIS = redisServer();
const HAVE_STORE = FLAGS.some((f) => f.flag.startsWith("--store "));
const why = !REDIS ? "redis-server is not installed" : !HAVE_STORE ? "this checkout has no Redis store (--store)" : "";
if (why) console.warn(`budget-redis.test.ts skipped: ${why}`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const proc: ChildProcess = spawn(REDIS!, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.once("exit", () => reject(new Error(`redis-server exited:\n${out}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        process.kill(proc.pid!, "SIGTERM");
      }),
  };
}

describe.skipIf(!!why)("a budget shared by two replicas through Redis", () => {
  let emu: CohereEmulator;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const replicas: HttpServerProc[] = [];

  beforeAll(async () => {
    emu = await startEmulator({ latencyMs: 200 });
    redis = await startRedis();
    const config = writeConfig({ profiles: { p: { tools: ["tokenize"], budget: { calls: 3 } } }, default_profile: "p" });
    for (let i = 0; i < 2; i++) replicas.push(await startHttp(emu.url, ["--config", config, "--store", redis.url]));
  }, 30_000);
  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await redis?.stop();
    await emu?.stop();
  });

  it("concurrent calls on both replicas: exactly the budget is sent, the rest refused", async () => {
    const call = (r: HttpServerProc, id: number) =>
      rawRequest(r.url, {
        headers: MCP_HEADERS,
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "tokenize", arguments: { model: "command-a-03-2025", text: "hi" } } }),
      }).then((res) => JSON.parse(res.body) as { result: { isError?: boolean; content: Array<{ text: string }> } });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => call(replicas[i % 2]!, i + 1)));
    const passed = results.filter((r) => !r.result.isError);
    expect(passed).toHaveLength(3);
    expect(emu.requests.filter((r) => r.path === "/v1/tokenize")).toHaveLength(3);
    for (const r of results.filter((x) => x.result.isError)) {
      expect(r.result.content[0]!.text).toMatch(/^Budget spent: agent "anonymous" has used 3 of its 3 calls this month/);
    }
  });
});
