/**
 * POST /v2/chat: an echo model with Cohere's behaviour around it — model checks, Cohere's 400s
 * (a system turn after the first, an empty turn, response_format with documents), tool calls
 * chosen and filled from the tools' schemas, cited answers over documents (unnamed documents get
 * Cohere's `doc:N` ids), max_tokens / stop_sequences cut-offs with matching billed tokens, and
 * the same answer streamed as SSE (tool-call arguments in several fragments, one LogprobItem per
 * content-delta).
 */
import { applyLimits, logprobItem, pieces, type Finish } from "../generation.js";
import { checkMaxTokens, useModel } from "../models.js";
import * as S from "../schemas.js";
import { argumentFragments, argumentSets, chooseTools, toolCallId, toolsV2 } from "../tools.js";
import { countTokens, snippet, uuidFrom } from "../util.js";
import { badRequest, json, rejected, type Ctx, type Reply, type Route, type StreamEvent } from "./types.js";
import { blank, contentText, docText, echo, EMULATE_ERROR, isStream, usage } from "./common.js";
import { E400 } from "../cohere-errors.js";

interface ChatPlan {
  id: string;
  blocks: Array<{ type: "text" | "thinking"; text: string }>;
  toolPlan?: string;
  toolCalls: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }>;
  citations: Array<Record<string, unknown> & { end: number }>;
  finish: Finish | "TOOL_CALL" | "ERROR";
  error?: string;
  inputTokens: number;
  outputTokens: number;
}

type Message = { role?: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string };

/** Cohere's tool-name rule (v1 spec pattern; v2 ToolV2: a-z, A-Z, 0-9, _, not starting with a digit). */
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Cohere's 400s for a v2 conversation (messages as the errors page words them). */
function checkConversation(body: Record<string, unknown>): void {
  const messages = (body.messages as Message[]) ?? [];
  let seenOther = false;
  for (const m of messages) {
    if (m.role === "system" && seenOther) rejected("system turn must be the first in the list");
    if (m.role !== "system") seenOther = true;
    if ((m.role === "user" || m.role === "system") && blank(contentText(m.content)) && !hasImage(m.content)) {
      rejected("message must not be empty in a turn");
    }
  }
  if (!messages.length) badRequest("messages must not be empty");
  const issued = new Set<string>();
  for (const m of messages) {
    if (m.role === "assistant" && Array.isArray(m.tool_calls)) {
      for (const c of m.tool_calls as Array<{ id?: string }>) {
        if (typeof c.id !== "string") continue;
        if (issued.has(c.id)) rejected(E400.duplicateToolIds);
        issued.add(c.id);
      }
    }
    if (m.role === "tool" && typeof m.tool_call_id === "string" && !issued.has(m.tool_call_id)) {
      rejected(E400.toolCallIdUnknown);
    }
  }
  const docIds = new Map<string, number>();
  const docs = Array.isArray(body.documents) ? (body.documents as Array<{ id?: unknown }>) : [];
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i];
    if (!d || typeof d !== "object" || typeof d.id !== "string") continue;
    const first = docIds.get(d.id);
    if (first !== undefined) rejected(E400.duplicateDocumentId(d.id, i, first));
    docIds.set(d.id, i);
  }
  for (const t of toolsV2(body.tools)) {
    if (!TOOL_NAME.test(t.name)) rejected(E400.toolName(t.name));
  }
  const rf = body.response_format as { type?: string } | undefined;
  if (rf?.type === "json_object" && Array.isArray(body.documents) && body.documents.length) {
    badRequest("response_format is not supported with RAG.");
  }
}

/** A document's `data` as the object a citation carries: a JSON string parsed when it holds an object. */
function asObject(data: unknown): Record<string, unknown> {
  if (data && typeof data === "object" && !Array.isArray(data)) return data as Record<string, unknown>;
  if (typeof data === "string") {
    try {
      const v = JSON.parse(data) as unknown;
      if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      /* not JSON: the text itself */
    }
    return { text: data };
  }
  return {};
}

/** The outputs of the last tool turn (the tool messages after the last assistant message), one per content item. */
function toolOutputs(messages: Message[]): Array<{ id: string; quote: string; output: Record<string, unknown> }> {
  let from = messages.length;
  while (from > 0 && messages[from - 1]!.role === "tool") from--;
  const out: Array<{ id: string; quote: string; output: Record<string, unknown> }> = [];
  for (const m of messages.slice(from)) {
    const items: unknown[] = typeof m.content === "string" ? [m.content] : Array.isArray(m.content) ? m.content : [];
    items.forEach((item, n) => {
      const it = item as { type?: string; text?: string; document?: { data?: unknown } };
      const output = typeof item === "string" ? asObject(item) : it.type === "document" ? asObject(it.document?.data) : asObject(it.text ?? "");
      const quote = snippet(docText(output), 60) || snippet(JSON.stringify(output), 60);
      out.push({ id: `${m.tool_call_id}:${n}`, quote, output });
    });
  }
  return out;
}

const hasImage = (content: unknown) => Array.isArray(content) && content.some((c) => (c as { type?: unknown })?.type === "image_url");

function planChatV2(ctx: Ctx): ChatPlan {
  const body = ctx.body as Record<string, unknown>;
  const messages = (body.messages as Message[]) ?? [];
  const last = messages[messages.length - 1];
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  const userText = lastUser ? contentText(lastUser.content) : "";
  const id = uuidFrom(`chat:${ctx.seq}:${JSON.stringify(body)}`);
  const inputTokens =
    messages.reduce((n, m) => n + countTokens(contentText(m.content)), 0) +
    (Array.isArray(body.documents) ? body.documents.reduce((n: number, d) => n + countTokens(docText(d)), 0) : 0);

  const calls = last?.role === "user" ? chooseTools(userText, toolsV2(body.tools), body.tool_choice) : [];
  if (calls.length) {
    const toolPlan = `I will use ${calls.map((t) => t.name).join(" and ")} to answer this request.`;
    const toolCalls = calls.flatMap((t) =>
      argumentSets(t.schema, userText).map((args, k) => ({
        id: toolCallId(t.name, k ? `${id}:${k}` : id),
        type: "function" as const,
        function: { name: t.name, arguments: JSON.stringify(args) },
      })),
    );
    return {
      id,
      blocks: [],
      toolPlan,
      toolCalls,
      citations: [],
      finish: "TOOL_CALL",
      inputTokens,
      outputTokens: countTokens(toolPlan) + toolCalls.reduce((n, c) => n + countTokens(c.function.arguments), 0),
    };
  }

  let text: string;
  const blocks: ChatPlan["blocks"] = [];
  const thinking = body.thinking as { type?: string } | undefined;
  if (thinking?.type === "enabled") blocks.push({ type: "thinking", text: `The user wrote ${JSON.stringify(snippet(userText, 80))}. I will reply.` });
  const citations: ChatPlan["citations"] = [];
  const citeMode = (body.citation_options as { mode?: string } | undefined)?.mode;
  const citing = citeMode !== "OFF" && citeMode !== "DISABLED";
  if (last?.role === "tool") {
    // the answer to a tool-result turn cites the tool outputs: sources of type "tool", id "<call id>:<n>"
    text = "Based on the tool results:";
    let n = 0;
    for (const out of toolOutputs(messages)) {
      text += n++ ? "; " : " ";
      const start = text.length;
      text += out.quote;
      if (citing) {
        citations.push({ start, end: text.length, text: out.quote, sources: [{ type: "tool", id: out.id, tool_output: out.output }], type: "TEXT_CONTENT", content_index: blocks.length });
      }
    }
    text += ".";
  } else {
    text = echo(userText);
  }
  const jsonMode = (body.response_format as { type?: string } | undefined)?.type === "json_object";
  if (jsonMode) {
    text = JSON.stringify({ reply: snippet(userText) || "hello" });
    citations.length = 0;
  }

  const docs = Array.isArray(body.documents) ? (body.documents as unknown[]) : [];
  if (docs.length && !jsonMode) {
    text += " Sources:";
    docs.slice(0, 3).forEach((doc, i) => {
      const isObj = doc !== null && typeof doc === "object";
      const d = doc as { id?: string; data?: Record<string, unknown> | string };
      // Cohere names documents without an id `doc:0`, `doc:1`, … (see the spec's RAG example)
      const docId = isObj && typeof d.id === "string" ? d.id : `doc:${i}`;
      const content = isObj ? asObject(d.data) : { text: doc };
      const quote = snippet(docText(isObj ? d.data : doc), 60) || docId;
      text += ` [${i + 1}] `;
      const start = text.length;
      text += quote;
      if (citing) {
        citations.push({
          start,
          end: text.length,
          text: quote,
          sources: [{ type: "document", id: docId, document: { id: docId, ...content } }],
          type: "TEXT_CONTENT",
          content_index: blocks.length,
        });
      }
      if (!/[.!?]$/.test(quote)) text += ".";
    });
  }

  const limited = applyLimits(text, {
    maxTokens: body.max_tokens as number | undefined,
    stopSequences: body.stop_sequences as string[] | undefined,
  });
  blocks.push({ type: "text", text: limited.text });
  const errored = userText.includes(EMULATE_ERROR);
  return {
    id,
    blocks,
    toolCalls: [],
    // a citation of text that was cut off is not returned
    citations: citations.filter((c) => c.end <= limited.text.length),
    finish: errored ? "ERROR" : limited.finish,
    error: errored ? "emulated error: the generation failed mid-way" : undefined,
    inputTokens,
    outputTokens: blocks.reduce((n, b) => n + countTokens(b.text), 0),
  };
}

function chatV2(ctx: Ctx): Reply {
  const body = ctx.body as Record<string, unknown>;
  const model = useModel(ctx.state, body.model, "chat");
  checkConversation(body);
  checkMaxTokens(model, body.max_tokens);
  const plan = planChatV2(ctx);
  const withLogprobs = body.logprobs === true;
  if (body.stream === true) return { kind: "stream", format: "sse", events: chatV2Events(plan, withLogprobs) };
  const message: Record<string, unknown> = { role: "assistant" };
  if (plan.toolPlan !== undefined) message.tool_plan = plan.toolPlan;
  if (plan.toolCalls.length) message.tool_calls = plan.toolCalls;
  if (plan.blocks.length) {
    message.content = plan.blocks.map((b) => (b.type === "text" ? { type: "text", text: b.text } : { type: "thinking", thinking: b.text }));
  }
  if (plan.citations.length) message.citations = plan.citations;
  const out: Record<string, unknown> = { id: plan.id, finish_reason: plan.finish, message, usage: usage(plan.inputTokens, plan.outputTokens) };
  // the same items the stream sends, one per piece of text
  if (withLogprobs) out.logprobs = plan.blocks.filter((b) => b.type === "text").flatMap((b) => pieces(b.text).map(logprobItem));
  return json(out);
}

function chatV2Events(plan: ChatPlan, withLogprobs: boolean): StreamEvent[] {
  const ev: StreamEvent[] = [];
  const push = (data: Record<string, unknown>) => ev.push({ name: data.type as string, data });
  push({ type: "message-start", id: plan.id, delta: { message: { role: "assistant" } } });
  if (plan.toolPlan !== undefined) {
    for (const piece of pieces(plan.toolPlan)) push({ type: "tool-plan-delta", delta: { message: { tool_plan: piece } } });
  }
  plan.toolCalls.forEach((call, index) => {
    push({
      type: "tool-call-start",
      index,
      delta: { message: { tool_calls: { id: call.id, type: "function", function: { name: call.function.name, arguments: "" } } } },
    });
    for (const fragment of argumentFragments(call.function.arguments)) {
      push({ type: "tool-call-delta", index, delta: { message: { tool_calls: { function: { arguments: fragment } } } } });
    }
    push({ type: "tool-call-end", index });
  });
  let cut = false;
  plan.blocks.forEach((block, index) => {
    if (cut) return;
    const isText = block.type === "text";
    push({
      type: "content-start",
      index,
      delta: { message: { content: isText ? { type: "text", text: "" } : { type: "thinking", thinking: "" } } },
    });
    let parts = pieces(block.text);
    if (plan.finish === "ERROR" && isText) {
      parts = parts.slice(0, Math.max(1, Math.ceil(parts.length / 2)));
      cut = true;
    }
    let offset = 0;
    for (const piece of parts) {
      const data: Record<string, unknown> = {
        type: "content-delta",
        index,
        delta: { message: { content: isText ? { text: piece } : { thinking: piece } } },
      };
      // spec ChatContentDeltaEvent.logprobs: ONE LogprobItem for this delta's text
      if (withLogprobs && isText) data.logprobs = logprobItem(piece);
      push(data);
      offset += piece.length;
      if (isText && !cut) {
        // each citation once the text it covers has been streamed
        plan.citations.forEach((c, ci) => {
          if (c.end <= offset && c.end > offset - piece.length) {
            push({ type: "citation-start", index: ci, delta: { message: { citations: c } } });
            push({ type: "citation-end", index: ci });
          }
        });
      }
    }
    if (!cut) push({ type: "content-end", index });
  });
  const delta: Record<string, unknown> = { finish_reason: plan.finish, usage: usage(plan.inputTokens, plan.outputTokens) };
  if (plan.error) delta.error = plan.error;
  push({ type: "message-end", id: plan.id, delta });
  return ev;
}

export const CHAT_ROUTES: Route[] = [
  { op: "chatv2", method: "POST", path: "/v2/chat", body: "json", schema: S.CHAT_V2, streams: isStream, handle: chatV2 },
];
