/** The fixed model catalogue served by GET /v1/models (shapes follow GetModelResponse). */

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

const tok = (name: string) => `https://storage.googleapis.com/cohere-public/tokenizers/${name}.json`;

const CHAT_FEATURES = ["json_mode", "json_schema", "safety_modes", "strict_tools", "tool_use"];
const CHAT_SAMPLING = { temperature: 0.3, k: 0, p: 0.75, frequency_penalty: 0, presence_penalty: 0 };

export const MODELS: readonly ModelInfo[] = [
  {
    name: "command-a-03-2025",
    is_deprecated: false,
    endpoints: ["chat", "generate", "summarize"],
    finetuned: false,
    context_length: 256000,
    tokenizer_url: tok("command-a-03-2025"),
    default_endpoints: ["chat"],
    features: CHAT_FEATURES,
    sampling_defaults: CHAT_SAMPLING,
  },
  {
    name: "command-r-plus-08-2024",
    is_deprecated: false,
    endpoints: ["chat", "generate", "summarize"],
    finetuned: false,
    context_length: 128000,
    tokenizer_url: tok("command-r-plus-08-2024"),
    default_endpoints: [],
    features: CHAT_FEATURES,
    sampling_defaults: CHAT_SAMPLING,
  },
  {
    name: "command-r-08-2024",
    is_deprecated: false,
    endpoints: ["chat", "generate", "summarize"],
    finetuned: false,
    context_length: 128000,
    tokenizer_url: tok("command-r-08-2024"),
    default_endpoints: ["generate", "summarize"],
    features: CHAT_FEATURES,
    sampling_defaults: CHAT_SAMPLING,
  },
  {
    name: "command-r7b-12-2024",
    is_deprecated: false,
    endpoints: ["chat", "generate", "summarize"],
    finetuned: false,
    context_length: 128000,
    tokenizer_url: tok("command-r7b-12-2024"),
    default_endpoints: [],
    features: CHAT_FEATURES,
    sampling_defaults: CHAT_SAMPLING,
  },
  {
    name: "embed-v4.0",
    is_deprecated: false,
    endpoints: ["embed", "classify"],
    finetuned: false,
    context_length: 128000,
    tokenizer_url: tok("embed-v4.0"),
    default_endpoints: ["embed"],
    features: ["multimodal", "output_dimension"],
  },
  {
    name: "embed-english-v3.0",
    is_deprecated: false,
    endpoints: ["embed", "classify"],
    finetuned: false,
    context_length: 512,
    tokenizer_url: tok("embed-english-v3.0"),
    default_endpoints: ["classify"],
    features: ["multimodal"],
  },
  {
    name: "embed-multilingual-v3.0",
    is_deprecated: false,
    endpoints: ["embed", "classify"],
    finetuned: false,
    context_length: 512,
    tokenizer_url: tok("embed-multilingual-v3.0"),
    default_endpoints: [],
    features: ["multimodal"],
  },
  {
    name: "embed-english-light-v3.0",
    is_deprecated: false,
    endpoints: ["embed", "classify"],
    finetuned: false,
    context_length: 512,
    tokenizer_url: tok("embed-english-light-v3.0"),
    default_endpoints: [],
    features: ["multimodal"],
  },
  {
    name: "rerank-v3.5",
    is_deprecated: false,
    endpoints: ["rerank"],
    finetuned: false,
    context_length: 4096,
    tokenizer_url: tok("rerank-v3.5"),
    default_endpoints: ["rerank"],
    features: [],
    sampling_defaults: { max_tokens_per_doc: 4096 },
  },
  {
    name: "rerank-english-v3.0",
    is_deprecated: false,
    endpoints: ["rerank"],
    finetuned: false,
    context_length: 4096,
    tokenizer_url: tok("rerank-english-v3.0"),
    default_endpoints: [],
    features: [],
  },
];

/** Embedding dimension for a model (output_dimension wins when given). */
export function embedDimension(model: string | undefined, outputDimension?: number): number {
  if (outputDimension) return outputDimension;
  const m = (model ?? "").toLowerCase();
  if (m.startsWith("embed-v4")) return 1536;
  if (m.includes("light")) return 384;
  return 1024;
}
