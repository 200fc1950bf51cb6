import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { cutPoints } from "../emulator/wire.js";
import { prng } from "../emulator/util.js";

const KEY = "test-key";
let emu: CohereEmulator;

beforeAll(async () => {
  emu = await startEmulator({ apiKey: KEY });
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => {
  emu.reset();
});

interface CallOpts {
  body?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  auth?: string | null;
  signal?: AbortSignal;
}

async function call(method: string, path: string, opts: CallOpts = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  const auth = opts.auth === undefined ? `Bearer ${KEY}` : opts.auth;
  if (auth !== null) headers.authorization = auth;
  let body: BodyInit | undefined;
  if (opts.form) body = opts.form;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  return fetch(emu.url + path, { method, headers, body, signal: opts.signal });
}

async function callJson(method: string, path: string, opts: CallOpts = {}) {
  const res = await call(method, path, opts);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

function parseSse(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split("\n\n")
    .filter((b) => b.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)![1]!;
      const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!);
      return { event, data };
    });
}

const lastRecorded = () => emu.requests[emu.requests.length - 1]!;

describe("auth and routing", () => {
  it("rejects missing and wrong keys, accepts the configured key", async () => {
    let r = await callJson("POST", "/v1/check-api-key", { auth: null });
    expect(r).toMatchObject({ status: 401, body: { message: "no api key supplied" } });
    expect(lastRecorded()).toMatchObject({ valid: false, validationError: "no api key supplied" });

    r = await callJson("POST", "/v1/check-api-key", { auth: "Bearer nope" });
    expect(r).toMatchObject({ status: 401, body: { message: "invalid api token" } });

    r = await callJson("POST", "/v1/check-api-key");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.body).toMatchObject({ valid: true, organization_id: expect.any(String), owner_id: expect.any(String) });
    expect(lastRecorded()).toMatchObject({ method: "POST", path: "/v1/check-api-key", valid: true });
    expect(lastRecorded().headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("answers 404 for unknown paths and 405 for a wrong method; control calls are not recorded", async () => {
    expect(await callJson("GET", "/v1/nope")).toMatchObject({ status: 404, body: { message: "404 page not found" } });
    const r = await callJson("DELETE", "/v1/chat");
    expect(r.status).toBe(405);
    const before = emu.requests.length;
    await fetch(`${emu.url}/_emulator/health`);
    expect(emu.requests.length).toBe(before);
  });
});

describe("validation", () => {
  it("rejects a missing required field with 400 and records it as invalid", async () => {
    const r = await callJson("POST", "/v2/chat", { body: { messages: [{ role: "user", content: "hi" }] } });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe("a model parameter is required for this endpoint.");
    expect(lastRecorded()).toMatchObject({ valid: false, validationError: "a model parameter is required for this endpoint." });
    expect(lastRecorded().body).toEqual({ messages: [{ role: "user", content: "hi" }] });
  });

  it("checks types, enums, unknown fields, limits, content types and query parameters", async () => {
    const bad: Array<[string, string, CallOpts, RegExp]> = [
      ["POST", "/v2/chat", { body: { model: "m", messages: [{ role: "robot", content: "x" }] } }, /messages\[0\]\.role must be one of/],
      ["POST", "/v2/chat", { body: { model: "m", messages: [], temprature: 1 } }, /unknown field temprature/],
      ["POST", "/v2/embed", { body: { model: "embed-v4.0", input_type: "query", texts: ["a"] } }, /input_type must be one of/],
      ["POST", "/v2/embed", { body: { model: "embed-v4.0", input_type: "search_query", texts: Array(97).fill("a") } }, /^invalid request: total number of texts must be at most 96 - received 97$/],
      ["POST", "/v2/embed", { body: { model: "embed-v4.0", input_type: "search_query" } }, /exactly one of texts, images or inputs/],
      ["POST", "/v2/embed", { body: { model: "embed-v4.0", input_type: "search_query", texts: ["a"], embedding_types: ["double"] } }, /embedding_types\[0\]/],
      ["POST", "/v1/tokenize", { body: { model: "command-a-03-2025", text: "" } }, /^invalid request: required 'text' param is missing or empty\.$/],
      ["POST", "/v1/tokenize", { body: { model: "command-a-03-2025", text: "x".repeat(65537) } }, /at most 65536/],
      ["POST", "/v1/tokenize", { body: { text: "hello", model: "m" }, headers: { "content-type": "text/plain" } }, /content-type must be application\/json/],
      ["POST", "/v2/rerank", { body: { model: "rerank-v3.5", query: "q", documents: ["a"], top_n: 1.5 } }, /top_n must be an integer/],
      ["GET", "/v1/models?page_size=abc", {}, /page_size must be a number/],
      ["GET", "/v1/embed-jobs?foo=1", {}, /unknown query parameter foo/],
      ["POST", "/v1/datasets?name=x&type=bogus", { form: new FormData() }, /type must be one of/],
    ];
    for (const [method, path, opts, re] of bad) {
      const r = await callJson(method, path, opts);
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body.message, `${method} ${path}`).toMatch(/^invalid request: /);
      expect(r.body.message, `${method} ${path}`).toMatch(re);
      expect(lastRecorded().valid).toBe(false);
    }
  });

  it("accepts read-only fields in batch and fine-tune create bodies", async () => {
    const r = await callJson("POST", "/v2/batches", {
      body: { name: "b", input_dataset_id: "ds-1", model: "command-a-03-2025", status: "BATCH_STATUS_COMPLETED", id: "x" },
    });
    expect(r.status).toBe(200);
    expect(r.body.batch.status).toBe("BATCH_STATUS_QUEUED");
  });
});

describe("generation endpoints", () => {
  it("v2 chat returns the spec shape, tool calls and citations", async () => {
    let r = await callJson("POST", "/v2/chat", {
      body: { model: "command-a-03-2025", messages: [{ role: "user", content: "Tell me about LLMs" }] },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: expect.any(String),
      finish_reason: "COMPLETE",
      message: { role: "assistant", content: [{ type: "text", text: "Echo: Tell me about LLMs" }] },
      usage: { billed_units: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) }, tokens: expect.any(Object) },
    });

    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
    r = await callJson("POST", "/v2/chat", {
      body: { model: "command-a-03-2025", tools, messages: [{ role: "user", content: "please use get_weather for Paris" }] },
    });
    expect(r.body.finish_reason).toBe("TOOL_CALL");
    expect(r.body.message.tool_plan).toEqual(expect.any(String));
    expect(r.body.message.tool_calls).toEqual([
      { id: expect.any(String), type: "function", function: { name: "get_weather", arguments: "{}" } },
    ]);

    r = await callJson("POST", "/v2/chat", {
      body: { model: "command-a-03-2025", documents: ["Paris is the capital of France."], messages: [{ role: "user", content: "capital?" }] },
    });
    const text: string = r.body.message.content[0].text;
    const c = r.body.message.citations[0];
    expect(text.slice(c.start, c.end)).toBe(c.text);
    expect(c.sources[0]).toMatchObject({ type: "document", id: "doc:0" });
  });

  it("v2 chat streams SSE events that rebuild the non-streamed answer", async () => {
    const body = { model: "command-a-03-2025", messages: [{ role: "user", content: "one two three four five six seven eight nine ten eleven" }] };
    const plain = await callJson("POST", "/v2/chat", { body });
    const res = await call("POST", "/v2/chat", { body: { ...body, stream: true } });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = parseSse(await res.text());
    for (const e of events) expect(e.data.type).toBe(e.event);
    const types = events.map((e) => e.event);
    expect(types[0]).toBe("message-start");
    expect(types[1]).toBe("content-start");
    expect(types.filter((t) => t === "content-delta").length).toBeGreaterThanOrEqual(3);
    expect(types.slice(-2)).toEqual(["content-end", "message-end"]);
    const text = events
      .filter((e) => e.event === "content-delta")
      .map((e) => (e.data as { delta: { message: { content: { text: string } } } }).delta.message.content.text)
      .join("");
    expect(text).toBe(plain.body.message.content[0].text);
    expect(events.at(-1)!.data).toMatchObject({ delta: { finish_reason: "COMPLETE", usage: { billed_units: expect.any(Object) } } });
  });

  it("streams tool calls and emulated errors", async () => {
    const tools = [{ type: "function", function: { name: "lookup", parameters: {} } }];
    let res = await call("POST", "/v2/chat", { body: { model: "command-a-03-2025", stream: true, tools, messages: [{ role: "user", content: "lookup it" }] } });
    let types = parseSse(await res.text()).map((e) => e.event);
    expect(types).toEqual(expect.arrayContaining(["tool-plan-delta", "tool-call-start", "tool-call-delta", "tool-call-end"]));
    res = await call("POST", "/v2/chat", { body: { model: "command-a-03-2025", stream: true, messages: [{ role: "user", content: "boom [emulate:error] now" }] } });
    const events = parseSse(await res.text());
    types = events.map((e) => e.event);
    expect(types.at(-1)).toBe("message-end");
    expect(events.at(-1)!.data).toMatchObject({ delta: { finish_reason: "ERROR", error: expect.any(String) } });
  });

  it("v1 chat and generate stream NDJSON (SSE for v1 chat with Accepts)", async () => {
    let res = await call("POST", "/v1/chat", { body: { message: "hello there", stream: true } });
    expect(res.headers.get("content-type")).toBe("application/stream+json");
    let lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ event_type: "stream-start", generation_id: expect.any(String) });
    expect(lines.filter((l) => l.event_type === "text-generation").length).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatchObject({ event_type: "stream-end", finish_reason: "COMPLETE", response: { text: "Echo: hello there" } });

    res = await call("POST", "/v1/chat", { body: { message: "hi", stream: true }, headers: { accepts: "text/event-stream" } });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(parseSse(await res.text()).at(-1)!.event).toBe("stream-end");

    res = await call("POST", "/v1/generate", { body: { prompt: "write a poem", stream: true } });
    lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ event_type: "text-generation", is_finished: false });
    expect(lines.at(-1)).toMatchObject({ event_type: "stream-end", is_finished: true, response: { generations: [{ text: expect.any(String) }] } });

    const plain = await callJson("POST", "/v1/chat", { body: { message: "hello" } });
    expect(plain.body).toMatchObject({ text: "Echo: hello", generation_id: expect.any(String), finish_reason: "COMPLETE", meta: { billed_units: expect.any(Object) } });
    expect(plain.body.chat_history).toHaveLength(2);
  });

  it("embeddings are deterministic, typed and sized by model", async () => {
    const body = { model: "embed-v4.0", input_type: "search_document", texts: ["the cat sat", "the cat sat", "quantum physics"] };
    const a = await callJson("POST", "/v2/embed", { body });
    const b = await callJson("POST", "/v2/embed", { body });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ id: expect.any(String), texts: body.texts, meta: { billed_units: { input_tokens: expect.any(Number) } } });
    const f: number[][] = a.body.embeddings.float;
    expect(f).toHaveLength(3);
    expect(f[0]).toHaveLength(1536);
    expect(f[0]).toEqual(f[1]);
    expect(b.body.embeddings.float).toEqual(f);
    const v3 = await callJson("POST", "/v2/embed", {
      body: { model: "embed-english-v3.0", input_type: "search_query", texts: ["x"], embedding_types: ["int8", "binary", "base64"] },
    });
    expect(Object.keys(v3.body.embeddings).sort()).toEqual(["base64", "binary", "int8"]);
    expect(v3.body.embeddings.int8[0]).toHaveLength(1024);
    expect(v3.body.embeddings.binary[0]).toHaveLength(128);
    const cos = (x: number[], y: number[]) => x.reduce((acc, v, i) => acc + v * y[i]!, 0);
    const near = await callJson("POST", "/v2/embed", { body: { ...body, texts: ["the black cat sat down", "a black cat sat", "stock market report"] } });
    const [p, q, r] = near.body.embeddings.float as number[][];
    expect(cos(p!, q!)).toBeGreaterThan(cos(p!, r!));
    const small = await callJson("POST", "/v2/embed", { body: { ...body, texts: ["a"], output_dimension: 256 } });
    expect(small.body.embeddings.float[0]).toHaveLength(256);
    const v1 = await callJson("POST", "/v1/embed", { body: { model: "embed-english-v3.0", input_type: "search_query", texts: ["hi"] } });
    expect(v1.body).toMatchObject({ response_type: "embeddings_floats", texts: ["hi"] });
    expect(v1.body.embeddings[0]).toHaveLength(1024);
  });

  it("rerank orders by word overlap (ties by index) and honours top_n", async () => {
    const documents = ["nothing here", "the capital of France is Paris", "Paris", "capital cities of Europe"];
    const r = await callJson("POST", "/v2/rerank", { body: { model: "rerank-v3.5", query: "capital of France", documents } });
    expect(r.body.results.map((x: { index: number }) => x.index)).toEqual([1, 3, 0, 2]);
    expect(r.body.results[0].relevance_score).toBeGreaterThan(r.body.results[1].relevance_score);
    const top = await callJson("POST", "/v1/rerank", { body: { query: "capital of France", documents, top_n: 2, return_documents: true } });
    expect(top.body.results).toHaveLength(2);
    expect(top.body.results[0]).toMatchObject({ index: 1, document: { text: documents[1] } });
  });

  it("tokenize and detokenize round-trip exactly", async () => {
    const text = "Hello,  World! Ünïcode 🚀 tokenization\n\ttabs & 123 numbers.";
    const t = await callJson("POST", "/v1/tokenize", { body: { text, model: "command-a-03-2025" } });
    expect(t.body.tokens.length).toBe(t.body.token_strings.length);
    expect(t.body.token_strings.join("")).toBe(text);
    const d = await callJson("POST", "/v1/detokenize", { body: { tokens: t.body.tokens, model: "command-a-03-2025" } });
    expect(d.body.text).toBe(text);
  });

  it("classify and summarize", async () => {
    const c = await callJson("POST", "/v1/classify", {
      body: {
        inputs: ["I love this product"],
        examples: [
          { text: "I love it", label: "positive" },
          { text: "this product is great", label: "positive" },
          { text: "terrible and broken", label: "negative" },
          { text: "I hate it", label: "negative" },
        ],
      },
    });
    expect(c.body.classifications[0]).toMatchObject({ prediction: "positive", classification_type: "single-label" });
    const text = "The first sentence is here. ".repeat(10);
    const s = await callJson("POST", "/v1/summarize", { body: { text, length: "short" } });
    expect(s.body.summary).toBe("The first sentence is here.");
  });
});

describe("multipart", () => {
  it("creates a dataset from multipart, then get → delete → 404", async () => {
    const form = new FormData();
    form.append("data", new Blob(['{"text":"a"}\n{"text":"b"}\n'], { type: "application/jsonl" }), "data.jsonl");
    const created = await callJson("POST", "/v1/datasets?name=my-set&type=embed-input", { form });
    expect(created.status).toBe(200);
    const id: string = created.body.id;
    expect(id).toMatch(/^ds-\d+$/);
    const rec = lastRecorded();
    expect(rec.valid).toBe(true);
    expect(rec.query).toEqual({ name: "my-set", type: "embed-input" });
    expect(rec.multipart!.files.data).toMatchObject({ filename: "data.jsonl", size: 26, text: '{"text":"a"}\n{"text":"b"}\n' });

    const got = await callJson("GET", `/v1/datasets/${id}`);
    expect(got.body.dataset).toMatchObject({ id, name: "my-set", dataset_type: "embed-input", validation_status: "validated" });
    expect((await callJson("GET", "/v1/datasets?datasetType=embed-input")).body.datasets).toHaveLength(1);
    expect((await callJson("GET", "/v1/datasets/usage")).body.organization_usage).toBe(26);
    expect(await callJson("DELETE", `/v1/datasets/${id}`)).toMatchObject({ status: 200, body: {} });
    expect(await callJson("GET", `/v1/datasets/${id}`)).toMatchObject({ status: 404, body: { message: `dataset with id ${id} not found` } });
  });

  it("rejects a dataset without a data file, and transcribes audio", async () => {
    const form = new FormData();
    form.append("data", "not a file");
    const bad = await callJson("POST", "/v1/datasets?name=x&type=embed-input", { form });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/data must be a file part/);

    const audio = new FormData();
    audio.append("model", "cohere-transcribe-03-2026");
    audio.append("language", "en");
    audio.append("file", new Blob([new Uint8Array([0, 1, 2, 255, 254])]), "clip.wav");
    const t = await callJson("POST", "/v2/audio/transcriptions", { form: audio });
    expect(t).toMatchObject({ status: 200, body: { text: "transcribed 5 bytes" } });
  });
});

describe("stateful resources", () => {
  it("embed jobs, batches and fine-tunes progress over successive gets", async () => {
    const { body: job } = await callJson("POST", "/v1/embed-jobs", { body: { model: "embed-v4.0", dataset_id: "ds-x", input_type: "search_document" } });
    expect((await callJson("GET", `/v1/embed-jobs/${job.job_id}`)).body.status).toBe("processing");
    const done = (await callJson("GET", `/v1/embed-jobs/${job.job_id}`)).body;
    expect(done).toMatchObject({ status: "complete", output_dataset_id: expect.any(String) });
    expect((await callJson("GET", "/v1/embed-jobs")).body.embed_jobs).toHaveLength(1);

    const { body: created } = await callJson("POST", "/v2/batches", { body: { name: "b", input_dataset_id: "ds-1", model: "command-a-03-2025" } });
    const id = created.batch.id;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await callJson("GET", `/v2/batches/${id}`)).body.batch.status);
    expect(statuses).toEqual(["BATCH_STATUS_IN_PROGRESS", "BATCH_STATUS_COMPLETED", "BATCH_STATUS_COMPLETED"]);
    const { body: b2 } = await callJson("POST", "/v2/batches", { body: { name: "c", input_dataset_id: "ds-1", model: "command-a-03-2025" } });
    expect(await callJson("POST", `/v2/batches/${b2.batch.id}:cancel`)).toMatchObject({ status: 200, body: {} });
    const page = await callJson("GET", "/v2/batches?page_size=1");
    expect(page.body.batches).toHaveLength(1);
    const page2 = await callJson("GET", `/v2/batches?page_size=1&page_token=${page.body.next_page_token}`);
    expect(page2.body.batches[0].status).toBe("BATCH_STATUS_CANCELED");
    expect(page2.body.next_page_token).toBeUndefined();

    const settings = { base_model: { base_type: "BASE_TYPE_CHAT" }, dataset_id: "ds-1" };
    const { body: ft } = await callJson("POST", "/v1/finetuning/finetuned-models", { body: { name: "ft", settings } });
    const ftId = ft.finetuned_model.id;
    expect(ft.finetuned_model.status).toBe("STATUS_QUEUED");
    await callJson("GET", `/v1/finetuning/finetuned-models/${ftId}`);
    expect((await callJson("GET", `/v1/finetuning/finetuned-models/${ftId}`)).body.finetuned_model.status).toBe("STATUS_READY");
    const ev = await callJson("GET", `/v1/finetuning/finetuned-models/${ftId}/events`);
    expect(ev.body).toMatchObject({ total_size: 3 });
    const m = await callJson("GET", `/v1/finetuning/finetuned-models/${ftId}/training-step-metrics`);
    expect(m.body.step_metrics.length).toBeGreaterThan(0);
  });

  it("models list paginates and filters; connectors CRUD", async () => {
    const p1 = await callJson("GET", "/v1/models?page_size=3");
    expect(p1.body.models).toHaveLength(3);
    expect(p1.body.next_page_token).toEqual(expect.any(String));
    const rerank = await callJson("GET", "/v1/models?endpoint=rerank");
    expect(rerank.body.models.every((x: { endpoints: string[] }) => x.endpoints.includes("rerank"))).toBe(true);
    expect((await callJson("GET", "/v1/models/embed-v4.0")).body).toMatchObject({ name: "embed-v4.0", endpoints: expect.any(Array) });
    expect((await callJson("GET", "/v1/models/nope")).status).toBe(404);

    const c = await callJson("POST", "/v1/connectors", {
      body: { name: "Docs", url: "https://example.com/search", oauth: { authorize_url: "https://auth.example.com/a", token_url: "https://auth.example.com/t", client_id: "cid", client_secret: "s" } },
    });
    const cid = c.body.connector.id;
    expect(c.body.connector.oauth.client_secret).toBeUndefined();
    expect((await callJson("PATCH", `/v1/connectors/${cid}`, { body: { active: false } })).body.connector.active).toBe(false);
    expect((await callJson("GET", "/v1/connectors")).body).toMatchObject({ total_count: 1 });
    const auth = await callJson("POST", `/v1/connectors/${cid}/oauth/authorize?after_token_redirect=https://app/`);
    expect(auth.body.redirect_url).toMatch(/^https:\/\/auth\.example\.com\/a\?client_id=cid/);
    expect((await callJson("DELETE", `/v1/connectors/${cid}`)).status).toBe(200);
    expect((await callJson("GET", `/v1/connectors/${cid}`)).status).toBe(404);
  });
});

describe("faults and aborts", () => {
  it("status faults carry Retry-After and count down `times`", async () => {
    emu.addFault({ path: "/v2/rerank", times: 2, fault: { kind: "status", status: 429, retryAfter: "1" } });
    const body = { model: "rerank-v3.5", query: "q", documents: ["a"] };
    for (let i = 0; i < 2; i++) {
      const r = await callJson("POST", "/v2/rerank", { body });
      expect(r.status).toBe(429);
      expect(r.headers.get("retry-after")).toBe("1");
      expect(r.body.message).toMatch(/per minute request limit/);
    }
    expect((await callJson("POST", "/v2/rerank", { body })).status).toBe(200);
    expect(emu.requests.filter((r) => r.path === "/v2/rerank")).toHaveLength(3);
  });

  it("control API adds regex faults; reset, not-json and cut-stream faults break the answer", async () => {
    const add = await fetch(`${emu.url}/_emulator/faults`, {
      method: "POST",
      body: JSON.stringify({ method: "POST", path: "re:^/v1/(tokenize|detokenize)$", times: null, fault: { kind: "status", status: 503 } }),
    });
    expect(add.status).toBe(200);
    expect((await callJson("POST", "/v1/tokenize", { body: { text: "a", model: "command-a-03-2025" } })).status).toBe(503);
    expect((await callJson("POST", "/v1/tokenize", { body: { text: "a", model: "command-a-03-2025" } })).status).toBe(503);
    await fetch(`${emu.url}/_emulator/faults`, { method: "DELETE" });
    expect((await callJson("POST", "/v1/tokenize", { body: { text: "a", model: "command-a-03-2025" } })).status).toBe(200);
    const recorded = await (await fetch(`${emu.url}/_emulator/requests`)).json();
    expect(recorded).toHaveLength(3);

    emu.addFault({ path: "/v1/check-api-key", fault: { kind: "reset" } });
    await expect(call("POST", "/v1/check-api-key").then((r) => r.text())).rejects.toThrow();

    emu.addFault({ path: "/v1/check-api-key", fault: { kind: "not-json" } });
    const nj = await call("POST", "/v1/check-api-key");
    expect(nj.headers.get("content-type")).toBe("application/json");
    await expect(nj.json()).rejects.toThrow();

    emu.addFault({ path: "/v2/chat", fault: { kind: "cut-stream", afterEvents: 2 } });
    const res = await call("POST", "/v2/chat", { body: { model: "command-a-03-2025", stream: true, messages: [{ role: "user", content: "a b c d e f g h i j k l" }] } });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it("delay faults hold the answer back; a client timeout during the delay is seen as an abort", async () => {
    emu.addFault({ method: "POST", path: "/v1/check-api-key", fault: { kind: "delay", ms: 150 } });
    const t0 = Date.now();
    expect((await call("POST", "/v1/check-api-key")).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);

    emu.addFault({ path: "/v1/check-api-key", fault: { kind: "delay", ms: 2000 } });
    await expect(call("POST", "/v1/check-api-key", { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    const aborted = await emu.waitForAbort((r) => r.path === "/v1/check-api-key", 1000);
    expect(aborted.id).toBe(2);
  });

  it("detects a client abort mid-stream and tracks open connections", async () => {
    emu.setStreamChunkDelay(40);
    const ac = new AbortController();
    const res = await call("POST", "/v2/chat", {
      signal: ac.signal,
      body: { model: "command-a-03-2025", stream: true, messages: [{ role: "user", content: "word ".repeat(60) }] },
    });
    const reader = res.body!.getReader();
    await reader.read();
    expect(emu.openConnections()).toBeGreaterThan(0);
    const waiting = emu.waitForAbort((r) => r.path === "/v2/chat", 2000);
    ac.abort();
    const aborted = await waiting;
    expect(aborted.aborted).toBe(true);
    expect(aborted.valid).toBe(true);
  });
});

describe("streams as networks deliver them", () => {
  it("the split option cuts inside every multi-byte UTF-8 character and between every CR and LF", () => {
    const buf = Buffer.from("data: {\"t\":\"Zürich 東京 🚀\"}\r\n\r\n", "utf8");
    const cuts = cutPoints(buf, prng(3), 6);
    const at = new Set(cuts.map((c) => c.at));
    buf.forEach((b, i) => {
      if (b >= 0xc0) expect(at.has(i + 1), `inside the character at byte ${i}`).toBe(true);
      if (b === 0x0d) expect(at.has(i + 1), `between CR and LF at byte ${i}`).toBe(true);
    });
    // and chunks no longer than asked otherwise
    const bounds = [0, ...cuts.map((c) => c.at), buf.length];
    for (let i = 1; i < bounds.length; i++) expect(bounds[i]! - bounds[i - 1]!).toBeLessThanOrEqual(6);
  });

  it("control API: stream-split (CRLF lines, tiny chunks) and stream-format (v1 streams as SSE)", async () => {
    const body = { model: "command-a-03-2025", stream: true, messages: [{ role: "user", content: "Grüße aus 東京 🚀" }] };
    const plain = await (await call("POST", "/v2/chat", { body })).text();
    expect(plain).not.toContain("\r\n");
    let r = await fetch(`${emu.url}/_emulator/stream-split`, { method: "POST", body: JSON.stringify({ maxChunkBytes: 2, crlf: true }) });
    expect(r.status).toBe(200);
    const split = await (await call("POST", "/v2/chat", { body })).text();
    expect(split).toContain("\r\n\r\n");
    expect(split.replace(/\r\n/g, "\n").replace(/"id":"[^"]+"/g, "")).toBe(plain.replace(/"id":"[^"]+"/g, ""));
    r = await fetch(`${emu.url}/_emulator/stream-split`, { method: "POST", body: JSON.stringify({ maxChunkBytes: 0 }) });
    expect(r.status).toBe(400);

    r = await fetch(`${emu.url}/_emulator/stream-format`, { method: "POST", body: JSON.stringify({ format: "sse" }) });
    expect(r.status).toBe(200);
    const v1 = await call("POST", "/v1/chat", { body: { message: "hi", stream: true } });
    expect(v1.headers.get("content-type")).toBe("text/event-stream");
    const gen = await call("POST", "/v1/generate", { body: { prompt: "hi", stream: true } });
    expect(gen.headers.get("content-type")).toBe("text/event-stream");
    await gen.text();
    await v1.text();
    emu.reset();
    const back = await call("POST", "/v1/chat", { body: { message: "hi", stream: true } });
    expect(back.headers.get("content-type")).toBe("application/stream+json");
    await back.text();
  });

  it("v1 chat switches to SSE on `Accepts` (the spec's header), not on `Accept`", async () => {
    const accept = await call("POST", "/v1/chat", { body: { message: "hi", stream: true }, headers: { accept: "text/event-stream" } });
    expect(accept.headers.get("content-type")).toBe("application/stream+json");
    await accept.text();
    const accepts = await call("POST", "/v1/chat", { body: { message: "hi", stream: true }, headers: { accepts: "text/event-stream" } });
    expect(accepts.headers.get("content-type")).toBe("text/event-stream");
    await accepts.text();
  });
});
