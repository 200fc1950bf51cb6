/**
 * POST /v1/chat (legacy): the v2 echo model in v1's shapes — `text`, `chat_history`, v1 tool
 * calls {name, parameters} chosen and filled like v2's, citations with document_ids — and the
 * stream as NDJSON by default, or SSE when the request carries `Accepts: text/event-stream` (the
 * spec's header, with an "s"; the plain `Accept` header does not switch it).
 */
import { applyLimits } from "../generation.js";
import { checkMaxTokens, modelWarnings, useModel } from "../models.js";
import * as S from "../schemas.js";
import { argumentFragments, argumentsFor, chooseTools, toolsV1 } from "../tools.js";
import { countTokens, snippet, uuidFrom } from "../util.js";
import { pieces } from "../generation.js";
import { badRequest, json, rejected, type Ctx, type Reply, type Route, type StreamEvent } from "./types.js";
import { blank, checkStreamAccept, docText, echo, EMULATE_ERROR, isStream, meta } from "./common.js";

function checkChatV1(body: Record<string, unknown>): void {
  const toolResults = Array.isArray(body.tool_results) ? body.tool_results : [];
  if (blank(body.message) && !toolResults.length) badRequest("message must be at least 1 token long or tool results must be specified.");
  const history = (Array.isArray(body.chat_history) ? body.chat_history : []) as Array<{ role?: string }>;
  let seenOther = false;
  for (const m of history) {
    if (m.role === "SYSTEM" && seenOther) rejected("system turn must be the first in the list");
    if (m.role !== "SYSTEM") seenOther = true;
  }
  const rf = body.response_format as { type?: string } | undefined;
  if (rf?.type === "json_object" && Array.isArray(body.documents) && body.documents.length) {
    badRequest("response_format is not supported with RAG.");
  }
}

/** stream-end's finish_reason enum has no STOP_SEQUENCE (the response inside it does). */
const streamEndFinish = (f: string) => (f === "STOP_SEQUENCE" ? "COMPLETE" : f);

function chatV1(ctx: Ctx): Reply {
  const body = ctx.body as Record<string, unknown>;
  const model = useModel(ctx.state, body.model, "chat");
  checkChatV1(body);
  checkMaxTokens(model, body.max_tokens);
  const message = body.message as string;
  const history = (Array.isArray(body.chat_history) ? body.chat_history : []) as Array<Record<string, unknown>>;
  const generationId = uuidFrom(`chat1:${ctx.seq}:${JSON.stringify(body)}`);
  const responseId = uuidFrom(`chat1r:${ctx.seq}:${JSON.stringify(body)}`);
  const errored = message.includes(EMULATE_ERROR);

  const toolResults = Array.isArray(body.tool_results) ? (body.tool_results as Array<{ outputs?: unknown[] }>) : [];
  const calls = toolResults.length ? [] : chooseTools(message, toolsV1(body.tools));
  const toolCalls = calls.map((t) => ({ name: t.name, parameters: argumentsFor(t.schema, message) }));

  let text: string;
  if (toolCalls.length) text = `I will use ${calls.map((t) => t.name).join(" and ")} to answer this.`;
  else if (toolResults.length) text = `Based on the tool results: ${snippet(JSON.stringify(toolResults.flatMap((r) => r.outputs ?? [])), 200)}`;
  else if ((body.response_format as { type?: string } | undefined)?.type === "json_object") text = JSON.stringify({ reply: snippet(message) || "hello" });
  else text = echo(message);

  const docs = (Array.isArray(body.documents) ? body.documents : []) as Array<Record<string, unknown>>;
  const citations: Array<Record<string, unknown> & { end: number }> = [];
  const documents: Array<Record<string, unknown>> = [];
  if (docs.length && !toolCalls.length) {
    text += " Sources:";
    docs.slice(0, 3).forEach((d, i) => {
      const id = typeof d.id === "string" ? d.id : `doc_${i}`;
      const quote = snippet(docText(d), 60) || id;
      text += ` [${i + 1}] `;
      const start = text.length;
      text += quote;
      if (body.citation_quality !== "OFF" && body.citation_quality !== "DISABLED") {
        citations.push({ start, end: text.length, text: quote, document_ids: [id], type: "TEXT_CONTENT" });
      }
      documents.push({ ...d, id });
      if (!/[.!?]$/.test(quote)) text += ".";
    });
  }
  let finish: string = "COMPLETE";
  if (!toolCalls.length) {
    const limited = applyLimits(text, { maxTokens: body.max_tokens as number | undefined, stopSequences: body.stop_sequences as string[] | undefined });
    text = limited.text || " ";
    finish = limited.finish;
  }
  if (errored) finish = "ERROR";
  const kept = citations.filter((c) => c.end <= text.length);

  const inputTokens = countTokens(message) + history.reduce((n, m) => n + countTokens(String(m.message ?? "")), 0);
  const outputTokens = countTokens(text) + toolCalls.reduce((n, c) => n + countTokens(JSON.stringify(c.parameters)), 0);
  const response: Record<string, unknown> = {
    text,
    generation_id: generationId,
    response_id: responseId,
    finish_reason: finish,
    chat_history: [...history, { role: "USER", message }, { role: "CHATBOT", message: text }],
    meta: meta("1", { input_tokens: inputTokens, output_tokens: outputTokens }, {
      tokens: { input_tokens: inputTokens + 64, output_tokens: outputTokens },
      ...modelWarnings(model),
    }),
  };
  if (toolCalls.length) response.tool_calls = toolCalls;
  if (kept.length) response.citations = kept;
  if (documents.length) response.documents = documents;

  if (body.stream !== true) return json(response);

  // Every v1 event carries is_finished: beyond the spec, but Cohere sends it (recorded Cohere
  // streams show it on each line). cohere-mcp does not read it.
  const events: StreamEvent[] = [];
  const push = (data: Record<string, unknown>) => events.push({ name: data.event_type as string, data: { ...data, is_finished: data.event_type === "stream-end" } });
  push({ event_type: "stream-start", generation_id: generationId });
  let parts = toolCalls.length ? [] : pieces(text);
  if (errored) parts = parts.slice(0, Math.max(1, Math.ceil(parts.length / 2)));
  for (const piece of parts) push({ event_type: "text-generation", text: piece });
  if (kept.length && !errored) push({ event_type: "citation-generation", citations: kept });
  if (toolCalls.length) {
    for (const piece of pieces(text)) push({ event_type: "tool-calls-chunk", tool_call_delta: { text: piece } });
    toolCalls.forEach((call, index) => {
      push({ event_type: "tool-calls-chunk", tool_call_delta: { index, name: call.name } });
      for (const fragment of argumentFragments(JSON.stringify(call.parameters))) {
        push({ event_type: "tool-calls-chunk", tool_call_delta: { index, parameters: fragment } });
      }
    });
    push({ event_type: "tool-calls-generation", text, tool_calls: toolCalls });
  }
  push({ event_type: "stream-end", finish_reason: streamEndFinish(finish), response });
  const sse = ctx.streamFormat ? ctx.streamFormat === "sse" : (ctx.headers["accepts"] ?? "").includes("text/event-stream");
  return { kind: "stream", format: sse ? "sse" : "ndjson", events };
}

export const CHAT_V1_ROUTES: Route[] = [
  { op: "chat", method: "POST", path: "/v1/chat", body: "json", schema: S.CHAT_V1, streams: isStream, check: checkStreamAccept, handle: chatV1 },
];
