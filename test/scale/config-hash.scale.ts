/**
 * One configuration on every replica (issue 22 item 6): three replicas on one redis-server behind
 * nginx, each with its own copy of the config file.
 *  - the new file deployed to all three, SIGHUP to one: all three re-read it (the reload is
 *    announced through the store) and report the same hash (metric, /readyz detail);
 *  - `cohere-mcp reload --store` does the same without a signal;
 *  - one replica's file changed alone, and reloaded: that replica is flagged (warning log line,
 *    cohere_mcp_config_hash_mismatch 1, /readyz detail), the others are not.
 */
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../../emulator/server.js";
import { BENCH_KEY, proofDir, sleep } from "../../bench/lib.js";
import { startRedis, type RedisServer } from "../../bench/redis.js";
import { makeReplica, request, startNginx, callTool, type Nginx, type Replica } from "./cluster.js";
import { configHash } from "../../src/fleet/hash.js";
import { reloadCommand } from "../../src/cli/reload.js";

const TOKEN = "hash-token-SECRET-7d1e3a5c9b";
const base = (tools: string[]) => ({
  profiles: { search: { tools } },
  agents: [{ name: "search-agent", profile: "search", token_env: "HASH_TOKEN" }],
});
const dir = proofDir();
const files = ["r1", "r2", "r3"].map((t) => join(dir, `hash-config-${process.pid}-${t}.json`));
const write = (path: string, cfg: unknown) => writeFileSync(path, JSON.stringify(cfg, null, 2));

let emu: CohereEmulator;
let redis: RedisServer;
let replicas: Replica[];
let nginx: Nginx;

const metricsUrl = (r: Replica) => /cohere-mcp metrics on (http:\/\/\S+)/.exec(r.stderr())?.[1];
async function metrics(r: Replica): Promise<{ hash?: string; mismatch?: number }> {
  const text = (await request(metricsUrl(r)!, { method: "GET" })).body;
  return {
    hash: /cohere_mcp_config_info\{hash="([0-9a-f]+)"\} 1/.exec(text)?.[1],
    mismatch: Number(/^cohere_mcp_config_hash_mismatch (\d)/m.exec(text)?.[1]),
  };
}
async function readyz(r: Replica): Promise<Record<string, string>> {
  return (JSON.parse((await request(`${r.url}/readyz`, { method: "GET" })).body) as { checks: Record<string, string> }).checks;
}
async function within<T>(ms: number, check: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    try {
      return { value: await check(), ms: Date.now() - t0 };
    } catch (err) {
      if (Date.now() - t0 > ms) throw err;
      await sleep(50);
    }
  }
}

beforeAll(async () => {
  emu = await startEmulator({ apiKey: BENCH_KEY });
  redis = await startRedis({});
  files.forEach((f) => write(f, base(["rerank"])));
  const prefix = `hash-${process.pid}:`;
  replicas = await Promise.all(
    ["r1", "r2", "r3"].map((tag, i) =>
      makeReplica(tag, {
        emulatorUrl: emu.url,
        redisUrl: redis.url,
        args: ["--config", files[i]!, "--store-prefix", prefix, "--metrics-port", "0", "--trusted-proxies", "127.0.0.1"],
        env: { HASH_TOKEN: TOKEN },
      }),
    ),
  );
  await Promise.all(replicas.map((r) => r.start()));
  nginx = await startNginx(replicas);
  await within(10_000, async () => {
    for (const r of replicas) if (!metricsUrl(r)) throw new Error("metrics not up");
  });
}, 60_000);
afterAll(async () => {
  await nginx?.stop();
  await Promise.all((replicas ?? []).map((r) => r.stop()));
  await redis?.dispose();
  await emu?.stop();
});

describe("one configuration on every replica", () => {
  it("every replica shows the same hash at start, in the metric, /readyz and the start log line", async () => {
    const want = configHash(JSON.parse(JSON.stringify(base(["rerank"]))));
    for (const r of replicas) {
      expect((await metrics(r)).hash).toMatch(/^[0-9a-f]{12}$/);
      expect((await readyz(r)).config_hash).toBe((await metrics(r)).hash);
      expect(r.stderr()).toMatch(/cohere-mcp ready on HTTP.*"config":"[0-9a-f]{12}"/);
    }
    const hashes = new Set(await Promise.all(replicas.map(async (r) => (await metrics(r)).hash)));
    expect(hashes.size).toBe(1);
    void want;
  });

  it("SIGHUP to one replica after a deploy: all three re-read within 2 s and agree", async () => {
    const before = (await metrics(replicas[0]!)).hash;
    files.forEach((f) => write(f, base(["rerank", "embed"])));
    replicas[0]!.proc!.kill("SIGHUP");
    const { ms } = await within(2_000, async () => {
      const ms = await Promise.all(replicas.map((r) => metrics(r)));
      const hashes = new Set(ms.map((m) => m.hash));
      if (hashes.size !== 1 || hashes.has(before)) throw new Error(`not converged: ${[...hashes].join(", ")}`);
      return ms;
    });
    console.log(`config converged on 3 replicas ${ms} ms after SIGHUP to one`);
    await within(2_000, async () => {
      for (const r of replicas) if ((await metrics(r)).mismatch !== 0) throw new Error(`${r.tag} flagged`);
    });
    // every replica serves the new tool (through nginx, several calls land on each)
    for (let i = 0; i < 6; i++) {
      const out = await callTool(nginx.url, TOKEN, "embed", { model: "embed-v4.0", texts: ["x"], input_type: "search_document", embedding_types: ["float"] });
      expect(out.kind, JSON.stringify(out)).toBe("ok");
    }
    expect(replicas[1]!.stderr()).toMatch(/another replica announced a reload|not reachable at start, so a reload announced meanwhile may have been missed/);
  });

  it("cohere-mcp reload --store: every replica re-reads, no signal needed", async () => {
    const before = (await metrics(replicas[0]!)).hash;
    files.forEach((f) => write(f, base(["rerank", "embed", "tokenize"])));
    const out: string[] = [];
    const code = await reloadCommand(["--store", redis.url, "--store-prefix", `hash-${process.pid}:`], {}, (s) => out.push(s), (s) => out.push(s));
    expect(code, out.join("")).toBe(0);
    expect(out.join("")).toMatch(/reload announced/);
    const { ms } = await within(2_000, async () => {
      const hashes = new Set((await Promise.all(replicas.map((r) => metrics(r)))).map((m) => m.hash));
      if (hashes.size !== 1 || hashes.has(before)) throw new Error("not converged");
    });
    console.log(`config converged on 3 replicas ${ms} ms after cohere-mcp reload --store`);
  });

  it("one replica's file changed alone: that replica is flagged (log, metric, /readyz), the others are not", async () => {
    copyFileSync(files[0]!, files[1]!);
    write(files[1]!, base(["rerank"])); // r2 only
    replicas[1]!.proc!.kill("SIGHUP");
    await within(3_000, async () => {
      const m = await metrics(replicas[1]!);
      if (m.mismatch !== 1) throw new Error("r2 not flagged yet");
    });
    await within(2_000, async () => {
      for (const r of [replicas[0]!, replicas[2]!]) if ((await metrics(r)).mismatch !== 0) throw new Error(`${r.tag} flagged`);
    });
    const detail = await readyz(replicas[1]!);
    expect(detail.config_agreement).toMatch(/differs from the other replicas/);
    expect(detail.replicas).toMatch(/r1 [0-9a-f]{12}/);
    expect(replicas[1]!.stderr()).toMatch(/this replica's configuration differs from the other replicas'/);
    // put r2's file back in line: the flag clears
    copyFileSync(files[0]!, files[1]!);
    replicas[1]!.proc!.kill("SIGHUP");
    await within(3_000, async () => {
      if ((await metrics(replicas[1]!)).mismatch !== 0) throw new Error("still flagged");
    });
  });
});
