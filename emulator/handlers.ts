/**
 * The route table: one record per Cohere operation (41), each with its request contract
 * (body kind, schema, query and form fields, extra checks) and a handler that builds a
 * deterministic, spec-shaped reply from the request and the in-memory state.
 */
import { embedDimension, MODELS, type Endpoint } from "./models.js";
import * as S from "./schemas.js";
import type { QuerySpec } from "./schemas.js";
import {
  chunkWords,
  countTokens,
  detokenize,
  embeddingAs,
  embedFloat,
  imageInfo,
  isoAt,
  looksLikeText,
  overlapScore,
  sha256,
  snippet,
  tokenize,
  uuidFrom,
  type EmbeddingType,
  type ParsedMultipart,
} from "./util.js";
import type { Schema } from "./validate.js";

// ---------------------------------------------------------------------------------------------
// Types

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export interface StreamEvent {
  /** SSE event name (v2: the `type`; v1: the `event_type`). */
  name: string;
  data: unknown;
}

export type Reply =
  | { kind: "json"; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: "empty"; status: number }
  | { kind: "stream"; format: "sse" | "ndjson"; events: StreamEvent[] };

export interface Ctx {
  /** Recorded request id (1, 2, ...): part of generated ids so they differ between calls. */
  seq: number;
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  multipart?: ParsedMultipart;
  state: EmulatorState;
}

export interface FormSpec {
  fields: Record<string, { required?: boolean; type?: "string" | "number" }>;
  files: Record<string, { required?: boolean }>;
}

export interface Route {
  op: string;
  method: HttpMethod;
  /** Cohere path template, e.g. /v1/datasets/{id} or /v2/batches/{id}:cancel */
  path: string;
  body: "json" | "multipart" | "none";
  schema?: Schema;
  query?: QuerySpec;
  form?: FormSpec;
  /** Path parameter constraints (regex the decoded value must match). */
  paramPatterns?: Record<string, RegExp>;
  /** Extra semantic checks after the schema; returns a problem or undefined. */
  check?: (ctx: Ctx) => string | undefined;
  /** True when this request asks for a streamed answer. */
  streams?: (ctx: Ctx) => boolean;
  handle: (ctx: Ctx) => Reply;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const json = (body: unknown, status = 200): Reply => ({ kind: "json", status, body });
const notFound = (message: string): never => {
  throw new ApiError(404, message);
};
const badRequest = (message: string): never => {
  throw new ApiError(400, `invalid request: ${message}`);
};

// ---------------------------------------------------------------------------------------------
// State

interface DatasetRec {
  dataset: Record<string, unknown> & { id: string; dataset_type: string; validation_status: string; created_at: string };
  bytes: number;
}
interface EmbedJobRec {
  job: Record<string, unknown> & { job_id: string; status: string };
  gets: number;
}
interface BatchRec {
  batch: Record<string, unknown> & { id: string; status: string };
  gets: number;
}
interface FinetuneRec {
  model: Record<string, unknown> & { id: string; status: string };
  gets: number;
  events: Array<{ user_id: string; status: string; created_at: string }>;
}
interface ConnectorRec {
  connector: Record<string, unknown> & { id: string };
}

export class EmulatorState {
  private tick = 0;
  private counter = 0;
  readonly datasets = new Map<string, DatasetRec>();
  readonly embedJobs = new Map<string, EmbedJobRec>();
  readonly batches = new Map<string, BatchRec>();
  readonly finetunes = new Map<string, FinetuneRec>();
  readonly connectors = new Map<string, ConnectorRec>();

  /** Deterministic, strictly increasing timestamp. */
  now(): string {
    return isoAt(++this.tick);
  }
  next(): number {
    return ++this.counter;
  }
}

export const ORG_ID = "org-emulator-0001";
export const OWNER_ID = "user-emulator-0001";

// ---------------------------------------------------------------------------------------------
// Shared helpers

function meta(version: "1" | "2", billed: Record<string, number> = {}, extra: Record<string, unknown> = {}) {
  return { api_version: { version }, billed_units: billed, ...extra };
}

function encodePageToken(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString("base64url");
}

function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  const m = /^offset:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!m) badRequest(`page_token ${JSON.stringify(token)} is not valid`);
  return Number(m![1]);
}

function qstr(ctx: Ctx, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[0] : v;
}
function qnum(ctx: Ctx, name: string): number | undefined {
  const v = qstr(ctx, name);
  return v === undefined || v === "" ? undefined : Number(v);
}

/** Token pagination over an array: returns the page and the token for the next one. */
function pageOf<T>(items: T[], ctx: Ctx, defaultSize: number, maxSize = 1000) {
  let size = qnum(ctx, "page_size") ?? defaultSize;
  if (size <= 0) size = defaultSize;
  size = Math.min(size, maxSize);
  const start = decodePageToken(qstr(ctx, "page_token"));
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? encodePageToken(start + size) : undefined;
  return { page, next };
}

function sortByOrder<T extends Record<string, unknown>>(items: T[], orderBy: string | undefined): T[] {
  if (!orderBy) return items;
  const [field, dir] = orderBy.trim().split(/\s+/);
  if (!field) return items;
  const sorted = [...items].sort((a, b) => String(a[field] ?? "").localeCompare(String(b[field] ?? "")));
  return dir?.toLowerCase() === "desc" ? sorted.reverse() : sorted;
}

function usage(input: number, output: number) {
  return {
    billed_units: { input_tokens: input, output_tokens: output },
    tokens: { input_tokens: input + 64, output_tokens: output },
  };
}

/** Text of a v2 message `content` (string or content blocks). */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((c) => {
      if (c && typeof c === "object") {
        const block = c as Record<string, unknown>;
        if (typeof block.text === "string") return block.text;
        if (block.document && typeof block.document === "object") return JSON.stringify((block.document as { data?: unknown }).data ?? {});
      }
      return "";
    })
    .filter(Boolean)
    .join(" ");
}

function docText(doc: unknown): string {
  if (typeof doc === "string") return doc;
  if (doc && typeof doc === "object") {
    const d = doc as Record<string, unknown>;
    for (const k of ["text", "snippet", "content", "title"]) if (typeof d[k] === "string") return d[k] as string;
    const firstString = Object.entries(d).find(([k, v]) => k !== "id" && typeof v === "string");
    if (firstString) return firstString[1] as string;
    return JSON.stringify(d);
  }
  return "";
}

function echo(text: string): string {
  const s = snippet(text);
  return s ? `Echo: ${s}` : "Hello! How can I help you today?";
}

const EMULATE_ERROR = "[emulate:error]";

// ---------------------------------------------------------------------------------------------
// Chat v2

interface ChatPlan {
  id: string;
  blocks: Array<{ type: "text" | "thinking"; text: string }>;
  toolPlan?: string;
  toolCalls: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }>;
  citations: Array<Record<string, unknown>>;
  finish: "COMPLETE" | "TOOL_CALL" | "ERROR";
  error?: string;
  inputTokens: number;
  outputTokens: number;
}

function planChatV2(ctx: Ctx): ChatPlan {
  const body = ctx.body as Record<string, unknown>;
  const messages = (body.messages as Array<Record<string, unknown>>) ?? [];
  const last = messages[messages.length - 1];
  const lastUser = [...messages].reverse().find((m) => m.role === "user");
  const userText = lastUser ? contentText(lastUser.content) : "";
  const id = uuidFrom(`chat:${ctx.seq}:${JSON.stringify(body)}`);
  const inputTokens =
    messages.reduce((n, m) => n + countTokens(contentText(m.content)), 0) +
    (Array.isArray(body.documents) ? body.documents.reduce((n: number, d) => n + countTokens(docText(d)), 0) : 0);

  const tools = (Array.isArray(body.tools) ? body.tools : []) as Array<{ function?: { name?: string } }>;
  const toolNames = tools.map((t) => t.function?.name).filter((n): n is string => typeof n === "string" && n.length > 0);
  let calledTool: string | undefined;
  if (toolNames.length && last?.role === "user" && body.tool_choice !== "NONE") {
    calledTool = toolNames.find((n) => userText.includes(n));
    if (!calledTool && body.tool_choice === "REQUIRED") calledTool = toolNames[0];
  }
  if (calledTool) {
    const toolPlan = `I will call ${calledTool} to answer this request.`;
    return {
      id,
      blocks: [],
      toolPlan,
      toolCalls: [
        { id: `${calledTool}_${id.slice(0, 8)}`, type: "function", function: { name: calledTool, arguments: "{}" } },
      ],
      citations: [],
      finish: "TOOL_CALL",
      inputTokens,
      outputTokens: countTokens(toolPlan) + 4,
    };
  }

  let text: string;
  if (last?.role === "tool") {
    const results = messages.filter((m) => m.role === "tool").map((m) => contentText(m.content));
    text = `Based on the tool results: ${snippet(results.join(" "), 200)}`;
  } else {
    text = echo(userText);
  }
  const rf = body.response_format as { type?: string } | undefined;
  const jsonMode = rf?.type === "json_object";
  if (jsonMode) text = JSON.stringify({ reply: snippet(userText) || "hello" });

  const citations: Array<Record<string, unknown>> = [];
  const docs = Array.isArray(body.documents) ? (body.documents as unknown[]) : [];
  if (docs.length && !jsonMode) {
    const mode = (body.citation_options as { mode?: string } | undefined)?.mode;
    text += " Sources:";
    docs.slice(0, 3).forEach((doc, i) => {
      const isObj = doc !== null && typeof doc === "object";
      const d = doc as { id?: string; data?: Record<string, unknown> };
      const docId = isObj && typeof d.id === "string" ? d.id : `doc_${i}`;
      const content = isObj ? (d.data ?? {}) : { text: doc };
      const quote = snippet(docText(isObj ? d.data : doc), 60) || docId;
      text += ` [${i + 1}] `;
      const start = text.length;
      text += quote;
      if (mode !== "OFF" && mode !== "DISABLED") {
        citations.push({
          start,
          end: text.length,
          text: quote,
          sources: [{ type: "document", id: docId, document: { id: docId, ...content } }],
          type: "TEXT_CONTENT",
        });
      }
      if (!/[.!?]$/.test(quote)) text += ".";
    });
  }

  const blocks: ChatPlan["blocks"] = [];
  const thinking = body.thinking as { type?: string } | undefined;
  if (thinking?.type === "enabled") blocks.push({ type: "thinking", text: `The user wrote ${JSON.stringify(snippet(userText, 80))}. I will reply.` });
  blocks.push({ type: "text", text });

  const errored = userText.includes(EMULATE_ERROR);
  return {
    id,
    blocks,
    toolCalls: [],
    citations,
    finish: errored ? "ERROR" : "COMPLETE",
    error: errored ? "emulated error: the generation failed mid-way" : undefined,
    inputTokens,
    outputTokens: blocks.reduce((n, b) => n + countTokens(b.text), 0),
  };
}

function logprobsFor(text: string) {
  const { tokens, token_strings } = tokenize(text);
  return token_strings.map((t, i) => ({ text: t, token_ids: [tokens[i]!], logprobs: [-((tokens[i]! % 97) / 100 + 0.01)] }));
}

function chatV2(ctx: Ctx): Reply {
  const plan = planChatV2(ctx);
  const body = ctx.body as Record<string, unknown>;
  const use = usage(plan.inputTokens, plan.outputTokens);
  if (body.stream === true) return { kind: "stream", format: "sse", events: chatV2Events(plan, body.logprobs === true) };
  const message: Record<string, unknown> = { role: "assistant" };
  if (plan.toolPlan !== undefined) message.tool_plan = plan.toolPlan;
  if (plan.toolCalls.length) message.tool_calls = plan.toolCalls;
  if (plan.blocks.length)
    message.content = plan.blocks.map((b) => (b.type === "text" ? { type: "text", text: b.text } : { type: "thinking", thinking: b.text }));
  if (plan.citations.length) message.citations = plan.citations;
  const out: Record<string, unknown> = { id: plan.id, finish_reason: plan.finish, message, usage: use };
  if (body.logprobs === true) out.logprobs = plan.blocks.filter((b) => b.type === "text").flatMap((b) => logprobsFor(b.text));
  return json(out);
}

function chatV2Events(plan: ChatPlan, withLogprobs: boolean): StreamEvent[] {
  const ev: StreamEvent[] = [];
  const push = (data: Record<string, unknown>) => ev.push({ name: data.type as string, data });
  push({ type: "message-start", id: plan.id, delta: { message: { role: "assistant" } } });
  if (plan.toolPlan !== undefined) {
    for (const piece of chunkWords(plan.toolPlan)) push({ type: "tool-plan-delta", delta: { message: { tool_plan: piece } } });
  }
  plan.toolCalls.forEach((call, index) => {
    push({
      type: "tool-call-start",
      index,
      delta: { message: { tool_calls: { id: call.id, type: "function", function: { name: call.function.name, arguments: "" } } } },
    });
    push({ type: "tool-call-delta", index, delta: { message: { tool_calls: { function: { arguments: call.function.arguments } } } } });
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
    let pieces = chunkWords(block.text);
    if (plan.finish === "ERROR" && isText) {
      pieces = pieces.slice(0, Math.max(1, Math.ceil(pieces.length / 2)));
      cut = true;
    }
    let offset = 0;
    for (const piece of pieces) {
      const data: Record<string, unknown> = {
        type: "content-delta",
        index,
        delta: { message: { content: isText ? { text: piece } : { thinking: piece } } },
      };
      if (withLogprobs && isText) data.logprobs = logprobsFor(piece);
      push(data);
      offset += piece.length;
      if (isText && !cut) {
        // Emit each citation once the text it covers has been streamed.
        plan.citations.forEach((c, ci) => {
          const end = c.end as number;
          if (end <= offset && end > offset - piece.length) {
            push({ type: "citation-start", index: ci, delta: { message: { citations: c } } });
            push({ type: "citation-end", index: ci });
          }
        });
      }
    }
    if (!cut) push({ type: "content-end", index });
  });
  const delta: Record<string, unknown> = {
    finish_reason: plan.finish,
    usage: usage(plan.inputTokens, plan.outputTokens),
  };
  if (plan.error) delta.error = plan.error;
  push({ type: "message-end", id: plan.id, delta });
  return ev;
}

// ---------------------------------------------------------------------------------------------
// Chat v1

function chatV1(ctx: Ctx): Reply {
  const body = ctx.body as Record<string, unknown>;
  const message = body.message as string;
  const history = (Array.isArray(body.chat_history) ? body.chat_history : []) as Array<Record<string, unknown>>;
  const generationId = uuidFrom(`chat1:${ctx.seq}:${JSON.stringify(body)}`);
  const responseId = uuidFrom(`chat1r:${ctx.seq}:${JSON.stringify(body)}`);
  const errored = message.includes(EMULATE_ERROR);

  const tools = (Array.isArray(body.tools) ? body.tools : []) as Array<{ name?: string }>;
  const tool = tools.map((t) => t.name).find((n): n is string => typeof n === "string" && n.length > 0 && message.includes(n));
  const toolResults = Array.isArray(body.tool_results) ? (body.tool_results as Array<{ outputs?: unknown[] }>) : [];

  let text: string;
  if (tool && !toolResults.length) text = `I will use ${tool} to answer this.`;
  else if (toolResults.length) text = `Based on the tool results: ${snippet(JSON.stringify(toolResults.flatMap((r) => r.outputs ?? [])), 200)}`;
  else if ((body.response_format as { type?: string } | undefined)?.type === "json_object")
    text = JSON.stringify({ reply: snippet(message) || "hello" });
  else text = echo(message);

  const docs = (Array.isArray(body.documents) ? body.documents : []) as Array<Record<string, unknown>>;
  const citations: Array<Record<string, unknown>> = [];
  const documents: Array<Record<string, unknown>> = [];
  if (docs.length && !tool) {
    text += " Sources:";
    docs.slice(0, 3).forEach((d, i) => {
      const id = typeof d.id === "string" ? d.id : `doc_${i}`;
      const quote = snippet(docText(d), 60) || id;
      text += ` [${i + 1}] `;
      const start = text.length;
      text += quote;
      if (body.citation_quality !== "OFF" && body.citation_quality !== "DISABLED")
        citations.push({ start, end: text.length, text: quote, document_ids: [id], type: "TEXT_CONTENT" });
      documents.push({ ...d, id });
      if (!/[.!?]$/.test(quote)) text += ".";
    });
  }

  const inputTokens = countTokens(message) + history.reduce((n, m) => n + countTokens(String(m.message ?? "")), 0);
  const outputTokens = countTokens(text);
  const finish = errored ? "ERROR" : "COMPLETE";
  const response: Record<string, unknown> = {
    text,
    generation_id: generationId,
    response_id: responseId,
    finish_reason: finish,
    chat_history: [...history, { role: "USER", message }, { role: "CHATBOT", message: text }],
    meta: meta("1", { input_tokens: inputTokens, output_tokens: outputTokens }, { tokens: { input_tokens: inputTokens + 64, output_tokens: outputTokens } }),
  };
  if (tool && !toolResults.length) response.tool_calls = [{ name: tool, parameters: {} }];
  if (citations.length) response.citations = citations;
  if (documents.length) response.documents = documents;

  if (body.stream !== true) return json(response);

  const events: StreamEvent[] = [];
  const push = (data: Record<string, unknown>) => events.push({ name: data.event_type as string, data });
  push({ event_type: "stream-start", generation_id: generationId, is_finished: false });
  let pieces = chunkWords(text);
  if (errored) pieces = pieces.slice(0, Math.max(1, Math.ceil(pieces.length / 2)));
  for (const piece of pieces) push({ event_type: "text-generation", text: piece, is_finished: false });
  if (citations.length && !errored) push({ event_type: "citation-generation", citations, is_finished: false });
  if (response.tool_calls) push({ event_type: "tool-calls-generation", text, tool_calls: response.tool_calls, is_finished: false });
  push({ event_type: "stream-end", is_finished: true, finish_reason: finish, response });
  return { kind: "stream", format: ctx.headers["accepts"]?.includes("text/event-stream") ? "sse" : "ndjson", events };
}

// ---------------------------------------------------------------------------------------------
// Generate (v1, legacy)

function generate(ctx: Ctx): Reply {
  const body = ctx.body as Record<string, unknown>;
  const prompt = body.prompt as string;
  const n = (body.num_generations as number | undefined) ?? 1;
  const id = uuidFrom(`gen:${ctx.seq}:${JSON.stringify(body)}`);
  const errored = prompt.includes(EMULATE_ERROR);
  const likelihoods = body.return_likelihoods === "GENERATION" || body.return_likelihoods === "ALL";
  const gens = Array.from({ length: n }, (_, i) => {
    const text = echo(prompt) + (i > 0 ? ` (variant ${i + 1})` : "");
    const g: Record<string, unknown> = { id: uuidFrom(`${id}:${i}`), text, index: i, finish_reason: errored ? "ERROR" : "COMPLETE" };
    if (likelihoods) {
      const lp = logprobsFor(text);
      g.likelihood = -0.5;
      g.token_likelihoods = lp.map((l) => ({ token: l.text, likelihood: l.logprobs[0] }));
    }
    return g;
  });
  const billed = { input_tokens: countTokens(prompt), output_tokens: gens.reduce((s, g) => s + countTokens(g.text as string), 0) };
  if (body.stream !== true) return json({ id, generations: gens, prompt, meta: meta("1", billed) });
  const events: StreamEvent[] = [];
  const push = (data: Record<string, unknown>) => events.push({ name: data.event_type as string, data });
  gens.forEach((g, index) => {
    let pieces = chunkWords(g.text as string);
    if (errored) pieces = pieces.slice(0, Math.max(1, Math.ceil(pieces.length / 2)));
    for (const text of pieces) push({ event_type: "text-generation", text, index, is_finished: false });
  });
  if (errored) {
    push({ event_type: "stream-error", index: 0, is_finished: true, finish_reason: "ERROR", err: "emulated error: the generation failed mid-way" });
  } else {
    push({
      event_type: "stream-end",
      is_finished: true,
      finish_reason: "COMPLETE",
      response: { id, prompt, generations: gens.map((g) => ({ id: g.id, text: g.text, index: g.index, finish_reason: g.finish_reason })) },
    });
  }
  return { kind: "stream", format: "ndjson", events };
}

// ---------------------------------------------------------------------------------------------
// Embed

type EmbedItem = { text?: string; images: string[] };

function embedVectors(items: EmbedItem[], model: string | undefined, types: EmbeddingType[], outputDimension?: number) {
  const dim = embedDimension(model, outputDimension);
  const floats = items.map((it) => embedFloat(it.text ?? "", dim, it.images.map((img) => `image:${sha256(img).toString("hex")}`)));
  const out: Record<string, unknown[]> = {};
  for (const t of types) out[t] = floats.map((v) => embeddingAs(t, v));
  return { floats, byType: out };
}

function embedV2(ctx: Ctx): Reply {
  const b = ctx.body as Record<string, unknown>;
  const types = ((b.embedding_types as EmbeddingType[] | undefined) ?? ["float"]).filter((t, i, a) => a.indexOf(t) === i);
  let items: EmbedItem[];
  if (Array.isArray(b.texts)) items = (b.texts as string[]).map((text) => ({ text, images: [] }));
  else if (Array.isArray(b.images)) items = (b.images as string[]).map((img) => ({ images: [img] }));
  else
    items = (b.inputs as Array<{ content: Array<{ type: string; text?: string; image_url?: { url: string } }> }>).map((inp) => ({
      text: inp.content.filter((c) => c.type === "text").map((c) => c.text ?? "").join(" "),
      images: inp.content.filter((c) => c.type === "image_url").map((c) => c.image_url?.url ?? ""),
    }));
  const { byType } = embedVectors(items, b.model as string, types, b.output_dimension as number | undefined);
  const texts = items.map((i) => i.text).filter((t): t is string => t !== undefined);
  const images = items.flatMap((i) => i.images);
  const billed: Record<string, number> = { input_tokens: texts.reduce((n, t) => n + countTokens(t), 0) };
  if (images.length) {
    billed.images = images.length;
    billed.image_tokens = images.length * 256;
  }
  const out: Record<string, unknown> = {
    id: uuidFrom(`embed2:${ctx.seq}:${JSON.stringify(b)}`),
    embeddings: byType,
    texts,
    meta: meta("2", billed),
    response_type: "embeddings_by_type",
  };
  if (images.length) out.images = images.map(imageInfo);
  return json(out);
}

function embedV1(ctx: Ctx): Reply {
  const b = ctx.body as Record<string, unknown>;
  const texts = (b.texts as string[] | undefined) ?? [];
  const imgs = (b.images as string[] | undefined) ?? [];
  const items: EmbedItem[] = [...texts.map((text) => ({ text, images: [] })), ...imgs.map((img) => ({ images: [img] }))];
  const explicit = b.embedding_types as EmbeddingType[] | undefined;
  const types = (explicit ?? ["float"]).filter((t, i, a) => a.indexOf(t) === i);
  const { floats, byType } = embedVectors(items, b.model as string | undefined, types);
  const billed: Record<string, number> = { input_tokens: texts.reduce((n, t) => n + countTokens(t), 0) };
  if (imgs.length) billed.images = imgs.length;
  const base: Record<string, unknown> = { id: uuidFrom(`embed1:${ctx.seq}:${JSON.stringify(b)}`), texts, meta: meta("1", billed) };
  if (imgs.length) base.images = imgs.map(imageInfo);
  if (explicit) return json({ response_type: "embeddings_by_type", ...base, embeddings: byType });
  return json({ response_type: "embeddings_floats", ...base, embeddings: floats });
}

function checkEmbedV2(ctx: Ctx): string | undefined {
  const b = ctx.body as Record<string, unknown>;
  const given = ["texts", "images", "inputs"].filter((k) => b[k] !== undefined);
  if (given.length !== 1) return `exactly one of texts, images or inputs must be given (got ${given.length ? given.join(", ") : "none"})`;
  if (b.images && /v3/.test(String(b.model)) && (b.images as unknown[]).length > 1)
    return "images must contain at most 1 item for Embed v3 models";
  if (b.output_dimension !== undefined && !(Number(/^embed-v(\d+)/.exec(String(b.model))?.[1] ?? 0) >= 4))
    return "output_dimension is only supported by embed-v4.0 and newer models";
  return undefined;
}

function checkEmbedV1(ctx: Ctx): string | undefined {
  const b = ctx.body as Record<string, unknown>;
  if (b.texts === undefined && b.images === undefined) return "texts or images is required";
  if (b.input_type === undefined && /v[34]/.test(String(b.model ?? ""))) return "input_type is required for Embed v3 and newer models";
  if (b.images && /v3/.test(String(b.model)) && (b.images as unknown[]).length > 1)
    return "images must contain at most 1 item for Embed v3 models";
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Rerank / classify / summarize / tokenize

function rankDocs(query: string, docs: string[], topN: number | undefined) {
  const scored = docs.map((d, index) => ({ index, relevance_score: Math.round(overlapScore(query, d) * 1e6) / 1e6 }));
  scored.sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
  return topN !== undefined ? scored.slice(0, topN) : scored;
}

function rerankDocText(doc: unknown, rankFields: string[] | undefined): string {
  if (typeof doc === "string") return doc;
  const d = doc as Record<string, unknown>;
  const fields = rankFields?.length ? rankFields : ["text"];
  return fields.map((f) => (d[f] === undefined ? "" : typeof d[f] === "string" ? (d[f] as string) : JSON.stringify(d[f]))).join(" ");
}

function rerankV2(ctx: Ctx): Reply {
  const b = ctx.body as { query: string; documents: string[]; top_n?: number };
  return json({
    id: uuidFrom(`rerank2:${ctx.seq}:${JSON.stringify(b)}`),
    results: rankDocs(b.query, b.documents, b.top_n),
    meta: meta("2", { search_units: 1 }),
  });
}

function rerankV1(ctx: Ctx): Reply {
  const b = ctx.body as { query: string; documents: unknown[]; top_n?: number; rank_fields?: string[]; return_documents?: boolean };
  const texts = b.documents.map((d) => rerankDocText(d, b.rank_fields));
  const results = rankDocs(b.query, texts, b.top_n).map((r) => {
    if (!b.return_documents) return r;
    const doc = b.documents[r.index];
    return { document: typeof doc === "string" ? { text: doc } : doc, ...r };
  });
  return json({ id: uuidFrom(`rerank1:${ctx.seq}:${JSON.stringify(b)}`), results, meta: meta("1", { search_units: 1 }) });
}

function checkRerankV1(ctx: Ctx): string | undefined {
  const b = ctx.body as { documents: unknown[]; rank_fields?: string[] };
  for (let i = 0; i < b.documents.length; i++) {
    const d = b.documents[i];
    if (typeof d === "string") continue;
    const needed = b.rank_fields?.length ? b.rank_fields : ["text"];
    for (const f of needed) if (!(f in (d as object))) return `documents[${i}] is missing the field ${JSON.stringify(f)}`;
  }
  return undefined;
}

function classify(ctx: Ctx): Reply {
  const b = ctx.body as { inputs: string[]; examples?: Array<{ text?: string; label?: string }> };
  const examples = (b.examples ?? []).filter((e) => typeof e.label === "string");
  const labels = [...new Set(examples.map((e) => e.label as string))];
  if (!labels.length) labels.push("default");
  const classifications = b.inputs.map((input, i) => {
    const scores = labels.map((label) => {
      const best = examples.filter((e) => e.label === label).reduce((m, e) => Math.max(m, overlapScore(e.text ?? "", input) + overlapScore(input, e.text ?? "")), 0);
      return Math.exp(3 * best);
    });
    const total = scores.reduce((a, c) => a + c, 0);
    const conf = scores.map((s) => Math.round((s / total) * 1e6) / 1e6);
    let bestIdx = 0;
    conf.forEach((c, j) => {
      if (c > conf[bestIdx]!) bestIdx = j;
    });
    const prediction = labels[bestIdx]!;
    return {
      id: uuidFrom(`cls:${ctx.seq}:${i}:${input}`),
      input,
      prediction,
      predictions: [prediction],
      confidence: conf[bestIdx]!,
      confidences: [conf[bestIdx]!],
      labels: Object.fromEntries(labels.map((l, j) => [l, { confidence: conf[j]! }])),
      classification_type: "single-label",
    };
  });
  return json({ id: uuidFrom(`cls:${ctx.seq}:${JSON.stringify(b)}`), classifications, meta: meta("1", { classifications: b.inputs.length }) });
}

function summarize(ctx: Ctx): Reply {
  const b = ctx.body as { text: string; length?: string; format?: string };
  const sentences = b.text.replace(/\s+/g, " ").trim().split(/(?<=[.!?])\s+/).filter(Boolean);
  const n = b.length === "short" ? 1 : b.length === "long" ? 4 : 2;
  const chosen = sentences.slice(0, n);
  const summary = b.format === "bullets" ? chosen.map((s) => `- ${s}`).join("\n") : chosen.join(" ");
  return json({
    id: uuidFrom(`sum:${ctx.seq}:${JSON.stringify(b)}`),
    summary,
    meta: meta("1", { input_tokens: countTokens(b.text), output_tokens: countTokens(summary) }),
  });
}

// ---------------------------------------------------------------------------------------------
// Models

function listModels(ctx: Ctx): Reply {
  const endpoint = qstr(ctx, "endpoint") as Endpoint | undefined;
  const defaultOnly = qstr(ctx, "default_only") === "true";
  if (defaultOnly && !endpoint) badRequest("default_only is only valid together with endpoint");
  let models = MODELS.filter((m) => !endpoint || m.endpoints.includes(endpoint));
  if (defaultOnly) models = models.filter((m) => m.default_endpoints.includes(endpoint!));
  const { page, next } = pageOf([...models], ctx, 20);
  return json(next ? { models: page, next_page_token: next } : { models: page });
}

function getModel(ctx: Ctx): Reply {
  const m = MODELS.find((x) => x.name === ctx.params.model);
  if (!m) notFound(`model '${ctx.params.model}' not found`);
  return json(m);
}

// ---------------------------------------------------------------------------------------------
// Audio

function transcribe(ctx: Ctx): Reply {
  const file = ctx.multipart!.files.file!;
  const text = looksLikeText(file.data) ? file.text.trim() : `transcribed ${file.size} bytes`;
  return json({ text });
}

// ---------------------------------------------------------------------------------------------
// Datasets

function createDataset(ctx: Ctx, opts: { name: string; type: string; files: ParsedMultipart["files"] }): DatasetRec {
  const st = ctx.state;
  const id = `ds-${st.next()}`;
  const now = st.now();
  const keep = ctx.query.keep_fields;
  const parts: Array<Record<string, unknown>> = [];
  let bytes = 0;
  let validationError: string | undefined;
  Object.entries(opts.files).forEach(([field, f], index) => {
    const lines = f.text.split(/\r?\n/).filter((l) => l.trim() !== "");
    bytes += f.size;
    const isJsonl = /\.jsonl$/i.test(f.filename ?? "") || (f.contentType ?? "").includes("jsonl");
    if (isJsonl && ctx.query.skip_malformed_input !== "true" && !validationError) {
      const bad = lines.findIndex((l) => {
        try {
          JSON.parse(l);
          return false;
        } catch {
          return true;
        }
      });
      if (bad >= 0) validationError = `${field}: line ${bad + 1} is not valid JSON`;
    }
    parts.push({
      id: `${id}-part-${index}`,
      name: f.filename || field,
      index,
      size_bytes: f.size,
      num_rows: lines.length,
      samples: lines.slice(0, 3),
    });
  });
  const dataset: DatasetRec["dataset"] = {
    id,
    name: opts.name,
    created_at: now,
    updated_at: now,
    dataset_type: opts.type,
    validation_status: validationError ? "failed" : "validated",
    schema: "",
    required_fields: opts.type === "embed-input" ? ["text"] : [],
    preserve_fields: keep === undefined ? [] : Array.isArray(keep) ? keep : [keep],
    dataset_parts: parts,
    validation_warnings: [],
  };
  if (validationError) dataset.validation_error = validationError;
  const rec = { dataset, bytes };
  st.datasets.set(id, rec);
  return rec;
}

function getDatasetRec(ctx: Ctx, id: string): DatasetRec {
  const rec = ctx.state.datasets.get(id);
  if (!rec) notFound(`dataset with id ${id} not found`);
  return rec!;
}

// ---------------------------------------------------------------------------------------------
// Embed jobs

function embedJobView(ctx: Ctx, rec: EmbedJobRec, advance: boolean) {
  if (advance) {
    rec.gets++;
    if (rec.job.status === "processing" && rec.gets >= 2) {
      const out = createDataset(ctx, {
        name: `${(rec.job.name as string | undefined) ?? rec.job.job_id}-output`,
        type: "embed-result",
        files: {},
      });
      rec.job.status = "complete";
      rec.job.output_dataset_id = out.dataset.id;
    }
  }
  return rec.job;
}

function getEmbedJobRec(ctx: Ctx): EmbedJobRec {
  const rec = ctx.state.embedJobs.get(ctx.params.id!);
  if (!rec) notFound(`embed job with id ${ctx.params.id} not found`);
  return rec!;
}

// ---------------------------------------------------------------------------------------------
// Batches

function getBatchRec(ctx: Ctx): BatchRec {
  const rec = ctx.state.batches.get(ctx.params.id!);
  if (!rec) notFound(`batch ${ctx.params.id} not found`);
  return rec!;
}

function advanceBatch(ctx: Ctx, rec: BatchRec) {
  rec.gets++;
  const b = rec.batch;
  if (b.status === "BATCH_STATUS_QUEUED") {
    b.status = "BATCH_STATUS_IN_PROGRESS";
    b.updated_at = ctx.state.now();
  } else if (b.status === "BATCH_STATUS_IN_PROGRESS") {
    const input = ctx.state.datasets.get(b.input_dataset_id as string);
    const rows = input ? ((input.dataset.dataset_parts as Array<{ num_rows?: number }>)[0]?.num_rows ?? 1) : 1;
    const out = createDataset(ctx, { name: `${b.name as string}-output`, type: "batch-chat-v2-input", files: {} });
    b.status = "BATCH_STATUS_COMPLETED";
    b.updated_at = ctx.state.now();
    b.output_dataset_id = out.dataset.id;
    b.num_records = rows;
    b.num_successful_records = rows;
    b.num_failed_records = 0;
    b.input_tokens = String(rows * 42);
    b.output_tokens = String(rows * 17);
  }
}

// ---------------------------------------------------------------------------------------------
// Fine-tuning

function getFinetuneRec(ctx: Ctx, id: string): FinetuneRec {
  const rec = ctx.state.finetunes.get(id);
  if (!rec) notFound(`finetuned model ${id} not found`);
  return rec!;
}

function advanceFinetune(ctx: Ctx, rec: FinetuneRec) {
  rec.gets++;
  const m = rec.model;
  const step = (status: string) => {
    m.status = status;
    m.updated_at = ctx.state.now();
    rec.events.push({ user_id: OWNER_ID, status, created_at: m.updated_at as string });
  };
  if (m.status === "STATUS_QUEUED") step("STATUS_FINETUNING");
  else if (m.status === "STATUS_FINETUNING") {
    step("STATUS_READY");
    m.completed_at = m.updated_at;
  }
}

function stepMetrics(rec: FinetuneRec) {
  const steps = rec.model.status === "STATUS_READY" ? 10 : rec.model.status === "STATUS_FINETUNING" ? 4 : 0;
  const base = Date.parse(rec.model.created_at as string);
  return Array.from({ length: steps }, (_, i) => ({
    created_at: new Date(base + (i + 1) * 60_000).toISOString(),
    step_number: (i + 1) * 10,
    metrics: {
      loss: Math.round((2.5 / (i + 1.5)) * 1e4) / 1e4,
      accuracy: Math.round((0.5 + 0.045 * i) * 1e4) / 1e4,
    },
  }));
}

// ---------------------------------------------------------------------------------------------
// Connectors

function getConnectorRec(ctx: Ctx): ConnectorRec {
  const rec = ctx.state.connectors.get(ctx.params.id!);
  if (!rec) notFound(`connector with id ${ctx.params.id} not found`);
  return rec!;
}

function connectorFrom(body: Record<string, unknown>, base: Record<string, unknown>): Record<string, unknown> {
  const c: Record<string, unknown> = { ...base };
  for (const k of ["name", "description", "url", "excludes", "active", "continue_on_failure"]) if (body[k] !== undefined) c[k] = body[k];
  if (body.oauth) {
    const { client_secret: _secret, ...oauth } = body.oauth as Record<string, unknown>;
    c.oauth = oauth;
    c.auth_type = "oauth";
    c.auth_status = "expired";
  }
  if (body.service_auth) {
    c.auth_type = "service_auth";
    delete c.auth_status;
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// The route table

const isStream = (ctx: Ctx) => (ctx.body as { stream?: unknown } | undefined)?.stream === true;
const datasetId = { id: /^(?!usage$).+$/ };

export const ROUTES: readonly Route[] = [
  // ----- generation
  { op: "chat", method: "POST", path: "/v1/chat", body: "json", schema: S.CHAT_V1, streams: isStream, handle: chatV1 },
  { op: "chatv2", method: "POST", path: "/v2/chat", body: "json", schema: S.CHAT_V2, streams: isStream, handle: chatV2 },
  { op: "generate", method: "POST", path: "/v1/generate", body: "json", schema: S.GENERATE, streams: isStream, handle: generate },
  { op: "embed", method: "POST", path: "/v1/embed", body: "json", schema: S.EMBED_V1, check: checkEmbedV1, handle: embedV1 },
  { op: "embedv2", method: "POST", path: "/v2/embed", body: "json", schema: S.EMBED_V2, check: checkEmbedV2, handle: embedV2 },
  {
    op: "create-transcription",
    method: "POST",
    path: "/v2/audio/transcriptions",
    body: "multipart",
    form: {
      fields: { model: { required: true }, language: { required: true }, temperature: { type: "number" } },
      files: { file: { required: true } },
    },
    handle: transcribe,
  },
  { op: "rerank", method: "POST", path: "/v1/rerank", body: "json", schema: S.RERANK_V1, check: checkRerankV1, handle: rerankV1 },
  { op: "rerankv2", method: "POST", path: "/v2/rerank", body: "json", schema: S.RERANK_V2, handle: rerankV2 },
  { op: "classify", method: "POST", path: "/v1/classify", body: "json", schema: S.CLASSIFY, handle: classify },
  { op: "summarize", method: "POST", path: "/v1/summarize", body: "json", schema: S.SUMMARIZE, handle: summarize },
  {
    op: "tokenize",
    method: "POST",
    path: "/v1/tokenize",
    body: "json",
    schema: S.TOKENIZE,
    handle: (ctx) => json({ ...tokenize(ctx.body.text as string), meta: meta("1") }),
  },
  {
    op: "detokenize",
    method: "POST",
    path: "/v1/detokenize",
    body: "json",
    schema: S.DETOKENIZE,
    handle: (ctx) => json({ text: detokenize(ctx.body.tokens as number[]), meta: meta("1") }),
  },
  {
    op: "checkAPIKey",
    method: "POST",
    path: "/v1/check-api-key",
    body: "none",
    handle: () => json({ valid: true, organization_id: ORG_ID, owner_id: OWNER_ID }),
  },

  // ----- models
  {
    op: "list-models",
    method: "GET",
    path: "/v1/models",
    body: "none",
    query: {
      page_size: { type: "number", minimum: 1, maximum: 1000 },
      page_token: { type: "string" },
      endpoint: { type: "string", enum: S.COMPATIBLE_ENDPOINTS },
      default_only: { type: "boolean" },
    },
    handle: listModels,
  },
  { op: "get-model", method: "GET", path: "/v1/models/{model}", body: "none", handle: getModel },

  // ----- batches
  {
    op: "ListBatches",
    method: "GET",
    path: "/v2/batches",
    body: "none",
    query: { ...S.PAGE_QUERY, order_by: { type: "string" } },
    handle: (ctx) => {
      const all = sortByOrder(
        [...ctx.state.batches.values()].map((r) => r.batch),
        qstr(ctx, "order_by"),
      );
      const { page, next } = pageOf(all, ctx, 50);
      return json(next ? { batches: page, next_page_token: next } : { batches: page });
    },
  },
  {
    op: "CreateBatch",
    method: "POST",
    path: "/v2/batches",
    body: "json",
    schema: S.CREATE_BATCH,
    handle: (ctx) => {
      const st = ctx.state;
      const now = st.now();
      const n = st.next();
      const batch: BatchRec["batch"] = {
        id: uuidFrom(`batch:${n}`),
        name: ctx.body.name,
        creator_id: OWNER_ID,
        org_id: ORG_ID,
        status: "BATCH_STATUS_QUEUED",
        created_at: now,
        updated_at: now,
        input_dataset_id: ctx.body.input_dataset_id,
        input_tokens: "0",
        output_tokens: "0",
        model: ctx.body.model,
        num_records: 0,
        num_successful_records: 0,
        num_failed_records: 0,
      };
      st.batches.set(batch.id, { batch, gets: 0 });
      return json({ batch });
    },
  },
  {
    op: "GetBatch",
    method: "GET",
    path: "/v2/batches/{id}",
    body: "none",
    handle: (ctx) => {
      const rec = getBatchRec(ctx);
      advanceBatch(ctx, rec);
      return json({ batch: rec.batch });
    },
  },
  {
    op: "CancelBatch",
    method: "POST",
    path: "/v2/batches/{id}:cancel",
    body: "none",
    handle: (ctx) => {
      const rec = getBatchRec(ctx);
      if (!["BATCH_STATUS_COMPLETED", "BATCH_STATUS_FAILED", "BATCH_STATUS_CANCELED"].includes(rec.batch.status)) {
        rec.batch.status = "BATCH_STATUS_CANCELED";
        rec.batch.updated_at = ctx.state.now();
        rec.batch.status_reason = "canceled by user";
      }
      return json({});
    },
  },

  // ----- embed jobs
  {
    op: "create-embed-job",
    method: "POST",
    path: "/v1/embed-jobs",
    body: "json",
    schema: S.CREATE_EMBED_JOB,
    handle: (ctx) => {
      const st = ctx.state;
      const job_id = `ej-${st.next()}`;
      const job: EmbedJobRec["job"] = {
        job_id,
        status: "processing",
        created_at: st.now(),
        input_dataset_id: ctx.body.dataset_id,
        model: ctx.body.model,
        truncate: ctx.body.truncate ?? "END",
        meta: meta("1"),
      };
      if (ctx.body.name !== undefined) job.name = ctx.body.name;
      st.embedJobs.set(job_id, { job, gets: 0 });
      return json({ job_id, meta: meta("1") });
    },
  },
  {
    op: "list-embed-jobs",
    method: "GET",
    path: "/v1/embed-jobs",
    body: "none",
    handle: (ctx) => json({ embed_jobs: [...ctx.state.embedJobs.values()].map((r) => r.job) }),
  },
  {
    op: "get-embed-job",
    method: "GET",
    path: "/v1/embed-jobs/{id}",
    body: "none",
    handle: (ctx) => json(embedJobView(ctx, getEmbedJobRec(ctx), true)),
  },
  {
    op: "cancel-embed-job",
    method: "POST",
    path: "/v1/embed-jobs/{id}/cancel",
    body: "none",
    handle: (ctx) => {
      const rec = getEmbedJobRec(ctx);
      if (rec.job.status === "processing" || rec.job.status === "cancelling") rec.job.status = "cancelled";
      return { kind: "empty", status: 200 };
    },
  },

  // ----- datasets
  {
    op: "create-dataset",
    method: "POST",
    path: "/v1/datasets",
    body: "multipart",
    query: {
      name: { type: "string", required: true },
      type: { type: "string", enum: S.DATASET_TYPES, required: true },
      keep_original_file: { type: "boolean" },
      skip_malformed_input: { type: "boolean" },
      keep_fields: { type: "string[]" },
      optional_fields: { type: "string[]" },
      text_separator: { type: "string" },
      csv_delimiter: { type: "string" },
    },
    form: { fields: {}, files: { data: { required: true }, eval_data: {} } },
    handle: (ctx) => {
      const rec = createDataset(ctx, { name: qstr(ctx, "name")!, type: qstr(ctx, "type")!, files: ctx.multipart!.files });
      return json({ id: rec.dataset.id });
    },
  },
  {
    op: "list-datasets",
    method: "GET",
    path: "/v1/datasets",
    body: "none",
    query: {
      datasetType: { type: "string" },
      before: { type: "string", dateTime: true },
      after: { type: "string", dateTime: true },
      limit: { type: "number", minimum: 0 },
      offset: { type: "number", minimum: 0 },
      validationStatus: { type: "string", enum: S.DATASET_VALIDATION_STATUSES },
    },
    handle: (ctx) => {
      const type = qstr(ctx, "datasetType");
      const status = qstr(ctx, "validationStatus");
      const before = qstr(ctx, "before");
      const after = qstr(ctx, "after");
      let list = [...ctx.state.datasets.values()].map((r) => r.dataset);
      if (type) list = list.filter((d) => d.dataset_type === type);
      if (status) list = list.filter((d) => d.validation_status === status);
      if (before) list = list.filter((d) => Date.parse(d.created_at) < Date.parse(before));
      if (after) list = list.filter((d) => Date.parse(d.created_at) > Date.parse(after));
      const offset = qnum(ctx, "offset") ?? 0;
      const limit = qnum(ctx, "limit");
      list = list.slice(offset, limit === undefined ? undefined : offset + limit);
      return json({ datasets: list });
    },
  },
  {
    op: "get-dataset-usage",
    method: "GET",
    path: "/v1/datasets/usage",
    body: "none",
    handle: (ctx) => json({ organization_usage: [...ctx.state.datasets.values()].reduce((n, r) => n + r.bytes, 0) }),
  },
  {
    op: "get-dataset",
    method: "GET",
    path: "/v1/datasets/{id}",
    body: "none",
    paramPatterns: datasetId,
    handle: (ctx) => json({ dataset: getDatasetRec(ctx, ctx.params.id!).dataset }),
  },
  {
    op: "delete-dataset",
    method: "DELETE",
    path: "/v1/datasets/{id}",
    body: "none",
    paramPatterns: datasetId,
    handle: (ctx) => {
      getDatasetRec(ctx, ctx.params.id!);
      ctx.state.datasets.delete(ctx.params.id!);
      return json({});
    },
  },

  // ----- connectors
  {
    op: "list-connectors",
    method: "GET",
    path: "/v1/connectors",
    body: "none",
    query: { limit: { type: "number", minimum: 0, maximum: 100 }, offset: { type: "number", minimum: 0 } },
    handle: (ctx) => {
      const all = [...ctx.state.connectors.values()].map((r) => r.connector);
      const offset = qnum(ctx, "offset") ?? 0;
      const limit = qnum(ctx, "limit") ?? 30;
      return json({ connectors: all.slice(offset, offset + limit), total_count: all.length });
    },
  },
  {
    op: "create-connector",
    method: "POST",
    path: "/v1/connectors",
    body: "json",
    schema: S.CREATE_CONNECTOR,
    handle: (ctx) => {
      const st = ctx.state;
      const now = st.now();
      const n = st.next();
      const slug = String(ctx.body.name).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "connector";
      const connector = connectorFrom(ctx.body, {
        id: `${slug}-${n}`,
        organization_id: ORG_ID,
        created_at: now,
        updated_at: now,
        excludes: [],
        active: true,
        continue_on_failure: false,
      }) as ConnectorRec["connector"];
      st.connectors.set(connector.id, { connector });
      return json({ connector });
    },
  },
  {
    op: "get-connector",
    method: "GET",
    path: "/v1/connectors/{id}",
    body: "none",
    handle: (ctx) => json({ connector: getConnectorRec(ctx).connector }),
  },
  {
    op: "update-connector",
    method: "PATCH",
    path: "/v1/connectors/{id}",
    body: "json",
    schema: S.UPDATE_CONNECTOR,
    handle: (ctx) => {
      const rec = getConnectorRec(ctx);
      rec.connector = connectorFrom(ctx.body, { ...rec.connector, updated_at: ctx.state.now() }) as ConnectorRec["connector"];
      return json({ connector: rec.connector });
    },
  },
  {
    op: "delete-connector",
    method: "DELETE",
    path: "/v1/connectors/{id}",
    body: "none",
    handle: (ctx) => {
      getConnectorRec(ctx);
      ctx.state.connectors.delete(ctx.params.id!);
      return json({});
    },
  },
  {
    op: "oAuthAuthorize-connector",
    method: "POST",
    path: "/v1/connectors/{id}/oauth/authorize",
    body: "none",
    query: { after_token_redirect: { type: "string" } },
    handle: (ctx) => {
      const rec = getConnectorRec(ctx);
      const oauth = (rec.connector.oauth ?? {}) as Record<string, string>;
      const url = new URL(oauth.authorize_url || "https://oauth.emulator.invalid/authorize");
      url.searchParams.set("client_id", oauth.client_id ?? "emulator-client");
      url.searchParams.set("response_type", "code");
      url.searchParams.set("redirect_uri", "https://api.cohere.com/v1/connectors/oauth/token");
      url.searchParams.set("state", uuidFrom(`oauth:${rec.connector.id}:${ctx.seq}`));
      if (oauth.scope) url.searchParams.set("scope", oauth.scope);
      const after = qstr(ctx, "after_token_redirect");
      if (after) url.searchParams.set("after_token_redirect", after);
      return json({ redirect_url: url.toString() });
    },
  },

  // ----- fine-tuning
  {
    op: "ListFinetunedModels",
    method: "GET",
    path: "/v1/finetuning/finetuned-models",
    body: "none",
    query: { ...S.PAGE_QUERY, order_by: { type: "string" } },
    handle: (ctx) => {
      const all = sortByOrder(
        [...ctx.state.finetunes.values()].map((r) => r.model),
        qstr(ctx, "order_by"),
      );
      const { page, next } = pageOf(all, ctx, 50);
      return json({ finetuned_models: page, ...(next ? { next_page_token: next } : {}), total_size: all.length });
    },
  },
  {
    op: "CreateFinetunedModel",
    method: "POST",
    path: "/v1/finetuning/finetuned-models",
    body: "json",
    schema: S.CREATE_FINETUNE,
    handle: (ctx) => {
      const st = ctx.state;
      const now = st.now();
      const n = st.next();
      const model: FinetuneRec["model"] = {
        id: uuidFrom(`ft:${n}`),
        name: ctx.body.name,
        creator_id: OWNER_ID,
        organization_id: ORG_ID,
        settings: ctx.body.settings,
        status: "STATUS_QUEUED",
        created_at: now,
        updated_at: now,
      };
      st.finetunes.set(model.id, { model, gets: 0, events: [{ user_id: OWNER_ID, status: "STATUS_QUEUED", created_at: now }] });
      return json({ finetuned_model: model });
    },
  },
  {
    op: "UpdateFinetunedModel",
    method: "PATCH",
    path: "/v1/finetuning/finetuned-models/{id}",
    body: "json",
    schema: S.UPDATE_FINETUNE,
    handle: (ctx) => {
      const rec = getFinetuneRec(ctx, ctx.params.id!);
      rec.model.name = ctx.body.name;
      rec.model.settings = ctx.body.settings;
      rec.model.updated_at = ctx.state.now();
      return json({ finetuned_model: rec.model });
    },
  },
  {
    op: "GetFinetunedModel",
    method: "GET",
    path: "/v1/finetuning/finetuned-models/{id}",
    body: "none",
    handle: (ctx) => {
      const rec = getFinetuneRec(ctx, ctx.params.id!);
      advanceFinetune(ctx, rec);
      return json({ finetuned_model: rec.model });
    },
  },
  {
    op: "DeleteFinetunedModel",
    method: "DELETE",
    path: "/v1/finetuning/finetuned-models/{id}",
    body: "none",
    handle: (ctx) => {
      getFinetuneRec(ctx, ctx.params.id!);
      ctx.state.finetunes.delete(ctx.params.id!);
      return json({});
    },
  },
  {
    op: "ListEvents",
    method: "GET",
    path: "/v1/finetuning/finetuned-models/{finetuned_model_id}/events",
    body: "none",
    query: { ...S.PAGE_QUERY, order_by: { type: "string" } },
    handle: (ctx) => {
      const rec = getFinetuneRec(ctx, ctx.params.finetuned_model_id!);
      const all = sortByOrder(rec.events, qstr(ctx, "order_by"));
      const { page, next } = pageOf(all, ctx, 50);
      return json({ events: page, ...(next ? { next_page_token: next } : {}), total_size: all.length });
    },
  },
  {
    op: "ListTrainingStepMetrics",
    method: "GET",
    path: "/v1/finetuning/finetuned-models/{finetuned_model_id}/training-step-metrics",
    body: "none",
    query: S.PAGE_QUERY,
    handle: (ctx) => {
      const rec = getFinetuneRec(ctx, ctx.params.finetuned_model_id!);
      const { page, next } = pageOf(stepMetrics(rec), ctx, 50);
      return json({ step_metrics: page, ...(next ? { next_page_token: next } : {}) });
    },
  },
];
