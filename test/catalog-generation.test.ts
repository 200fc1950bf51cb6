/**
 * Unit tests of the generation tools' input schemas (chat, embed, classify, legacy v1).
 * Valid requests come from the spec's `x-fern-examples` (long document texts shortened,
 * `stream` removed: the server decides streaming itself).
 */
import { describe, expect, it } from "vitest";
import type { ToolDef } from "../src/catalog/types.js";
import { inputJsonSchema } from "../src/catalog/describe.js";
import { chat } from "../src/catalog/tools/chat.js";
import { embed } from "../src/catalog/tools/embed.js";
import { classify } from "../src/catalog/tools/classify.js";
import { chat_v1, embed_v1, generate, rerank_v1, summarize } from "../src/catalog/tools/legacy.js";

/** "path: message" lines of a failed parse; fails the test if the input is accepted. */
function issues(t: ToolDef, input: unknown): string[] {
  const r = t.input.safeParse(input);
  if (r.success) throw new Error(`${t.name} accepted ${JSON.stringify(input).slice(0, 200)}`);
  return r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}

function accepts(t: ToolDef, input: unknown): Record<string, unknown> {
  const r = t.input.safeParse(input);
  if (!r.success) throw new Error(`${t.name} rejected: ${JSON.stringify(r.error.issues)}`);
  return r.data;
}

const user = (content: unknown) => ({ role: "user", content });
const hello = { model: "command-a-03-2025", messages: [user("Tell me about LLMs")] };

describe("tool records", () => {
  const cases: Array<[ToolDef, string, string, "v1" | "v2", string, boolean]> = [
    [chat, "POST", "/v2/chat", "v2", "chat", false],
    [embed, "POST", "/v2/embed", "v2", "embed", false],
    [classify, "POST", "/v1/classify", "v1", "classify", true],
    [chat_v1, "POST", "/v1/chat", "v1", "legacy", true],
    [generate, "POST", "/v1/generate", "v1", "legacy", true],
    [summarize, "POST", "/v1/summarize", "v1", "legacy", true],
    [embed_v1, "POST", "/v1/embed", "v1", "legacy", true],
    [rerank_v1, "POST", "/v1/rerank", "v1", "legacy", true],
  ];

  it.each(cases)("%# method, path, group, version, access, deprecation", (t, method, path, api, group, deprecated) => {
    expect([t.method, t.path, t.apiVersion, t.group, t.access]).toEqual([method, path, api, group, "read"]);
    expect(t.deprecated === true).toBe(deprecated);
    expect(t.title.length).toBeLessThanOrEqual(30);
    expect(t.description).toMatch(/rate limited/i);
    expect(t.description).toMatch(/billed/i);
  });

  it("legacy descriptions name the v2 tool to use instead", () => {
    expect(chat_v1.description).toContain("`chat`");
    expect(generate.description).toContain("`chat`");
    expect(summarize.description).toContain("`chat`");
    expect(embed_v1.description).toContain("`embed`");
    expect(rerank_v1.description).toContain("`rerank`");
  });

  it("JSON Schemas are plain objects, never expose `stream`, and stay within the context budget", () => {
    const budget = new Map<ToolDef, number>([
      [chat, 5000],
      [embed, 2000],
      [classify, 1200],
      [chat_v1, 2600],
      [generate, 2500],
      [summarize, 2500],
      [embed_v1, 2500],
      [rerank_v1, 2500],
    ]);
    for (const [t, max] of budget) {
      const s = inputJsonSchema(t);
      expect(s.type, t.name).toBe("object");
      expect(Object.keys(s.properties ?? {}), t.name).not.toContain("stream");
      expect(JSON.stringify(s).length, t.name).toBeLessThanOrEqual(max);
    }
  });

  it("resource phrases for audit lines", () => {
    const r = (t: ToolDef, i: unknown) => t.resource?.(t.input.parse(i));
    expect(r(chat, hello)).toBe("with command-a-03-2025");
    expect(r(embed, { model: "embed-v4.0", input_type: "search_query", texts: ["a", "b"] })).toBe("2 inputs with embed-v4.0");
    expect(r(classify, { inputs: ["x"], model: "m-1" })).toBe("1 input with m-1");
    expect(r(rerank_v1, { query: "q", documents: ["a", "b", "c"] })).toBe("3 documents");
    expect(r(chat_v1, { message: "hi", model: "command-r" })).toBe("with command-r");
  });
});

describe("chat (POST /v2/chat)", () => {
  it("accepts the spec examples", () => {
    accepts(chat, hello);
    accepts(chat, {
      model: "command-a-plus-05-2026",
      messages: [user("Who is more popular: Nsync or Backstreet Boys?")],
      documents: [
        { data: { content: "CSPC: Backstreet Boys Popularity Analysis - ChartMasters", snippet: "At one point, Backstreet Boys defined success…" } },
        { data: { content: "CSPC: NSYNC Popularity Analysis - ChartMasters", snippet: "At the turn of the millennium…" } },
      ],
    });
    accepts(chat, {
      model: "command-r",
      messages: [user("Can you provide a sales summary for 29th September 2023?")],
      tools: [
        {
          type: "function",
          function: {
            name: "query_daily_sales_report",
            description: "Connects to a database to retrieve overall sales volumes and sales information for a given day.",
            parameters: {
              type: "object",
              properties: { day: { description: "Retrieves sales data for this day, formatted as YYYY-MM-DD.", type: "str" } },
              required: ["day"],
              "x-fern-type-name": "tools-by6k68",
            },
          },
        },
      ],
    });
    accepts(chat, {
      model: "command-a-vision-07-2025",
      messages: [
        user([
          { type: "text", text: "Describe this image" },
          { type: "image_url", image_url: { url: "https://cohere.com/favicon-32x32.png", detail: "auto" } },
        ]),
      ],
    });
  });

  it("accepts a full tool-use round trip and every documented option", () => {
    accepts(chat, {
      model: "command-a-03-2025",
      messages: [
        { role: "system", content: "You are terse." },
        user("Weather in Paris?"),
        {
          role: "assistant",
          tool_plan: "I will call get_weather.",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
        },
        { role: "tool", tool_call_id: "call_1", content: '{"temp_c": 21}' },
        {
          role: "tool",
          tool_call_id: "call_1",
          content: [{ type: "text", text: "sunny" }, { type: "document", document: { data: { temp_c: 21 }, id: "w1" } }],
        },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "It is warm." },
            { type: "text", text: "21 °C and sunny." },
          ],
          citations: [{ start: 0, end: 5, text: "21 °C", sources: [{ type: "tool", id: "w1", tool_output: {} }] }],
        },
        user("Thanks"),
      ],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      strict_tools: true,
      tool_choice: "REQUIRED",
      documents: ["plain text doc", { id: "d1", data: { title: "T", text: "body" } }],
      citation_options: { mode: "FAST" },
      safety_mode: "OFF",
      max_tokens: 500,
      stop_sequences: ["END"],
      temperature: 0.3,
      seed: 42,
      frequency_penalty: 0.5,
      presence_penalty: 0,
      k: 500,
      p: 0.99,
      logprobs: true,
      thinking: { type: "enabled", token_budget: 2048 },
      priority: 999,
    });
    accepts(chat, { ...hello, response_format: { type: "text" }, thinking: { type: "disabled" }, citation_options: { mode: "OFF" } });
    // JSON output, without documents: Cohere answers 400 "response_format is not supported with RAG" to both together
    accepts(chat, { ...hello, response_format: { type: "json_object", json_schema: { type: "object", required: ["a"] } } });
    expect(issues(chat, { ...hello, documents: ["d"], response_format: { type: "json_object" } })).toEqual([
      "response_format: Cohere does not combine JSON output with `documents` (RAG): drop response_format or the documents",
    ]);
  });

  it("rejects `stream` and other unknown keys", () => {
    expect(issues(chat, { ...hello, stream: true }).join("\n")).toMatch(/Unrecognized key.*stream/);
    expect(issues(chat, { ...hello, message: "hi" }).join("\n")).toMatch(/Unrecognized key.*message/);
  });

  it("rejects missing required fields", () => {
    expect(issues(chat, { messages: hello.messages })).toEqual(["model: Required"]);
    expect(issues(chat, { model: "m" })).toEqual(["messages: Required"]);
    expect(issues(chat, { model: "m", messages: [] }).join()).toMatch(/messages: Array must contain at least 1/);
    expect(issues(chat, { model: "m", messages: [{ role: "user" }] }).join()).toMatch(/messages\.0\.content: Required/);
    expect(issues(chat, { model: "m", messages: [{ role: "system" }] }).join()).toMatch(/messages\.0\.content: Required/);
    expect(issues(chat, { model: "m", messages: [{ role: "tool", content: "{}" }] }).join()).toMatch(
      /messages\.0\.tool_call_id: Required/,
    );
    expect(issues(chat, { ...hello, tools: [{ type: "function", function: { name: "f" } }] }).join()).toMatch(
      /tools\.0\.function\.parameters: Required/,
    );
    expect(issues(chat, { ...hello, thinking: { token_budget: 10 } }).join()).toMatch(/thinking\.type/);
  });

  it("rejects wrong roles, content types and enums", () => {
    expect(issues(chat, { model: "m", messages: [{ role: "USER", content: "hi" }] }).join()).toMatch(
      /Invalid discriminator value. Expected 'user' \| 'assistant' \| 'system' \| 'tool'/,
    );
    expect(issues(chat, { model: "m", messages: [user([{ type: "thinking", thinking: "x" }])] }).join()).toMatch(
      /Expected 'text' \| 'image_url'/,
    );
    expect(issues(chat, { model: "m", messages: [user(5)] })).toEqual([
      "messages.0.content: Expected a string or a list of content blocks",
    ]);
    expect(issues(chat, { model: "m", messages: [user([{ type: "text" }])] })).toEqual(["messages.0.content: 0.text: Required"]);
    expect(issues(chat, { ...hello, documents: [{ id: "d" }] })).toEqual(["documents.0: data: Required"]);
    expect(issues(chat, { ...hello, tool_choice: "AUTO" }).join()).toMatch(/tool_choice: Invalid enum value. Expected 'REQUIRED' \| 'NONE'/);
    expect(issues(chat, { ...hello, safety_mode: "NONE" }).join()).toMatch(/safety_mode: Invalid enum value/);
    expect(issues(chat, { ...hello, response_format: { type: "json_schema" } }).join()).toMatch(/response_format/);
    expect(issues(chat, { ...hello, response_format: { type: "text", json_schema: {} } }).join()).toMatch(
      /Unrecognized key.*json_schema/,
    );
    expect(issues(chat, { ...hello, thinking: { type: "on" } }).join()).toMatch(/thinking\.type: Invalid enum value/);
    expect(issues(chat, { ...hello, citation_options: { mode: "enabled" } }).join()).toMatch(/citation_options\.mode/);
  });

  it("rejects out-of-range values", () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ["temperature", 1.5, /less than or equal to 1/],
      ["temperature", -0.1, /greater than or equal to 0/],
      ["k", 501, /less than or equal to 500/],
      ["k", 1.5, /integer/],
      ["p", 1, /less than or equal to 0.99/],
      ["p", 0, /greater than or equal to 0.01/],
      ["frequency_penalty", 2, /less than or equal to 1/],
      ["priority", 1000, /less than or equal to 999/],
      ["max_tokens", 0, /greater than or equal to 1/],
      ["stop_sequences", ["a", "b", "c", "d", "e", "f"], /at most 5/],
      ["thinking", { type: "enabled", token_budget: 0 }, /greater than or equal to 1/],
    ];
    for (const [key, value, re] of bad) expect(issues(chat, { ...hello, [key]: value }).join(), key).toMatch(re);
  });

  it("tool_choice REQUIRED needs tools", () => {
    expect(issues(chat, { ...hello, tool_choice: "REQUIRED" })).toEqual([
      "tool_choice: tool_choice REQUIRED needs a non-empty `tools` list",
    ]);
    accepts(chat, { ...hello, tool_choice: "NONE" });
  });
});

describe("embed (POST /v2/embed)", () => {
  const base = { model: "embed-v4.0", input_type: "classification" };

  it("accepts the spec examples and mixed inputs", () => {
    accepts(embed, { texts: ["hello", "goodbye"], ...base, embedding_types: ["float"] });
    accepts(embed, {
      model: "embed-v4.0",
      input_type: "image",
      embedding_types: ["float"],
      images: ["data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD"],
    });
    accepts(embed, {
      model: "embed-v4.0",
      input_type: "search_document",
      inputs: [
        {
          content: [
            { type: "text", text: "A red bicycle" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          ],
        },
      ],
      embedding_types: ["float", "int8", "uint8", "binary", "ubinary", "base64"],
      output_dimension: 1024,
      max_tokens: 512,
      truncate: "START",
      priority: 0,
    });
  });

  it("requires model and input_type", () => {
    expect(issues(embed, { input_type: "search_query", texts: ["a"] })).toEqual(["model: Required"]);
    expect(issues(embed, { model: "embed-v4.0", texts: ["a"] })).toEqual(["input_type: Required"]);
  });

  it("needs exactly one of texts, images or inputs", () => {
    expect(issues(embed, base)).toEqual(["(root): give one of `texts`, `images` or `inputs`"]);
    expect(issues(embed, { ...base, texts: ["a"], inputs: [{ content: [{ type: "text", text: "b" }] }] })).toEqual([
      "inputs: give only one of `texts`, `images` or `inputs` (got texts and inputs)",
    ]);
    expect(issues(embed, { ...base, texts: ["a"], images: ["data:image/png;base64,AA=="] }).join()).toMatch(/only one of/);
  });

  it("caps each input list at 96 items", () => {
    const many = Array.from({ length: 97 }, (_, n) => `text ${n}`);
    expect(issues(embed, { ...base, texts: many })).toEqual(["texts: at most 96 texts per call; split into several calls"]);
    expect(issues(embed, { ...base, inputs: many.map((text) => ({ content: [{ type: "text", text }] })) })).toEqual([
      "inputs: at most 96 inputs per call; split into several calls",
    ]);
    accepts(embed, { ...base, texts: many.slice(0, 96) });
    expect(issues(embed, { ...base, texts: [] }).join()).toMatch(/at least 1/);
  });

  it("rejects wrong enums and values", () => {
    expect(issues(embed, { ...base, input_type: "query", texts: ["a"] }).join()).toMatch(
      /input_type: Invalid enum value. Expected 'search_document' \| 'search_query'/,
    );
    expect(issues(embed, { ...base, texts: ["a"], embedding_types: ["float32"] }).join()).toMatch(/embedding_types\.0: Invalid enum/);
    expect(issues(embed, { ...base, texts: ["a"], output_dimension: 768 })).toEqual(["output_dimension: Expected 256, 512, 1024 or 1536"]);
    expect(issues(embed, { ...base, texts: ["a"], truncate: "MIDDLE" }).join()).toMatch(/truncate: Invalid enum/);
    expect(issues(embed, { ...base, texts: ["a"], priority: -1 }).join()).toMatch(/priority/);
    expect(issues(embed, { ...base, inputs: [{ content: [{ type: "image", url: "x" }] }] }).join()).toMatch(
      /Expected 'text' \| 'image_url'/,
    );
  });
});

describe("classify (POST /v1/classify)", () => {
  const examples = [
    { text: "Dermatologists don't like her!", label: "Spam" },
    { text: "'Hello, open to this?'", label: "Spam" },
    { text: "Your parcel will be delivered today", label: "Not spam" },
    { text: "Weekly sync notes", label: "Not spam" },
  ];

  it("accepts the spec example", () => {
    accepts(classify, {
      examples,
      inputs: ["Confirm your email address", "hey i need u to send some $"],
      model: "YOUR-FINE-TUNED-MODEL-ID",
    });
    accepts(classify, { inputs: ["x"], model: "ft-1", truncate: "NONE" });
  });

  it("rejects missing, empty and too many inputs", () => {
    expect(issues(classify, { examples })).toEqual(["inputs: Required"]);
    expect(issues(classify, { inputs: [""] }).join()).toMatch(/inputs\.0/);
    expect(issues(classify, { inputs: Array.from({ length: 97 }, () => "x"), examples })).toEqual([
      "inputs: at most 96 inputs per call; split into several calls",
    ]);
  });

  it("needs at least two examples per label", () => {
    expect(issues(classify, { inputs: ["x"], examples: [...examples, { text: "Hi", label: "Other" }] })).toEqual([
      'examples: each label needs at least 2 examples; add more for "Other"',
    ]);
    expect(issues(classify, { inputs: ["x"], preset: "p" }).join()).toMatch(/Unrecognized key.*preset/);
  });
});

describe("legacy v1 tools", () => {
  it("chat_v1 accepts the spec examples (without stream) and rejects stream", () => {
    accepts(chat_v1, { model: "command-a-03-2025", message: "Tell me about LLMs" });
    accepts(chat_v1, {
      model: "command-a-03-2025",
      message: "Who is more popular: Nsync or Backstreet Boys?",
      documents: [{ title: "CSPC: Backstreet Boys Popularity Analysis - ChartMasters", snippet: "↓ Skip to Main Content…" }],
    });
    accepts(chat_v1, {
      model: "command-a-03-2025",
      message: "Can you provide a sales summary for 29th September 2023?",
      tools: [
        {
          name: "query_daily_sales_report",
          description: "Connects to a database to retrieve overall sales volumes and sales information for a given day.",
          parameter_definitions: { day: { description: "Retrieves sales data for this day.", type: "str", required: true } },
        },
      ],
    });
    expect(issues(chat_v1, { message: "hi", stream: true }).join()).toMatch(/Unrecognized key.*stream/);
  });

  it("chat_v1 history, tool results and enums", () => {
    accepts(chat_v1, {
      message: "And tomorrow?",
      preamble: "Be brief.",
      chat_history: [
        { role: "USER", message: "Weather?" },
        { role: "CHATBOT", message: "Checking.", tool_calls: [{ name: "weather", parameters: {} }] },
        { role: "TOOL", tool_results: [{ call: { name: "weather", parameters: {} }, outputs: [{ c: 20 }] }] },
      ],
      tools: [{ name: "weather", description: "Gets weather" }],
      tool_results: [{ call: { name: "weather", parameters: { day: "tomorrow" } }, outputs: [{ c: 18 }] }],
      prompt_truncation: "OFF",
      citation_quality: "OFF",
      safety_mode: "NONE",
      response_format: { type: "json_object", schema: { type: "object" } },
      temperature: 1,
      k: 0,
      p: 0.01,
    });
    expect(issues(chat_v1, {}).join()).toMatch(/message: Required/);
    expect(issues(chat_v1, { message: "hi", chat_history: [{ role: "user", message: "x" }] }).join()).toMatch(
      /Expected 'USER' \| 'CHATBOT' \| 'SYSTEM' \| 'TOOL'/,
    );
    expect(issues(chat_v1, { message: "hi", safety_mode: "OFF" }).join()).toMatch(/safety_mode: Invalid enum/);
    expect(issues(chat_v1, { message: "hi", tools: [{ name: "2fast", description: "d" }] }).join()).toMatch(
      /not starting with a digit/,
    );
    expect(issues(chat_v1, { message: "hi", tool_results: [{ call: { name: "f", parameters: {} }, outputs: [] }] })).toEqual([
      "tools: `tools` must be given together with `tool_results`",
    ]);
    expect(issues(chat_v1, { message: "hi", tools: [{ name: "f", description: "d" }], tool_results: [{ outputs: [] }] })).toEqual([
      "tool_results.0.call: needs `call: {name, parameters}`",
    ]);
    expect(issues(chat_v1, { message: "hi", chat_history: [{ role: "CHATBOT", message: "x", tool_calls: [{ name: "f" }] }] })).toEqual([
      "chat_history.0.tool_calls.0: a tool call is {name, parameters}",
    ]);
    expect(issues(chat_v1, { message: "hi", chat_history: [{ role: "TOOL", tool_results: [{ call: { name: "f", parameters: {} } }] }] })).toEqual([
      "chat_history.0.tool_results.0.outputs: needs `outputs`: a list of objects",
    ]);
    expect(issues(chat_v1, { message: "hi", response_format: { type: "text", schema: {} } })).toEqual([
      "response_format.schema: `schema` is only allowed with type json_object",
    ]);
    expect(issues(chat_v1, { message: "hi", connectors: [{ id: "web-search" }] }).join()).toMatch(/Unrecognized key/);
  });

  it("generate", () => {
    accepts(generate, { prompt: "Please explain to me how LLMs work" });
    // max_tokens 0 only scores the prompt: Cohere allows it with return_likelihoods ALL alone
    accepts(generate, { prompt: "x", num_generations: 5, max_tokens: 0, return_likelihoods: "ALL", temperature: 5 });
    expect(issues(generate, { prompt: "x", max_tokens: 0, return_likelihoods: "GENERATION" })).toEqual([
      "max_tokens: 0 is only allowed with return_likelihoods ALL",
    ]);
    expect(issues(generate, { prompt: "x", stream: false }).join()).toMatch(/Unrecognized key.*stream/);
    expect(issues(generate, {})).toEqual(["prompt: Required"]);
    expect(issues(generate, { prompt: "x", num_generations: 6 }).join()).toMatch(/less than or equal to 5/);
    expect(issues(generate, { prompt: "x", return_likelihoods: "SOME" }).join()).toMatch(/return_likelihoods: Invalid enum/);
  });

  it("summarize", () => {
    const text =
      "Ice cream is a sweetened frozen food typically eaten as a snack or dessert. It may be made from milk or cream and is " +
      "flavoured with a sweetener, either sugar or an alternative, and a spice, such as cocoa or vanilla, or with fruit such " +
      "as strawberries or peaches. It can also be made by whisking a flavored cream base and liquid nitrogen together.";
    accepts(summarize, { text });
    accepts(summarize, { text, length: "long", format: "bullets", extractiveness: "high", additional_command: "focusing on next steps" });
    expect(issues(summarize, { text: "too short" }).join()).toMatch(/at least 250 character/);
    expect(issues(summarize, { text, length: "auto" }).join()).toMatch(/length: Invalid enum value. Expected 'short' \| 'medium' \| 'long'/);
    expect(issues(summarize, { text, temperature: 6 }).join()).toMatch(/less than or equal to 5/);
  });

  it("embed_v1", () => {
    accepts(embed_v1, { texts: ["hello", "goodbye"], model: "embed-v4.0", input_type: "classification" });
    accepts(embed_v1, { model: "embed-v4.0", input_type: "image", embedding_types: ["float"], images: ["data:image/jpeg;base64,AA=="] });
    expect(issues(embed_v1, { model: "embed-v4.0" })).toEqual(["(root): give one of `texts` or `images`"]);
    expect(issues(embed_v1, { texts: ["a"], images: ["data:image/png;base64,AA=="] })).toEqual([
      "images: give only one of `texts` or `images`",
    ]);
    expect(issues(embed_v1, { texts: Array.from({ length: 97 }, () => "x") }).join()).toMatch(/at most 96 texts/);
    expect(issues(embed_v1, { texts: ["a"], inputs: [] }).join()).toMatch(/Unrecognized key.*inputs/);
  });

  it("rerank_v1", () => {
    accepts(rerank_v1, {
      documents: [
        { text: "Carson City is the capital city of the American state of Nevada.", title: "Nevada" },
        { text: "Washington, D.C. is the capital of the United States.", title: "DC" },
        "Capital punishment has existed in the United States since before the United States was a country.",
      ],
      query: "What is the capital of the United States?",
      top_n: 3,
      model: "rerank-v4.0-pro",
      rank_fields: ["title", "text"],
      return_documents: true,
    });
    expect(issues(rerank_v1, { documents: ["a"] })).toEqual(["query: Required"]);
    expect(issues(rerank_v1, { query: "q", documents: [{ title: "no text" }] }).join()).toMatch(/documents\.0: object documents need the rank_fields "text"/);
    expect(issues(rerank_v1, { query: "q", documents: [{ text: "a" }], rank_fields: ["title"] }).join()).toMatch(/"title"/);
    expect(issues(embed_v1, { images: ["https://example.com/cat.png"] }).join()).toMatch(/data URI/);
    expect(issues(rerank_v1, { query: "q", documents: ["a"], top_n: 0 }).join()).toMatch(/greater than or equal to 1/);
  });
});

describe("chat tool-message document blocks (spec Document requires data)", () => {
  it("rejects a document block without data before anything is sent", async () => {
    const { chat } = await import("../src/catalog/tools/chat.js");
    const base = {
      model: "command-a-03-2025",
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
      ],
    };
    const withDoc = (document: unknown) => ({
      ...base,
      messages: [...base.messages, { role: "tool", tool_call_id: "c1", content: [{ type: "document", document }] }],
    });
    expect(chat.input.safeParse(withDoc({ title: "x" })).success).toBe(false);
    expect(chat.input.safeParse(withDoc({ id: "d1", data: { title: "x" } })).success).toBe(true);
  });
});
