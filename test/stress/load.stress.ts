/**
 * Load (issue 5): 200 concurrent HTTP clients (SDK client, stateless server) for a bounded time
 * against the emulator. No errors beyond the configured limits (one agent is rate limited on
 * purpose and only it may see refusals, all of them rate-limit errors), no answer delivered to
 * the wrong client, memory bounded, and the audit log accounts for every call: one line each,
 * or — for refusals past --max-refusals-per-minute — a count in the window's summary line.
 *
 * Meanwhile (issue 8) a hostile agent floods refused calls (64 KB tool names full of control
 * and bidi characters, malformed params) and a guesser from another address floods wrong
 * tokens: the good agents see no error, the audit stays small (the hostile agent's lines are
 * bounded and throttled, the guesser's one summary per window), memory stays bounded.
 */
import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
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
const MALLORY_TOKEN = "load-token-SECRET-mallory-4b2a";
/** Hostile loops (refused calls) and guesser loops (wrong tokens from 127.0.0.2). */
const HOSTILE_LOOPS = 4;
/** The hostile agent's refusals audited one by one per minute (its profile's limits.refusals_per_minute). */
const MALLORY_REFUSALS = 10;
const GUESSER_LOOPS = 2;
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
        hostile: { tools: ["rerank"], limits: { refusals_per_minute: MALLORY_REFUSALS } },
      },
      agents: [
        ...AGENTS.map((name, i) => ({ name, profile: "search", token_env: `LOAD_TOKEN_${i}` })),
        { name: "limited", profile: "limited", token_env: "LOAD_TOKEN_LIMITED" },
        { name: "mallory", profile: "hostile", token_env: "LOAD_TOKEN_MALLORY" },
      ],
    }),
  );
  const env: Record<string, string> = { LOAD_TOKEN_LIMITED: tokenOf("limited"), LOAD_TOKEN_MALLORY: MALLORY_TOKEN };
  AGENTS.forEach((a, i) => (env[`LOAD_TOKEN_${i}`] = tokenOf(a)));
  // Each search agent runs ~45 calls at once on purpose: its share of upstream calls is raised
  // to fit (the share itself is proven in test/http-hardening.test.ts).
  const started = await spawnOurHttp(
    emu.url,
    ["--config", cfg, "--audit-log", audit, "--log-file", logFile, "--log-level", "debug", "--max-concurrent-calls", String(CLIENTS)],
    env,
  );
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
    // issue 8: a hostile agent and a token guesser at the same time
    const hostile = { sent: 0, refused: 0, other: 0 };
    const guesser = { sent: 0, s401: 0, s429: 0, other: 0 };
    const evil = (i: number) => `nope\n${"\u001b[2K\u202e".repeat(i % 7)}${"x".repeat(64 * 1024)}`;
    const hostileLoops = Array.from({ length: HOSTILE_LOOPS }, async (_, k) => {
      for (let i = 0; Date.now() < deadline; i++) {
        const params = i % 3 === 2 ? { name: i, arguments: [i] } : { name: evil(i + k), arguments: {} };
        // issue 20: every fifth request a batch of 1,000 calls, over --max-batch-calls: one refusal
        const body = i % 5 === 4 ? Array.from({ length: 1_000 }, (_, j) => ({ jsonrpc: "2.0", id: j + 1, method: "tools/call", params: { name: "delete_dataset", arguments: { id: "x" } } })) : { jsonrpc: "2.0", id: i, method: "tools/call", params };
        hostile.sent++;
        try {
          const r = await postRaw(srv!.mcpUrl, { authorization: `Bearer ${MALLORY_TOKEN}` }, body);
          if ((r.status === 200 && /"isError":true|"code":-32602/.test(r.body)) || (r.status === 400 && /"code":-32600/.test(r.body))) hostile.refused++;
          else hostile.other++;
        } catch {
          hostile.other++;
        }
      }
    });
    const guesserLoops = Array.from({ length: GUESSER_LOOPS }, async (_, k) => {
      for (let i = 0; Date.now() < deadline; i++) {
        guesser.sent++;
        try {
          const r = await postRaw(srv!.mcpUrl, { authorization: `Bearer guess-${k}-${i}-0123456789abcdef` }, { jsonrpc: "2.0", id: 1, method: "tools/list" }, "127.0.0.2");
          if (r.status === 401) guesser.s401++;
          else if (r.status === 429) guesser.s429++;
          else guesser.other++;
        } catch {
          guesser.other++;
        }
      }
    });
    await Promise.all([
      ...hostileLoops,
      ...guesserLoops,
      ...conns.map(async ({ agent, c }) => {
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
    ]);
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
        `server RSS idle ${mib(idle)}, peak in first half ${mib(midPeak)}, peak ${mib(peak)}, 1 s after ${mib(after)}; ` +
        `hostile agent: ${hostile.sent} refused calls sent (${hostile.refused} refused, ${hostile.other} other); ` +
        `guesser: ${guesser.sent} wrong tokens (${guesser.s401} × 401, ${guesser.s429} × 429, ${guesser.other} other)`,
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

    // the hostile agent was refused every time, the guesser throttled after 10 a minute
    expect(hostile.other).toBe(0);
    expect(hostile.refused).toBeGreaterThan(MALLORY_REFUSALS);
    expect(guesser.other).toBe(0);
    expect(guesser.s401).toBeLessThanOrEqual(10);
    expect(guesser.s429).toBeGreaterThan(0);

    // every call accounted for in the audit (read after a graceful stop flushes the file and
    // the throttles' summaries): one line each, or a count in its window's summary line
    await srv!.stop();
    const rawAudit = readFileSync(audit, "utf8");
    const lines = rawAudit
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { agent: string; tool: string; decision: string; reason?: string; suppressed?: number; text: string });
    const calls_ = lines.filter((l) => l.tool === "rerank");
    const suppressed = (a: string) => lines.filter((l) => l.agent === a && l.reason === "throttled").reduce((n, l) => n + (l.suppressed ?? 0), 0);
    for (const [a, t] of tally) {
      const mine = calls_.filter((l) => l.agent === a);
      expect(mine.length + suppressed(a), a).toBe(t.calls - t.thrown.length);
      expect(mine.filter((l) => l.decision === "denied").length + suppressed(a), a).toBe(t.errorResults.length);
    }
    expect(lines.filter((l) => l.decision === "denied" && !["limited", "mallory", "(unauthenticated)"].includes(l.agent))).toEqual([]);
    expect(calls_.filter((l) => l.decision === "denied").every((l) => l.reason === "rate_limit")).toBe(true);
    // the hostile agent: at most MALLORY_REFUSALS lines a minute plus its summaries, each line small and one line of text
    const mallory = lines.filter((l) => l.agent === "mallory");
    expect(mallory.filter((l) => l.reason !== "throttled").length).toBeLessThanOrEqual(MALLORY_REFUSALS * Math.ceil(SECONDS / 60 + 1));
    expect(mallory.filter((l) => l.reason !== "throttled").length + suppressed("mallory")).toBe(hostile.sent);
    const guessed = lines.filter((l) => l.agent === "(unauthenticated)");
    expect(guessed.filter((l) => l.reason === "auth").length).toBe(guesser.s401);
    expect(guessed.filter((l) => l.reason === "throttled").reduce((n, l) => n + (l.suppressed ?? 0), 0)).toBe(guesser.s429);
    for (const l of lines) expect(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/.test(l.text)).toBe(false);
    const auditBytes = Buffer.byteLength(rawAudit);
    console.log(
      `load audit: ${lines.length} lines, ${mib(auditBytes)}; hostile agent ${mallory.length} lines for ${hostile.sent} refused calls ` +
        `(${suppressed("mallory")} suppressed); guesser ${guessed.length} lines for ${guesser.sent} wrong tokens`,
    );
    expect(Math.max(...rawAudit.split("\n").map((l) => l.length))).toBeLessThan(4_000);
  }, 180_000);
});

/** One POST with a JSON body (optionally from another local address), outside any MCP client. */
function postRaw(
  url: string,
  headers: Record<string, string>,
  body: unknown,
  localAddress?: string,
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: "POST",
        localAddress,
        agent: false,
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "content-length": Buffer.byteLength(text),
          ...headers,
        },
      },
      (res) => {
        let b = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (b += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: b }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}
