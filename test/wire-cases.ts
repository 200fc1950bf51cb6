/**
 * The wire table of every tool (issue 2), shared by the wire contract test (tools-wire.test.ts)
 * and the hostile-upstream secrets test: for each tool, valid arguments and the exact request
 * Cohere's spec requires. Cases run in order against one emulator state: creates come first and
 * later cases reuse the ids Cohere returned (`capture`).
 */
import type { z } from "zod/v3";
import { CATALOG } from "../src/catalog/index.js";
import type { ToolDef } from "../src/catalog/types.js";

export type Ids = Record<string, string>;
export type Args = Record<string, unknown>;

export interface Wire {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** Exact path as sent (no query string). */
  path: string;
  /** Exact query as parsed by the emulator: repeated keys become string[]. Default: none. */
  query?: Record<string, string | string[]>;
  /** JSON body, deep-equal. Absent with `multipart` = no body at all. */
  json?: unknown;
  /** multipart/form-data: plain fields exactly, and file parts by name. */
  multipart?: {
    fields: Record<string, string>;
    files: Record<string, { filename: string; text?: string; size?: number; contentType?: string }>;
  };
}

export interface WireCase {
  tool: string;
  /** Distinguishes several cases of one tool. */
  label?: string;
  args: (ids: Ids) => Args;
  wire: (ids: Ids) => Wire;
  /** Keep ids from Cohere's answer for later cases. */
  capture?: (data: Record<string, any>, ids: Ids) => void;
  /** Only for a deliberately unknown id: the status Cohere answers (the wire is still asserted). */
  status?: number;
}

/* ------------------------------------------------------------------------------------------ */
/* Inputs                                                                                      */

/** A PNG header (800 × 600) as a data URI: what Cohere Parse takes inline. */
export const PNG_URI = `data:image/png;base64,${Buffer.from("89504e470d0a1a0a0000000d49484452000003200000025808060000000000000000", "hex").toString("base64")}`;

const EMBED_ROWS = [
  { text: "Paris is the capital of France.", title: "France", url: "https://example.com/fr" },
  { text: "Berlin is the capital of Germany.", title: "Germany", url: "https://example.com/de" },
];
const EMBED_JSONL = EMBED_ROWS.map((r) => JSON.stringify(r)).join("\n") + "\n";

const BATCH_JSONL =
  [
    { custom_id: "r1", body: { messages: [{ role: "user", content: "Say hi" }] } },
    { custom_id: "r2", body: { messages: [{ role: "user", content: "Say bye" }] } },
  ]
    .map((r) => JSON.stringify(r))
    .join("\n") + "\n";
const BATCH_B64 = Buffer.from(BATCH_JSONL).toString("base64");

const FT_TRAIN =
  [
    { messages: [{ role: "User", content: "Hi" }, { role: "Chatbot", content: "Hello! How can I help?" }] },
    { messages: [{ role: "User", content: "Bye" }, { role: "Chatbot", content: "Goodbye!" }] },
  ]
    .map((r) => JSON.stringify(r))
    .join("\n") + "\n";
const FT_EVAL = JSON.stringify({ messages: [{ role: "User", content: "Thanks" }, { role: "Chatbot", content: "You're welcome." }] }) + "\n";

/** A tiny (header-only) WAV file. */
const WAV = Buffer.concat([
  Buffer.from("RIFF"),
  Buffer.from([36, 0, 0, 0]),
  Buffer.from("WAVEfmt "),
  Buffer.from([16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]),
  Buffer.from("data"),
  Buffer.from([0, 0, 0, 0]),
]);

const SUMMARY_TEXT =
  "Ice cream is a sweetened frozen food typically eaten as a snack or dessert. It may be made from milk or cream " +
  "and is flavoured with a sweetener, either sugar or an alternative, and a spice, such as cocoa or vanilla, or with " +
  "fruit such as strawberries or peaches. Food colouring is sometimes added, in addition to stabilizers. The mixture " +
  "is cooled below the freezing point of water and stirred to incorporate air spaces and to prevent detectable ice " +
  "crystals from forming.";

const FT_SETTINGS = {
  base_model: { base_type: "BASE_TYPE_CHAT", name: "command-r-08-2024" },
  hyperparameters: { train_epochs: 1, learning_rate: 0.01, lora_target_modules: "LORA_TARGET_MODULES_QV" },
};

const OAUTH = {
  client_id: "client-123",
  client_secret: "s3cr3t",
  authorize_url: "https://auth.example.com/authorize",
  token_url: "https://auth.example.com/token",
  scope: "read",
};

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

/** Returns `args` minus `keys`: what the wire body should be once path params are taken out. */
const without = (args: Args, ...keys: string[]): Args =>
  Object.fromEntries(Object.entries(args).filter(([k]) => !keys.includes(k)));

/** Keys of a tool's input object (unwrapping superRefine and friends). */
function inputKeys(tool: ToolDef | undefined): string[] {
  let s = tool?.input as unknown as { shape?: Record<string, z.ZodTypeAny>; _def?: { schema?: unknown; innerType?: unknown } } | undefined;
  for (let i = 0; i < 8 && s && !s.shape; i++) s = (s._def?.schema ?? s._def?.innerType) as typeof s;
  return s?.shape ? Object.keys(s.shape) : [];
}

export const byName = new Map(CATALOG.map((t) => [t.name, t]));
/** The local-only embed key another change adds: it must never reach Cohere. */
const EMBED_LOCAL_KEYS = inputKeys(byName.get("embed")).includes("return_vectors") ? { return_vectors: true } : {};

/* ------------------------------------------------------------------------------------------ */
/* The table                                                                                   */

const embedArgs = {
  model: "embed-v4.0",
  input_type: "search_document",
  texts: ["Paris is the capital of France.", "Berlin is the capital of Germany."],
  embedding_types: ["float", "int8"],
  output_dimension: 256,
  max_tokens: 512,
  truncate: "END",
  priority: 10,
};

const embedInputsArgs = {
  model: "embed-v4.0",
  input_type: "search_query",
  inputs: [
    {
      content: [
        { type: "text", text: "a red square" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      ],
    },
  ],
};

const chatToolTurn = {
  model: "command-a-03-2025",
  messages: [
    { role: "system", content: "You are a concise weather assistant." },
    { role: "user", content: "What is the weather in Paris?" },
    {
      role: "assistant",
      tool_plan: "I will call get_weather for Paris.",
      tool_calls: [{ id: "get_weather_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
    },
    {
      role: "tool",
      tool_call_id: "get_weather_1",
      content: [{ type: "document", document: { id: "weather-paris", data: { temp_c: 18, sky: "cloudy" } } }],
    },
  ],
  tools: [WEATHER_TOOL],
  temperature: 0.3,
  max_tokens: 200,
  stop_sequences: ["\n\n\n"],
  seed: 7,
  k: 40,
  p: 0.75,
  frequency_penalty: 0.1,
  presence_penalty: 0.1,
  safety_mode: "CONTEXTUAL",
  priority: 0,
};

// Grounded and JSON are two calls: Cohere refuses response_format json_object with documents
// ("invalid request: response_format is not supported with RAG.").
const chatGrounded = {
  model: "command-a-03-2025",
  messages: [{ role: "user", content: [{ type: "text", text: "Which city is the capital of France?" }] }],
  documents: ["Paris is the capital of France.", { id: "doc-de", data: { title: "Germany", text: "Berlin is the capital of Germany." } }],
  citation_options: { mode: "FAST" },
  logprobs: true,
};

const chatJson = {
  model: "command-a-03-2025",
  messages: [{ role: "user", content: [{ type: "text", text: "Which city is the capital of France? Answer in JSON." }] }],
  response_format: { type: "json_object", json_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};

const chatFirstToolTurn = {
  model: "command-a-03-2025",
  messages: [{ role: "user", content: "Use get_weather: is it raining in Berlin?" }],
  tools: [WEATHER_TOOL],
  strict_tools: true,
  tool_choice: "REQUIRED",
  thinking: { type: "enabled", token_budget: 512 },
};

const chatV1Args = {
  message: "And what about Germany?",
  model: "command-r-08-2024",
  preamble: "You are a geography tutor.",
  chat_history: [
    { role: "USER", message: "What is the capital of France?" },
    { role: "CHATBOT", message: "Paris." },
  ],
  documents: [{ title: "Germany", snippet: "Berlin is the capital of Germany." }],
  citation_quality: "ACCURATE",
  prompt_truncation: "AUTO",
  temperature: 0.3,
  max_tokens: 100,
  max_input_tokens: 2000,
  k: 0,
  p: 0.75,
  seed: 1,
  stop_sequences: ["END"],
  frequency_penalty: 0,
  presence_penalty: 0,
  safety_mode: "NONE",
};

const generateArgs = {
  prompt: "Write a haiku about the sea.",
  model: "command",
  num_generations: 2,
  max_tokens: 40,
  truncate: "END",
  temperature: 0.8,
  seed: 3,
  end_sequences: ["\n\n"],
  stop_sequences: ["--"],
  k: 0,
  p: 0.75,
  frequency_penalty: 0.2,
  presence_penalty: 0.1,
  return_likelihoods: "NONE",
  raw_prompting: false,
};

const summarizeArgs = {
  text: SUMMARY_TEXT,
  length: "short",
  format: "bullets",
  model: "command-light",
  extractiveness: "low",
  temperature: 0.3,
  additional_command: "focusing on how it is made",
};

const embedV1Args = {
  texts: ["hello", "goodbye"],
  model: "embed-english-v3.0",
  input_type: "classification",
  embedding_types: ["float", "ubinary"],
  truncate: "END",
};

const rerankV1Args = {
  model: "rerank-v3.5",
  query: "capital of germany",
  documents: [
    "Paris is the capital of France.",
    { text: "Berlin is the capital of Germany.", title: "Germany" },
    { text: "Bananas are yellow.", title: "Fruit" },
  ],
  top_n: 2,
  rank_fields: ["title", "text"],
  return_documents: true,
  max_chunks_per_doc: 10,
};

const classifyArgs = {
  inputs: ["Confirm your email address", "hey i need u to send some $"],
  examples: [
    { text: "Dermatologists don't like her!", label: "Spam" },
    { text: "Hello, open to this?", label: "Spam" },
    { text: "Your parcel will be delivered today", label: "Not spam" },
    { text: "Review changes to our Terms and Conditions", label: "Not spam" },
  ],
  truncate: "END",
};

const createConnectorArgs = {
  name: "Internal Wiki",
  description: "Searches the company wiki",
  url: "https://wiki.example.com/search",
  excludes: ["author"],
  oauth: OAUTH,
  active: true,
  continue_on_failure: false,
};

export const CASES: WireCase[] = [
  /* ---- account, tokenizer, models */
  {
    tool: "check_api_key",
    args: () => ({}),
    wire: () => ({ method: "POST", path: "/v1/check-api-key" }),
  },
  {
    tool: "tokenize",
    args: () => ({ text: "tokenize me! :D", model: "command-a-03-2025" }),
    wire: () => ({ method: "POST", path: "/v1/tokenize", json: { text: "tokenize me! :D", model: "command-a-03-2025" } }),
  },
  {
    tool: "detokenize",
    args: () => ({ tokens: [10002, 2261, 2012, 8, 2792, 43], model: "command-a-03-2025" }),
    wire: () => ({ method: "POST", path: "/v1/detokenize", json: { tokens: [10002, 2261, 2012, 8, 2792, 43], model: "command-a-03-2025" } }),
  },
  {
    tool: "list_models",
    args: () => ({ endpoint: "embed", default_only: true, page_size: 5 }),
    wire: () => ({ method: "GET", path: "/v1/models", query: { endpoint: "embed", default_only: "true", page_size: "5" } }),
  },
  {
    tool: "list_models",
    label: "page_token",
    args: () => ({ page_size: 2, page_token: Buffer.from("offset:2").toString("base64url") }),
    wire: () => ({ method: "GET", path: "/v1/models", query: { page_size: "2", page_token: Buffer.from("offset:2").toString("base64url") } }),
  },
  {
    tool: "get_model",
    args: () => ({ model: "command-a-03-2025" }),
    wire: () => ({ method: "GET", path: "/v1/models/command-a-03-2025" }),
  },

  /* ---- generation */
  {
    tool: "chat",
    label: "tool result turn",
    args: () => chatToolTurn,
    wire: () => ({ method: "POST", path: "/v2/chat", json: chatToolTurn }),
  },
  {
    tool: "chat",
    label: "grounded",
    args: () => chatGrounded,
    wire: () => ({ method: "POST", path: "/v2/chat", json: chatGrounded }),
  },
  {
    tool: "chat",
    label: "JSON",
    args: () => chatJson,
    wire: () => ({ method: "POST", path: "/v2/chat", json: chatJson }),
  },
  {
    tool: "chat",
    label: "tool call required",
    args: () => chatFirstToolTurn,
    wire: () => ({ method: "POST", path: "/v2/chat", json: chatFirstToolTurn }),
  },
  {
    tool: "embed",
    label: "texts",
    args: () => ({ ...embedArgs, ...EMBED_LOCAL_KEYS }),
    wire: () => ({ method: "POST", path: "/v2/embed", json: embedArgs }),
  },
  {
    tool: "embed",
    label: "mixed inputs",
    args: () => embedInputsArgs,
    wire: () => ({ method: "POST", path: "/v2/embed", json: embedInputsArgs }),
  },
  {
    tool: "rerank",
    args: () => ({ model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "Paris is the capital of France"], top_n: 1, max_tokens_per_doc: 256, priority: 1 }),
    wire: () => ({
      method: "POST",
      path: "/v2/rerank",
      json: { model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "Paris is the capital of France"], top_n: 1, max_tokens_per_doc: 256, priority: 1 },
    }),
  },
  {
    tool: "classify",
    args: () => classifyArgs,
    wire: () => ({ method: "POST", path: "/v1/classify", json: classifyArgs }),
  },
  {
    tool: "transcribe_audio",
    args: () => ({ model: "cohere-transcribe-03-2026", language: "en", file_base64: WAV.toString("base64"), filename: "meeting.wav", temperature: 0.2 }),
    wire: () => ({
      method: "POST",
      path: "/v2/audio/transcriptions",
      multipart: {
        fields: { model: "cohere-transcribe-03-2026", language: "en", temperature: "0.2" },
        files: { file: { filename: "meeting.wav", size: WAV.length, contentType: "audio/wav" } },
      },
    }),
  },
  {
    tool: "parse",
    label: "image URL, markdown (the default: output_format left out)",
    args: () => ({ model: "parse-v5.0", document_url: "https://cohere.com/favicon-32x32.png" }),
    wire: () => ({
      method: "POST",
      path: "/v2/parse",
      json: { model: "parse-v5.0", document: { type: "image_url", image_url: "https://cohere.com/favicon-32x32.png" } },
    }),
  },
  {
    tool: "parse",
    label: "data URI, blocks",
    args: () => ({ model: "parse-v5.0", document_url: PNG_URI, output_format: "blocks" }),
    wire: () => ({
      method: "POST",
      path: "/v2/parse",
      json: { model: "parse-v5.0", document: { type: "image_url", image_url: PNG_URI }, output_format: "blocks" },
    }),
  },
  {
    tool: "chat_v1",
    args: () => chatV1Args,
    wire: () => ({ method: "POST", path: "/v1/chat", json: chatV1Args }),
  },
  {
    tool: "generate",
    args: () => generateArgs,
    wire: () => ({ method: "POST", path: "/v1/generate", json: generateArgs }),
  },
  {
    tool: "summarize",
    args: () => summarizeArgs,
    wire: () => ({ method: "POST", path: "/v1/summarize", json: summarizeArgs }),
  },
  {
    tool: "embed_v1",
    args: () => embedV1Args,
    wire: () => ({ method: "POST", path: "/v1/embed", json: embedV1Args }),
  },
  {
    tool: "rerank_v1",
    args: () => rerankV1Args,
    wire: () => ({ method: "POST", path: "/v1/rerank", json: rerankV1Args }),
  },

  /* ---- datasets (creates first; ids feed embed jobs, batches and fine-tuning) */
  {
    tool: "create_dataset",
    label: "embed-input, keep_fields, text",
    args: () => ({
      name: "capitals",
      type: "embed-input",
      data_text: EMBED_JSONL,
      keep_fields: ["title", "url"],
      keep_original_file: true,
    }),
    wire: () => ({
      method: "POST",
      path: "/v1/datasets",
      query: { name: "capitals", type: "embed-input", keep_fields: ["title", "url"], keep_original_file: "true" },
      multipart: { fields: {}, files: { data: { filename: "data.jsonl", text: EMBED_JSONL } } },
    }),
    capture: (d, ids) => (ids.embedDataset = d.id),
  },
  {
    tool: "create_dataset",
    label: "batch input, base64, named file",
    args: () => ({
      name: "batch requests",
      type: "batch-chat-v2-input",
      data_base64: BATCH_B64,
      data_filename: "requests.jsonl",
      skip_malformed_input: false,
      optional_fields: ["custom_id"],
    }),
    wire: () => ({
      method: "POST",
      path: "/v1/datasets",
      query: { name: "batch requests", type: "batch-chat-v2-input", skip_malformed_input: "false", optional_fields: "custom_id" },
      multipart: { fields: {}, files: { data: { filename: "requests.jsonl", text: BATCH_JSONL } } },
    }),
    capture: (d, ids) => (ids.batchDataset = d.id),
  },
  {
    tool: "create_dataset",
    label: "fine-tune input with eval_data",
    args: () => ({
      name: "chat ft",
      type: "chat-finetune-input",
      data_text: FT_TRAIN,
      data_filename: "train.jsonl",
      eval_data_text: FT_EVAL,
      eval_data_filename: "eval.jsonl",
    }),
    wire: () => ({
      method: "POST",
      path: "/v1/datasets",
      query: { name: "chat ft", type: "chat-finetune-input" },
      multipart: {
        fields: {},
        files: { data: { filename: "train.jsonl", text: FT_TRAIN }, eval_data: { filename: "eval.jsonl", text: FT_EVAL } },
      },
    }),
    capture: (d, ids) => (ids.ftDataset = d.id),
  },
  {
    tool: "list_datasets",
    args: () => ({ datasetType: "embed-input", validationStatus: "validated", after: "2020-01-01T00:00:00Z", before: "2100-01-01T00:00:00Z", limit: 10, offset: 0 }),
    wire: () => ({
      method: "GET",
      path: "/v1/datasets",
      query: { datasetType: "embed-input", validationStatus: "validated", after: "2020-01-01T00:00:00Z", before: "2100-01-01T00:00:00Z", limit: "10", offset: "0" },
    }),
  },
  {
    tool: "get_dataset_usage",
    args: () => ({}),
    wire: () => ({ method: "GET", path: "/v1/datasets/usage" }),
  },
  {
    tool: "get_dataset",
    args: (ids) => ({ id: ids.embedDataset }),
    wire: (ids) => ({ method: "GET", path: `/v1/datasets/${ids.embedDataset}` }),
  },

  /* ---- embed jobs */
  {
    tool: "create_embed_job",
    args: (ids) => ({
      model: "embed-english-v3.0",
      dataset_id: ids.embedDataset,
      input_type: "search_document",
      name: "capitals-embeddings",
      embedding_types: ["float", "int8"],
      truncate: "END",
    }),
    wire: (ids) => ({
      method: "POST",
      path: "/v1/embed-jobs",
      json: {
        model: "embed-english-v3.0",
        dataset_id: ids.embedDataset,
        input_type: "search_document",
        name: "capitals-embeddings",
        embedding_types: ["float", "int8"],
        truncate: "END",
      },
    }),
    capture: (d, ids) => (ids.embedJob = d.job_id),
  },
  {
    tool: "list_embed_jobs",
    args: () => ({}),
    wire: () => ({ method: "GET", path: "/v1/embed-jobs" }),
  },
  {
    tool: "get_embed_job",
    args: (ids) => ({ id: ids.embedJob }),
    wire: (ids) => ({ method: "GET", path: `/v1/embed-jobs/${ids.embedJob}` }),
  },
  {
    // Path params are URL-encoded: the only case with a made-up id, so Cohere's 404 is expected.
    tool: "get_embed_job",
    label: "id needing URL encoding",
    args: () => ({ id: "job:1@x%y" }),
    wire: () => ({ method: "GET", path: "/v1/embed-jobs/job%3A1%40x%25y" }),
    status: 404,
  },

  /* ---- batches */
  {
    tool: "create_batch",
    args: (ids) => ({ name: "nightly", input_dataset_id: ids.batchDataset, model: "command-a-03-2025" }),
    wire: (ids) => ({ method: "POST", path: "/v2/batches", json: { name: "nightly", input_dataset_id: ids.batchDataset, model: "command-a-03-2025" } }),
    capture: (d, ids) => (ids.batch = d.batch.id),
  },
  {
    tool: "list_batches",
    args: () => ({ page_size: 10, order_by: "created_at" }),
    wire: () => ({ method: "GET", path: "/v2/batches", query: { page_size: "10", order_by: "created_at" } }),
  },
  {
    tool: "get_batch",
    args: (ids) => ({ id: ids.batch }),
    wire: (ids) => ({ method: "GET", path: `/v2/batches/${ids.batch}` }),
  },

  /* ---- fine-tuning */
  {
    tool: "create_finetuned_model",
    args: (ids) => ({ name: "support-bot", settings: { ...FT_SETTINGS, dataset_id: ids.ftDataset } }),
    wire: (ids) => ({
      method: "POST",
      path: "/v1/finetuning/finetuned-models",
      json: { name: "support-bot", settings: { ...FT_SETTINGS, dataset_id: ids.ftDataset } },
    }),
    capture: (d, ids) => (ids.finetune = d.finetuned_model.id),
  },
  {
    tool: "list_finetuned_models",
    args: () => ({ page_size: 10, order_by: "created_at desc" }),
    wire: () => ({ method: "GET", path: "/v1/finetuning/finetuned-models", query: { page_size: "10", order_by: "created_at desc" } }),
  },
  {
    tool: "get_finetuned_model",
    args: (ids) => ({ id: ids.finetune }),
    wire: (ids) => ({ method: "GET", path: `/v1/finetuning/finetuned-models/${ids.finetune}` }),
  },
  {
    tool: "list_finetuning_events",
    args: (ids) => ({ finetuned_model_id: ids.finetune, page_size: 20, order_by: "created_at" }),
    wire: (ids) => ({
      method: "GET",
      path: `/v1/finetuning/finetuned-models/${ids.finetune}/events`,
      query: { page_size: "20", order_by: "created_at" },
    }),
  },
  {
    tool: "list_training_step_metrics",
    args: (ids) => ({ finetuned_model_id: ids.finetune, page_size: 5 }),
    wire: (ids) => ({
      method: "GET",
      path: `/v1/finetuning/finetuned-models/${ids.finetune}/training-step-metrics`,
      query: { page_size: "5" },
    }),
  },
  {
    tool: "update_finetuned_model",
    args: (ids) => ({
      id: ids.finetune,
      name: "support-bot-v2",
      settings: { ...FT_SETTINGS, dataset_id: ids.ftDataset, wandb: { project: "ft", api_key: "wandb-key", entity: "acme" } },
    }),
    wire: (ids) => ({
      method: "PATCH",
      path: `/v1/finetuning/finetuned-models/${ids.finetune}`,
      json: {
        name: "support-bot-v2",
        settings: { ...FT_SETTINGS, dataset_id: ids.ftDataset, wandb: { project: "ft", api_key: "wandb-key", entity: "acme" } },
      },
    }),
  },

  /* ---- connectors */
  {
    tool: "create_connector",
    args: () => createConnectorArgs,
    wire: () => ({ method: "POST", path: "/v1/connectors", json: createConnectorArgs }),
    capture: (d, ids) => (ids.connector = d.connector.id),
  },
  {
    tool: "list_connectors",
    args: () => ({ limit: 10, offset: 0 }),
    wire: () => ({ method: "GET", path: "/v1/connectors", query: { limit: "10", offset: "0" } }),
  },
  {
    tool: "get_connector",
    args: (ids) => ({ id: ids.connector }),
    wire: (ids) => ({ method: "GET", path: `/v1/connectors/${ids.connector}` }),
  },
  {
    tool: "update_connector",
    args: (ids) => ({ id: ids.connector, name: "Wiki", excludes: ["author", "date"], active: false, continue_on_failure: true }),
    wire: (ids) => ({
      method: "PATCH",
      path: `/v1/connectors/${ids.connector}`,
      json: { name: "Wiki", excludes: ["author", "date"], active: false, continue_on_failure: true },
    }),
  },
  {
    tool: "authorize_connector_oauth",
    args: (ids) => ({ id: ids.connector, after_token_redirect: "https://app.example.com/done?x=1&y=2" }),
    wire: (ids) => ({
      method: "POST",
      path: `/v1/connectors/${ids.connector}/oauth/authorize`,
      query: { after_token_redirect: "https://app.example.com/done?x=1&y=2" },
    }),
  },

  /* ---- cancels and deletes last */
  {
    tool: "cancel_embed_job",
    args: (ids) => ({ id: ids.embedJob }),
    wire: (ids) => ({ method: "POST", path: `/v1/embed-jobs/${ids.embedJob}/cancel` }),
  },
  {
    tool: "cancel_batch",
    args: (ids) => ({ id: ids.batch }),
    wire: (ids) => ({ method: "POST", path: `/v2/batches/${ids.batch}:cancel` }),
  },
  {
    tool: "delete_connector",
    args: (ids) => ({ id: ids.connector }),
    wire: (ids) => ({ method: "DELETE", path: `/v1/connectors/${ids.connector}` }),
  },
  {
    tool: "delete_finetuned_model",
    args: (ids) => ({ id: ids.finetune }),
    wire: (ids) => ({ method: "DELETE", path: `/v1/finetuning/finetuned-models/${ids.finetune}` }),
  },
  {
    tool: "delete_dataset",
    args: (ids) => ({ id: ids.embedDataset }),
    wire: (ids) => ({ method: "DELETE", path: `/v1/datasets/${ids.embedDataset}` }),
  },
];

/* ------------------------------------------------------------------------------------------ */
/* Composite tools (no operation of their own): they poll a get tool. Covered by asserting     */
/* that every request they make is a GET of that tool's path with the real id.                 */

export interface Waiter {
  /** The get tool whose path the waiter must poll. */
  get: string;
  /** Which captured id to wait on. */
  id: string;
  /** Run after this table case (its tool name), so the resource exists and is not yet cancelled. */
  after: string;
}
export const WAITERS: Record<string, Waiter> = {
  wait_for_embed_job: { get: "get_embed_job", id: "embedJob", after: "get_embed_job" },
  wait_for_batch: { get: "get_batch", id: "batch", after: "get_batch" },
  wait_for_finetuned_model: { get: "get_finetuned_model", id: "finetune", after: "update_finetuned_model" },
};

/** Marked composite/local by the record, or named wait_for_*: no Cohere operation of its own. */
export function isComposite(t: ToolDef): boolean {
  const r = t as unknown as Record<string, unknown>;
  return t.name.startsWith("wait_for_") || r.composite === true || r.local === true || r.kind === "composite";
}

/** Smallest allowed number for a zod number schema (unwrapping optional/default), else `fallback`. */
function minOf(schema: unknown, fallback: number): number {
  let s = schema as { _def?: { typeName?: string; innerType?: unknown; checks?: Array<{ kind: string; value: number }> } } | undefined;
  for (let i = 0; i < 8 && s?._def && s._def.typeName !== "ZodNumber"; i++) s = s._def.innerType as typeof s;
  const min = s?._def?.checks?.find((c) => c.kind === "min")?.value;
  return typeof min === "number" ? Math.max(min, 0) : fallback;
}

/** Arguments for a waiter: the resource id plus the shortest allowed timeout and poll interval. */
export function waiterArgs(tool: ToolDef, id: string): Args {
  let s = tool.input as unknown as { shape?: Record<string, unknown>; _def?: { schema?: unknown; innerType?: unknown } } | undefined;
  for (let i = 0; i < 8 && s && !s.shape; i++) s = (s._def?.schema ?? s._def?.innerType) as typeof s;
  const shape = s?.shape ?? {};
  const keys = Object.keys(shape);
  const idKey = keys.find((k) => k === "id") ?? keys.find((k) => k.endsWith("_id") || k.endsWith("id")) ?? "id";
  const args: Args = { [idKey]: id };
  for (const k of keys) {
    if (/timeout|max_wait|deadline/i.test(k)) args[k] = Math.max(minOf(shape[k], 1), /ms/i.test(k) ? 3000 : 3);
    else if (/interval|poll|every/i.test(k)) args[k] = minOf(shape[k], 1);
  }
  return args;
}

