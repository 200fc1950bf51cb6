/**
 * Cohere's model lineup, in one place: the emulator's model catalogue (GET /v1/models, the model
 * checks of every call) and every place the server reasons about models (the refusal of retired
 * models, argument rules such as output_dimension, descriptions' examples) read this table. The
 * next lineup change is one edit here. Where each fact comes from: `SOURCES`, and
 * docs/cohere-sources.md.
 */

/** Cohere endpoints a model can serve (GET /v1/models `endpoints`, plus parse and transcription). */
export type ModelEndpoint = "chat" | "embed" | "classify" | "summarize" | "rerank" | "generate" | "parse" | "transcribe";

export type ModelStatus = "live" | "deprecated" | "retired";

export interface CohereModel {
  name: string;
  status: ModelStatus;
  endpoints: readonly ModelEndpoint[];
  /** Context length in tokens. */
  context: number;
  /** Largest max_tokens a generation model returns. */
  maxOutput?: number;
  /** The date Cohere deprecated or retired it (YYYY-MM-DD). */
  since?: string;
  /** What Cohere recommends instead (deprecated and retired models). */
  replacements?: readonly string[];
  /** Extra features GET /v1/models lists (vision, output_dimension, reasoning, …). */
  features?: readonly string[];
  /** Key into SOURCES. */
  source: keyof typeof SOURCES;
}

/** Where each row comes from (docs.cohere.com pages and the changelog, read 2026-12). */
export const SOURCES = {
  models: "https://docs.cohere.com/docs/models (Command, Embed, Rerank tables)",
  spec: "cohere-openapi.yaml (cohere-ai/cohere-developer-experience @ ca56a6ff): example requests name it",
  reasoning: "https://docs.cohere.com/docs/command-a-reasoning; the spec's chat code sample",
  translate: "https://docs.cohere.com/docs/command-a-translate (8K context, 8K output)",
  deprecations: "https://docs.cohere.com/docs/deprecations; changelog 2025-09-15 'Major Command model deprecations'",
  retirement: "https://docs.cohere.com/changelog/2026-04-04-embed-v2-aya-8b-retirement",
  rerank35: "changelog 2024-12-02 'Rerank-v3.5 and the v2 Rerank API' (Rerank v2.0 family deprecated); shut down 2025-04-30 per docs.cohere.com/docs/deprecations",
  v5: "https://docs.cohere.com/docs/cohere-on-openrouter (Embed 5: 128k context; Rerank 5: 32,768 tokens); changelog 'Embed 5 and Rerank 5'",
  parse: "https://docs.cohere.com/docs/parse and /v2/reference/parse; changelog 'Meet Cohere Parse'; cohere-ai 8.1.0 ParseRequest",
  transcribe: "cohere-openapi.yaml /v2/audio/transcriptions example; https://docs.cohere.com/docs/models (Transcribe)",
  legacy:
    "the spec's /v1/generate and /v1/summarize `model`: 'command (default), command-nightly, command-light, command-light-nightly'; " +
    "docs.cohere.com/docs/models before 2025-09-16 and docs/command-beta today: command, command-light serve Chat and Summarize, every Command R / A model Chat only; " +
    "docs.cohere.com/reference/errors: \"model 'command-r' is not supported by the generate API\"",
} as const;

const DEPRECATED_2025_09_15 = ["command-r-08-2024", "command-r-plus-08-2024", "command-a-03-2025"] as const;
const EMBED_V2_REPLACEMENTS = ["embed-english-v3.0", "embed-multilingual-v3.0", "embed-v4.0"] as const;
const AYA_8B_REPLACEMENTS = ["command-r7b-12-2024", "command-a-03-2025", "command-a-reasoning-08-2025"] as const;

const CHAT: readonly ModelEndpoint[] = ["chat"];
/**
 * The v1 generation endpoints (generate, summarize) are served by `command` and `command-light`
 * only (both deprecated 2025-09-15, like the endpoints): the spec names them as generate's and
 * summarize's models, the models pages list Chat only for every Command R and Command A model, and
 * Cohere's errors page shows "model 'command-r' is not supported by the generate API" (SOURCES.legacy).
 */
const CHAT_LEGACY: readonly ModelEndpoint[] = ["chat", "generate", "summarize"];
const EMBED: readonly ModelEndpoint[] = ["embed", "classify"];
const RERANK: readonly ModelEndpoint[] = ["rerank"];

export const COHERE_MODELS: readonly CohereModel[] = [
  /* Command */
  { name: "command-a-03-2025", status: "live", endpoints: CHAT, context: 256000, maxOutput: 8192, source: "models" },
  { name: "command-a-plus-05-2026", status: "live", endpoints: CHAT, context: 256000, maxOutput: 8192, source: "spec" },
  { name: "command-a-reasoning-08-2025", status: "live", endpoints: CHAT, context: 256000, maxOutput: 32000, features: ["reasoning"], source: "reasoning" },
  { name: "command-a-translate-08-2025", status: "live", endpoints: CHAT, context: 8000, maxOutput: 8000, source: "translate" },
  { name: "command-a-vision-07-2025", status: "live", endpoints: CHAT, context: 128000, maxOutput: 8192, features: ["vision"], source: "models" },
  { name: "command-r7b-12-2024", status: "live", endpoints: CHAT, context: 128000, maxOutput: 4096, source: "models" },
  { name: "command-r-08-2024", status: "live", endpoints: CHAT, context: 128000, maxOutput: 4096, source: "models" },
  { name: "command-r-plus-08-2024", status: "live", endpoints: CHAT, context: 128000, maxOutput: 4096, source: "models" },
  ...(["command-r-03-2024", "command-r-plus-04-2024", "command-r-plus", "command-r"] as const).map(
    (name): CohereModel => ({ name, status: "deprecated", since: "2025-09-15", endpoints: CHAT, context: 128000, maxOutput: 4096, replacements: DEPRECATED_2025_09_15, source: "deprecations" }),
  ),
  ...(["command-light", "command"] as const).map(
    (name): CohereModel => ({ name, status: "deprecated", since: "2025-09-15", endpoints: CHAT_LEGACY, context: 4096, maxOutput: 4096, replacements: DEPRECATED_2025_09_15, source: "legacy" }),
  ),
  /* Aya */
  { name: "c4ai-aya-expanse-32b", status: "live", endpoints: CHAT, context: 128000, maxOutput: 4096, source: "models" },
  { name: "c4ai-aya-vision-32b", status: "live", endpoints: CHAT, context: 16000, maxOutput: 4096, features: ["vision"], source: "models" },
  ...(["c4ai-aya-expanse-8b", "c4ai-aya-vision-8b"] as const).map(
    (name): CohereModel => ({ name, status: "retired", since: "2026-04-04", endpoints: CHAT, context: 8000, replacements: AYA_8B_REPLACEMENTS, source: "retirement" }),
  ),
  /* Embed */
  { name: "embed-v5.0-pro", status: "live", endpoints: EMBED, context: 128000, features: ["multimodal", "output_dimension"], source: "v5" },
  { name: "embed-v5.0-fast", status: "live", endpoints: EMBED, context: 128000, features: ["multimodal", "output_dimension"], source: "v5" },
  { name: "embed-v4.0", status: "live", endpoints: EMBED, context: 128000, features: ["multimodal", "output_dimension"], source: "models" },
  { name: "embed-english-v3.0", status: "live", endpoints: EMBED, context: 512, features: ["multimodal"], source: "models" },
  { name: "embed-multilingual-v3.0", status: "live", endpoints: EMBED, context: 512, features: ["multimodal"], source: "models" },
  { name: "embed-english-light-v3.0", status: "live", endpoints: EMBED, context: 512, features: ["multimodal"], source: "models" },
  { name: "embed-multilingual-light-v3.0", status: "live", endpoints: EMBED, context: 512, features: ["multimodal"], source: "models" },
  ...(["embed-english-v2.0", "embed-english-light-v2.0", "embed-multilingual-v2.0"] as const).map(
    (name): CohereModel => ({ name, status: "retired", since: "2026-04-04", endpoints: EMBED, context: 512, replacements: EMBED_V2_REPLACEMENTS, source: "retirement" }),
  ),
  /* Rerank */
  { name: "rerank-v5.0-pro", status: "live", endpoints: RERANK, context: 32768, source: "v5" },
  { name: "rerank-v5.0-fast", status: "live", endpoints: RERANK, context: 32768, source: "v5" },
  { name: "rerank-v4.0-pro", status: "live", endpoints: RERANK, context: 32768, source: "models" },
  { name: "rerank-v4.0-fast", status: "live", endpoints: RERANK, context: 32768, source: "models" },
  { name: "rerank-v3.5", status: "live", endpoints: RERANK, context: 4096, source: "models" },
  { name: "rerank-english-v3.0", status: "live", endpoints: RERANK, context: 4096, source: "models" },
  { name: "rerank-multilingual-v3.0", status: "live", endpoints: RERANK, context: 4096, source: "models" },
  ...(["rerank-english-v2.0", "rerank-multilingual-v2.0"] as const).map(
    (name): CohereModel => ({ name, status: "retired", since: "2025-04-30", endpoints: RERANK, context: 512, replacements: ["rerank-v3.5"], source: "rerank35" }),
  ),
  /* Parse and transcription */
  { name: "parse-v5.0", status: "live", endpoints: ["parse"], context: 8192, source: "parse" },
  { name: "cohere-transcribe-03-2026", status: "live", endpoints: ["transcribe"], context: 0, source: "transcribe" },
];

/** The model an endpoint's example and default names (descriptions, emulator defaults). */
export const LATEST: Readonly<Record<"chat" | "embed" | "rerank" | "parse" | "transcribe", string>> = {
  chat: "command-a-03-2025",
  embed: "embed-v4.0",
  rerank: "rerank-v3.5",
  parse: "parse-v5.0",
  transcribe: "cohere-transcribe-03-2026",
};

/** Cohere Parse: largest document (file, download or decoded data URI). Cohere says "20 MB". */
export const PARSE_MAX_BYTES = 20 * 1024 * 1024;

const BY_NAME = new Map(COHERE_MODELS.map((m) => [m.name, m]));

export function cohereModel(name: string): CohereModel | undefined {
  return BY_NAME.get(name);
}

/**
 * Why a retired model cannot be used, or undefined: the sentence an agent sees (the server refuses
 * before sending; the emulator answers it as Cohere's 404-like refusal).
 */
export function retiredMessage(name: unknown): string | undefined {
  if (typeof name !== "string") return undefined;
  const m = BY_NAME.get(name);
  if (m?.status !== "retired") return undefined;
  return `model '${name}' was retired by Cohere on ${m.since} and no longer serves requests; use ${m.replacements!.join(", ")} instead`;
}

/** The deprecation warning Cohere sends (X-API-Warning) for a deprecated model, else undefined. */
export function deprecationWarning(name: unknown): string | undefined {
  if (typeof name !== "string") return undefined;
  const m = BY_NAME.get(name);
  return m?.status === "deprecated"
    ? `Model ${m.name} is deprecated, for more information please refer to https://docs.cohere.com/docs/deprecations`
    : undefined;
}
