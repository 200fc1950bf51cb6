/**
 * Cohere's own TypeScript SDK (`cohere-ai`, a devDependency) against the emulator (issue 9):
 * every method the SDK exposes is called over real HTTP and must succeed, and every answer the
 * emulator sent (each JSON body, each streamed event) must also pass the SDK's serializers in
 * STRICT mode (unknown keys, unknown enum values and unknown union members all fail; the SDK
 * itself runs them with skipValidation). So the emulator cannot drift from what Cohere's own
 * client accepts.
 *
 * The SDK's `fetch` option (its documented hook for a custom fetch) is given the global fetch
 * wrapped to keep a copy of each answer's raw body for the strict check; requests still go
 * over the network to the emulator, untouched.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CohereClient } from "cohere-ai";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";

const KEY = "sdk-key";
const require = createRequire(import.meta.url);
// the SDK's serializers are not in its package exports: load them by file
type Schema = { parseOrThrow(raw: unknown, opts: Record<string, unknown>): unknown };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const S = require(path.join(path.dirname(require.resolve("cohere-ai")), "serialization/index.js")) as Record<string, any>;

const STRICT = {
  unrecognizedObjectKeys: "fail",
  allowUnrecognizedUnionMembers: false,
  allowUnrecognizedEnumValues: false,
  skipValidation: false,
  breadcrumbsPrefix: ["response"],
};

/**
 * Fields the emulator sends beyond the spec because Cohere sends them (and the SDK's strict
 * serializers do not know them). Each is removed before the strict check, nowhere else.
 */
const KNOWN_EXTRAS: Array<{ where: RegExp; field: string; why: string }> = [
  {
    where: /^chatStream$/,
    field: "is_finished",
    why: "Cohere's v1 NDJSON events carry is_finished (recorded Cohere streams show it); the spec leaves it out",
  },
];

interface Captured {
  url: string;
  method: string;
  status: number;
  contentType: string;
  body: string;
}
const captured: Captured[] = [];

const recordingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const copy = res.clone();
  const entry: Captured = {
    url: typeof input === "string" ? input : input instanceof URL ? input.href : input.url,
    method: init?.method ?? "GET",
    status: res.status,
    contentType: res.headers.get("content-type") ?? "",
    body: "",
  };
  captured.push(entry);
  entry.body = await copy.text();
  return res;
};

let emu: CohereEmulator;
let co: CohereClient;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: KEY });
  co = new CohereClient({ token: KEY, baseUrl: emu.url, clientName: "sdk-fidelity", fetch: recordingFetch, maxRetries: 0 });
});
afterAll(async () => emu?.stop());

/** Each raw event of a streamed answer (SSE data or NDJSON line). */
function rawEvents(c: Captured): unknown[] {
  if (c.contentType.startsWith("text/event-stream")) {
    return c.body
      .split(/\r?\n\r?\n/)
      .map((b) => b.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n"))
      .filter((d) => d && d !== "[DONE]")
      .map((d) => JSON.parse(d) as unknown);
  }
  return c.body
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);
}

function dropExtras(method: string, value: unknown): unknown {
  const fields = KNOWN_EXTRAS.filter((e) => e.where.test(method)).map((e) => e.field);
  if (!fields.length || !value || typeof value !== "object") return value;
  const out = { ...(value as Record<string, unknown>) };
  for (const f of fields) delete out[f];
  return out;
}

/** Strict check of the last answer against `schema` (per event for streams). */
function strict(method: string, schema: Schema | undefined, stream = false): void {
  const c = captured.at(-1)!;
  expect(c.status, `${method}: HTTP ${c.status} ${c.body.slice(0, 200)}`).toBeLessThan(300);
  if (!schema) {
    expect(c.body, `${method} declares no body`).toBe("");
    return;
  }
  const values = stream ? rawEvents(c) : [JSON.parse(c.body) as unknown];
  expect(values.length).toBeGreaterThan(0);
  for (const v of values) {
    try {
      schema.parseOrThrow(dropExtras(method, v), STRICT);
    } catch (e) {
      throw new Error(`${method}: the SDK's strict serializer refuses ${JSON.stringify(v).slice(0, 300)}: ${(e as Error).message}`);
    }
  }
}

async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const ev of stream) out.push(ev);
  return out;
}

const TOOLS_V2 = [
  {
    type: "function" as const,
    function: {
      name: "query_daily_sales_report",
      description: "Connects to a database to retrieve overall sales volumes and sales information for a given day.",
      parameters: { type: "object", properties: { day: { description: "Retrieves sales data for this day, formatted as YYYY-MM-DD.", type: "string" } }, required: ["day"] },
    },
  },
  {
    type: "function" as const,
    function: {
      name: "query_product_catalog",
      description: "Connects to a a product catalog with information about all the products being sold, including categories, prices, and stock levels.",
      parameters: { type: "object", properties: { category: { description: "Retrieves product information data for all products in this category.", type: "string" } }, required: ["category"] },
    },
  },
];
const SALES_QUESTION =
  "Can you provide a sales summary for 29th September 2023, and also give me some details about the products in the 'Electronics' category, for example their prices and stock levels?";
const DOCS = [
  { data: { title: "Tall penguins", snippet: "Emperor penguins are the tallest." } },
  { data: { title: "Penguin habitats", snippet: "Emperor penguins only live in Antarctica." } },
];
// a File: the SDK's {data, filename} form is sent as "[object Object]" by 8.1.0's multipart encoder
// a 1×1 PNG
const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const jsonl = () => new File(['{"text": "The quick brown fox jumps over the lazy dog"}\n'], "data.jsonl", { type: "application/jsonl" });

const ids: Record<string, string> = {};

/** One entry per SDK method: how to call it and the serializer of its answer. */
const CALLS: Array<{ method: string; run: () => Promise<unknown>; schema?: Schema; stream?: boolean }> = [
  { method: "checkApiKey", run: () => co.checkApiKey(), schema: S.CheckApiKeyResponse },
  { method: "models.list", run: () => co.models.list({ pageSize: 3 }), schema: S.ListModelsResponse },
  { method: "models.get", run: () => co.models.get("command-a-03-2025"), schema: S.GetModelResponse },
  { method: "tokenize", run: () => co.tokenize({ text: "tokenize me! :D", model: "command-a-03-2025" }), schema: S.TokenizeResponse },
  { method: "detokenize", run: () => co.detokenize({ tokens: [10002, 2261, 2012, 8, 2792, 43], model: "command-a-03-2025" }), schema: S.DetokenizeResponse },
  { method: "chat", run: () => co.chat({ model: "command-a-03-2025", message: "Tell me about LLMs" }), schema: S.NonStreamedChatResponse },
  {
    method: "chatStream",
    run: async () => drain(await co.chatStream({ model: "command-a-03-2025", message: "Tell me about LLMs", documents: [{ title: "LLMs", snippet: "LLMs are large language models." }] })),
    schema: S.StreamedChatResponse,
    stream: true,
  },
  { method: "generate", run: () => co.generate({ prompt: "Please explain to me how LLMs work", returnLikelihoods: "GENERATION" }), schema: S.Generation },
  { method: "generateStream", run: async () => drain(await co.generateStream({ prompt: "Please explain to me how LLMs work" })), schema: S.GenerateStreamedResponse, stream: true },
  { method: "embed", run: () => co.embed({ model: "embed-v4.0", texts: ["hello", "goodbye"], inputType: "classification" }), schema: S.EmbedResponse },
  {
    method: "rerank",
    run: () => co.rerank({ model: "rerank-v3.5", query: "capital of the United States?", documents: ["Carson City is in Nevada.", "Washington, D.C. is the capital."], returnDocuments: true }),
    schema: S.RerankResponse,
  },
  {
    method: "classify",
    run: () =>
      co.classify({
        inputs: ["Confirm your email address", "hey i need u to send some $"],
        examples: [
          { text: "Dermatologists don't like her!", label: "Spam" },
          { text: "Please help me?", label: "Spam" },
          { text: "Your parcel will be delivered today", label: "Not spam" },
          { text: "Weekly sync notes", label: "Not spam" },
        ],
      }),
    schema: S.ClassifyResponse,
  },
  { method: "summarize", run: () => co.summarize({ text: "Ice cream is a sweetened frozen food typically eaten as a snack or dessert. ".repeat(5) }), schema: S.SummarizeResponse },
  {
    method: "v2.chat",
    run: () => co.v2.chat({ model: "command-a-03-2025", messages: [{ role: "user", content: SALES_QUESTION }], tools: TOOLS_V2 }),
    schema: S.V2ChatResponse,
  },
  {
    method: "v2.chatStream",
    run: async () =>
      drain(await co.v2.chatStream({ model: "command-a-03-2025", messages: [{ role: "user", content: "Which penguins are the tallest?" }], documents: DOCS, logprobs: true })),
    schema: S.V2ChatStreamResponse,
    stream: true,
  },
  {
    method: "v2.embed",
    run: () => co.v2.embed({ model: "embed-v4.0", inputType: "classification", texts: ["hello", "goodbye"], embeddingTypes: ["float", "int8"] }),
    schema: S.EmbedByTypeResponse,
  },
  {
    method: "v2.rerank",
    run: () => co.v2.rerank({ model: "rerank-v3.5", query: "capital of the United States?", documents: ["Carson City is in Nevada.", "Washington, D.C. is the capital."], topN: 1 }),
    schema: S.V2RerankResponse,
  },
  {
    // the SDK's own example (cohere-ai 8.1.0, v2.parse)
    method: "v2.parse",
    run: () => co.v2.parse({ model: "parse-v5.0", document: { type: "image_url", imageUrl: "https://cohere.com/favicon-32x32.png" }, outputFormat: "markdown" }),
    schema: S.ParseResponse,
  },
  {
    method: "audio.transcriptions.create",
    run: () => co.audio.transcriptions.create(new File(["hello from the audio file"], "sample.wav", { type: "audio/wav" }), { model: "cohere-transcribe-03-2026", language: "en" }),
    schema: S.audio.AudioTranscriptionsCreateResponse,
  },
  {
    method: "datasets.create",
    run: async () => {
      const r = await co.datasets.create(jsonl(), undefined, { name: "sdk-set", type: "embed-input" });
      ids.dataset = r.id!;
      return r;
    },
    schema: S.DatasetsCreateResponse,
  },
  { method: "datasets.list", run: () => co.datasets.list(), schema: S.DatasetsListResponse },
  { method: "datasets.getUsage", run: () => co.datasets.getUsage(), schema: S.DatasetsGetUsageResponse },
  { method: "datasets.get", run: () => co.datasets.get(ids.dataset!), schema: S.DatasetsGetResponse },
  {
    method: "embedJobs.create",
    run: async () => {
      const r = await co.embedJobs.create({ model: "embed-v4.0", datasetId: ids.dataset!, inputType: "search_document" });
      ids.embedJob = r.jobId;
      return r;
    },
    schema: S.CreateEmbedJobResponse,
  },
  { method: "embedJobs.list", run: () => co.embedJobs.list(), schema: S.ListEmbedJobResponse },
  { method: "embedJobs.get", run: () => co.embedJobs.get(ids.embedJob!), schema: S.EmbedJob },
  { method: "embedJobs.cancel", run: () => co.embedJobs.cancel(ids.embedJob!) },
  {
    method: "batches.create",
    run: async () => {
      const r = await co.batches.create({ name: "sdk-batch", inputDatasetId: ids.dataset!, model: "command-a-03-2025" });
      ids.batch = r.batch.id!;
      return r;
    },
    schema: S.CreateBatchResponse,
  },
  { method: "batches.list", run: () => co.batches.list({ pageSize: 10 }), schema: S.ListBatchesResponse },
  { method: "batches.retrieve", run: () => co.batches.retrieve(ids.batch!), schema: S.GetBatchResponse },
  { method: "batches.cancel", run: () => co.batches.cancel(ids.batch!), schema: S.CancelBatchResponse },
  {
    method: "connectors.create",
    run: async () => {
      const r = await co.connectors.create({ name: "Example connector", url: "https://connector-example.com/search" });
      ids.connector = r.connector.id;
      return r;
    },
    schema: S.CreateConnectorResponse,
  },
  { method: "connectors.list", run: () => co.connectors.list(), schema: S.ListConnectorsResponse },
  { method: "connectors.get", run: () => co.connectors.get(ids.connector!), schema: S.GetConnectorResponse },
  { method: "connectors.update", run: () => co.connectors.update(ids.connector!, { name: "new name" }), schema: S.UpdateConnectorResponse },
  {
    method: "connectors.oAuthAuthorize",
    run: () => co.connectors.oAuthAuthorize(ids.connector!, { afterTokenRedirect: "https://example.com/done" }),
    schema: S.OAuthAuthorizeResponse,
  },
  { method: "connectors.delete", run: () => co.connectors.delete(ids.connector!), schema: S.DeleteConnectorResponse },
  {
    method: "finetuning.createFinetunedModel",
    run: async () => {
      const r = await co.finetuning.createFinetunedModel({ name: "sdk-ft", settings: { baseModel: { baseType: "BASE_TYPE_CHAT" }, datasetId: ids.dataset! } });
      ids.finetune = r.finetunedModel!.id!;
      return r;
    },
    schema: S.finetuning.CreateFinetunedModelResponse,
  },
  { method: "finetuning.listFinetunedModels", run: () => co.finetuning.listFinetunedModels(), schema: S.finetuning.ListFinetunedModelsResponse },
  { method: "finetuning.getFinetunedModel", run: () => co.finetuning.getFinetunedModel(ids.finetune!), schema: S.finetuning.GetFinetunedModelResponse },
  {
    method: "finetuning.updateFinetunedModel",
    run: () => co.finetuning.updateFinetunedModel(ids.finetune!, { name: "sdk-ft-2", settings: { baseModel: { baseType: "BASE_TYPE_CHAT" }, datasetId: ids.dataset! } }),
    schema: S.finetuning.UpdateFinetunedModelResponse,
  },
  { method: "finetuning.listEvents", run: () => co.finetuning.listEvents(ids.finetune!), schema: S.finetuning.ListEventsResponse },
  { method: "finetuning.listTrainingStepMetrics", run: () => co.finetuning.listTrainingStepMetrics(ids.finetune!), schema: S.finetuning.ListTrainingStepMetricsResponse },
  { method: "finetuning.deleteFinetunedModel", run: () => co.finetuning.deleteFinetunedModel(ids.finetune!), schema: S.finetuning.DeleteFinetunedModelResponse },
  { method: "datasets.delete", run: () => co.datasets.delete(ids.dataset!), schema: S.datasets.delete.Response },
];

/** SDK methods that are not Cohere spec operations, so the emulator does not serve them. */
const NOT_IN_SPEC: Record<string, string> = {};

/** Every public method of the SDK client and its resources ("v2.chat", "batches.list", …). */
function sdkMethods(client: object): string[] {
  const out: string[] = [];
  const visit = (o: object, prefix: string, depth: number) => {
    for (let p = Object.getPrototypeOf(o); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      for (const k of Object.getOwnPropertyNames(p)) {
        if (k === "constructor" || k.startsWith("_")) continue;
        const d = Object.getOwnPropertyDescriptor(p, k)!;
        if (d.get && depth < 3) visit((o as Record<string, object>)[k]!, `${prefix}${k}.`, depth + 1);
        else if (typeof d.value === "function" && !(prefix === "" && k === "fetch")) out.push(`${prefix}${k}`);
      }
    }
  };
  visit(client, "", 0);
  return [...new Set(out)].sort();
}

describe("cohere-ai (the official SDK) against the emulator", () => {
  it("covers every method the SDK exposes (the raw `fetch` passthrough aside)", () => {
    const covered = [...CALLS.map((c) => c.method), ...Object.keys(NOT_IN_SPEC)].sort();
    expect(sdkMethods(co)).toEqual(covered);
    expect(new Set(CALLS.map((c) => c.method)).size).toBe(CALLS.length);
  });

  for (const call of CALLS) {
    it(call.method, async () => {
      const before = captured.length;
      await call.run(); // the SDK throws on any HTTP error or unparseable answer
      expect(captured.length - before, `${call.method} makes one request`).toBe(1);
      strict(call.method, call.schema, call.stream);
      expect(emu.requests.at(-1)!.valid, emu.requests.at(-1)!.validationError).toBe(true);
    });
  }

  it("v1 chatStream with accepts: text/event-stream: the SDK sends Accepts and gets SSE whose events it accepts", async () => {
    // The SDK reads v1 chat streams as NDJSON even when it asks for SSE (its Stream for chatStream
    // is {type: "json"}), so its iterator cannot be used here: the raw SSE events are checked.
    await co.chatStream({ model: "command-a-03-2025", message: "hello!", accepts: "text/event-stream" });
    expect(emu.requests.at(-1)!.headers.accepts).toBe("text/event-stream");
    expect(captured.at(-1)!.contentType).toMatch(/^text\/event-stream/);
    strict("chatStream", S.StreamedChatResponse, true);
  });

  it("v2.parse, blocks of an inline PNG: every block type passes the strict serializer; Cohere's refusals are typed errors", async () => {
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452000003200000025808060000000000000000", "hex").toString("base64");
    const r = await co.v2.parse({ model: "parse-v5.0", document: { type: "image_url", imageUrl: `data:image/png;base64,${png}` }, outputFormat: "blocks" });
    strict("v2.parse", S.ParseResponse);
    const page = r.pages[0]!;
    expect(page.type).toBe("blocks");
    const blocks = page.type === "blocks" ? page.blocks : [];
    expect(new Set(blocks.map((b) => b.type))).toEqual(new Set(["text", "table", "image"]));
    expect(r.meta?.billedUnits?.pages).toBe(1);
    await expect(co.v2.parse({ model: "parse-v5.0", document: { type: "image_url", imageUrl: "data:application/pdf;base64,JVBERi0=" } })).rejects.toMatchObject({
      statusCode: 400,
    });
    await expect(co.v2.parse({ model: "parse-v9", document: { type: "image_url", imageUrl: "https://cohere.com/a.png" } })).rejects.toMatchObject({ statusCode: 404 });
  });

  it("v2 streamed tool calls: several calls, arguments in several fragments", async () => {
    const events = await drain(await co.v2.chatStream({ model: "command-a-03-2025", messages: [{ role: "user", content: SALES_QUESTION }], tools: TOOLS_V2 }));
    strict("v2.chatStream", S.V2ChatStreamResponse, true);
    expect(events.filter((e) => e.type === "tool-call-start")).toHaveLength(2);
    expect(events.filter((e) => e.type === "tool-call-delta").length).toBeGreaterThan(4);
  });

  it("more shapes through the strict serializers: documents, logprobs, thinking, JSON, limits, tools, images", async () => {
    const variants: Array<[string, () => Promise<unknown>, Schema, boolean]> = [
      [
        "v2.chat",
        () => co.v2.chat({ model: "command-a-03-2025", messages: [{ role: "system", content: "be brief" }, { role: "user", content: "Which penguins are tallest?" }], documents: DOCS, logprobs: true, thinking: { type: "enabled" } }),
        S.V2ChatResponse,
        false,
      ],
      ["v2.chat", () => co.v2.chat({ model: "command-a-03-2025", messages: [{ role: "user", content: "hi" }], responseFormat: { type: "json_object" }, maxTokens: 3 }), S.V2ChatResponse, false],
      ["v2.chat", () => co.v2.chat({ model: "command-a-03-2025", messages: [{ role: "user", content: "Tell me about LLMs" }], stopSequences: ["LLM"] }), S.V2ChatResponse, false],
      [
        "v2.chatStream",
        async () => drain(await co.v2.chatStream({ model: "command-a-03-2025", messages: [{ role: "user", content: "hi there" }], thinking: { type: "enabled" }, maxTokens: 4 })),
        S.V2ChatStreamResponse,
        true,
      ],
      [
        "chat",
        () =>
          co.chat({
            message: SALES_QUESTION,
            tools: [
              { name: "query_daily_sales_report", description: "Sales for a given day.", parameterDefinitions: { day: { type: "str", description: "YYYY-MM-DD", required: true } } },
              { name: "query_product_catalog", description: "Products, categories, prices and stock levels.", parameterDefinitions: { category: { type: "str", required: true } } },
            ],
          }),
        S.NonStreamedChatResponse,
        false,
      ],
      [
        "chatStream",
        async () =>
          drain(
            await co.chatStream({
              message: SALES_QUESTION,
              tools: [{ name: "query_product_catalog", description: "Products, categories, prices and stock levels.", parameterDefinitions: { category: { type: "str", required: true } } }],
            }),
          ),
        S.StreamedChatResponse,
        true,
      ],
      ["chat", () => co.chat({ message: "hello", documents: [{ title: "t", snippet: "s" }], maxTokens: 5, chatHistory: [{ role: "USER", message: "a" }] }), S.NonStreamedChatResponse, false],
      ["generateStream", async () => drain(await co.generateStream({ prompt: "Please explain to me how LLMs work", maxTokens: 3, numGenerations: 2 })), S.GenerateStreamedResponse, true],
      ["embed", () => co.embed({ model: "embed-english-v3.0", inputType: "image", images: [PNG], embeddingTypes: ["int8", "ubinary"] }), S.EmbedResponse, false],
      ["v2.embed", () => co.v2.embed({ model: "embed-v4.0", inputType: "search_document", inputs: [{ content: [{ type: "text", text: "hi" }, { type: "image_url", imageUrl: { url: PNG } }] }], embeddingTypes: ["base64"] }), S.EmbedByTypeResponse, false],
    ];
    for (const [method, run, schema, stream] of variants) {
      await run();
      strict(method, schema, stream);
    }
  });

  it("Cohere's errors reach the SDK as its typed errors", async () => {
    await expect(co.v2.chat({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({
      statusCode: 404,
      body: { message: expect.stringContaining("no-such-model") },
    });
    await expect(co.v2.rerank({ model: "rerank-v3.5", query: "q", documents: [] })).rejects.toMatchObject({ statusCode: 400 });
  });
});
