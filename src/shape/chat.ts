/**
 * Chat and generate results: the reply text is the readable content; the structured result is a
 * flat view of Cohere's answer. A streamed call is assembled into Cohere's non-streamed answer
 * first (src/cohere/stream.ts), so both go through these same functions and look the same.
 * A reply that ended with finish_reason ERROR / TIMEOUT is a tool error that keeps the text.
 */
import type { Shaped } from "../catalog/types.js";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const V2_ERRORS = new Set(["ERROR", "TIMEOUT"]);
const V1_ERRORS = new Set(["ERROR", "ERROR_TOXIC", "ERROR_LIMIT"]);

const isJsonMode = (input: unknown) => (input as { response_format?: { type?: unknown } } | undefined)?.response_format?.type === "json_object";

/**
 * What the agent is told about a reply that did not end on its own: cut at max_tokens (and, in
 * JSON mode, that the JSON will not parse), or stopped at a stop sequence.
 */
export function finishNote(finish: string, json: boolean): string | undefined {
  switch (finish) {
    case "":
    case "COMPLETE":
    case "TOOL_CALL":
      return undefined;
    case "MAX_TOKENS":
      return (
        "[finish_reason: MAX_TOKENS] The reply was cut off at max_tokens: call again with a larger max_tokens, or ask for a shorter answer." +
        (json ? " The JSON above is incomplete and will not parse." : "")
      );
    case "STOP_SEQUENCE":
      return "[finish_reason: STOP_SEQUENCE] The reply stopped at one of the stop_sequences (the sequence itself is left out).";
    default:
      return `[finish_reason: ${finish}]`;
  }
}

export function errorText(finish: string, error: unknown, text: string): string {
  const why = typeof error === "string" && error ? `: ${error}` : "";
  return text
    ? `Cohere stopped the reply with finish_reason ${finish}${why}. Text received so far (${text.length} characters):\n${text}`
    : `Cohere stopped the reply with finish_reason ${finish}${why} before any text. Try again.`;
}

function toolCallLines(calls: unknown[]): string {
  return calls
    .map((c) => {
      const call = obj(c);
      const fn = obj(call.function);
      const name = fn.name ?? call.name;
      const args = fn.arguments ?? (call.parameters !== undefined ? JSON.stringify(call.parameters) : "");
      return `- ${String(name)}(${String(args)})${call.id ? ` id=${String(call.id)}` : ""}`;
    })
    .join("\n");
}

/** Citation lines shown in the text; structuredContent keeps them all. */
const MAX_CITATIONS = 20;

/** `- "quoted span" ← tool get_weather_x:0` / `← document doc:0`: what each part of the reply rests on. */
function citationLines(citations: unknown[]): string {
  const lines = citations.slice(0, MAX_CITATIONS).map((c) => {
    const cit = obj(c);
    const sources = arr(cit.sources)
      .map(obj)
      .map((s) => `${String(s.type ?? "source")} ${String(s.id ?? "?")}`)
      .join(", ");
    return `- ${JSON.stringify(String(cit.text ?? ""))} ← ${sources || "no source"}`;
  });
  if (citations.length > MAX_CITATIONS) lines.push(`… ${citations.length - MAX_CITATIONS} more in structuredContent.citations`);
  return `Citations (span ← sources):\n${lines.join("\n")}`;
}

/** Chat v2: `{id, finish_reason, message: {content[], tool_plan, tool_calls, citations}, usage, logprobs}`. */
export function shapeChatV2(data: unknown, input?: unknown): Shaped {
  const d = obj(data);
  const message = obj(d.message);
  const blocks = arr(message.content).map(obj);
  const text = blocks.filter((b) => b.type === "text").map((b) => String(b.text ?? "")).join("");
  const thinking = blocks.filter((b) => b.type === "thinking").map((b) => String(b.thinking ?? "")).join("");
  const finish = typeof d.finish_reason === "string" ? d.finish_reason : "";
  const structured: Obj = { text };
  if (typeof d.id === "string") structured.id = d.id;
  if (finish) structured.finish_reason = finish;
  if (thinking) structured.thinking = thinking;
  if (typeof message.tool_plan === "string") structured.tool_plan = message.tool_plan;
  if (arr(message.tool_calls).length) structured.tool_calls = message.tool_calls;
  if (arr(message.citations).length) structured.citations = message.citations;
  if (d.usage && typeof d.usage === "object") structured.usage = d.usage;
  if (finish === "MAX_TOKENS") structured.truncated = true;
  if (Array.isArray(d.logprobs)) structured.logprobs = d.logprobs;
  if (typeof d.error === "string") structured.error = d.error;
  if (V2_ERRORS.has(finish)) return { structured, text: errorText(finish, d.error, text), error: true };
  const parts: string[] = [];
  if (typeof message.tool_plan === "string" && message.tool_plan) parts.push(`Plan: ${message.tool_plan}`);
  if (text) parts.push(text);
  if (arr(message.citations).length) parts.push(citationLines(arr(message.citations)));
  if (arr(message.tool_calls).length) {
    parts.push(`Tool calls (answer each with a tool message carrying its id):\n${toolCallLines(arr(message.tool_calls))}`);
  }
  const note = finishNote(finish, isJsonMode(input));
  if (note) parts.push(note);
  return { structured, text: parts.join("\n\n") || "(empty reply)" };
}

/** Chat v1: `{text, generation_id, finish_reason, tool_calls, citations, documents, chat_history, meta}`. */
export function shapeChatV1(data: unknown, input?: unknown): Shaped {
  const d = obj(data);
  const structured: Obj = {};
  // chat_history repeats the whole conversation the agent already holds: leave it out
  for (const [k, v] of Object.entries(d)) if (k !== "chat_history" && v !== null && v !== undefined) structured[k] = v;
  const text = typeof d.text === "string" ? d.text : "";
  structured.text = text;
  const finish = typeof d.finish_reason === "string" ? d.finish_reason : "";
  if (V1_ERRORS.has(finish)) return { structured, text: errorText(finish, d.error, text), error: true };
  const parts = [text];
  if (arr(d.tool_calls).length) parts.push(`Tool calls:\n${toolCallLines(arr(d.tool_calls))}`);
  if (finish === "MAX_TOKENS") structured.truncated = true;
  const note = finishNote(finish, isJsonMode(input));
  if (note) parts.push(note);
  return { structured, text: parts.filter(Boolean).join("\n\n") || "(empty reply)" };
}

/** Generate: `{id, generations: [{text, index, finish_reason, ...}], prompt, meta}`. */
export function shapeGenerate(data: unknown): Shaped {
  const d = obj(data);
  const generations = arr(d.generations).map(obj);
  const structured: Obj = {};
  // the prompt is the agent's own input: not worth repeating
  for (const [k, v] of Object.entries(d)) if (k !== "prompt" && v !== null && v !== undefined) structured[k] = v;
  structured.generations = generations;
  const texts = generations.map((g) => String(g.text ?? ""));
  const text = texts.length === 1 ? texts[0]! : texts.map((t, i) => `[${i}] ${t}`).join("\n\n");
  const failed = generations.find((g) => typeof g.finish_reason === "string" && V1_ERRORS.has(g.finish_reason));
  if (failed || typeof d.error === "string") {
    return { structured, text: errorText(String(failed?.finish_reason ?? "ERROR"), d.error, text), error: true };
  }
  // a streamed answer says how each generation ended (the plain answer does not)
  const notes = [...new Set(generations.map((g) => finishNote(typeof g.finish_reason === "string" ? g.finish_reason : "", false)))].filter(Boolean);
  if (generations.some((g) => g.finish_reason === "MAX_TOKENS")) structured.truncated = true;
  return { structured, text: [text || "(empty generation)", ...notes].join("\n\n") };
}
