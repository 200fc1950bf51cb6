/**
 * Legacy v1 generation endpoints. All deprecated: generate and summarize by Cohere's spec,
 * chat/embed/rerank v1 because the v2 tools supersede them. `stream` is never exposed.
 */
import { z } from "zod/v3";
import { COHERE_MODELS, cohereModel } from "../models.js";
import { defineTool } from "../types.js";
import { EMBED_HINT, EMBED_OUTPUT, embedInputType, embeddingTypes, explainUnion, imageDataUri, returnVectors, seed, topK, topP, truncate, shown, counted } from "./common.js";
import { shapeChatV1, shapeGenerate } from "../../shape/chat.js";
import { shapeEmbeddings } from "../../shape/embed.js";
import { shapeRerank, shapeTextField } from "../../shape/ranking.js";

const penalty = z.number().min(0).max(1).optional();
const stopSequences = z.array(z.string()).max(5).optional();

/* ---------- chat_v1 (spec: /v1/chat) ---------- */

/* Deep v1 objects an agent copies from earlier responses rather than builds are kept free-form
 * (ToolCall {name, parameters}, ToolResult {call, outputs}) to keep the schema small. */
const freeForm = z.record(z.unknown());

const isToolCall = (c: unknown): boolean => {
  const call = c as { name?: unknown; parameters?: unknown } | null | undefined;
  return typeof call?.name === "string" && typeof call.parameters === "object" && call.parameters !== null;
};

/* Spec: ToolCall (v1) {name, parameters} and ToolResult (v1) {call, outputs: object[]}: checked here,
 * but shown to the agent as plain objects (superRefine adds nothing to the JSON Schema). */
const toolCallV1 = freeForm.superRefine((c, ctx) => {
  if (!isToolCall(c)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: "a tool call is {name, parameters}" });
});

const toolResultV1 = freeForm.superRefine((r, ctx) => {
  if (!isToolCall(r.call)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["call"], message: "needs `call: {name, parameters}`" });
  }
  if (!Array.isArray(r.outputs)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["outputs"], message: "needs `outputs`: a list of objects" });
  }
});

/* Spec: Message (v1), discriminated on `role`. */
const historyMessage = z.discriminatedUnion("role", [
  z
    .object({
      role: z.enum(["USER", "CHATBOT", "SYSTEM"]),
      message: z.string().min(1),
      tool_calls: z.array(toolCallV1).optional(),
    })
    .strict(),
  z.object({ role: z.literal("TOOL"), tool_results: z.array(toolResultV1).optional() }).strict(),
]);

/* Spec: Tool (v1). */
const toolV1 = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "use only a-z, A-Z, 0-9 and _, not starting with a digit"),
    description: z.string(),
    parameter_definitions: freeForm.optional().describe("{param: {type (Python), description?, required?}}"),
  })
  .strict();

export const chat_v1 = defineTool({
  name: "chat_v1",
  title: "Chat v1 (legacy)",
  group: "legacy",
  access: "read",
  method: "POST",
  path: "/v1/chat",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Legacy Chat v1: reply to `message` given optional `chat_history`, documents or tools; prefer the `chat` tool (v2) for new work. " +
    "Returns the reply `text`, plus citations, tool_calls and usage when relevant. " +
    "Billed per token; rate limited (Trial 20/min, Production 500/min).",
  input: z
    .object({
      message: z.string().min(1),
      model: z.string().min(1).optional().describe("e.g. command-a-03-2025"),
      preamble: z.string().optional().describe("Replaces the default preamble"),
      chat_history: z.array(historyMessage).optional(),
      conversation_id: z.string().optional().describe("Stored conversation to resume"),
      prompt_truncation: z.enum(["OFF", "AUTO", "AUTO_PRESERVE_ORDER"]).optional(),
      documents: z
        .array(z.record(z.string()))
        .optional()
        .describe("Cited sources, e.g. {title, snippet}"),
      citation_quality: z.enum(["ENABLED", "DISABLED", "FAST", "ACCURATE", "OFF"]).optional(),
      temperature: z.number().min(0).max(1).optional(),
      max_tokens: z.number().int().min(1).optional(),
      max_input_tokens: z.number().int().min(1).optional(),
      k: topK,
      p: topP,
      seed,
      stop_sequences: stopSequences,
      frequency_penalty: penalty,
      presence_penalty: penalty,
      tools: z.array(toolV1).optional(),
      tool_results: z
        .array(toolResultV1)
        .optional()
        .describe("[{call: {name, parameters}, outputs: [object]}]"),
      force_single_step: z.boolean().optional(),
      response_format: z
        .object({
          type: z.enum(["text", "json_object"]),
          schema: freeForm.optional(),
        })
        .strict()
        .optional(),
      safety_mode: z.enum(["CONTEXTUAL", "STRICT", "NONE"]).optional(),
    })
    .strict()
    .superRefine((i, ctx) => {
      if (i.response_format?.schema && i.response_format.type !== "json_object") {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["response_format", "schema"],
          message: "`schema` is only allowed with type json_object",
        });
      }
      if (i.message.trim() === "" && !i.tool_results?.length) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["message"], message: "must not be only whitespace (unless tool_results are given)" });
      }
      let other = false;
      (i.chat_history ?? []).forEach((m, n) => {
        if (m.role === "SYSTEM" && other) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["chat_history", n, "role"], message: "a SYSTEM message must come before every other message" });
        }
        if (m.role !== "SYSTEM") other = true;
      });
      if (i.response_format?.type === "json_object" && i.documents?.length) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["response_format"],
          message: "Cohere does not combine JSON output with `documents` (RAG): drop response_format or the documents",
        });
      }
      if (i.tool_results?.length && !i.tools?.length) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["tools"],
          message: "`tools` must be given together with `tool_results`",
        });
      }
    }),
  resource: (i) => (i.model ? `with ${shown(i.model)}` : undefined),
  stream: "chat-v1",
  shape: shapeChatV1,
  output: { text: "string", finish_reason: "string" },
  budgetHint: "Ask for a shorter reply (max_tokens) or fewer documents.",
});

/* ---------- generate (spec: /v1/generate, deprecated) ---------- */

export const generate = defineTool({
  name: "generate",
  title: "Generate text (legacy)",
  group: "legacy",
  access: "read",
  method: "POST",
  path: "/v1/generate",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Legacy text completion from a prompt (Cohere Generate, no longer maintained); use the `chat` tool instead. " +
    "Returns `generations` (text, optional token likelihoods). Billed per token and rate limited.",
  input: z
    .object({
      prompt: z.string().min(1).refine((p) => p.trim() !== "", "must not be only whitespace"),
      model: z.string().min(1).optional(),
      num_generations: z.number().int().min(1).max(5).optional(),
      max_tokens: z.number().int().min(0).optional(),
      truncate,
      temperature: z.number().min(0).max(5).optional(),
      seed,
      preset: z.string().min(1).optional().describe("Playground preset id"),
      end_sequences: z.array(z.string()).optional().describe("Cut before these; excluded from text"),
      stop_sequences: z.array(z.string()).optional().describe("Cut after these; included in text"),
      k: topK,
      p: topP,
      frequency_penalty: z.number().min(0).optional(),
      presence_penalty: penalty,
      return_likelihoods: z.enum(["GENERATION", "ALL", "NONE"]).optional(),
      raw_prompting: z.boolean().optional().describe("Send the prompt without pre-processing"),
    })
    .strict()
    .superRefine((i, ctx) => {
      if (i.max_tokens === 0 && i.return_likelihoods !== "ALL") {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["max_tokens"], message: "0 is only allowed with return_likelihoods ALL" });
      }
      servedFor(i.model, "generate", ctx);
    }),
  resource: (i) => (i.model ? `with ${shown(i.model)}` : undefined),
  stream: "generate",
  shape: shapeGenerate,
  output: { generations: "array" },
  budgetHint: "Ask for fewer or shorter generations (num_generations, max_tokens).",
});

/** A model the table knows and that does not serve this v1 endpoint: Cohere 400s it, so say so before sending. */
function servedFor(model: string | undefined, endpoint: "generate" | "summarize", ctx: z.RefinementCtx): void {
  const m = model ? cohereModel(model) : undefined;
  if (!m || m.status === "retired" || m.endpoints.includes(endpoint)) return;
  const served = COHERE_MODELS.filter((x) => x.status !== "retired" && x.endpoints.includes(endpoint)).map((x) => x.name);
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    path: ["model"],
    message:
      `${model} does not serve ${endpoint} (Cohere answers 400): use the chat tool with it (Cohere's replacement for ${endpoint}), ` +
      `or one of ${endpoint}'s own models ${served.join(", ")} (deprecated with it since 2025-09-15)`,
  });
}

/* ---------- summarize (spec: /v1/summarize, deprecated) ---------- */

export const summarize = defineTool({
  name: "summarize",
  title: "Summarize text (legacy)",
  group: "legacy",
  access: "read",
  method: "POST",
  path: "/v1/summarize",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Legacy summary of an English text (Cohere Summarize); use the `chat` tool with a summarization prompt instead. " +
    "Returns `summary`. Billed per token and rate limited.",
  input: z
    .object({
      text: z.string().min(250).max(50000).describe("English text"),
      length: z.enum(["short", "medium", "long"]).optional(),
      format: z.enum(["paragraph", "bullets"]).optional(),
      model: z.string().min(1).optional(),
      extractiveness: z.enum(["low", "medium", "high"]).optional().describe("How much to reuse sentences verbatim"),
      temperature: z.number().min(0).max(5).optional(),
      additional_command: z
        .string()
        .optional()
        .describe('Completes "Generate a summary _", e.g. "focusing on next steps"'),
    })
    .strict()
    .superRefine((i, ctx) => servedFor(i.model, "summarize", ctx)),
  resource: (i) => `${counted(i.text.length, "character")}${i.model ? ` with ${shown(i.model)}` : ""}`,
  shape: shapeTextField("summary"),
  output: { summary: "string" },
});

/* ---------- embed_v1 (spec: /v1/embed) ---------- */

export const embed_v1 = defineTool({
  name: "embed_v1",
  title: "Embed v1 (legacy)",
  group: "legacy",
  access: "read",
  method: "POST",
  path: "/v1/embed",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Legacy Embed v1: embed `texts` or `images` (≤96 per call); prefer the `embed` tool (v2). " +
    "Returns `embeddings` (floats, or keyed by type when `embedding_types` is set). Billed per token; rate limited (2,000 inputs/min).",
  input: z
    .object({
      texts: z.array(z.string()).min(1).max(96, "at most 96 texts per call; split into several calls").optional(),
      images: z
        .array(imageDataUri)
        .min(1)
        .max(96, "at most 96 images per call; split into several calls")
        .optional()
        .describe("Image data URIs"),
      model: z.string().min(1).optional().describe("e.g. embed-v4.0"),
      input_type: embedInputType.optional().describe("Required for v3+ models"),
      embedding_types: embeddingTypes,
      truncate,
      return_vectors: returnVectors,
    })
    .strict()
    .superRefine((i, ctx) => {
      if ((i.texts === undefined) === (i.images === undefined)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: i.texts ? ["images"] : [],
          message: i.texts ? "give only one of `texts` or `images`" : "give one of `texts` or `images`",
        });
      }
      // Cohere 400s images embedded for search or classification: an image's input_type is "image"
      if (i.images !== undefined && i.input_type !== undefined && i.input_type !== "image") {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["input_type"], message: `must be "image" with \`images\` (Cohere refuses images with input_type ${i.input_type})` });
      }
    }),
  resource: (i) => `${counted((i.texts ?? i.images ?? []).length, "input")}${i.model ? ` with ${shown(i.model)}` : ""}`,
  localKeys: ["return_vectors"],
  shape: (data, i, budget) => shapeEmbeddings(data, i, budget.maxChars),
  output: EMBED_OUTPUT,
  budgetHint: EMBED_HINT,
});

/* ---------- rerank_v1 (spec: /v1/rerank) ---------- */

export const rerank_v1 = defineTool({
  name: "rerank_v1",
  title: "Rerank v1 (legacy)",
  group: "legacy",
  access: "read",
  method: "POST",
  path: "/v1/rerank",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Legacy Rerank v1: order documents (strings or objects with `text`) by relevance to a query; prefer the `rerank` tool (v2). " +
    "Returns results as {index, relevance_score}, best first. Billed per search unit; rate limited (Trial 10/min).",
  input: z
    .object({
      model: z.string().min(1).optional().describe("e.g. rerank-v3.5"),
      query: z.string().min(1).refine((q) => q.trim() !== "", "must not be only whitespace"),
      documents: z
        .array(
          z.union([z.string(), z.record(z.unknown())], {
            errorMap: explainUnion("a string or an object with the rank_fields (default `text`)"),
          }),
        )
        .min(1)
        .max(10000),
      top_n: z.number().int().min(1).optional(),
      rank_fields: z
        .array(z.string())
        .min(1, "must name at least one field (leave rank_fields out to rank on `text`)")
        .optional()
        .describe("Object keys to rank on, in order"),
      return_documents: z.boolean().optional(),
      max_chunks_per_doc: z.number().int().min(1).optional(),
    })
    .strict()
    .superRefine((i, ctx) => {
      // Cohere: "number of total max chunks (number of documents * max chunks per doc) must be less than 10000"
      const perDoc = i.max_chunks_per_doc ?? 10;
      if (i.documents.length * perDoc >= 10_000) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["documents"],
          message: `${i.documents.length} documents × max_chunks_per_doc ${perDoc} must be less than 10,000 (Cohere's limit on chunks): send at most ${Math.ceil(10_000 / perDoc) - 1} documents, or lower max_chunks_per_doc`,
        });
      }
      // Object documents are ranked on rank_fields (default ["text"]): each must have them.
      const fields = i.rank_fields?.length ? i.rank_fields : ["text"];
      i.documents.forEach((d, n) => {
        if (typeof d === "string") return;
        const missing = fields.filter((f) => !Object.prototype.hasOwnProperty.call(d, f));
        if (missing.length) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ["documents", n],
            message: `object documents need the rank_fields ${missing.map((f) => `"${f}"`).join(", ")}`,
          });
        }
      });
    }),
  resource: (i) => `${counted(i.documents.length, "document")}${i.model ? ` with ${shown(i.model)}` : ""}`,
  shape: shapeRerank,
  output: { results: "array" },
  budgetHint: "Ask for fewer results (top_n), or leave out return_documents.",
});
