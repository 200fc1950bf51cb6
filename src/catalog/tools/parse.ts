import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { filePath, shown } from "./common.js";
import { LATEST, PARSE_MAX_BYTES } from "../models.js";
import { shapeParse } from "../../shape/parse.js";
import { FileRefused } from "../../call/files.js";

/*
 * Cohere Parse (POST /v2/parse), not yet in the OpenAPI file: the request and answer follow
 * docs.cohere.com/v2/reference/parse and cohere-ai 8.1.0 (ParseRequest, ParseResponse). Only
 * `document.type: image_url` exists (an http(s) image URL or a data URI); PDF is not yet accepted.
 * Limits: 20 MB file or decoded data URI; 50 megapixels or 200 MB decoded.
 */

/** Image types recognised by their first bytes, for a document given as a path. */
const MAGIC: ReadonlyArray<[string, (b: Uint8Array) => boolean]> = [
  ["image/png", (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47],
  ["image/jpeg", (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ["image/gif", (b) => b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38],
  ["image/webp", (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP"],
  ["image/tiff", (b) => (b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a)],
  ["image/bmp", (b) => b[0] === 0x42 && b[1] === 0x4d],
];
const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

const NOT_PDF = "Cohere Parse takes images only for now (PDF is not yet supported): render each page to PNG or JPEG and parse those";

/** A file's bytes as the data URI Cohere takes, or a refusal for a file Cohere would refuse. */
export function documentDataUri(bytes: Uint8Array, name: string): string {
  const type = MAGIC.find(([, is]) => is(bytes))?.[0];
  if (!type) {
    const what = ascii(bytes, 0, 5) === "%PDF-" ? "a PDF" : "not an image Cohere Parse reads (PNG, JPEG, WebP, GIF, TIFF or BMP)";
    throw new FileRefused(`The file ${JSON.stringify(name)} is ${what}. ${ascii(bytes, 0, 5) === "%PDF-" ? NOT_PDF : "Give an image"}.`);
  }
  return `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
}

const DATA_URI = /^data:([^;,]*)(?:;[^,]*)?,/i;

/** What is wrong with an inline document, or undefined. */
function documentProblem(url: string): string | undefined {
  const m = DATA_URI.exec(url);
  if (m) {
    const type = m[1]!.toLowerCase();
    if (type === "application/pdf") return `a PDF data URI: ${NOT_PDF}`;
    if (!type.startsWith("image/")) return `must be an image data URI (data:image/png;base64,...), not ${type || "untyped"} data`;
    const payload = url.length - m[0].length;
    if (payload * 0.75 > PARSE_MAX_BYTES) return `decodes to about ${Math.round(payload * 0.75)} bytes, over Cohere's limit of ${PARSE_MAX_BYTES} bytes (20 MB)`;
    return undefined;
  }
  return /^https?:\/\/[^\s/]+/i.test(url) ? undefined : "must be an http(s) image URL or a data URI (data:image/png;base64,...)";
}

export const parse = defineTool({
  name: "parse",
  title: "Parse a document image",
  group: "parse",
  access: "read",
  method: "POST",
  path: "/v2/parse",
  apiVersion: "v2",
  description:
    "A document image (URL, data URI or an allowed path; ≤20 MB; no PDF yet) as Markdown or layout blocks (Cohere Parse). Billed per page.",
  input: z
    .object({
      model: z.string().min(1).describe(`e.g. ${LATEST.parse}`),
      document_url: z.string().min(1).optional().describe("URL or data URI"),
      document_path: filePath,
      output_format: z.enum(["markdown", "blocks"]).optional(),
    })
    .strict()
    .superRefine((i, ctx) => {
      if ((i.document_url === undefined) === (i.document_path === undefined)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["document_url"], message: "give exactly one of document_url or document_path" });
        return;
      }
      const problem = i.document_url === undefined ? undefined : documentProblem(i.document_url);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["document_url"], message: problem });
    }),
  buildRequest: (i) => ({
    json: {
      model: i.model,
      document: { type: "image_url", image_url: i.document_url },
      ...(i.output_format ? { output_format: i.output_format } : {}),
    },
  }),
  resource: (i) =>
    `${i.document_path !== undefined ? `file ${shown(i.document_path)}` : /^data:/i.test(i.document_url ?? "") ? "an inline image" : `image ${shown(i.document_url)}`} with ${shown(i.model)}`,
  files: [{ key: "document_path", into: "document_url", limit: { bytes: PARSE_MAX_BYTES, what: "a parse document (20 MB)" }, encode: documentDataUri }],
  shape: shapeParse,
  output: { output_format: "string", page_count: "integer", pages: "array" },
  budgetHint: "Parse a smaller image, or ask for output_format blocks.",
});
