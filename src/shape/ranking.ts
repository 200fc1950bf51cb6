/** Readable text for rerank (indices and scores) and classify (labels); the JSON stays structured. */
import type { Shaped } from "../catalog/types.js";
import { dropNulls } from "./result.js";

/** Lines shown in the text; the structured result keeps them all (within the budget). */
const MAX_LINES = 50;

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const num = (v: unknown) => (typeof v === "number" ? Number(v.toPrecision(4)) : v);

/**
 * `String(num(v))` for a score: toPrecision's digits with the trailing zeros (and a bare point) cut,
 * which is what Number then String would write for a plain decimal of 4 significant digits; a
 * negative value or an exponent (very small or large) goes the long way. test/shape.test.ts holds them equal.
 */
export function scoreText(v: unknown): string {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return String(num(v));
  const s = v.toPrecision(4);
  if (s.includes("e")) return String(Number(s));
  if (!s.includes(".")) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (s.charCodeAt(end - 1) === 46 /* . */) end--;
  return s.slice(0, end);
}

function lines(items: string[], what: string): string {
  const shown = items.slice(0, MAX_LINES);
  if (items.length > MAX_LINES) shown.push(`… ${items.length - MAX_LINES} more ${what} in structuredContent`);
  return shown.join("\n");
}

export function shapeRerank(data: unknown): Shaped {
  const structured = dropNulls(data);
  const results = arr(structured.results);
  const text = results.length
    ? `${results.length} results, best first (document index: relevance score):\n${lines(
        results.map((r) => `${String(r.index)}: ${scoreText(r.relevance_score)}`),
        "results",
      )}`
    : "No results.";
  return { structured, text };
}

export function shapeClassify(data: unknown): Shaped {
  const structured = dropNulls(data);
  const items = arr(structured.classifications);
  const text = items.length
    ? `Labels (input index: prediction, confidence):\n${lines(
        items.map((c, i) => `${i}: ${String(c.prediction ?? (Array.isArray(c.predictions) ? c.predictions.join(", ") : "?"))} (${String(num(c.confidence ?? (Array.isArray(c.confidences) ? c.confidences[0] : undefined)))})`),
        "classifications",
      )}`
    : "No classifications.";
  return { structured, text };
}

/** Results that are one text (detokenize, transcribe, summarize): the text itself. */
export const shapeTextField =
  (field: string) =>
  (data: unknown): Shaped => {
    const structured = dropNulls(data);
    const value = structured[field];
    return { structured, text: typeof value === "string" ? value : JSON.stringify(structured) };
  };
