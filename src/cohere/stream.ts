/**
 * Cohere's streamed answers: v2 chat speaks SSE (`event:`/`data:` lines, JSON with a `type`),
 * v1 chat and generate speak NDJSON (one JSON per line, with an `event_type`). Each parser reads
 * the body as it arrives, hands every piece of text (and tool-plan / tool-call pieces) to
 * `onPiece`, and assembles the same object Cohere returns for the non-streamed call, so the
 * result is shaped exactly as a non-streamed one. A body that ends (or is cut) before the final
 * event throws StreamCutError carrying the text received so far.
 */
import type { StreamKind } from "../catalog/types.js";
import { CohereTransportError } from "./errors.js";

export class StreamCutError extends Error {
  constructor(
    message: string,
    readonly partialText: string,
    readonly events: number,
  ) {
    super(message);
    this.name = "StreamCutError";
  }
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/**
 * Split SSE into the JSON of each `data:` field; stops at `[DONE]`. Lines end in \n, \r\n or \r
 * (the SSE spec allows all three); a chunk may end anywhere, even between \r and \n or inside a
 * UTF-8 character (TextDecoder in stream mode keeps the partial bytes).
 */
async function* sseEvents(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buf = "";
  let data: string[] = [];
  /** The event the buffered data lines make, or DONE; resets the buffer. */
  const dispatch = (): unknown | typeof DONE | undefined => {
    const text = data.join("\n");
    data = [];
    if (!text) return undefined;
    if (text.trim() === "[DONE]") return DONE;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined; // a malformed event is skipped, like Cohere's SDK does
    }
  };
  const line = (l: string): unknown | typeof DONE | undefined => {
    if (l === "") return dispatch();
    if (l.startsWith("data:")) data.push(l.slice(5).replace(/^ /, ""));
    return undefined;
  };
  for await (const chunk of body) {
    buf += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let m: RegExpExecArray | null;
    // a trailing \r may be the first half of \r\n: keep it until the next chunk says
    while ((m = /\r\n|\n|\r(?=[^\n])/.exec(buf))) {
      const ev = line(buf.slice(0, m.index));
      buf = buf.slice(m.index + m[0].length);
      if (ev === DONE) return;
      if (ev !== undefined) yield ev;
    }
  }
  buf += decoder.decode();
  for (const l of [...buf.replace(/\r$/, "").split(/\r\n|\n|\r/), ""]) {
    const ev = line(l);
    if (ev === DONE) return;
    if (ev !== undefined) yield ev;
  }
}

const DONE = Symbol("done");

/** One JSON object per line. */
async function* ndjsonEvents(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buf = "";
  const parse = (line: string): unknown => {
    const t = line.trim();
    if (!t) return undefined;
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return undefined;
    }
  };
  for await (const chunk of body) {
    buf += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const ev = parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (ev !== undefined) yield ev;
    }
  }
  const last = parse(buf + decoder.decode());
  if (last !== undefined) yield last;
}

/** Accumulates events of one kind into Cohere's non-streamed answer. */
interface Assembler {
  /** Returns the piece to forward as progress, if any. */
  push(ev: Obj): string | undefined;
  /** True once the final event arrived. */
  done(): boolean;
  /** The answer, as the non-streamed call returns it. */
  result(): Obj;
  /** Text received so far. */
  text(): string;
}

/** v2 chat: message-start, content-*, tool-plan-delta, tool-call-*, citation-*, message-end. */
function chatV2Assembler(): Assembler {
  let id: string | undefined;
  const blocks: Array<{ type: string; text: string }> = [];
  let toolPlan: string | undefined;
  const toolCalls: Array<{ id?: string; type: string; function: { name: string; arguments: string } }> = [];
  const citations: unknown[] = [];
  const logprobs: unknown[] = [];
  let end: Obj | undefined;
  return {
    push(ev) {
      const delta = obj(ev.delta);
      const message = obj(delta.message);
      const index = typeof ev.index === "number" ? ev.index : 0;
      switch (ev.type) {
        case "message-start":
          if (typeof ev.id === "string") id = ev.id;
          return undefined;
        case "content-start": {
          const c = obj(message.content);
          blocks[index] = { type: c.type === "thinking" ? "thinking" : "text", text: str(c.text) + str(c.thinking) };
          return undefined;
        }
        case "content-delta": {
          const c = obj(message.content);
          const block = (blocks[index] ??= { type: c.thinking !== undefined ? "thinking" : "text", text: "" });
          const piece = str(c.text) + str(c.thinking);
          block.text += piece;
          // the spec sends one LogprobItem per delta; an array of them is tolerated too
          if (Array.isArray(ev.logprobs)) logprobs.push(...(ev.logprobs as unknown[]));
          else if (ev.logprobs && typeof ev.logprobs === "object") logprobs.push(ev.logprobs);
          return block.type === "thinking" ? `[thinking] ${piece}` : piece;
        }
        case "tool-plan-delta": {
          const piece = str(message.tool_plan);
          toolPlan = (toolPlan ?? "") + piece;
          return `[tool plan] ${piece}`;
        }
        case "tool-call-start": {
          const call = obj(message.tool_calls);
          const fn = obj(call.function);
          toolCalls[index] = {
            ...(typeof call.id === "string" ? { id: call.id } : {}),
            type: str(call.type) || "function",
            function: { name: str(fn.name), arguments: str(fn.arguments) },
          };
          return `[tool call] ${str(fn.name)}`;
        }
        case "tool-call-delta": {
          const piece = str(obj(obj(message.tool_calls).function).arguments);
          const call = toolCalls[index];
          if (call) call.function.arguments += piece;
          return `[tool call ${call?.function.name ?? index} arguments] ${piece}`;
        }
        case "citation-start":
          if (message.citations) citations.push(message.citations);
          return undefined;
        case "message-end":
          end = delta;
          if (typeof ev.id === "string") id ??= ev.id;
          return undefined;
        default:
          return undefined;
      }
    },
    done: () => end !== undefined,
    text: () => blocks.filter((b) => b?.type === "text").map((b) => b.text).join(""),
    result() {
      const message: Obj = { role: "assistant" };
      const content = blocks.filter(Boolean).map((b) => (b.type === "text" ? { type: "text", text: b.text } : { type: "thinking", thinking: b.text }));
      if (toolPlan !== undefined) message.tool_plan = toolPlan;
      if (toolCalls.length) message.tool_calls = toolCalls.filter(Boolean);
      if (content.length) message.content = content;
      if (citations.length) message.citations = citations;
      const out: Obj = { finish_reason: end?.finish_reason, message };
      if (id !== undefined) out.id = id;
      if (end?.usage) out.usage = end.usage;
      if (logprobs.length) out.logprobs = logprobs;
      if (typeof end?.error === "string") out.error = end.error;
      return out;
    },
  };
}

/** v1 chat: stream-start, text-generation, citation-generation, tool-calls-generation, stream-end {response}. */
function chatV1Assembler(): Assembler {
  let text = "";
  let generationId: string | undefined;
  const citations: unknown[] = [];
  let toolCalls: unknown;
  let end: Obj | undefined;
  return {
    push(ev) {
      switch (ev.event_type) {
        case "stream-start":
          generationId = str(ev.generation_id) || undefined;
          return undefined;
        case "text-generation":
          text += str(ev.text);
          return str(ev.text);
        case "citation-generation":
          if (Array.isArray(ev.citations)) citations.push(...(ev.citations as unknown[]));
          return undefined;
        case "tool-calls-generation":
          toolCalls = ev.tool_calls;
          return `[tool calls] ${JSON.stringify(ev.tool_calls ?? [])}`;
        case "stream-end":
          end = ev;
          return undefined;
        default:
          return undefined;
      }
    },
    done: () => end !== undefined,
    text: () => text,
    result() {
      const response = obj(end?.response);
      // Cohere's final event carries the whole non-streamed answer; build it only when absent.
      const out: Obj = Object.keys(response).length ? { ...response } : { text, generation_id: generationId };
      // stream-end's own finish_reason cannot say STOP_SEQUENCE (its enum lacks it): the
      // response inside it can, so that one wins
      if (typeof response.finish_reason !== "string" && typeof end?.finish_reason === "string") out.finish_reason = end.finish_reason;
      if (out.text === undefined) out.text = text;
      if (out.citations === undefined && citations.length) out.citations = citations;
      if (out.tool_calls === undefined && toolCalls !== undefined) out.tool_calls = toolCalls;
      // on an error the final answer may hold more than was streamed: keep what arrived
      if (end?.finish_reason !== "COMPLETE" && typeof end?.finish_reason === "string" && end.finish_reason.startsWith("ERROR")) {
        out.text = text;
      }
      return out;
    },
  };
}

/** generate: text-generation {text, index}, stream-error {err, finish_reason}, stream-end {response}. */
function generateAssembler(): Assembler {
  const texts: string[] = [];
  let end: Obj | undefined;
  let failed: Obj | undefined;
  return {
    push(ev) {
      const index = typeof ev.index === "number" ? ev.index : 0;
      switch (ev.event_type) {
        case "text-generation":
          texts[index] = (texts[index] ?? "") + str(ev.text);
          return index > 0 ? `[generation ${index}] ${str(ev.text)}` : str(ev.text);
        case "stream-error":
          failed = ev;
          return undefined;
        case "stream-end":
          end = ev;
          return undefined;
        default:
          return undefined;
      }
    },
    done: () => end !== undefined || failed !== undefined,
    text: () => texts.filter((t) => t !== undefined).join("\n\n"),
    result() {
      if (failed) {
        const finish = str(failed.finish_reason) || "ERROR";
        return {
          generations: texts.map((text, index) => ({ text: text ?? "", index, finish_reason: finish })),
          error: str(failed.err) || undefined,
        };
      }
      const response = obj(end?.response);
      if (Array.isArray(response.generations)) return { ...response };
      return { generations: texts.map((text, index) => ({ text: text ?? "", index, finish_reason: end?.finish_reason })) };
    },
  };
}

const ASSEMBLERS: Record<StreamKind, () => Assembler> = {
  "chat-v2": chatV2Assembler,
  "chat-v1": chatV1Assembler,
  generate: generateAssembler,
};

/**
 * The Accept header each stream asks with, as Cohere's own SDK sends it (cohere-ai 8.1.0,
 * core/fetcher/Fetcher.js getHeaders): v2 chat streams SSE ("text/event-stream", responseType
 * "sse"); v1 chat and generate streams use responseType "streaming", i.e. `*\/*`. Cohere answers
 * those NDJSON unless the request carries `Accepts: text/event-stream` (the spec's header, with
 * an "s"), which cohere-mcp never sends. `*\/*` is the safest value: the one the official client
 * is known to be served with (application/stream+json is what comes back, not a documented ask).
 */
export const STREAM_ACCEPT: Record<StreamKind, string> = {
  "chat-v2": "text/event-stream",
  "chat-v1": "*/*",
  generate: "*/*",
};

/** SSE or NDJSON: by the answer's content-type when it says, else what the stream kind sends. */
export function streamFormat(kind: StreamKind, contentType: string | undefined): "sse" | "ndjson" {
  const ct = (contentType ?? "").toLowerCase();
  if (ct.startsWith("text/event-stream")) return "sse";
  if (/^application\/(stream\+json|x-ndjson|jsonl|json)/.test(ct)) return "ndjson";
  return kind === "chat-v2" ? "sse" : "ndjson";
}

/**
 * Read a streamed body to the end. `onPiece` gets each piece in order. Throws StreamCutError
 * when the stream breaks off, and a "cancelled" CohereTransportError when `signal` aborted it.
 * `contentType` (the answer's header) picks the parser, whatever the kind.
 */
export async function readStream(
  kind: StreamKind,
  body: AsyncIterable<Uint8Array | string>,
  onPiece: (piece: string) => void,
  signal?: AbortSignal,
  contentType?: string,
): Promise<Obj> {
  const asm = ASSEMBLERS[kind]();
  const events = streamFormat(kind, contentType) === "sse" ? sseEvents(body) : ndjsonEvents(body);
  let count = 0;
  try {
    for await (const ev of events) {
      count++;
      const piece = asm.push(obj(ev));
      if (piece) onPiece(piece);
      if (asm.done() && kind !== "chat-v2") break;
    }
  } catch (err) {
    if (signal?.aborted) throw new CohereTransportError("cancelled", "The request was cancelled.", false);
    const text = asm.text();
    throw new StreamCutError(
      `The connection to Cohere was cut mid-stream after ${count} events (${err instanceof Error ? err.message : String(err)}).`,
      text,
      count,
    );
  } finally {
    // stop reading (and free the socket) if we left the loop early
    const b = body as { destroy?: () => void; readableEnded?: boolean };
    if (typeof b.destroy === "function" && b.readableEnded === false) b.destroy();
  }
  if (signal?.aborted) throw new CohereTransportError("cancelled", "The request was cancelled.", false);
  if (!asm.done()) {
    throw new StreamCutError(`Cohere's stream ended after ${count} events without its final event.`, asm.text(), count);
  }
  return asm.result();
}
