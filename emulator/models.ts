/**
 * The fixed model catalogue served by GET /v1/models (shapes follow GetModelResponse), and the
 * model checks every generation / embedding call goes through, with Cohere's own messages:
 *   unknown model            → 404 "model 'x' not found, make sure the correct model ID was used…"
 *   model of the wrong kind  → 400 "invalid request: model 'x' is not supported by the chat API"
 *   max_tokens over the cap  → 400 "too many tokens: max tokens must be less than or equal to N…"
 * The lineup is src/catalog/models.ts (one table, with its sources, shared with the server);
 * every model named by an example request in Cohere's spec is in it, so those examples run.
 * Retired models (the 2026-04-04 retirement) are gone: 404 like any unknown model, as Cohere
 * says "requests using these model IDs will fail".
 */
import { COHERE_MODELS, cohereModel, deprecationWarning, type CohereModel } from "../src/catalog/models.js";
import { ApiError } from "./routes/types.js";
import { E400, E404 } from "./cohere-errors.js";
import type { EmulatorState } from "./state.js";

export type Endpoint = "chat" | "embed" | "classify" | "summarize" | "rerank" | "rate" | "generate";

export interface ModelInfo {
  name: string;
  is_deprecated: boolean;
  endpoints: Endpoint[];
  finetuned: boolean;
  context_length: number;
  tokenizer_url: string;
  default_endpoints: Endpoint[];
  features: string[];
  sampling_defaults?: Record<string, number>;
}

/** Largest max_tokens for a model the table gives none for. */
const DEFAULT_MAX_OUTPUT = 4096;

/** Speech-to-text models: served by /v2/audio/transcriptions only (no CompatibleEndpoint names them). */
export const TRANSCRIBE_MODELS: readonly string[] = COHERE_MODELS.filter((m) => m.endpoints.includes("transcribe")).map((m) => m.name);
/** Document parsing models: served by /v2/parse only. */
export const PARSE_MODELS: readonly string[] = COHERE_MODELS.filter((m) => m.endpoints.includes("parse")).map((m) => m.name);

const tok = (name: string) => `https://storage.googleapis.com/cohere-public/tokenizers/${name}.json`;

const CHAT_FEATURES = ["json_mode", "json_schema", "safety_modes", "strict_tools", "tool_use"];
const CHAT_SAMPLING = { temperature: 0.3, k: 0, p: 0.75, frequency_penalty: 0, presence_penalty: 0 };

const chatModel = (name: string, o: Partial<ModelInfo> = {}): ModelInfo => ({
  name,
  is_deprecated: false,
  endpoints: ["chat", "generate", "summarize"],
  finetuned: false,
  context_length: 128000,
  tokenizer_url: tok(name),
  default_endpoints: [],
  features: CHAT_FEATURES,
  sampling_defaults: CHAT_SAMPLING,
  ...o,
});

/** Defaults per endpoint, as GET /v1/models lists them (`default_endpoints`). */
const DEFAULTS: Record<string, Endpoint[]> = {
  "command-a-03-2025": ["chat"],
  command: ["generate", "summarize"],
  "embed-v4.0": ["embed"],
  "embed-english-v3.0": ["classify"],
  "rerank-v3.5": ["rerank"],
};

/** A row of the shared table (src/catalog/models.ts) as GET /v1/models shows it. */
function info(m: CohereModel): ModelInfo {
  const endpoints = m.endpoints.filter((e): e is Exclude<typeof e, "parse" | "transcribe"> => e !== "parse" && e !== "transcribe");
  const kind = endpoints.includes("chat") ? "chat" : endpoints.includes("embed") ? "embed" : "rerank";
  const base = {
    name: m.name,
    is_deprecated: m.status === "deprecated",
    endpoints,
    finetuned: false,
    context_length: m.context,
    tokenizer_url: tok(m.name),
    default_endpoints: DEFAULTS[m.name] ?? [],
  };
  if (kind === "chat") {
    const old = m.context <= 4096;
    return { ...base, features: old ? [] : [...CHAT_FEATURES, ...(m.features ?? [])], sampling_defaults: CHAT_SAMPLING };
  }
  if (kind === "embed") return { ...base, features: m.name.includes("v2.0") ? [] : [...(m.features ?? ["multimodal"])] };
  return { ...base, features: [], ...(m.name === "rerank-v3.5" ? { sampling_defaults: { max_tokens_per_doc: 4096 } } : {}) };
}

/** Every live or deprecated model of the shared table that GET /v1/models lists (retired ones are gone). */
export const MODELS: readonly ModelInfo[] = COHERE_MODELS.filter((m) => m.status !== "retired" && !m.endpoints.includes("parse") && !m.endpoints.includes("transcribe")).map(info);

/** Embedding dimension for a model (output_dimension wins when given). */
export function embedDimension(model: string | undefined, outputDimension?: number): number {
  if (outputDimension) return outputDimension;
  const m = (model ?? "").toLowerCase();
  if (m.startsWith("embed-v4")) return 1536;
  if (m.includes("light")) return 384;
  return 1024;
}

const NOT_FOUND = E404.model;

/** The API name Cohere uses in "is not supported by the … API". */
const API_NAME: Record<Endpoint, string> = {
  chat: "chat",
  embed: "embed",
  classify: "classify",
  summarize: "summarize",
  rerank: "rerank",
  rate: "rate",
  generate: "generate",
};

/** Fine-tune base types → the endpoints a fine-tuned model serves. */
const FINETUNE_ENDPOINTS: Record<string, Endpoint[]> = {
  BASE_TYPE_CHAT: ["chat"],
  BASE_TYPE_GENERATIVE: ["generate", "chat"],
  BASE_TYPE_CLASSIFICATION: ["classify"],
  BASE_TYPE_RERANK: ["rerank"],
};

/** A stored fine-tune addressed as `<id>-ft` or `<id>`, as a catalogue entry. */
function finetuned(state: EmulatorState, name: string): ModelInfo | undefined {
  const rec = state.finetunes.get(name.replace(/-ft$/, ""));
  if (!rec) return undefined;
  const baseType = ((rec.model.settings as { base_model?: { base_type?: string } } | undefined)?.base_model?.base_type ?? "") as string;
  return { ...chatModel(name), finetuned: true, endpoints: FINETUNE_ENDPOINTS[baseType] ?? ["chat"] };
}

export function findModel(state: EmulatorState, name: string): ModelInfo | undefined {
  return MODELS.find((m) => m.name === name) ?? finetuned(state, name);
}

/**
 * The model a call runs on: the one asked for (404 unknown, 400 wrong kind) or the endpoint's
 * default. Returns its name.
 */
export function useModel(state: EmulatorState, requested: unknown, endpoint: Endpoint): string {
  if (typeof requested !== "string") return MODELS.find((m) => m.default_endpoints.includes(endpoint))!.name;
  const m = findModel(state, requested);
  if (!m) throw new ApiError(404, NOT_FOUND(requested));
  if (!m.endpoints.includes(endpoint)) throw new ApiError(400, E400.notSupportedBy(requested, API_NAME[endpoint]));
  return m.name;
}

/** Any known model (tokenize / detokenize take every catalogue model). */
export function knownModel(state: EmulatorState, requested: string): void {
  if (!findModel(state, requested)) throw new ApiError(404, NOT_FOUND(requested));
}

export function transcribeModel(requested: string): void {
  servedOnlyBy(TRANSCRIBE_MODELS, requested, "audio transcriptions");
}

/** /v2/parse: a parse model (404 unknown, 400 a model of another kind). */
export function parseModel(requested: string): void {
  servedOnlyBy(PARSE_MODELS, requested, "parse");
}

function servedOnlyBy(models: readonly string[], requested: string, api: string): void {
  if (models.includes(requested)) return;
  if (MODELS.some((m) => m.name === requested) || cohereModel(requested)?.status === "live") {
    throw new ApiError(400, E400.notSupportedBy(requested, api));
  }
  throw new ApiError(404, NOT_FOUND(requested));
}

/** max_tokens above what the model can return → Cohere's "too many tokens" 400. */
export function checkMaxTokens(model: string, maxTokens: unknown): void {
  if (typeof maxTokens !== "number") return;
  const cap = cohereModel(model)?.maxOutput ?? DEFAULT_MAX_OUTPUT;
  if (maxTokens > cap) {
    throw new ApiError(400, `too many tokens: max tokens must be less than or equal to ${cap}, the maximum output for this model - received ${maxTokens}.`);
  }
}

/**
 * The X-API-Warning Cohere sends about a deprecated model, on the operations whose answers the
 * spec declares it for (GET /v1/models/{model}, embed v1/v2, embed jobs).
 */
export function deprecatedModelWarning(m: ModelInfo | undefined): string | undefined {
  return m?.is_deprecated ? deprecationWarning(m.name) : undefined;
}

/** `{warnings: [...]}` for a v1 answer's `meta` (ApiMeta.warnings) when `name` is a deprecated model, else {}. */
export function modelWarnings(name: unknown): { warnings?: string[] } {
  const w = deprecationWarning(name);
  return w ? { warnings: [w] } : {};
}

/** `{"x-api-warning": …}` when `name` is a deprecated model, else undefined. */
export function modelWarningHeaders(state: EmulatorState, name: unknown): Record<string, string> | undefined {
  const w = typeof name === "string" ? deprecatedModelWarning(findModel(state, name)) : undefined;
  return w ? { "x-api-warning": w } : undefined;
}
