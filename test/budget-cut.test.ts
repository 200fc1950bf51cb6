/**
 * Finding 1 of issue 20: a call that reached Cohere but brought back no bill (the client
 * cancelled, --request-timeout-ms cut it, its stream was cut one event before the end) is never
 * charged less than its reservation, and a cut stream at least what it delivered; the audit line
 * says the charge was estimated. On the memory store and on Redis (in-process App over a real
 * redis-server; an HTTP replica for the request timeout).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { countTokens } from "../emulator/util.js";
import { createApp, type App } from "../src/runtime/app.js";
import { auditLine, type AuditEvent } from "../src/audit/index.js";
import { parseOptions } from "../src/config/options.js";
import { createLogger } from "../src/runtime/logger.js";
import { callTool } from "../src/server.js";
import { openStore } from "../src/store/open.js";
import { TEST_KEY, textOf } from "./helpers.js";
import { eventually, MCP_HEADERS, rawRequest, startHttp, writeConfig, type HttpServerProc } from "./http-support.js";
import { redisServerPath, startRedis, type RedisServer } from "../bench/redis.js";

const HAVE_REDIS = !!redisServerPath();
if (!HAVE_REDIS) console.warn("budget-cut.test.ts: the Redis half is skipped (redis-server is not installed)");

let emu: CohereEmulator;
let redis: RedisServer | undefined;
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

const apps: App[] = [];
let agentSeq = 0;

interface Rig {
  app: App;
  events: AuditEvent[];
  agent: string;
  call(args: Record<string, unknown>, o?: { progress?: (m: string) => void; signal?: AbortSignal }): ReturnType<typeof callTool>;
  used(): Promise<Record<string, number>>;
}

async function rig(store: "memory" | "redis", budget: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Rig> {
  const path = writeConfig({ profiles: { p: { tools: ["chat", "generate"], budget } }, ...extra });
  const argv = ["--config", path, ...(store === "redis" ? ["--store", redis!.url] : [])];
  const options = parseOptions(argv, { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url, COHERE_MCP_MAX_RETRIES: "0" });
  const app = createApp(options, createLogger("silent"));
  if (store === "redis") app.store = await openStore(options, createLogger("silent"));
  apps.push(app);
  const events: AuditEvent[] = [];
  app.audit = { record: (e) => events.push(e), close: async () => undefined };
  const agent = `cutter-${store}-${++agentSeq}`;
  return {
    app,
    events,
    agent,
    call: (args, o = {}) =>
      callTool(app, { agent, transport: "http", visible: app.profileVisible("p"), profile: "p" }, "chat", args, {
        progress: o.progress,
        signal: o.signal,
      }),
    async used() {
      const readings = await app.live.current.budgets!.usage(agent, "p");
      return Object.fromEntries(readings.map((r) => [r.unit, r.used]));
    },
  };
}

const WORDS = ["river", "stone", "bread", "cloud", "amber", "north", "quiet", "lemon", "tiger", "paper", "glass", "ocean"];
/** A user message whose echoed answer is about `words` output tokens long. */
const chatOf = (words: number) => ({
  model: "command-a-03-2025",
  messages: [{ role: "user", content: Array.from({ length: words }, (_, i) => WORDS[i % WORDS.length]).join(" ") }],
});

/** How many events the emulator streams for this chat (so a cut can fall one event before the end). */
async function eventsOf(args: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${emu.url}/v2/chat`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ ...args, stream: true }),
  });
  const text = await res.text();
  emu.reset();
  return text.split(/\n\n/).filter((e) => e.includes("data:")).length;
}

const stores = HAVE_REDIS ? (["memory", "redis"] as const) : (["memory"] as const);

describe.each(stores)("charging calls Cohere answered without a bill (%s store)", (store) => {
  it("25 streamed chats cut one event before the end: charged at least what they delivered; the budget stops them", async () => {
    const args = chatOf(38);
    const n = await eventsOf(args);
    const r = await rig(store, { output_tokens: 300 });
    emu.addFault({ path: "/v2/chat", times: Infinity, fault: { kind: "cut-stream", afterEvents: n - 1 } });
    let delivered = 0;
    let sent = 0;
    let refused = 0;
    for (let i = 0; i < 25; i++) {
      let text = "";
      const res = await r.call(args, { progress: (m) => (text += m) });
      if (textOf(res).startsWith("Budget")) {
        refused++;
        continue;
      }
      sent++;
      expect(textOf(res)).toMatch(/cut mid-stream|without its final event/);
      delivered += countTokens(text);
    }
    const used = (await r.used()).output_tokens!;
    console.log(`[figure] ${store}: 25 streamed chats cut one event before the end vs budget.output_tokens 300: ${sent} sent, ${refused} refused, ${delivered} output tokens delivered, ${used} charged`);
    // Every token delivered is charged, and the budget holds: past 300, nothing more is sent.
    expect(used).toBeGreaterThanOrEqual(delivered);
    expect(refused).toBeGreaterThan(0);
    expect(delivered).toBeLessThanOrEqual(300 + delivered / sent);
    expect(emu.requests.filter((q) => q.path === "/v2/chat")).toHaveLength(sent);
    // The audit says the charge was estimated, in the JSON and in the sentence.
    const cut = r.events.find((e) => e.decision === "allowed")!;
    expect(cut).toMatchObject({ outcome: "stream_cut", charge: "estimated" });
    expect(cut.charged!.output_tokens).toBeGreaterThanOrEqual(1);
    const line = JSON.parse(auditLine(cut, [])) as { charge: string; text: string };
    expect(line.charge).toBe("estimated");
    expect(line.text).toMatch(/no bill from Cohere: budget charged an estimated \d+ output tokens/);
  });

  it("a streamed call the client cancels keeps its whole reservation (max_tokens), in tokens and in USD", async () => {
    emu.setStreamChunkDelay(30);
    const prices = { "command-a-*": { input_tokens: 1_000_000, output_tokens: 1_000_000 } }; // $1 a token
    const r = await rig(store, { output_tokens: 100, usd: 1000, reserve: { input_tokens: 5 } }, { prices_usd_per_million: prices });
    const ac = new AbortController();
    const res = await r.call({ ...chatOf(30), max_tokens: 60 }, { signal: ac.signal, progress: () => ac.abort() });
    expect(res.isError).toBe(true);
    expect(await r.used()).toEqual({ output_tokens: 60, usd: 65 * 1e9 });
    expect(r.events.at(-1)).toMatchObject({ outcome: "cancelled", charge: "estimated", charged: { output_tokens: 60, usd: 65e9 } });
    // 40 left: a call that may bill 60 more is refused, nothing sent.
    const before = emu.requests.length;
    expect(textOf(await r.call({ ...chatOf(3), max_tokens: 60 }))).toMatch(/^Budget too low for this call: it may bill up to 60 output tokens .* has only 40 /);
    expect(emu.requests.length).toBe(before);
  });

  it("a call refused by Cohere (an HTTP error answer) is charged nothing; one that never left is charged nothing", async () => {
    const r = await rig(store, { output_tokens: 100, calls: 10 });
    emu.addFault({ path: "/v2/chat", fault: { kind: "status", status: 400 } });
    expect((await r.call({ ...chatOf(3), max_tokens: 60 })).isError).toBe(true);
    expect(await r.used()).toEqual({ calls: 1, output_tokens: 0 });
    expect(r.events.at(-1)!.charge).toBeUndefined();
    const ac = new AbortController();
    ac.abort();
    expect((await r.call({ ...chatOf(3), max_tokens: 60 }, { signal: ac.signal })).isError).toBe(true);
    expect(await r.used()).toEqual({ calls: 1, output_tokens: 0 });
  });
});

describe.each(stores)("--request-timeout-ms cuts a call over HTTP (%s store)", (store) => {
  let replica: HttpServerProc;
  beforeAll(async () => {
    const config = writeConfig({ profiles: { p: { tools: ["chat"], budget: { output_tokens: 100 } } }, default_profile: "p" });
    const storeArgs = store === "redis" ? ["--store", redis!.url, "--store-prefix", `cut-${Date.now()}:`] : [];
    replica = await startHttp(emu.url, ["--config", config, "--request-timeout-ms", "1000", ...storeArgs], { COHERE_MCP_MAX_RETRIES: "0" });
    // the shared store connected before the first call counts (else it is refused, store unavailable)
    await eventually(async () => expect((await rawRequest(`${replica.origin}/readyz`, { method: "GET" })).status).toBe(200), 10_000);
  }, 20_000);
  afterAll(async () => replica?.stop());

  it("the cut call keeps its reservation: the next call that would pass the budget is refused before sending", async () => {
    const call = (id: number) =>
      rawRequest(replica.url, {
        headers: MCP_HEADERS,
        body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "chat", arguments: { ...chatOf(3), max_tokens: 60 } } }),
      });
    emu.setLatency(3_000);
    const cut = await call(1); // cut after 1 s: Cohere got it and (for all we know) billed it
    expect(cut.body).toMatch(/timed out after 1000 ms|cancelled/);
    emu.setLatency(0);
    const res = await call(2);
    expect(res.body, res.body).toMatch(/Budget too low for this call: it may bill up to 60 output tokens .* has only 40 /);
    // only the cut call reached Cohere (the emulator records it once its latency has passed)
    await new Promise((r) => setTimeout(r, 3_000));
    expect(emu.requests.filter((q) => q.path === "/v2/chat").length).toBeLessThanOrEqual(1);
  });
});
