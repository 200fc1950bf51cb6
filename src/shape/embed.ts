/**
 * Embeddings are the big output: 96 inputs × 1536 floats is ~3 MB of JSON. By default an embed
 * call returns a compact summary (count, dimensions, types, a few leading values); the vectors
 * come only with `return_vectors: true`, and then only as many whole vectors as the output
 * budget holds, with a note saying which inputs to send again for the rest.
 */
import type { Shaped } from "../catalog/types.js";

/** Inputs previewed, and leading values shown per previewed vector. */
const PREVIEW_VECTORS = 3;
const PREVIEW_VALUES = 4;
/** Room kept for everything but the vectors (ids, counts, the note). */
const RESERVE = 900;

type Vector = number[] | string;

/** v1 answers `embeddings: number[][]` (floats) or by type; v2 always by type. */
function byType(data: Record<string, unknown>): Record<string, Vector[]> {
  const e = data.embeddings;
  if (Array.isArray(e)) return { float: e as Vector[] };
  const out: Record<string, Vector[]> = {};
  if (e && typeof e === "object") {
    for (const [t, v] of Object.entries(e)) if (Array.isArray(v)) out[t] = v as Vector[];
  }
  return out;
}

function dimensionsOf(types: Record<string, Vector[]>): number | undefined {
  for (const [t, vs] of Object.entries(types)) {
    const v = vs[0];
    if (v === undefined) continue;
    if (typeof v === "string") return Math.floor(Buffer.from(v, "base64").length / 4);
    return t === "binary" || t === "ubinary" ? v.length * 8 : v.length;
  }
  return undefined;
}

const round = (x: unknown) => (typeof x === "number" ? Number(x.toPrecision(4)) : x);

function preview(types: Record<string, Vector[]>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [t, vs] of Object.entries(types)) {
    out[t] = vs
      .slice(0, PREVIEW_VECTORS)
      .map((v) => (typeof v === "string" ? `${v.slice(0, 16)}…` : v.slice(0, PREVIEW_VALUES).map(round)));
  }
  return out;
}

export function shapeEmbeddings(data: unknown, input: { return_vectors?: boolean; model?: string }, maxChars: number): Shaped {
  const d = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
  const types = byType(d);
  const typeNames = Object.keys(types);
  const count = Math.max(0, ...Object.values(types).map((v) => v.length));
  const dimensions = dimensionsOf(types);
  const billed = (d.meta as { billed_units?: unknown } | undefined)?.billed_units;
  const structured: Record<string, unknown> = { count, embedding_types: typeNames };
  if (typeof d.id === "string") structured.id = d.id;
  if (dimensions !== undefined) structured.dimensions = dimensions;
  if (billed && typeof billed === "object") structured.billed_units = billed;
  const what = `${count} input${count === 1 ? "" : "s"}${input.model ? ` with ${input.model}` : ""}: ${dimensions ?? "?"} dimensions, types ${typeNames.join(", ") || "none"}`;

  if (!input.return_vectors) {
    structured.preview = preview(types);
    const first = Object.entries(structured.preview as Record<string, unknown[]>)[0];
    const lead = first && first[1][0] !== undefined ? ` First ${first[0]} values of input 0: ${JSON.stringify(first[1][0])}.` : "";
    return {
      structured,
      text:
        `Embedded ${what}.${lead} ` +
        "The vectors are left out to save context; call embed again with return_vectors: true to get them (as many whole vectors as the output budget holds).",
    };
  }

  // Keep the leading inputs whose vectors (all types) fit.
  const room = Math.max(0, maxChars - RESERVE);
  let used = 0;
  let kept = 0;
  for (let i = 0; i < count; i++) {
    let cost = 0;
    for (const t of typeNames) cost += JSON.stringify(types[t]![i] ?? null).length + 1;
    if (used + cost > room) break;
    used += cost;
    kept++;
  }
  const embeddings: Record<string, Vector[]> = {};
  for (const t of typeNames) embeddings[t] = types[t]!.slice(0, kept);
  structured.embeddings = embeddings;
  let text = `Embedded ${what}. Vectors are in structuredContent.embeddings (by type, in input order).`;
  if (kept < count) {
    const how =
      kept === 0
        ? "Not even one vector fits: use a smaller output_dimension (256 or 512), a compact embedding_types (int8, binary), or ask the operator to raise --max-output-chars."
        : `Call embed again with inputs ${kept}–${count - 1} (about ${kept} per call), or use a smaller output_dimension or a compact embedding_types (int8, binary).`;
    structured.truncated = `The output budget (${maxChars} characters) holds the vectors of inputs 0–${kept - 1} only (${kept} of ${count}). ${how}`;
    if (kept === 0) structured.truncated = `The output budget (${maxChars} characters) holds no whole vector (0 of ${count}). ${how}`;
    text += ` ${structured.truncated as string}`;
  }
  return { structured, text };
}
