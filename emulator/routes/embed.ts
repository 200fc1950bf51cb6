/** Embed (v1, v2) and rerank (v1, v2): deterministic vectors and word-overlap relevance. */
import { embedDimension, modelWarningHeaders, useModel } from "../models.js";
import * as S from "../schemas.js";
import { countTokens, embeddingAs, embedFloat, imageInfo, overlapScore, sha256, uuidFrom, type EmbeddingType } from "../util.js";
import { badRequest, json, rejected, type Ctx, type Reply, type Route } from "./types.js";
import { E400 } from "../cohere-errors.js";
import { blank, meta } from "./common.js";

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
  const model = useModel(ctx.state, b.model, "embed");
  const types = ((b.embedding_types as EmbeddingType[] | undefined) ?? ["float"]).filter((t, i, a) => a.indexOf(t) === i);
  let items: EmbedItem[];
  if (Array.isArray(b.texts)) items = (b.texts as string[]).map((text) => ({ text, images: [] }));
  else if (Array.isArray(b.images)) items = (b.images as string[]).map((img) => ({ images: [img] }));
  else
    items = (b.inputs as Array<{ content: Array<{ type: string; text?: string; image_url?: { url: string } }> }>).map((inp) => ({
      text: inp.content.filter((c) => c.type === "text").map((c) => c.text ?? "").join(" "),
      images: inp.content.filter((c) => c.type === "image_url").map((c) => c.image_url?.url ?? ""),
    }));
  const { byType } = embedVectors(items, model, types, b.output_dimension as number | undefined);
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
  return json(out, 200, modelWarningHeaders(ctx.state, model));
}

function embedV1(ctx: Ctx): Reply {
  const b = ctx.body as Record<string, unknown>;
  const model = useModel(ctx.state, b.model, "embed");
  const texts = (b.texts as string[] | undefined) ?? [];
  const imgs = (b.images as string[] | undefined) ?? [];
  const items: EmbedItem[] = [...texts.map((text) => ({ text, images: [] })), ...imgs.map((img) => ({ images: [img] }))];
  const explicit = b.embedding_types as EmbeddingType[] | undefined;
  const types = (explicit ?? ["float"]).filter((t, i, a) => a.indexOf(t) === i);
  const { floats, byType } = embedVectors(items, model, types);
  const billed: Record<string, number> = { input_tokens: texts.reduce((n, t) => n + countTokens(t), 0) };
  if (imgs.length) billed.images = imgs.length;
  const base: Record<string, unknown> = { id: uuidFrom(`embed1:${ctx.seq}:${JSON.stringify(b)}`), texts, meta: meta("1", billed) };
  if (imgs.length) base.images = imgs.map(imageInfo);
  const headers = modelWarningHeaders(ctx.state, model);
  if (explicit) return json({ response_type: "embeddings_by_type", ...base, embeddings: byType }, 200, headers);
  return json({ response_type: "embeddings_floats", ...base, embeddings: floats }, 200, headers);
}

function checkEmbedV2(ctx: Ctx): string | undefined {
  const b = ctx.body as Record<string, unknown>;
  const given = ["texts", "images", "inputs"].filter((k) => b[k] !== undefined);
  if (given.length !== 1) return `exactly one of texts, images or inputs must be given (got ${given.length ? given.join(", ") : "none"})`;
  if (b.images && /v3/.test(String(b.model)) && (b.images as unknown[]).length > 1) return "images must contain at most 1 item for Embed v3 models";
  if (b.output_dimension !== undefined && !(Number(/^embed-v(\d+)/.exec(String(b.model))?.[1] ?? 0) >= 4)) {
    return "output_dimension is only supported by embed-v4.0 and newer models";
  }
  return undefined;
}

function checkEmbedV1(ctx: Ctx): string | undefined {
  const b = ctx.body as Record<string, unknown>;
  if (b.texts === undefined && b.images === undefined) return "texts or images is required";
  // Cohere's errors page words it so
  if (b.input_type === undefined && /v[345]/.test(String(b.model ?? ""))) return "valid input_type must be provided with the provided model";
  if (b.images && /v3/.test(String(b.model)) && (b.images as unknown[]).length > 1) return "images must contain at most 1 item for Embed v3 models";
  if (b.images !== undefined && b.input_type !== undefined && b.input_type !== "image") rejected(E400.imagesInputType);
  return undefined;
}

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

/**
 * Cohere bills one search unit per query with up to 100 documents; more documents count as
 * several searches (docs.cohere.com/docs/rerank-overview "Search units"; pricing page).
 */
export const searchUnits = (documents: number): number => Math.max(1, Math.ceil(documents / 100));

/** Cohere's rerank 400s, worded as its errors page lists them. */
function checkRerank(b: { query: string; documents: unknown[] }): void {
  if (!b.documents.length) badRequest("list of documents must not be empty");
  if (blank(b.query)) badRequest("query must not be empty or be only whitespace");
}

function rerankV2(ctx: Ctx): Reply {
  const b = ctx.body as { query: string; documents: string[]; top_n?: number; model?: string };
  useModel(ctx.state, b.model, "rerank");
  checkRerank(b);
  return json({
    id: uuidFrom(`rerank2:${ctx.seq}:${JSON.stringify(b)}`),
    results: rankDocs(b.query, b.documents, b.top_n),
    meta: meta("2", { search_units: searchUnits(b.documents.length) }),
  });
}

function rerankV1(ctx: Ctx): Reply {
  const b = ctx.body as { query: string; documents: unknown[]; top_n?: number; rank_fields?: string[]; return_documents?: boolean; model?: string };
  useModel(ctx.state, b.model, "rerank");
  checkRerank(b);
  const texts = b.documents.map((d) => rerankDocText(d, b.rank_fields));
  const results = rankDocs(b.query, texts, b.top_n).map((r) => {
    if (!b.return_documents) return r;
    const doc = b.documents[r.index];
    return { document: typeof doc === "string" ? { text: doc } : doc, ...r };
  });
  return json({ id: uuidFrom(`rerank1:${ctx.seq}:${JSON.stringify(b)}`), results, meta: meta("1", { search_units: searchUnits(b.documents.length) }) });
}

/**
 * Cohere reserves max_chunks_per_doc (default 10) chunks for each v1 document and refuses a request
 * whose product reaches 10,000, in its errors page's words.
 */
const MAX_CHUNKS = 10_000;

function checkRerankV1(ctx: Ctx): string | undefined {
  const b = ctx.body as { documents: unknown[]; rank_fields?: string[]; max_chunks_per_doc?: number };
  if (b.rank_fields !== undefined && b.rank_fields.length === 0) rejected(E400.rankFieldsEmpty);
  if (b.documents.length * (b.max_chunks_per_doc ?? 10) >= MAX_CHUNKS) {
    return `number of total max chunks (number of documents * max chunks per doc) must be less than ${MAX_CHUNKS}`;
  }
  for (let i = 0; i < b.documents.length; i++) {
    const d = b.documents[i];
    if (typeof d === "string") continue;
    if (!b.rank_fields?.length) {
      if (!("text" in (d as object)) && !("snippet" in (d as object))) rejected(E400.noTextField);
      continue;
    }
    for (const f of b.rank_fields) if (!(f in (d as object))) return `documents[${i}] is missing the field ${JSON.stringify(f)}`;
  }
  return undefined;
}

export const EMBED_ROUTES: Route[] = [
  { op: "embed", method: "POST", path: "/v1/embed", body: "json", schema: S.EMBED_V1, check: checkEmbedV1, handle: embedV1 },
  { op: "embedv2", method: "POST", path: "/v2/embed", body: "json", schema: S.EMBED_V2, check: checkEmbedV2, handle: embedV2 },
  { op: "rerank", method: "POST", path: "/v1/rerank", body: "json", schema: S.RERANK_V1, check: checkRerankV1, handle: rerankV1 },
  { op: "rerankv2", method: "POST", path: "/v2/rerank", body: "json", schema: S.RERANK_V2, handle: rerankV2 },
];
