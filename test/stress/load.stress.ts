/**
 * Load (issue 5): 200 concurrent HTTP clients (SDK client, stateless server) for a bounded time
 * against the emulator. No errors beyond the configured limits (one agent is rate limited on
 * purpose and only it may see refusals, all of them rate-limit errors), no answer delivered to
 * the wrong client, memory bounded, and the audit log has exactly one line per call.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../../emulator/server.js";
import {
  BENCH_KEY,
  connectHttp,
  decodeRerankTag,
  mib,
  proofDir,
  rssOf,
  sleep,
  spawnOurHttp,
  taggedRerankArgs,
  textOf,
  TAG_SPACE,
  type CallResult,
  type HttpServer,
  type McpConn,
} from "../../bench/lib.js";

const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 200);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 10);
const LIMITED_CLIENTS = 20;
const LIMIT_PER_MINUTE = 30;
const AGENTS = ["search-1", "search-2", "search-3", "search-4"];
const tokenOf = (agent: string) => `load-token-SECRET-${agent}-7c1e`;
/** Memory bound for the server under this load (RSS). */
const MAX_RSS = 512 * 1048576;

let emu: CohereEmulator;
let srv: HttpServer | undefined;
let reason = "";
const dir = proofDir();
const audit = join(dir, `load-audit-${process.pid}.jsonl`);
const logFile = join(dir, `load-log-${process.pid}.jsonl`);

beforeAll(async () => {
  emu = await startEmulator({ apiKey: BENCH_KEY, maxRecordedRequests: 100 });
  const cfg = join(dir, `load-agents-${process.pid}.json`);
  writeFileSync(
    cfg,
    JSON.stringify({
      profiles: {
        search: { tools: ["rerank", "embed"] },
        limited: { tools: ["rerank"], rate_limit: { per_minute: LIMIT_PER_MINUTE } },
      },
      agents: [
        ...AGENTS.map((name, i) => ({ name, profile: "search", token_env: `LOAD_TOKEN_${i}` })),
        { name: "limited", profile: "limited", token_env: "LOAD_TOKEN_LIMITED" },
      ],
    }),
  );
  const env: Record<string, string> = { LOAD_TOKEN_LIMITED: tokenOf("limited") };
  AGENTS.forEach((a, i) => (env[`LOAD_TOKEN_${i}`] = tokenOf(a)));
  const started = await spawnOurHttp(emu.url, ["--config", cfg, "--audit-log", audit, "--log-file", logFile, "--log-level", "debug"], env);
  srv = started.server;
  reason = started.reason ?? "";
});
afterAll(async () => {
  await srv?.stop();
  await emu.stop();
});

interface Tally {
  calls: number;
  ok: number;
  errorResults: string[];
  thrown: string[];
  wrongClient: number;
}

describe(`load: ${CLIENTS} concurrent HTTP clients for ${SECONDS} s`, () => {
  it("no errors beyond the configured limits, no misdelivered answers, bounded memory, one audit line per call", async (ctx) => {
    if (!srv) return ctx.skip(`HTTP: not available (${reason})`);
    const pid = srv.proc.pid;
    const idle = rssOf(pid);

    // connect everyone first (in batches), so the timed part is calls only
    const agentOf = (i: number) => (i < LIMITED_CLIENTS ? "limited" : AGENTS[i % AGENTS.length]!);
    const conns: Array<{ agent: string; c: McpConn }> = [];
    for (let i = 0; i < CLIENTS; i += 25) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(25, CLIENTS - i) }, async (_, j) => {
          const agent = agentOf(i + j);
          return { agent, c: await connectHttp(srv!.mcpUrl, { authorization: `Bearer ${tokenOf(agent)}` }, `load-${i + j}`) };
        }),
      );
      conns.push(...batch);
    }

    const tally = new Map<string, Tally>();
    for (const a of [...AGENTS, "limited"]) tally.set(a, { calls: 0, ok: 0, errorResults: [], thrown: [], wrongClient: 0 });
    let peak = rssOf(pid);
    const samples: Array<{ t: number; rss: number }> = [];
    const t0 = Date.now();
    const sampler = setInterval(() => {
      const r = rssOf(pid);
      samples.push({ t: Date.now() - t0, rss: r });
      if (r > peak) peak = r;
    }, 250);
    let next = 1;
    const deadline = t0 + SECONDS * 1000;
    await Promise.all(
      conns.map(async ({ agent, c }) => {
        const t = tally.get(agent)!;
        while (Date.now() < deadline) {
          const tag = next++ % TAG_SPACE;
          t.calls++;
          try {
            const r = (await c.client.callTool({ name: "rerank", arguments: taggedRerankArgs(tag) }, undefined, { timeout: 60_000 })) as CallResult;
            if (r.isError) {
              t.errorResults.push(textOf(r));
              // a refused agent backs off a little, as a client would on 429
              await sleep(200);
              continue;
            }
            if (decodeRerankTag(r) !== tag) t.wrongClient++;
            else t.ok++;
          } catch (err) {
            t.thrown.push(String((err as Error)?.message ?? err).slice(0, 200));
          }
        }
      }),
    );
    clearInterval(sampler);
    const secs = (Date.now() - t0) / 1000;
    await Promise.all(conns.map(({ c }) => c.close().catch(() => undefined)));
    await sleep(1000);
    const after = rssOf(pid);

    const all = [...tally.values()];
    const calls = all.reduce((s, t) => s + t.calls, 0);
    const ok = all.reduce((s, t) => s + t.ok, 0);
    const lim = tally.get("limited")!;
    const half = samples.filter((s) => s.t <= (SECONDS * 1000) / 2);
    const midPeak = Math.max(...half.map((s) => s.rss));
    console.log(
      `load: ${CLIENTS} clients, ${secs.toFixed(1)} s, ${calls} calls (${(calls / secs).toFixed(0)}/s), ${ok} ok; ` +
        `limited agent: ${lim.ok} ok, ${lim.errorResults.length} rate-limited; ` +
        `server RSS idle ${mib(idle)}, peak in first half ${mib(midPeak)}, peak ${mib(peak)}, 1 s after ${mib(after)}`,
    );

    // no transport errors, no misdelivery, for anyone
    expect(all.flatMap((t) => t.thrown)).toEqual([]);
    expect(all.reduce((s, t) => s + t.wrongClient, 0)).toBe(0);
    // only the limited agent sees refusals, and they are rate-limit errors with a retry hint
    for (const a of AGENTS) expect(tally.get(a)!.errorResults, a).toEqual([]);
    for (const text of lim.errorResults) expect(text).toMatch(/rate limit/i);
    expect(lim.ok).toBeLessThanOrEqual(LIMIT_PER_MINUTE);
    expect(lim.errorResults.length).toBeGreaterThan(0);
    expect(ok).toBeGreaterThan(CLIENTS); // everyone got through at least about once
    // memory bounded, and not still climbing in the second half
    expect(peak).toBeLessThan(MAX_RSS);
    expect(peak).toBeLessThan(midPeak * 1.5 + 32 * 1048576);

    // exactly one audit line per call (read after a graceful stop flushes the file)
    await srv!.stop();
    const lines = readFileSync(audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { agent: string; tool: string; decision: string; reason?: string });
    const calls_ = lines.filter((l) => l.tool === "rerank");
    expect(calls_.length).toBe(calls - all.reduce((s, t) => s + t.thrown.length, 0));
    for (const [a, t] of tally) {
      const mine = calls_.filter((l) => l.agent === a);
      expect(mine.length, a).toBe(t.calls - t.thrown.length);
      expect(mine.filter((l) => l.decision === "denied").length, a).toBe(t.errorResults.length);
    }
    expect(lines.filter((l) => l.decision === "denied" && l.agent !== "limited")).toEqual([]);
    expect(calls_.filter((l) => l.decision === "denied").every((l) => l.reason === "rate_limit")).toBe(true);
  }, 180_000);
});
