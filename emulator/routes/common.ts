/** Helpers shared by the route modules: meta blocks, pagination, query access, text of inputs. */
import { snippet } from "../util.js";
import { badRequest, type Ctx } from "./types.js";

export function meta(version: "1" | "2", billed: Record<string, number> = {}, extra: Record<string, unknown> = {}) {
  return { api_version: { version }, billed_units: billed, ...extra };
}

export function encodePageToken(offset: number): string {
  return Buffer.from(`offset:${offset}`).toString("base64url");
}

export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  const m = /^offset:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!m) badRequest(`page_token ${JSON.stringify(token)} is not valid`);
  return Number(m![1]);
}

export function qstr(ctx: Ctx, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[0] : v;
}

export function qnum(ctx: Ctx, name: string): number | undefined {
  const v = qstr(ctx, name);
  return v === undefined || v === "" ? undefined : Number(v);
}

/** Token pagination over an array: returns the page and the token for the next one. */
export function pageOf<T>(items: T[], ctx: Ctx, defaultSize: number, maxSize = 1000) {
  let size = qnum(ctx, "page_size") ?? defaultSize;
  if (size <= 0) size = defaultSize;
  size = Math.min(size, maxSize);
  const start = decodePageToken(qstr(ctx, "page_token"));
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? encodePageToken(start + size) : undefined;
  return { page, next };
}

export function sortByOrder<T extends Record<string, unknown>>(items: T[], orderBy: string | undefined): T[] {
  if (!orderBy) return items;
  const [field, dir] = orderBy.trim().split(/\s+/);
  if (!field) return items;
  const sorted = [...items].sort((a, b) => String(a[field] ?? "").localeCompare(String(b[field] ?? "")));
  return dir?.toLowerCase() === "desc" ? sorted.reverse() : sorted;
}

/** v2 `usage`: billed tokens are what was read and what was returned; `tokens` adds the prompt template. */
export function usage(input: number, output: number) {
  return {
    billed_units: { input_tokens: input, output_tokens: output },
    tokens: { input_tokens: input + 64, output_tokens: output },
  };
}

/** Text of a v2 message `content` (string or content blocks). */
export function contentText(content: unknown): string {
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

export function docText(doc: unknown): string {
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

export function echo(text: string): string {
  const s = snippet(text);
  return s ? `Echo: ${s}` : "Hello! How can I help you today?";
}

/** A message containing this marker makes the generation fail mid-way (finish_reason ERROR). */
export const EMULATE_ERROR = "[emulate:error]";

export const isStream = (ctx: Ctx) => (ctx.body as { stream?: unknown } | undefined)?.stream === true;

/**
 * A v1 stream (chat, generate) is NDJSON, or SSE with `Accepts: text/event-stream`: the Accept
 * header must admit one of them. Cohere's SDK sends `*\/*` (Fetcher getHeaders, responseType
 * "streaming"); an Accept that admits neither (application/json alone) is refused.
 */
export function checkStreamAccept(ctx: Ctx): string | undefined {
  if (!isStream(ctx)) return undefined;
  const accept = ctx.headers["accept"];
  if (accept === undefined || /(^|[\s,])(\*\/\*|application\/\*|application\/stream\+json|text\/event-stream|text\/\*)/i.test(accept)) return undefined;
  return `the Accept header '${accept.slice(0, 100)}' admits no stream format: a v1 stream is application/stream+json (send Accept: */* as Cohere's SDK does)`;
}

/** A string that is empty or only whitespace (Cohere refuses those where it needs text). */
export const blank = (v: unknown) => typeof v !== "string" || v.trim() === "";
