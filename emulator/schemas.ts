/**
 * Request schemas for every Cohere operation, transcribed from cohere-openapi.yaml (the emulator
 * must not read the spec at runtime). Top-level bodies reject unknown fields; nested objects are
 * checked field by field but tolerate extra keys, like the real API. Read-only fields that the
 * spec puts in request bodies (batches, fine-tuning) are accepted and ignored.
 */
import { any, arr, bool, enm, int, num, obj, oneOf, str, tagged, type Schema } from "./validate.js";

export const EMBED_INPUT_TYPES = ["search_document", "search_query", "classification", "clustering", "image"] as const;
export const EMBEDDING_TYPES = ["float", "int8", "uint8", "binary", "ubinary", "base64"] as const;
export const DATASET_TYPES = [
  "embed-input",
  "embed-result",
  "cluster-result",
  "cluster-outliers",
  "reranker-finetune-input",
  "single-label-classification-finetune-input",
  "chat-finetune-input",
  "multi-label-classification-finetune-input",
  "batch-chat-input",
  "batch-openai-chat-input",
  "batch-embed-v2-input",
  "batch-chat-v2-input",
] as const;
export const DATASET_VALIDATION_STATUSES = ["unknown", "queued", "processing", "failed", "validated", "skipped"] as const;
export const COMPATIBLE_ENDPOINTS = ["chat", "embed", "classify", "summarize", "rerank", "rate", "generate"] as const;
export const FINETUNE_STATUSES = [
  "STATUS_UNSPECIFIED",
  "STATUS_FINETUNING",
  "STATUS_DEPLOYING_API",
  "STATUS_READY",
  "STATUS_FAILED",
  "STATUS_DELETED",
  "STATUS_TEMPORARILY_OFFLINE",
  "STATUS_PAUSED",
  "STATUS_QUEUED",
] as const;

const truncate = enm(["NONE", "START", "END"]);
const inputType = enm(EMBED_INPUT_TYPES);
const embeddingTypes = arr(enm(EMBEDDING_TYPES));
const priority = int({ minimum: 0, maximum: 999 });
const seed = int({ minimum: 0 });
const strings = arr(str());
const anyObject = obj();
const dataUri = str({
  pattern: /^data:image\/(jpeg|png|webp|gif);base64,/i,
  patternHint: "must be a data URI of type image/jpeg, image/png, image/webp or image/gif",
});

// ------------------------------------------------------------------------------ chat v2
const textContent = obj({ type: enm(["text"]), text: str() }, ["type", "text"]);
const imageContent = obj(
  { type: enm(["image_url"]), image_url: obj({ url: str(), detail: enm(["auto", "low", "high"]) }, ["url"]) },
  ["type", "image_url"],
);
const thinkingContent = obj({ type: enm(["thinking"]), thinking: str() }, ["type", "thinking"]);
/** `data` is an object, or a JSON string as Cohere's tool-use guide sends it (json.dumps(result)). */
const v2Document = obj({ data: oneOf("an object or a string", anyObject, str()), id: str() }, ["data"]);
const documentContent = obj({ type: enm(["document"]), document: v2Document }, ["type", "document"]);
const toolCallV2 = obj(
  { id: str(), type: enm(["function"]), function: obj({ name: str(), arguments: str() }) },
  ["id", "type"],
);
const contentOf = (variants: Record<string, Schema>) =>
  oneOf("a string or an array of content blocks", str(), arr(tagged("type", variants)));

const chatMessageV2 = tagged("role", {
  user: obj({ role: str(), content: contentOf({ text: textContent, image_url: imageContent }) }, ["role", "content"]),
  assistant: obj(
    {
      role: str(),
      tool_calls: arr(toolCallV2),
      tool_plan: str(),
      content: contentOf({ text: textContent, thinking: thinkingContent }),
      citations: arr(anyObject),
    },
    ["role"],
  ),
  system: obj({ role: str(), content: contentOf({ text: textContent }) }, ["role", "content"]),
  tool: obj(
    { role: str(), tool_call_id: str(), content: contentOf({ text: textContent, document: documentContent }) },
    ["role", "tool_call_id", "content"],
  ),
});

const toolV2 = obj(
  {
    type: enm(["function"]),
    function: obj({ name: str(), description: str(), parameters: anyObject }, ["name", "parameters"]),
  },
  ["type"],
);

export const CHAT_V2 = obj(
  {
    stream: bool(),
    model: str(),
    messages: arr(chatMessageV2),
    tools: arr(toolV2),
    strict_tools: bool(),
    documents: arr(oneOf("a string or a document object", str(), v2Document)),
    citation_options: obj({ mode: enm(["ENABLED", "DISABLED", "FAST", "ACCURATE", "OFF"]) }),
    response_format: tagged("type", {
      text: obj({ type: str() }, ["type"]),
      json_object: obj({ type: str(), json_schema: anyObject }, ["type"]),
    }),
    safety_mode: enm(["CONTEXTUAL", "STRICT", "OFF"]),
    max_tokens: int(),
    stop_sequences: strings,
    temperature: num({ minimum: 0, maximum: 1 }),
    seed,
    frequency_penalty: num(),
    presence_penalty: num(),
    k: int({ minimum: 0, maximum: 500 }),
    p: num({ minimum: 0.01, maximum: 0.99 }),
    logprobs: bool(),
    tool_choice: enm(["REQUIRED", "NONE"]),
    thinking: obj({ type: enm(["enabled", "disabled"]), token_budget: int({ minimum: 1 }) }, ["type"]),
    priority,
  },
  ["messages", "model"],
  false,
);

// ------------------------------------------------------------------------------ chat v1
const toolCallV1 = obj({ name: str(), parameters: anyObject }, ["name", "parameters"]);
const toolResultV1 = obj({ call: toolCallV1, outputs: arr(anyObject) }, ["call", "outputs"]);
const chatMessageV1 = obj({ role: str(), message: str(), tool_calls: arr(toolCallV1) }, ["role", "message"]);

export const CHAT_V1 = obj(
  {
    message: str(),
    model: str(),
    stream: bool(),
    preamble: str(),
    chat_history: arr(
      tagged("role", {
        CHATBOT: chatMessageV1,
        SYSTEM: chatMessageV1,
        USER: chatMessageV1,
        TOOL: obj({ role: str(), tool_results: arr(toolResultV1) }, ["role"]),
      }),
    ),
    conversation_id: str(),
    prompt_truncation: enm(["OFF", "AUTO", "AUTO_PRESERVE_ORDER"]),
    connectors: arr(
      obj(
        { id: str({ minLength: 1 }), user_access_token: str(), continue_on_failure: bool(), options: anyObject },
        ["id"],
      ),
    ),
    search_queries_only: bool(),
    documents: arr(obj({ id: str() })),
    citation_quality: enm(["ENABLED", "DISABLED", "FAST", "ACCURATE", "OFF"]),
    temperature: num({ minimum: 0, maximum: 1 }),
    max_tokens: int(),
    max_input_tokens: int(),
    k: int({ minimum: 0, maximum: 500 }),
    p: num({ minimum: 0.01, maximum: 0.99 }),
    seed,
    stop_sequences: strings,
    frequency_penalty: num(),
    presence_penalty: num(),
    raw_prompting: bool(),
    tools: arr(obj({ name: str(), description: str(), parameter_definitions: anyObject }, ["name", "description"])),
    tool_results: arr(toolResultV1),
    force_single_step: bool(),
    response_format: tagged("type", {
      text: obj({ type: str() }, ["type"]),
      json_object: obj({ type: str(), schema: anyObject }, ["type"]),
    }),
    safety_mode: enm(["CONTEXTUAL", "STRICT", "NONE"]),
  },
  ["message"],
  false,
);

// ------------------------------------------------------------------------------ generate
export const GENERATE = obj(
  {
    prompt: str(),
    model: str(),
    num_generations: int({ minimum: 1, maximum: 5 }),
    stream: bool(),
    max_tokens: int(),
    truncate,
    temperature: num(),
    seed,
    preset: str(),
    end_sequences: strings,
    stop_sequences: strings,
    k: int(),
    p: num(),
    frequency_penalty: num(),
    presence_penalty: num(),
    return_likelihoods: enm(["GENERATION", "ALL", "NONE"]),
    raw_prompting: bool(),
  },
  ["prompt"],
  false,
);

// ------------------------------------------------------------------------------ embed
export const EMBED_V1 = obj(
  {
    texts: arr(str(), { minItems: 1, maxItems: 96 }),
    images: arr(dataUri, { minItems: 1 }),
    model: str(),
    input_type: inputType,
    embedding_types: embeddingTypes,
    truncate,
  },
  [],
  false,
);

const embedInput = obj(
  {
    content: arr(
      tagged("type", {
        text: obj({ type: str(), text: str() }, ["type", "text"]),
        image_url: obj({ type: str(), image_url: obj({ url: dataUri }, ["url"]) }, ["type", "image_url"]),
      }),
      { minItems: 1 },
    ),
  },
  ["content"],
);

export const EMBED_V2 = obj(
  {
    texts: arr(str(), { minItems: 1, maxItems: 96 }),
    images: arr(dataUri, { minItems: 1, maxItems: 96 }),
    model: str(),
    input_type: inputType,
    inputs: arr(embedInput, { minItems: 1, maxItems: 96 }),
    max_tokens: int({ minimum: 1 }),
    output_dimension: int({ enum: [256, 512, 1024, 1536] }),
    embedding_types: embeddingTypes,
    truncate,
    priority,
  },
  ["model", "input_type"],
  false,
);

// ------------------------------------------------------------------------------ rerank / classify / summarize / tokenize
export const RERANK_V1 = obj(
  {
    model: str(),
    query: str(),
    documents: arr(oneOf("a string or an object of string fields", str(), obj({}, [], any()))),
    top_n: int({ minimum: 1 }),
    rank_fields: strings,
    return_documents: bool(),
    max_chunks_per_doc: int({ minimum: 1 }),
  },
  ["query", "documents"],
  false,
);

export const RERANK_V2 = obj(
  {
    model: str(),
    query: str(),
    documents: arr(str()),
    top_n: int({ minimum: 1 }),
    max_tokens_per_doc: int({ minimum: 1 }),
    priority,
  },
  ["query", "documents", "model"],
  false,
);

export const CLASSIFY = obj(
  {
    inputs: arr(str(), { minItems: 1, maxItems: 96 }),
    examples: arr(obj({ text: str(), label: str() }), { maxItems: 2500 }),
    model: str(),
    preset: str(),
    truncate,
  },
  ["inputs"],
  false,
);

export const SUMMARIZE = obj(
  {
    text: str({ minLength: 250, maxLength: 50000 }),
    length: enm(["short", "medium", "long"]),
    format: enm(["paragraph", "bullets"]),
    model: str(),
    extractiveness: enm(["low", "medium", "high"]),
    temperature: num({ minimum: 0, maximum: 5 }),
    additional_command: str(),
  },
  ["text"],
  false,
);

export const TOKENIZE = obj({ text: str({ minLength: 1, maxLength: 65536 }), model: str() }, ["text", "model"], false);
export const DETOKENIZE = obj(
  { tokens: arr(int(), { minItems: 1, maxItems: 65536 }), model: str() },
  ["tokens", "model"],
  false,
);

// ------------------------------------------------------------------------------ embed jobs / batches
export const CREATE_EMBED_JOB = obj(
  {
    model: str(),
    dataset_id: str({ minLength: 1 }),
    input_type: inputType,
    name: str(),
    embedding_types: embeddingTypes,
    truncate: enm(["START", "END"]),
  },
  ["model", "dataset_id", "input_type"],
  false,
);

const BATCH_READ_ONLY = [
  "id",
  "creator_id",
  "org_id",
  "status",
  "created_at",
  "updated_at",
  "output_dataset_id",
  "input_tokens",
  "output_tokens",
  "num_records",
  "num_successful_records",
  "num_failed_records",
  "status_reason",
];
const ignored = (names: readonly string[]): Record<string, Schema> => Object.fromEntries(names.map((n) => [n, any()]));

export const CREATE_BATCH = obj(
  { name: str(), input_dataset_id: str({ minLength: 1 }), model: str(), ...ignored(BATCH_READ_ONLY) },
  ["name", "input_dataset_id", "model"],
  false,
);

// ------------------------------------------------------------------------------ connectors
const connectorOAuth = obj({
  client_id: str(),
  client_secret: str(),
  authorize_url: str(),
  token_url: str(),
  scope: str(),
});
const serviceAuth = obj({ type: enm(["bearer", "basic", "noscheme"]), token: str() }, ["type", "token"]);

export const CREATE_CONNECTOR = obj(
  {
    name: str(),
    description: str(),
    url: str(),
    excludes: strings,
    oauth: connectorOAuth,
    active: bool(),
    continue_on_failure: bool(),
    service_auth: serviceAuth,
  },
  ["name", "url"],
  false,
);

export const UPDATE_CONNECTOR = obj(
  {
    name: str(),
    url: str(),
    excludes: strings,
    oauth: connectorOAuth,
    active: bool(),
    continue_on_failure: bool(),
    service_auth: serviceAuth,
  },
  [],
  false,
);

// ------------------------------------------------------------------------------ fine-tuning
const finetuneSettings = obj(
  {
    base_model: obj(
      {
        name: str(),
        version: any(),
        base_type: enm([
          "BASE_TYPE_UNSPECIFIED",
          "BASE_TYPE_GENERATIVE",
          "BASE_TYPE_CLASSIFICATION",
          "BASE_TYPE_RERANK",
          "BASE_TYPE_CHAT",
        ]),
        strategy: enm(["STRATEGY_UNSPECIFIED", "STRATEGY_VANILLA", "STRATEGY_TFEW"]),
      },
      ["base_type"],
    ),
    dataset_id: str(),
    hyperparameters: obj({
      early_stopping_patience: int(),
      early_stopping_threshold: num(),
      train_batch_size: int(),
      train_epochs: int(),
      learning_rate: num(),
      lora_alpha: int(),
      lora_rank: int(),
      lora_target_modules: enm([
        "LORA_TARGET_MODULES_UNSPECIFIED",
        "LORA_TARGET_MODULES_QV",
        "LORA_TARGET_MODULES_QKVO",
        "LORA_TARGET_MODULES_QKVO_FFN",
      ]),
    }),
    multi_label: any(),
    wandb: obj({ project: str(), api_key: str(), entity: str() }, ["project", "api_key"]),
  },
  ["base_model", "dataset_id"],
);

const FT_READ_ONLY = ["creator_id", "organization_id", "status", "created_at", "updated_at", "completed_at", "last_used"];

export const CREATE_FINETUNE = obj(
  { name: str({ minLength: 1 }), settings: finetuneSettings, ...ignored(["id", ...FT_READ_ONLY]) },
  ["name", "settings"],
  false,
);

/** The spec also lists `finetuned_model` as required, but it is not a property (spec bug); not enforced. */
export const UPDATE_FINETUNE = obj(
  { name: str({ minLength: 1 }), settings: finetuneSettings, ...ignored(FT_READ_ONLY) },
  ["name", "settings"],
  false,
);

// ------------------------------------------------------------------------------ query and form fields
export type QueryType =
  | { type: "string"; enum?: readonly string[]; dateTime?: boolean }
  | { type: "integer" | "number"; minimum?: number; maximum?: number }
  | { type: "boolean" }
  | { type: "string[]" };

export interface QuerySpec {
  [name: string]: QueryType & { required?: boolean };
}

export const PAGE_QUERY: QuerySpec = {
  page_size: { type: "integer", minimum: 0 },
  page_token: { type: "string" },
};
