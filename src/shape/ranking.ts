/** Readable text for rerank (indices and scores) and classify (labels); the JSON stays structured. */
import type { Shaped } from "../catalog/types.js";
import { dropNulls } from "./result.js";

/** Lines shown in the text; the structured result keeps them all (within the budget). */
const MAX_LINES = 50;

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const num = (v: unknown) => (typeof v === "number" ? Number(v.toPrecision(4)) : v);

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
        results.map((r) => `${String(r.index)}: ${String(num(r.relevance_score))}`),
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
