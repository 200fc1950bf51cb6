/** Small zod pieces shared by several tools. Keep descriptions short: they cost agent context. */
import { z } from "zod/v3";
import { showValue } from "../../audit/show.js";
import { quoteForHumans } from "../../audit/text.js";
import { cohereModel } from "../models.js";

/** A caller's value in a resource phrase (audit sentence, confirmation): as is when it is a plain
 *  token, else quoted and escaped, cut to 200 characters (src/audit/show.ts). */
export const shown = (v: unknown): string => (typeof v === "string" ? showValue(v) : String(v));
/** `1 document`, `2 documents`: a count in a resource phrase, its noun agreeing with it. */
export const counted = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;
/** A caller's name in a resource phrase: always quoted and escaped, cut to 200 characters. */
export const quoted = (v: string): string => quoteForHumans(v, 200);

/** 0 is the highest (and the default): self-evident enough to go without a description. */
export const priority = z.number().int().min(0).max(999).optional();

/** A Cohere resource id in a path segment: no slashes, no traversal. */
export const resourceId = (what: string) =>
  z
    .string()
    .min(1)
    .max(256)
    // refine, not regex: checked just the same, but not spelled out in every tool's schema
    .refine((v) => /^[^/?#\s]+$/.test(v), "must be a single path segment (no '/', '?', '#' or spaces)")
    // "." and ".." are dot-segments: a URL resolver would send the call to another path
    .refine((v) => v !== "." && v !== "..", "must not be '.' or '..'")
    .describe(what);

/** An image for embed: Cohere takes data URIs of these types only. */
export const imageDataUri = z
  .string()
  .refine(
    (v) => /^data:image\/(jpeg|png|webp|gif);base64,/i.test(v),
    "must be a data URI of type image/jpeg, image/png, image/webp or image/gif (data:image/png;base64,...)",
  );

/** output_dimension exists from embed-v4.0 on (embed-v4.0, embed-v5…; the model table says which); older families refuse it. */
export function outputDimensionSupported(model: string | undefined): boolean {
  const known = model ? cohereModel(model) : undefined;
  if (known) return known.features?.includes("output_dimension") === true;
  const major = /^embed-v(\d+)/.exec(model ?? "")?.[1];
  return major !== undefined && Number(major) >= 4;
}

export const pageSize = (max: number, dflt: number) =>
  z.number().int().min(1).max(max).optional().describe(`Default ${dflt}`);

/** The previous page's next_page_token (each list tool's description says so). */
export const pageToken = z.string().min(1).optional();

export const truncate = z
  .enum(["NONE", "START", "END"])
  .optional()
  .describe("Cut long inputs at START or END (default); NONE errors");

/**
 * File content given inline. Exactly one of `*_text` or `*_base64` must be given
 * (checked by the tool's superRefine). Returns bytes.
 */
export function fileBytes(text: string | undefined, base64: string | undefined): Uint8Array {
  if (text !== undefined) return new TextEncoder().encode(text);
  return Uint8Array.from(Buffer.from(base64 ?? "", "base64"));
}

export const base64String = z
  .string()
  .min(1)
  .refine((v) => /^[A-Za-z0-9+/\r\n]+={0,2}\s*$/.test(v), "must be base64");

/* ---- Generation and embedding pieces (chat, embed, legacy) ---- */

/** Top-k sampling, 0 disables (Cohere chat v1/v2, generate). */
export const topK = z.number().int().min(0).max(500).optional();

/** Nucleus sampling (Cohere chat v1/v2, generate). */
export const topP = z.number().min(0.01).max(0.99).optional();

/** Best-effort deterministic sampling. */
export const seed = z.number().int().min(0).optional();

/** Cohere `EmbedInputType` (required for embed v3+ models). */
export const embedInputType = z.enum(["search_document", "search_query", "classification", "clustering", "image"]);

/** Cohere `EmbeddingType` list (default ["float"]). */
export const embeddingTypes = z
  .array(z.enum(["float", "int8", "uint8", "binary", "ubinary", "base64"]))
  .min(1)
  .optional();

/** `data[key].name`, e.g. a dataset's name for a confirmation. */
export function nameOf(data: unknown, key: string): string | undefined {
  const inner = (data as Record<string, unknown> | undefined)?.[key] as { name?: unknown } | undefined;
  return typeof inner?.name === "string" ? inner.name : undefined;
}

/** A file by path: read only inside the operator's --allow-file-read directories. */
export const filePath = z.string().min(1).optional().describe("File path (needs --allow-file-read)");

/** embed / embed_v1: a local input (never sent to Cohere) that asks for the vectors themselves. */
export const returnVectors = z.boolean().optional().describe("Return the vectors, not a summary");

export const EMBED_OUTPUT = { count: "integer", dimensions: "integer", embeddings: "object" } as const;
export const EMBED_HINT = "Embed fewer inputs per call, or use a smaller output_dimension or a compact embedding_types.";

/** A file name for a multipart part: one path segment, no quotes or line breaks. */
export const fileName = z
  .string()
  .min(1)
  .max(255)
  .refine((v) => /^[^/\\"\r\n]+$/.test(v), "must be a plain file name (no '/', '\\', quotes or line breaks)");

const CONTENT_TYPES: Record<string, string> = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  mpeg: "audio/mpeg",
  mpga: "audio/mpeg",
  flac: "audio/flac",
  ogg: "audio/ogg",
  csv: "text/csv",
  txt: "text/plain",
  json: "application/json",
};

/** Content type guessed from a file name's extension (like Python's mimetypes), else `fallback`. */
export function contentTypeFor(filename: string, fallback = "application/octet-stream"): string {
  const dot = filename.lastIndexOf(".");
  if (dot < 0) return fallback;
  return CONTENT_TYPES[filename.slice(dot + 1).toLowerCase()] ?? fallback;
}

/**
 * Error map for z.union so agents see why a value failed instead of zod's bare "Invalid input":
 * the first nested issue of a branch whose shape matched (e.g. "0.type: Invalid discriminator value…"),
 * else `Expected <expected>`. Use as `z.union([...], { errorMap: explainUnion("...") })`.
 */
export const explainUnion =
  (expected: string): z.ZodErrorMap =>
  (issue, ctx) => {
    if (ctx.data === undefined) return { message: "Required" };
    if (issue.code === z.ZodIssueCode.invalid_union) {
      for (const e of issue.unionErrors) {
        const first = e.issues[0];
        if (first && first.path.length > issue.path.length) {
          const rel = first.path.slice(issue.path.length).join(".");
          return { message: rel ? `${rel}: ${first.message}` : first.message };
        }
      }
    }
    return { message: `Expected ${expected}` };
  };
