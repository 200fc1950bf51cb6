import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { LATEST } from "../models.js";
import { explainUnion, priority, seed, topK, topP, shown } from "./common.js";
import { shapeChatV2 } from "../../shape/chat.js";

/* Content blocks (spec: ChatTextContent, ImageContent, ChatThinkingContent, DocumentContent). */
const textPart = z.object({ type: z.literal("text"), text: z.string() }).strict();

const imagePart = z
  .object({
    type: z.literal("image_url"),
    image_url: z
      .object({
        url: z.string().min(1).describe("URL or data URI"),
        detail: z.enum(["auto", "low", "high"]).optional(),
      })
      .strict(),
  })
  .strict();

const thinkingPart = z.object({ type: z.literal("thinking"), thinking: z.string() }).strict();

/**
 * Spec `Document`: free-form `data` plus an optional id that citations refer to. `data` may also
 * be a JSON string, as Cohere's own tool-use guide sends it (`json.dumps(result)`): forwarded as given.
 */
const document = z
  .object({ id: z.string().optional(), data: z.union([z.record(z.unknown()), z.string()], { errorMap: explainUnion("an object or a JSON string") }) })
  .strict();

/** Cohere's rule for tool names (the v1 spec's pattern; Cohere's v2 ToolV2 docs: a-z, A-Z, 0-9, _, not starting with a digit). */
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const toolNameFix = (name: string) => name.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(\d)/, "_$1");

/** Tool output as a document block: a spec `Document` (data required). */
const documentPart = z.object({ type: z.literal("document"), document }).strict();

/** Message content: a string, or a list of content blocks. */
const content = <T extends z.ZodTypeAny>(part: T) =>
  z.union([z.string(), z.array(part)], { errorMap: explainUnion("a string or a list of content blocks") });

const toolCall = z
  .object({
    id: z.string(),
    type: z.literal("function"),
    function: z.object({ name: z.string(), arguments: z.string() }).strict().optional(),
  })
  .strict();

/** Content with no text (or only spaces) and no image. */
function isEmptyContent(c: string | Array<{ type: string; text?: string }>): boolean {
  if (typeof c === "string") return c.trim() === "";
  return !c.some((b) => b.type === "image_url" || (b.type === "text" && (b.text ?? "").trim() !== ""));
}

/* Messages (spec: ChatMessageV2, discriminated on `role`). */
const message = z.discriminatedUnion("role", [
  z.object({ role: z.literal("user"), content: content(z.discriminatedUnion("type", [textPart, imagePart])) }).strict(),
  z
    .object({
      role: z.literal("assistant"),
      content: content(z.discriminatedUnion("type", [textPart, thinkingPart])).optional(),
      tool_calls: z.array(toolCall).optional(),
      tool_plan: z.string().optional(),
      citations: z.array(z.record(z.unknown())).optional(),
    })
    .strict(),
  // The spec also allows a list of text blocks here; a plain string says the same in far less schema.
  z.object({ role: z.literal("system"), content: z.string() }).strict(),
  z
    .object({
      role: z.literal("tool"),
      tool_call_id: z.string(),
      content: content(z.discriminatedUnion("type", [textPart, documentPart])),
    })
    .strict(),
]);

/* Spec: ToolV2. `function` is optional in the spec but a tool without it cannot be called. */
const tool = z
  .object({
    type: z.literal("function"),
    function: z
      .object({
        name: z.string().min(1),
        description: z.string().optional(),
        parameters: z.record(z.unknown()).describe("JSON Schema"),
      })
      .strict(),
  })
  .strict();

/* Spec: ResponseFormatV2, discriminated on `type`. */
const responseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }).strict(),
  z
    .object({
      type: z.literal("json_object"),
      json_schema: z.record(z.unknown()).optional(),
    })
    .strict(),
]);

export const chat = defineTool({
  name: "chat",
  title: "Chat (Command)",
  group: "chat",
  access: "read",
  method: "POST",
  path: "/v2/chat",
  apiVersion: "v2",
  description:
    "Next assistant reply from a Command model (Chat v2): tool use, cited answers over `documents`, JSON, reasoning. " +
    "Billed per token; rate limited.",
  input: z
    .object({
      model: z.string().min(1).describe(`e.g. ${LATEST.chat}`),
      messages: z.array(message).min(1),
      tools: z.array(tool).optional(),
      strict_tools: z.boolean().optional().describe("Beta: follow tool schemas"),
      tool_choice: z.enum(["REQUIRED", "NONE"]).optional(),
      documents: z
        .array(z.union([z.string(), document], { errorMap: explainUnion("a string or {data, id?}") }))
        .optional()
        .describe("Cited sources"),
      citation_options: z
        .object({ mode: z.enum(["ENABLED", "DISABLED", "FAST", "ACCURATE", "OFF"]).optional() })
        .strict()
        .optional(),
      response_format: responseFormat.optional(),
      safety_mode: z.enum(["CONTEXTUAL", "STRICT", "OFF"]).optional(),
      max_tokens: z.number().int().min(1).optional(),
      stop_sequences: z.array(z.string()).max(5).optional(),
      temperature: z.number().min(0).max(1).optional(),
      seed,
      frequency_penalty: z.number().min(0).max(1).optional(),
      presence_penalty: z.number().min(0).max(1).optional(),
      k: topK,
      p: topP,
      logprobs: z.boolean().optional(),
      thinking: z
        .object({
          type: z.enum(["enabled", "disabled"]),
          token_budget: z.number().int().min(1).optional(),
        })
        .strict()
        .optional(),
      priority,
    })
    .strict()
    .superRefine((i, ctx) => {
      if (i.tool_choice === "REQUIRED" && !i.tools?.length) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["tool_choice"],
          message: "tool_choice REQUIRED needs a non-empty `tools` list",
        });
      }
      // Cohere's 400s "system turn must be the first in the list" and "message must not be empty in a turn"
      let other = false;
      i.messages.forEach((m, n) => {
        if (m.role === "system" && other) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["messages", n, "role"], message: "a system message must come before every other message" });
        }
        if (m.role !== "system") other = true;
        if ((m.role === "user" || m.role === "system") && isEmptyContent(m.content)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["messages", n, "content"], message: "must not be empty" });
        }
      });
      // Tool calls: each id issued once by an assistant turn, and only issued ids answered (Cohere 400s otherwise)
      const issued = new Set<string>();
      i.messages.forEach((m, n) => {
        if (m.role === "assistant") {
          (m.tool_calls ?? []).forEach((c, k) => {
            if (issued.has(c.id)) {
              ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["messages", n, "tool_calls", k, "id"], message: `duplicate tool call id ${JSON.stringify(c.id)}: every tool call needs an id of its own` });
            }
            issued.add(c.id);
          });
        }
        if (m.role === "tool" && !issued.has(m.tool_call_id)) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ["messages", n, "tool_call_id"],
            message: `no earlier assistant message has a tool call with id ${JSON.stringify(m.tool_call_id)}: answer only the ids of the assistant's tool_calls, after that assistant message`,
          });
        }
      });
      const docIds = new Set<string>();
      (i.documents ?? []).forEach((d, n) => {
        if (typeof d === "string" || d.id === undefined) return;
        if (docIds.has(d.id)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["documents", n, "id"], message: `duplicate document id ${JSON.stringify(d.id)}: citations could not tell the documents apart; give each its own id` });
        }
        docIds.add(d.id);
      });
      (i.tools ?? []).forEach((t, n) => {
        const name = t.function.name;
        if (!TOOL_NAME.test(name)) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ["tools", n, "function", "name"],
            message: `Cohere accepts tool names of letters, digits and _ only, not starting with a digit: rename ${JSON.stringify(name)} (e.g. ${JSON.stringify(toolNameFix(name))}) here and in the conversation`,
          });
        }
      });
      if (i.response_format?.type === "json_object" && i.documents?.length) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["response_format"],
          message: "Cohere does not combine JSON output with `documents` (RAG): drop response_format or the documents",
        });
      }
    }),
  resource: (i) => `with ${shown(i.model)}`,
  stream: "chat-v2",
  shape: shapeChatV2,
  output: { text: "string", finish_reason: "string", tool_calls: "array" },
  budgetHint: "Ask for a shorter reply (max_tokens) or fewer documents.",
});
