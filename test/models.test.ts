/**
 * Cohere's lineup of today (issue 21, section 2), from one table (src/catalog/models.ts): the
 * emulator's catalogue lists it, the server refuses a retired model before sending (with the
 * date and the replacements), and a deprecated model still works with Cohere's warning.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { COHERE_MODELS, LATEST, SOURCES, cohereModel } from "../src/catalog/models.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";

let emu: CohereEmulator;
let c: Connected;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  c = await connectStdio(emu.url, ["--tools", "chat,chat_v1,embed,embed_v1,rerank,list_models,get_model", "--allow-write"]);
});
afterAll(async () => {
  await c?.close();
  await emu.stop();
});
beforeEach(() => emu.reset());

const call = async (name: string, args: Record<string, unknown>) => (await c.client.callTool({ name, arguments: args })) as ToolCallResult;
const get = async (path: string) => {
  const res = await fetch(`${emu.url}${path}`, { headers: { authorization: `Bearer ${TEST_KEY}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, warning: res.headers.get("x-api-warning") };
};

describe("the model table", () => {
  it("has today's lineup, each row with a source, the retired ones dated with replacements", () => {
    for (const name of [
      "embed-v5.0-pro",
      "embed-v5.0-fast",
      "rerank-v5.0-pro",
      "rerank-v5.0-fast",
      "command-a-plus-05-2026",
      "command-a-reasoning-08-2025",
      "command-a-translate-08-2025",
      "rerank-multilingual-v3.0",
      "rerank-v4.0-fast",
      "embed-multilingual-light-v3.0",
      "parse-v5.0",
      "cohere-transcribe-03-2026",
    ]) {
      expect(cohereModel(name)?.status, name).toBe("live");
    }
    for (const m of COHERE_MODELS) expect(SOURCES[m.source], m.name).toBeTruthy();
    const retired = COHERE_MODELS.filter((m) => m.status === "retired").map((m) => m.name).sort();
    expect(retired).toEqual([
      "c4ai-aya-expanse-8b",
      "c4ai-aya-vision-8b",
      "embed-english-light-v2.0",
      "embed-english-v2.0",
      "embed-multilingual-v2.0",
      "rerank-english-v2.0",
      "rerank-multilingual-v2.0",
    ]);
    for (const name of ["command", "command-r", "command-light", "command-r-plus", "command-r-03-2024", "command-r-plus-04-2024"]) {
      expect(cohereModel(name)).toMatchObject({ status: "deprecated", since: "2025-09-15" });
    }
    for (const name of Object.values(LATEST)) expect(cohereModel(name)?.status, name).toBe("live");
  });
});

describe("the emulator's catalogue follows the table", () => {
  it("lists Embed 5, Rerank 5 and the new Command models by endpoint; retired models are gone (404)", async () => {
    const embed = (await get("/v1/models?endpoint=embed&page_size=1000")).body.models as Array<{ name: string }>;
    expect(embed.map((m) => m.name)).toEqual(expect.arrayContaining(["embed-v5.0-pro", "embed-v5.0-fast", "embed-multilingual-light-v3.0"]));
    expect(embed.map((m) => m.name)).not.toContain("embed-english-v2.0");
    const rerank = (await get("/v1/models?endpoint=rerank&page_size=1000")).body.models as Array<{ name: string }>;
    expect(rerank.map((m) => m.name)).toEqual(expect.arrayContaining(["rerank-v5.0-pro", "rerank-v5.0-fast", "rerank-v4.0-fast", "rerank-multilingual-v3.0"]));
    expect((await get("/v1/models/command-a-reasoning-08-2025")).body).toMatchObject({ endpoints: ["chat"], context_length: 256000 });
    expect((await get("/v1/models/embed-english-v2.0")).status).toBe(404);
    expect((await get("/v1/models/c4ai-aya-expanse-8b")).status).toBe(404);
    const dep = await get("/v1/models/command-r");
    expect(dep.body.is_deprecated).toBe(true);
    expect(dep.warning).toMatch(/Model command-r is deprecated/);
  });

  it("Embed 5 takes output_dimension (the table's feature), an Embed 3 model is refused it before sending", async () => {
    const r = await call("embed", { model: "embed-v5.0-fast", input_type: "search_query", texts: ["a"], output_dimension: 512 });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ dimensions: 512 });
    const old = await call("embed", { model: "embed-multilingual-light-v3.0", input_type: "search_query", texts: ["a"], output_dimension: 512 });
    expect(textOf(old)).toMatch(/does not take output_dimension/);
    expect(emu.requests).toHaveLength(1);
  });

  it("command-a-reasoning takes up to 32,000 output tokens; command-a-translate 8,000", async () => {
    const msg = [{ role: "user", content: "hi" }];
    expect((await call("chat", { model: "command-a-reasoning-08-2025", messages: msg, max_tokens: 32000 })).isError).toBeFalsy();
    expect(textOf(await call("chat", { model: "command-a-translate-08-2025", messages: msg, max_tokens: 8001 }))).toMatch(/less than or equal to 8000/);
  });
});

describe("retired models are refused before sending, with the date and what to use", () => {
  it("embed v2.0 and Aya 8B: a tool error naming 2026-04-04 and the replacements; nothing sent", async () => {
    const e = await call("embed", { model: "embed-english-v2.0", input_type: "search_document", texts: ["a"] });
    expect(e.isError).toBe(true);
    expect(textOf(e)).toMatch(/model 'embed-english-v2.0' was retired by Cohere on 2026-04-04 .* use embed-english-v3.0, embed-multilingual-v3.0, embed-v4.0 instead/);
    expect(textOf(e)).toMatch(/nothing was sent to Cohere/);
    const a = await call("chat", { model: "c4ai-aya-vision-8b", messages: [{ role: "user", content: "hi" }] });
    expect(textOf(a)).toMatch(/retired by Cohere on 2026-04-04 and no longer serves requests; use command-r7b-12-2024, command-a-03-2025, command-a-reasoning-08-2025 instead/);
    expect(textOf(await call("embed_v1", { model: "embed-multilingual-v2.0", texts: ["a"] }))).toMatch(/retired/);
    expect(emu.requests).toHaveLength(0);
  });
});

describe("deprecated models still work, with Cohere's deprecation warning", () => {
  it("chat_v1 with command-r: answered, and the agent is told the model is deprecated (meta.warnings)", async () => {
    const r = await call("chat_v1", { model: "command-r", message: "hello" });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toMatch(/Cohere warning.*Model command-r is deprecated, for more information please refer to https:\/\/docs\.cohere\.com\/docs\/deprecations/);
    const live = await call("chat_v1", { model: "command-r-08-2024", message: "hello" });
    expect(textOf(live)).not.toMatch(/deprecated/);
  });
});
