/**
 * Budgets in what Cohere bills: per agent, per calendar month (UTC), each unit against the
 * emulator over a real socket, through the real App and callTool (an injected clock moves the
 * month). Nothing is sent once a budget is spent; the message says which budget, how much was
 * used and when it resets; concurrent calls overshoot only by what they bill beyond what they
 * reserved.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { createApp, type App } from "../src/runtime/app.js";
import type { AuditEvent } from "../src/audit/index.js";
import { parseOptions } from "../src/config/options.js";
import { createLogger } from "../src/runtime/logger.js";
import { callTool } from "../src/server.js";
import { TEST_KEY, textOf } from "./helpers.js";
import { writeConfig } from "./http-support.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const JAN_31_LATE = Date.UTC(2026, 0, 31, 23, 59, 0);
const FEB_1 = Date.UTC(2026, 1, 1, 0, 0, 5);

interface Rig {
  app: App;
  events: AuditEvent[];
  clock: { t: number };
  call(tool: string, args: Record<string, unknown>, agent?: string): ReturnType<typeof callTool>;
  /** Requests the emulator received on a path. */
  sent(path: string): number;
  used(agent?: string): Promise<Record<string, number>>;
}

const rigs: App[] = [];
afterAll(async () => {
  for (const a of rigs) await a.close();
});

function rig(profile: Record<string, unknown>, extra: Record<string, unknown> = {}, start = JAN_31_LATE): Rig {
  const path = writeConfig({ profiles: { p: { tools: ["chat", "embed", "rerank", "classify", "tokenize"], ...profile } }, ...extra });
  const clock = { t: start };
  const app = createApp(
    parseOptions(["--config", path], { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url, COHERE_MCP_MAX_RETRIES: "0" }),
    createLogger("silent"),
    { now: () => clock.t },
  );
  rigs.push(app);
  const events: AuditEvent[] = [];
  app.audit = { record: (e) => events.push(e), close: async () => undefined };
  return {
    app,
    events,
    clock,
    call: (tool, args, agent = "writer") =>
      callTool(app, { agent, transport: "http", visible: app.profileVisible("p"), profile: "p" }, tool, args, {}),
    sent: (p) => emu.requests.filter((r) => r.path === p).length,
    async used(agent = "writer") {
      const readings = await app.live.current.budgets!.usage(agent, "p");
      return Object.fromEntries(readings.map((r) => [r.unit, r.used]));
    },
  };
}

const CHAT = { model: "command-a-03-2025", messages: [{ role: "user", content: "hello there" }] };
const EMBED = { model: "embed-v4.0", input_type: "search_document", texts: ["alpha beta gamma"] };
const docs = (n: number) => Array.from({ length: n }, (_, i) => `document ${i}`);
const RERANK = (n: number) => ({ model: "rerank-v3.5", query: "which", documents: docs(n) });
const EXAMPLES = [
  { text: "good", label: "pos" },
  { text: "great", label: "pos" },
  { text: "bad", label: "neg" },
  { text: "awful", label: "neg" },
];
const CLASSIFY = (n: number) => ({ inputs: Array.from({ length: n }, (_, i) => `fine ${i}`), examples: EXAMPLES });

/** What one call bills, measured with no budget (the emulator is deterministic). */
async function billOf(tool: string, args: Record<string, unknown>): Promise<Record<string, number>> {
  const r = rig({});
  const res = await r.call(tool, args);
  expect(res.isError, textOf(res)).toBeFalsy();
  emu.reset();
  return r.events[0]!.billedUnits!;
}

describe("budgets, one unit at a time", () => {
  it("output_tokens: the calls that fit pass, the next is refused before sending with used / limit / reset, and the month rolls over", async () => {
    const k = (await billOf("chat", CHAT)).output_tokens!;
    expect(k).toBeGreaterThan(0);
    const r = rig({ budget: { output_tokens: 3 * k } });
    for (let i = 0; i < 3; i++) expect((await r.call("chat", CHAT)).isError).toBeFalsy();
    expect(r.sent("/v2/chat")).toBe(3);

    const refused = await r.call("chat", CHAT);
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toBe(
      `Budget spent: agent "writer" has used ${3 * k} of its ${3 * k} output tokens this month (2026-01, UTC) ` +
        `(profile "p", budget.output_tokens; calls still in flight count with what they may bill); nothing was sent to Cohere. ` +
        "The budget resets at 2026-02-01T00:00:00.000Z (in 60 s).",
    );
    expect(r.sent("/v2/chat")).toBe(3);
    expect(r.events.at(-1)).toMatchObject({ decision: "denied", reason: "budget", tool: "chat" });

    // February: a fresh budget.
    r.clock.t = FEB_1;
    expect((await r.call("chat", CHAT)).isError).toBeFalsy();
    expect(r.sent("/v2/chat")).toBe(4);
    expect(await r.used()).toEqual({ output_tokens: k });

    // A call whose max_tokens does not fit in what is left is refused; one that fits passes.
    const tooBig = await r.call("chat", { ...CHAT, max_tokens: 3 * k });
    expect(textOf(tooBig)).toMatch(
      new RegExp(
        `^Budget too low for this call: it may bill up to ${3 * k} output tokens \\(its max_tokens\\) and agent "writer" has only ` +
          `${2 * k} of its ${3 * k} output tokens left this month \\(2026-02, UTC\\).*nothing was sent to Cohere\\. Lower max_tokens, or wait: ` +
          "The budget resets at 2026-03-01T00:00:00.000Z",
      ),
    );
    expect(r.sent("/v2/chat")).toBe(4);
    expect((await r.call("chat", { ...CHAT, max_tokens: 2 * k })).isError).toBeFalsy();
    expect(await r.used()).toEqual({ output_tokens: 2 * k });
  });

  it("input_tokens (embed): two calls fit, the third is refused", async () => {
    const j = (await billOf("embed", EMBED)).input_tokens!;
    const r = rig({ budget: { input_tokens: 2 * j } });
    expect((await r.call("embed", EMBED)).isError).toBeFalsy();
    expect((await r.call("embed", EMBED)).isError).toBeFalsy();
    const refused = await r.call("embed", EMBED);
    expect(textOf(refused)).toMatch(new RegExp(`^Budget spent: agent "writer" has used ${2 * j} of its ${2 * j} input tokens this month`));
    expect(r.sent("/v2/embed")).toBe(2);
    // A chat bills input tokens too: refused by the same budget; a tokenize bills nothing and passes.
    expect(textOf(await r.call("chat", CHAT))).toMatch(/^Budget spent: .* input tokens/);
    expect((await r.call("tokenize", { model: "command-a-03-2025", text: "free" })).isError).toBeFalsy();
  });

  it("search_units (rerank): one per 100 documents is reserved, and billed (as Cohere bills)", async () => {
    const r = rig({ budget: { search_units: 4 } });
    expect((await r.call("rerank", RERANK(1))).isError).toBeFalsy(); // 1 used
    expect((await r.call("rerank", RERANK(150))).isError).toBeFalsy(); // reserves 2 (1 + 2 ≤ 4); Cohere bills 2
    expect(await r.used()).toEqual({ search_units: 3 });
    const tooBig = await r.call("rerank", RERANK(150));
    expect(textOf(tooBig)).toMatch(/^Budget too low for this call: it may bill up to 2 search units \(one per 100 documents\) and agent "writer" has only 1 of its 4 search units left/);
    expect((await r.call("rerank", RERANK(100))).isError).toBeFalsy(); // 100 documents: still one search
    expect(textOf(await r.call("rerank", RERANK(1)))).toMatch(/^Budget spent: agent "writer" has used 4 of its 4 search units/);
    expect(r.sent("/v2/rerank")).toBe(3);
  });

  it("pages (parse): one page per image is reserved and billed; a spent budget sends nothing", async () => {
    const r = rig({ tools: ["parse"], budget: { pages: 2 } });
    const PARSE = { model: "parse-v5.0", document_url: "https://example.com/scan.png" };
    expect((await r.call("parse", PARSE)).isError).toBeFalsy();
    expect((await r.call("parse", { ...PARSE, output_format: "blocks" })).isError).toBeFalsy();
    expect(await r.used()).toEqual({ pages: 2 });
    expect(textOf(await r.call("parse", PARSE))).toMatch(/^Budget spent: agent "writer" has used 2 of its 2 pages this month/);
    expect(r.sent("/v2/parse")).toBe(2);
    expect(r.events.filter((e) => e.billedUnits?.pages === 1)).toHaveLength(2);
    // priced per page in the operator's table (USD per million pages)
    const priced = rig({ tools: ["parse"], budget: { usd: 1 } }, { prices_usd_per_million: { "parse-v5.0": { pages: 400_000 } } });
    expect((await priced.call("parse", PARSE)).isError).toBeFalsy();
    expect((await priced.used()).usd).toBe(0.4 * 1e9);
    expect(textOf(await priced.call("parse", { ...PARSE, model: "parse-v9" }))).toMatch(/no entry for model "parse-v9"/);
  });

  it("classifications: one per input is reserved", async () => {
    const r = rig({ budget: { classifications: 5 } });
    expect((await r.call("classify", CLASSIFY(2))).isError).toBeFalsy();
    expect((await r.call("classify", CLASSIFY(2))).isError).toBeFalsy();
    expect(textOf(await r.call("classify", CLASSIFY(2)))).toMatch(
      /^Budget too low for this call: it may bill up to 2 classifications \(one per input\) and agent "writer" has only 1 of its 5 classifications left/,
    );
    expect((await r.call("classify", CLASSIFY(1))).isError).toBeFalsy();
    expect(textOf(await r.call("classify", CLASSIFY(1)))).toMatch(/^Budget spent: agent "writer" has used 5 of its 5 classifications/);
    expect(r.sent("/v1/classify")).toBe(3);
  });

  it("calls: every call counts, billed or not; agents have budgets of their own", async () => {
    const r = rig({ budget: { calls: 2 } });
    const tok = { model: "command-a-03-2025", text: "hello" };
    expect((await r.call("tokenize", tok)).isError).toBeFalsy();
    expect((await r.call("chat", CHAT)).isError).toBeFalsy();
    expect(textOf(await r.call("tokenize", tok))).toMatch(/^Budget spent: agent "writer" has used 2 of its 2 calls this month/);
    expect((await r.call("tokenize", tok, "other-agent")).isError).toBeFalsy();
    expect(r.sent("/v1/tokenize") + r.sent("/v2/chat")).toBe(3);
  });

  it("usd: priced with the operator's table; a model without a price is refused; no table, no start", async () => {
    const b = await billOf("chat", CHAT);
    // USD per million: 0.10 $ an input token, 0.20 $ an output token (the operator's figures).
    const prices = { "command-a-*": { input_tokens: 100_000, output_tokens: 200_000 } };
    const cost = b.input_tokens! * 0.1 + b.output_tokens! * 0.2;
    const r = rig({ budget: { usd: 2 * cost } }, { prices_usd_per_million: prices });
    expect((await r.call("chat", CHAT)).isError).toBeFalsy();
    expect((await r.call("chat", CHAT)).isError).toBeFalsy();
    const refused = await r.call("chat", CHAT);
    const usd = `\\$${(2 * cost).toFixed(2)}`;
    expect(textOf(refused)).toMatch(new RegExp(`^Budget spent: agent "writer" has used ${usd} of its ${usd} this month \\(2026-01, UTC\\) \\(profile "p", budget.usd`));
    expect(r.sent("/v2/chat")).toBe(2);
    expect((await r.used()).usd).toBe(Math.round(2 * cost * 1e9));

    const unpriced = rig({ budget: { usd: 100 } }, { prices_usd_per_million: prices });
    const res = await unpriced.call("chat", { ...CHAT, model: "command-r-08-2024" });
    expect(textOf(res)).toMatch(/no entry for model "command-r-08-2024".*nothing was sent to Cohere.*add "command-r-08-2024" \(or a "\*" entry\) to "prices_usd_per_million"/);
    expect(unpriced.sent("/v2/chat")).toBe(2);
    // An entry must price every unit the tool bills.
    const partial = rig({ budget: { usd: 100 } }, { prices_usd_per_million: { "*": { input_tokens: 1 } } });
    expect(textOf(await partial.call("chat", CHAT))).toMatch(/entry "\*" has no price for output_tokens, which chat bills/);
    expect(() => rig({ budget: { usd: 5 } })).toThrow(/budget\.usd needs a price table/);
  });
});

describe("concurrent calls", () => {
  it("with max_tokens on every call, output tokens never overshoot: only the calls whose reservation fits are sent", async () => {
    emu.setLatency(300);
    const r = rig({ budget: { output_tokens: 100 } });
    const results = await Promise.all(Array.from({ length: 10 }, () => r.call("chat", { ...CHAT, max_tokens: 30 })));
    const passed = results.filter((x) => !x.isError).length;
    expect(passed).toBe(3);
    expect(r.sent("/v2/chat")).toBe(3);
    for (const x of results.filter((y) => y.isError)) expect(textOf(x)).toMatch(/^Budget too low for this call: it may bill up to 30 output tokens/);
  });

  it("without max_tokens each call holds 1: the overshoot is what the admitted calls billed beyond 1 each", async () => {
    const k = (await billOf("chat", CHAT)).output_tokens!;
    emu.setLatency(300);
    const r = rig({ budget: { output_tokens: 5 } });
    const results = await Promise.all(Array.from({ length: 10 }, () => r.call("chat", CHAT)));
    expect(results.filter((x) => !x.isError)).toHaveLength(5);
    expect(r.sent("/v2/chat")).toBe(5);
    // used = 5 calls × k; the overshoot 5k − 5 is exactly Σ(billed − reserved) of the calls that were in flight.
    expect(await r.used()).toEqual({ output_tokens: 5 * k });
    // Reserving what a call really bills (budget.reserve) removes the overshoot.
    emu.reset();
    emu.setLatency(300);
    const tight = rig({ budget: { output_tokens: 5 * k, reserve: { output_tokens: k } } });
    const again = await Promise.all(Array.from({ length: 10 }, () => tight.call("chat", CHAT)));
    expect(again.filter((x) => !x.isError)).toHaveLength(5);
    expect(await tight.used()).toEqual({ output_tokens: 5 * k });
  });

  it("two replicas sharing one store share one budget (the guard keeps no state of its own)", async () => {
    const a = rig({ budget: { calls: 3 } });
    const b = rig({ budget: { calls: 3 } });
    b.app.store = a.app.store;
    b.clock.t = a.clock.t;
    const tok = { model: "command-a-03-2025", text: "hello" };
    const outcomes: boolean[] = [];
    for (const side of [a, b, a, b]) outcomes.push(!(await side.call("tokenize", tok)).isError);
    expect(outcomes).toEqual([true, true, true, false]);
    expect(a.sent("/v1/tokenize")).toBe(3);
  });
});
