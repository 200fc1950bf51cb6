/**
 * Profile guards: argument rules and per-agent rate limits — the rules on their own, then over
 * real HTTP with the emulator upstream (nothing is sent when a guard refuses).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { BY_NAME } from "../src/catalog/index.js";
import type { ConfigFile } from "../src/config/file.js";
import { checkArguments } from "../src/policy/guards.js";
import { checkRateLimitConfig, MemoryCounterStore, monthEnd, rateLimitGuard } from "../src/policy/ratelimit.js";
import type { AgentScope } from "../src/server.js";
import { connectStdio, textOf, TEST_KEY } from "./helpers.js";
import { bearer, connectHttp, eventually, startHttp, writeConfig, type HttpServerProc } from "./http-support.js";

const tool = (name: string) => {
  const t = BY_NAME.get(name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
};

describe("argument rules (checkArguments)", () => {
  it("models: globs; a call without a model is refused; get_model is exempt", () => {
    const rules = { models: ["rerank-v3.5", "embed-*"] };
    expect(checkArguments(rules, tool("rerank"), { model: "rerank-v3.5", query: "q", documents: ["a"] })).toBeUndefined();
    expect(checkArguments(rules, tool("embed"), { model: "embed-v4.0", texts: ["a"] })).toBeUndefined();
    const v = checkArguments(rules, tool("chat"), { model: "command-a-03-2025", messages: [] });
    expect(v?.rule).toBe("models");
    expect(v?.problem).toMatch(/"command-a-03-2025" is not allowed.*rerank-v3\.5, embed-\*/);
    expect(checkArguments(rules, tool("classify"), { inputs: ["x"], examples: [] })?.rule).toBe("models");
    expect(checkArguments(rules, tool("get_model"), { model: "command-a-03-2025" })).toBeUndefined();
    expect(checkArguments(rules, tool("list_models"), {})).toBeUndefined();
    // Globs are whole-value and case-sensitive.
    expect(checkArguments(rules, tool("embed"), { model: "xembed-v4.0", texts: ["a"] })?.rule).toBe("models");
    expect(checkArguments(rules, tool("rerank"), { model: "RERANK-V3.5", query: "q", documents: ["a"] })?.rule).toBe("models");
  });

  it("max_documents (rerank) and max_inputs (embed, classify)", () => {
    expect(checkArguments({ max_documents: 2 }, tool("rerank"), { model: "m", query: "q", documents: ["a", "b"] })).toBeUndefined();
    const d = checkArguments({ max_documents: 2 }, tool("rerank"), { model: "m", query: "q", documents: ["a", "b", "c"] });
    expect(d).toMatchObject({ rule: "max_documents" });
    expect(d?.problem).toMatch(/3 documents given, at most 2/);
    expect(checkArguments({ max_inputs: 2 }, tool("embed"), { model: "m", texts: ["a", "b", "c"] })?.rule).toBe("max_inputs");
    expect(checkArguments({ max_inputs: 2 }, tool("embed"), { model: "m", images: ["a"] })).toBeUndefined();
    expect(checkArguments({ max_inputs: 1 }, tool("classify"), { inputs: ["a", "b"], examples: [] })?.rule).toBe("max_inputs");
  });

  it("max_tokens: must be given and within the limit on generating tools", () => {
    const rules = { max_tokens: 500 };
    expect(checkArguments(rules, tool("chat"), { model: "m", messages: [], max_tokens: 500 })).toBeUndefined();
    expect(checkArguments(rules, tool("chat"), { model: "m", messages: [], max_tokens: 501 })?.problem).toMatch(/above.*500/);
    expect(checkArguments(rules, tool("chat"), { model: "m", messages: [] })?.problem).toMatch(/set max_tokens/);
    expect(checkArguments(rules, tool("rerank"), { model: "m", query: "q", documents: ["a"] })).toBeUndefined();
  });

  it("max_input_chars counts every character of text however it is split or nested; max_content_parts counts content items", () => {
    const mb = "x".repeat(1_000_000);
    // one 1 MB document passes max_documents but not max_input_chars
    expect(checkArguments({ max_documents: 10 }, tool("rerank"), { model: "m", query: "q", documents: [mb] })).toBeUndefined();
    const big = checkArguments({ max_documents: 10, max_input_chars: 100_000 }, tool("rerank"), { model: "m", query: "q", documents: [mb] });
    expect(big?.rule).toBe("max_input_chars");
    expect(big?.problem).toMatch(/1000002 characters of text, at most 100000 allowed per call/) // the document, the query, the model;
    // split over many strings, nested in messages, or in a tool without any count rule: the same total
    const chat = { model: "m", messages: [{ role: "user", content: [{ type: "text", text: "a".repeat(60) }, { type: "text", text: "b".repeat(60) }] }] };
    expect(checkArguments({ max_input_chars: 100 }, tool("chat"), chat)?.rule).toBe("max_input_chars");
    expect(checkArguments({ max_input_chars: 200 }, tool("chat"), chat)).toBeUndefined();
    expect(checkArguments({ max_input_chars: 10 }, tool("tokenize"), { model: "m", text: "12345678901" })?.rule).toBe("max_input_chars");
    expect(checkArguments({ max_input_chars: 10 }, tool("create_dataset"), { name: "d", type: "embed-input", data_text: "x".repeat(20) })?.rule).toBe(
      "max_input_chars",
    );
    // 96 inputs of 50 content parts pass max_inputs but not max_content_parts
    const inputs = Array.from({ length: 96 }, () => ({ content: Array.from({ length: 50 }, () => ({ type: "text", text: "t" })) }));
    expect(checkArguments({ max_inputs: 96 }, tool("embed"), { model: "m", inputs })).toBeUndefined();
    const parts = checkArguments({ max_inputs: 96, max_content_parts: 200 }, tool("embed"), { model: "m", inputs });
    expect(parts?.rule).toBe("max_content_parts");
    expect(parts?.problem).toMatch(/4800 content parts given, at most 200 allowed per call/);
    // a plain-string message content is one part
    const msgs = { model: "m", messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }] };
    expect(checkArguments({ max_content_parts: 3 }, tool("chat"), msgs)).toBeUndefined();
    expect(checkArguments({ max_content_parts: 2 }, tool("chat"), msgs)?.rule).toBe("max_content_parts");
  });

  it("dataset_ids and job_ids: globs over the ids a call names", () => {
    const rules = { dataset_ids: ["team-a-*"], job_ids: ["job-a-*"] };
    expect(checkArguments(rules, tool("get_dataset"), { id: "team-a-1" })).toBeUndefined();
    expect(checkArguments(rules, tool("get_dataset"), { id: "team-b-1" })?.rule).toBe("dataset_ids");
    expect(checkArguments(rules, tool("delete_dataset"), { id: "team-b-1" })?.rule).toBe("dataset_ids");
    expect(checkArguments(rules, tool("create_embed_job"), { model: "m", dataset_id: "team-b-1", input_type: "x" })?.rule).toBe(
      "dataset_ids",
    );
    expect(checkArguments(rules, tool("create_batch"), { name: "n", input_dataset_id: "team-a-2", model: "m" })).toBeUndefined();
    expect(checkArguments(rules, tool("list_datasets"), {})).toBeUndefined();
    expect(checkArguments(rules, tool("get_embed_job"), { id: "job-a-1" })).toBeUndefined();
    expect(checkArguments(rules, tool("cancel_batch"), { id: "job-b-1" })?.rule).toBe("job_ids");
    expect(checkArguments(rules, tool("list_finetuning_events"), { finetuned_model_id: "ft-1" })?.rule).toBe("job_ids");
  });
});

describe("rate limits (rateLimitGuard + MemoryCounterStore)", () => {
  const config = (rate_limit: NonNullable<ConfigFile["profiles"][string]["rate_limit"]>): ConfigFile => ({
    profiles: { p: { rate_limit } },
  });
  const scope = (agent: string): AgentScope => ({ agent, transport: "http", visible: new Set(), profile: "p" });

  it("per_minute: refuses past the limit with a retry hint, recovers when the window ends, per agent", async () => {
    let now = 1_000_000;
    const store = new MemoryCounterStore(() => now);
    const g = rateLimitGuard(config({ per_minute: 2 }), store, { now: () => now });
    expect((await g.check(scope("a"), tool("rerank"), {})).ok).toBe(true);
    now += 10_000;
    expect((await g.check(scope("a"), tool("embed"), {})).ok).toBe(true);
    const v = await g.check(scope("a"), tool("rerank"), {});
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.reason).toBe("rate_limit");
      expect(v.message).toMatch(/Rate limited \(429\).*2 calls per minute.*Retry in 50 s/);
    }
    expect((await g.check(scope("b"), tool("rerank"), {})).ok).toBe(true); // another agent
    now += 50_000;
    expect((await g.check(scope("a"), tool("rerank"), {})).ok).toBe(true);
  });

  it("per_tool_per_minute limits one tool; a refusal does not use up the other limits", async () => {
    let now = 0;
    const store = new MemoryCounterStore(() => now);
    const g = rateLimitGuard(config({ per_minute: 3, per_tool_per_minute: { rerank: 1 } }), store, { now: () => now });
    expect((await g.check(scope("a"), tool("rerank"), {})).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect((await g.check(scope("a"), tool("rerank"), {})).ok).toBe(false);
    // The refused rerank calls were taken back, so two more calls fit in per_minute.
    expect((await g.check(scope("a"), tool("embed"), {})).ok).toBe(true);
    expect((await g.check(scope("a"), tool("embed"), {})).ok).toBe(true);
    expect((await g.check(scope("a"), tool("embed"), {})).ok).toBe(false);
  });

  it("per_month: a calendar-month budget (UTC) that renews on the 1st", async () => {
    let now = Date.UTC(2025, 0, 31, 23, 59, 0);
    const g = rateLimitGuard(config({ per_month: 2 }), new MemoryCounterStore(() => now), { now: () => now });
    expect((await g.check(scope("a"), tool("rerank"), {})).ok).toBe(true);
    expect((await g.check(scope("a"), tool("rerank"), {})).ok).toBe(true);
    const v = await g.check(scope("a"), tool("rerank"), {});
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.message).toMatch(/2 calls this month.*Retry in 60 s \(the budget renews 2025-02-01T00:00:00\.000Z\)/);
    now = Date.UTC(2025, 1, 1, 0, 0, 1);
    expect((await g.check(scope("a"), tool("rerank"), {})).ok).toBe(true);
    expect(monthEnd(Date.UTC(2024, 11, 15))).toBe(Date.UTC(2025, 0, 1));
  });

  it("a profile without rate_limit is not limited; unknown per-tool names stop startup", async () => {
    const g = rateLimitGuard({ profiles: { p: {} } }, new MemoryCounterStore());
    for (let i = 0; i < 100; i++) expect((await g.check(scope("a"), tool("rerank"), {})).ok).toBe(true);
    expect(() => checkRateLimitConfig(config({ per_tool_per_minute: { rerankk: 1 } }), new Set(BY_NAME.keys()))).toThrow(
      /"rerankk" is not a tool name/,
    );
  });
});

// ---------------------------------------------------------------------------------------------

const TOKEN = "guarded-agent-token-1b2c3d4e5f";
const RERANK = { model: "rerank-v3.5", query: "q", documents: ["a", "b"] };

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

describe("guards over HTTP", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    const config = {
      profiles: {
        guarded: {
          tools: ["rerank", "tokenize", "get_dataset"],
          arguments: { models: ["rerank-v3.5", "command-a-*"], max_documents: 3, dataset_ids: ["ds-ok-*"] },
          rate_limit: { per_minute: 2 },
        },
      },
      agents: [{ name: "guarded-agent", profile: "guarded", token_env: "GUARDED_TOKEN" }],
    };
    // A 2 s "minute" (test-only knob) so the limit can be seen to recover.
    srv = await startHttp(emu.url, ["--config", writeConfig(config)], { GUARDED_TOKEN: TOKEN, COHERE_MCP_RATE_WINDOW_MS: "2000" });
  });
  afterAll(async () => {
    await srv.stop();
  });

  it("an argument rule refuses with the rule's name and sends nothing", async () => {
    const c = await connectHttp(srv.url, bearer(TOKEN));
    try {
      const r1 = await c.client.callTool({ name: "rerank", arguments: { ...RERANK, documents: ["a", "b", "c", "d"] } });
      expect(r1.isError).toBe(true);
      expect(textOf(r1)).toMatch(/argument rule "max_documents" of profile "guarded"/);
      const r2 = await c.client.callTool({ name: "rerank", arguments: { ...RERANK, model: "rerank-english-v3.0" } });
      expect(textOf(r2)).toMatch(/argument rule "models"/);
      const r3 = await c.client.callTool({ name: "get_dataset", arguments: { id: "ds-secret-1" } });
      expect(textOf(r3)).toMatch(/argument rule "dataset_ids"/);
      expect(emu.requests).toHaveLength(0);
    } finally {
      await c.close();
    }
  });

  it("the rate limit is hit with a 429-style error and a retry hint, then recovers", async () => {
    const c = await connectHttp(srv.url, bearer(TOKEN));
    try {
      await eventually(async () => {
        // Start from a fresh window: wait (bounded) until a call is allowed again after earlier tests.
        const r = await c.client.callTool({ name: "tokenize", arguments: { model: "command-a-03-2025", text: "x" } });
        expect(r.isError).toBeFalsy();
      }, 5_000, 200);
      emu.reset();
      const second = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(second.isError).toBeFalsy();
      const third = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(third.isError).toBe(true);
      expect(textOf(third)).toMatch(/^Rate limited \(429\): agent "guarded-agent" has used its 2 calls per 2 s/);
      expect(textOf(third)).toMatch(/Retry in \d+ s/);
      expect(emu.requests).toHaveLength(1);
      const recovered = await eventually(async () => {
        const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
        expect(r.isError).toBeFalsy();
        return r;
      }, 5_000, 200);
      expect(textOf(recovered)).toMatch(/results/);
    } finally {
      await c.close();
    }
  });
});

describe("guards over stdio with --profile", () => {
  it("max_input_chars and max_content_parts refuse before anything is sent, naming the rule", async () => {
    const config = writeConfig({
      profiles: { sized: { tools: ["rerank", "embed", "chat"], arguments: { max_documents: 100, max_inputs: 96, max_input_chars: 100_000, max_content_parts: 200 } } },
    });
    const c = await connectStdio(emu.url, ["--config", config, "--profile", "sized"]);
    try {
      const doc = await c.client.callTool({ name: "rerank", arguments: { ...RERANK, documents: ["x".repeat(1_000_000)] } });
      expect(doc.isError).toBe(true);
      expect(textOf(doc)).toMatch(/^Refused by argument rule "max_input_chars" of profile "sized": the arguments hold 10000\d\d characters of text, at most 100000 allowed per call; send less text or split the call\. Nothing was sent to Cohere\.$/);
      const inputs = Array.from({ length: 96 }, () => ({ content: Array.from({ length: 50 }, () => ({ type: "text", text: "t" })) }));
      const parts = await c.client.callTool({ name: "embed", arguments: { model: "embed-v4.0", input_type: "search_document", inputs } });
      expect(parts.isError).toBe(true);
      expect(textOf(parts)).toMatch(/argument rule "max_content_parts" of profile "sized": 4800 content parts given, at most 200 allowed/);
      expect(emu.requests).toHaveLength(0);
      // within the limits the same tools run
      const ok = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(ok.isError, textOf(ok)).toBeFalsy();
      expect(emu.requests).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it("apply the same rules", async () => {
    const config = writeConfig({ profiles: { small: { tools: ["rerank"], arguments: { max_documents: 1 } } } });
    const c = await connectStdio(emu.url, ["--config", config, "--profile", "small"]);
    try {
      const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/argument rule "max_documents" of profile "small"/);
      expect(emu.requests).toHaveLength(0);
    } finally {
      await c.close();
    }
  });
});
