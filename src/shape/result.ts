/**
 * From Cohere's JSON to an MCP tool result: the record's `shape` hook (or the JSON as is) gives
 * the structured result and the readable text; the output budget bounds both, so that text plus
 * structuredContent stay within --max-output-chars together.
 */
import type { Shaped, ToolDef } from "../catalog/types.js";
import { budgetText, fitJson } from "./budget.js";
import { noteClean, type Secrets } from "../redact.js";

export interface TextContent {
  type: "text";
  text: string;
}

export interface ToolResult {
  content: TextContent[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  [k: string]: unknown;
}

/** Room left for the rest of the result (keys, the text's wrapper). */
const OVERHEAD = 100;

export function defaultHint(tool: ToolDef): string {
  if (tool.budgetHint) return tool.budgetHint;
  return tool.name.startsWith("list_")
    ? "Ask for a smaller page (page_size or limit) and fetch the rest page by page."
    : "Ask for less (fewer inputs, a narrower query) to see the whole result.";
}

/** Cohere sends `null` for absent fields now and then; a typed outputSchema wants them absent. */
export function dropNulls(data: unknown): Record<string, unknown> {
  if (!data || typeof data !== "object") return data === undefined ? {} : { value: data };
  if (Array.isArray(data)) return { items: data };
  const out: Record<string, unknown> = {};
  const d = data as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    const v = d[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  return out;
}

const tokenOf = (data: unknown): unknown =>
  data !== null && typeof data === "object" && !Array.isArray(data) ? (data as { next_page_token?: unknown }).next_page_token : undefined;

/** The generic "more pages" line: Cohere's next_page_token, passed back as page_token. */
function nextPageLine(tool: ToolDef, data: Record<string, unknown>, input: Record<string, unknown>): string | undefined {
  if (tool.nextPage) return tool.nextPage(data, input);
  const token = data.next_page_token;
  if (typeof token === "string" && token.length > 0) {
    return `More results: call ${tool.name} again with page_token: ${JSON.stringify(token)}.`;
  }
  return undefined;
}

/** Budget a shaped result into the final tool result. */
export function finishResult(
  tool: ToolDef,
  shaped: Shaped,
  input: Record<string, unknown>,
  max: number,
  raw?: Record<string, unknown>,
  /** Redacted before the budget cuts anything (the data should already be; this is the net). */
  secrets: Secrets = [],
  warnings?: Iterable<string | undefined>,
): ToolResult {
  const hint = defaultHint(tool);
  const more = nextPageLine(tool, raw ?? shaped.structured, input);
  // the warning is never cut: the rest of the text makes room for it
  const warn = warningLines(warnings);
  const tail = warn ? `\n\n${warn}` : "";
  let text: string;
  let structured: Record<string, unknown>;
  let json: string | undefined;
  if (shaped.text !== undefined) {
    text = budgetText(more ? `${shaped.text}\n${more}` : shaped.text, Math.max(0, Math.floor(max / 2) - tail.length), hint, secrets) + tail;
    ({ value: structured, json } = fitJson(shaped.structured, Math.max(0, max - text.length - OVERHEAD), hint, max, secrets));
  } else {
    // the text is the JSON itself: each half of the budget
    const half = Math.floor(max / 2) - OVERHEAD;
    ({ value: structured, json } = fitJson(shaped.structured, half - (more?.length ?? 0) - tail.length, hint, max, secrets));
    text = (json ?? JSON.stringify(structured)) + (more ? `\n${more}` : "") + tail;
  }
  // a structured result whose JSON shows no secret need not be walked again by redactResult
  if (json !== undefined && tool.output) noteClean(structured, json, secrets);
  const result: ToolResult = { content: [{ type: "text", text }] };
  if (tool.output) result.structuredContent = structured;
  if (shaped.error) result.isError = true;
  return result;
}

/** Shape Cohere's answer with the record's hook (or as is) and budget it. */
export function shapeResult(
  tool: ToolDef,
  data: unknown,
  input: Record<string, unknown>,
  max: number,
  secrets: Secrets = [],
  warnings?: Iterable<string | undefined>,
): ToolResult {
  if (data === undefined && !tool.output) {
    const warn = warningLines(warnings);
    return { content: [{ type: "text", text: `${tool.title}: done (empty answer from Cohere).${warn ? `\n\n${warn}` : ""}` }] };
  }
  if (!tool.shape) {
    const raw = dropNulls(data);
    return finishResult(tool, { structured: raw }, input, max, raw, secrets, warnings);
  }
  const shaped = tool.shape(data, input, { maxChars: max });
  // the answer without its nulls is only read for the next page (the hook's, or next_page_token):
  // without a nextPage hook, its token alone (a null one is absent either way)
  const raw = tool.nextPage ? dropNulls(data) : { next_page_token: tokenOf(data) };
  return finishResult(tool, shaped, input, max, raw, secrets, warnings);
}

/**
 * Cohere's X-API-Warning (a deprecated operation, model or parameter), told to the agent once
 * per result however many answers it came with: the last lines of the text.
 */
export function warningLines(warnings: Iterable<string | undefined> = []): string | undefined {
  // most answers carry none: no copies made
  const all = Array.isArray(warnings) ? (warnings as Array<string | undefined>) : [...warnings];
  let any = false;
  for (const w of all) if (typeof w === "string" && w.trim() !== "") any = true;
  if (!any) return undefined;
  const unique = [...new Set(all.filter((w): w is string => typeof w === "string" && w.trim() !== ""))];
  return unique.length ? unique.map((w) => `Cohere warning (X-API-Warning): ${w.trim().slice(0, 300)}`).join("\n") : undefined;
}
