/**
 * Cohere's error messages, word for word from its errors page (docs.cohere.com/reference/errors;
 * `fern/pages/cohere-api/errors.mdx` in cohere-ai/cohere-developer-experience). Every emulator
 * error site that has a counterpart on that page answers with these; the rest keep the page's
 * `invalid request: …` form in our own words. docs/cohere-sources.md has the table of message
 * → source, and `worded` below are the refusals checked before a route's schema so that Cohere's
 * text wins over the validator's generic one.
 */

/** The 400s (the page lists some without the `invalid request: ` prefix; they are kept so). */
export const E400 = {
  modelRequired: "a model parameter is required for this endpoint.",
  temperature: "invalid request: temperature must be between 0 and 1.0 inclusive.",
  presencePenalty: "invalid request: presence_penalty must be between 0 and 1 inclusive.",
  tooManyTexts: (n: number) => `invalid request: total number of texts must be at most 96 - received ${n}`,
  historyMessage: "invalid request: all elements in history must have a message.",
  historyRole: (i: number) =>
    `invalid request: Invalid role in chat_history at index ${i}. Role must be one of the following: User, Chatbot, System, Tool`,
  summarizeTooShort: "invalid request: text must be longer than 250 characters",
  summarizeFormat: "invalid request: format must be one of 'paragraph', or 'bullets'.",
  summarizeLength: "invalid request: length must be one of 'short', 'medium', or 'long'.",
  textMissing: "invalid request: required 'text' param is missing or empty.",
  toolName: (name: string) =>
    `invalid request: tool names can only contain certain characters (A-Za-z0-9_) and can't begin with a digit (provided name: '${name}').`,
  toolCallIdMissing: "tool call id must be provided with tool message",
  toolCallIdUnknown: "tool call id not found in previous tool calls",
  duplicateToolIds: "cannot have duplicate tool ids",
  toolCallType: "tool call must be of type function",
  /** `later` is the index of the repeat, `first` the one it repeats (the page: "at index 1 and 0"). */
  duplicateDocumentId: (id: string, later: number, first: number) => `invalid request: duplicate document ID ${id} at index ${later} and ${first}`,
  imagesInputType: "invalid request: images must be used with input_type=image",
  rankFieldsEmpty: "invalid request: rank_fields cannot be empty, it must either contain at least one field or be omitted",
  noTextField: "document does not have a 'snippet' or a 'text' field that can be used for chunking and reranking",
  invalidJson: (detail: string) => `invalid json syntax: ${detail}`,
  notSupportedBy: (model: string, api: string) => `invalid request: model '${model}' is not supported by the ${api} API`,
} as const;

export const E401 = { noKey: "no api key supplied", invalidKey: "invalid api token" } as const;

export const E402 = "Please add or update your payment method at https://dashboard.cohere.com/billing?tab=payment to continue";

export const E404 = {
  page: "404 page not found",
  model: (name: string) => `model '${name}' not found, make sure the correct model ID was used and that you have access to the model.`,
  connector: (id: string) => `connector '${id}' not found.`,
  dataset: (id: string) => `dataset with id ${id} not found`,
  finetune: (id: string) => `finetuned model ${id} not found`,
} as const;

export const E429 = "You are past the per minute request limit, please wait and try again later.";
export const E499 = "request cancelled";

type Body = Record<string, unknown>;
const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const outside01 = (v: unknown) => num(v) && (v < 0 || v > 1);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const isObj = (v: unknown): v is Body => typeof v === "object" && v !== null && !Array.isArray(v);

function samplingRanges(b: Body): string | undefined {
  if (outside01(b.temperature)) return E400.temperature;
  if (outside01(b.presence_penalty)) return E400.presencePenalty;
  return undefined;
}

/**
 * Refusals Cohere words on its errors page, checked before the route's schema (the complete
 * message, prefix included, or undefined). Only rules the server also checks before sending, or
 * that only Cohere can judge, belong here: the fuzz suite counts any other refusal as a bug.
 */
export const worded: Record<string, (b: Body) => string | undefined> = {
  chatv2(b) {
    if (b.model === undefined) return E400.modelRequired;
    for (const m of list(b.messages)) {
      if (!isObj(m)) continue;
      if (m.role === "tool" && (m.tool_call_id === undefined || m.tool_call_id === "")) return E400.toolCallIdMissing;
      if (m.role === "assistant") {
        for (const c of list(m.tool_calls)) if (isObj(c) && c.type !== undefined && c.type !== "function") return E400.toolCallType;
      }
    }
    return samplingRanges(b);
  },
  chat(b) {
    const history = list(b.chat_history);
    for (let i = 0; i < history.length; i++) {
      const m = history[i];
      if (!isObj(m)) continue;
      if (typeof m.role !== "string" || !["USER", "CHATBOT", "SYSTEM", "TOOL"].includes(m.role)) return E400.historyRole(i);
      if (m.role !== "TOOL" && m.message === undefined) return E400.historyMessage;
    }
    return samplingRanges(b);
  },
  embedv2(b) {
    if (b.model === undefined) return E400.modelRequired;
    if (Array.isArray(b.texts) && b.texts.length > 96) return E400.tooManyTexts(b.texts.length);
    return undefined;
  },
  embed(b) {
    if (Array.isArray(b.texts) && b.texts.length > 96) return E400.tooManyTexts(b.texts.length);
    return undefined;
  },
  rerankv2(b) {
    return b.model === undefined ? E400.modelRequired : undefined;
  },
  summarize(b) {
    if (typeof b.text === "string" && b.text.length < 250) return E400.summarizeTooShort;
    if (b.format !== undefined && !["paragraph", "bullets"].includes(b.format as string)) return E400.summarizeFormat;
    if (b.length !== undefined && !["short", "medium", "long"].includes(b.length as string)) return E400.summarizeLength;
    return undefined;
  },
  tokenize(b) {
    return b.text === undefined || b.text === "" ? E400.textMissing : undefined;
  },
};
