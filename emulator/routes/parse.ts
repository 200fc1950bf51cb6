/**
 * Cohere Parse (POST /v2/parse), from docs.cohere.com/v2/reference/parse and the cohere-ai 8.1.0
 * types (not yet in the OpenAPI file): one document image in, Markdown pages or layout blocks
 * out, billed in pages. The document is an image URL or an image data URI; a PDF or any other
 * type, a document over 20 MB (or 50 megapixels), an unknown model or one of another kind are
 * refused as Cohere documents them.
 */
import { PARSE_MAX_BYTES } from "../../src/catalog/models.js";
import { parseModel } from "../models.js";
import { enm, obj, str } from "../validate.js";
import { imageInfo, sha256, uuidFrom } from "../util.js";
import { meta } from "./common.js";
import { badRequest, json, type Ctx, type Reply, type Route } from "./types.js";

const PARSE = obj(
  {
    model: str(),
    document: obj({ type: enm(["image_url"]), image_url: str() }, ["type", "image_url"]),
    output_format: enm(["markdown", "blocks"]),
  },
  ["model", "document"],
  false,
);

const MAX_PIXELS = 50_000_000;
const DATA_URI = /^data:([^;,]*)((?:;[^,]*)?),(.*)$/is;

/** The document's size and a seed for its made-up content; Cohere's 400s for what it refuses. */
function readDocument(url: string): { seed: string; width: number; height: number } {
  const m = DATA_URI.exec(url);
  if (!m) {
    if (!/^https?:\/\/\S+$/i.test(url)) badRequest("document.image_url must be an http(s) URL or a base64 data URI");
    return { seed: sha256(url).toString("hex").slice(0, 12), width: 1700, height: 2200 };
  }
  const type = m[1]!.toLowerCase();
  if (!type.startsWith("image/")) {
    badRequest(`unsupported document type '${type || "unknown"}': only images are supported (PDF and other file types are not yet supported)`);
  }
  if (!/;base64$/i.test(m[2]!)) badRequest("document.image_url data URI must be base64 encoded");
  const bytes = Math.floor((m[3]!.replace(/=+$/, "").length * 3) / 4);
  if (bytes > PARSE_MAX_BYTES) badRequest(`document is too large: ${bytes} bytes, the maximum file size is 20 MB`);
  const info = imageInfo(url);
  if (info.width * info.height > MAX_PIXELS) {
    badRequest(`image is too large: ${info.width}x${info.height} pixels, the maximum is 50 megapixels`);
  }
  return { seed: sha256(m[3]!).toString("hex").slice(0, 12), width: info.width, height: info.height };
}

const norm = (x0: number, y0: number, x1: number, y1: number) => ({ top_left_x: x0, top_left_y: y0, bottom_right_x: x1, bottom_right_y: y1 });
const px = (w: number, h: number, b: ReturnType<typeof norm>) => ({
  top_left_x: Math.round(b.top_left_x * w),
  top_left_y: Math.round(b.top_left_y * h),
  bottom_right_x: Math.round(b.bottom_right_x * w),
  bottom_right_y: Math.round(b.bottom_right_y * h),
});

function handleParse(ctx: Ctx): Reply {
  const b = ctx.body as { model: string; document: { image_url: string }; output_format?: "markdown" | "blocks" };
  parseModel(b.model);
  const doc = readDocument(b.document.image_url);
  const title = `Document ${doc.seed.slice(0, 8)}`;
  const para = `This page (${doc.width}x${doc.height} pixels) holds a short report; its figures are in the table below.`;
  const table = "<table><tr><th>Quarter</th><th>Revenue</th></tr><tr><td>Q1</td><td>1.2</td></tr><tr><td>Q2</td><td>1.5</td></tr></table>";
  const logoBox = norm(0.05, 0.03, 0.2, 0.09);
  const tableBox = norm(0.1, 0.4, 0.9, 0.6);
  const logo = { id: "img-0", description: "Company logo", category: "logo", bounding_box: px(doc.width, doc.height, logoBox), bounding_box_normalized: logoBox };
  const page =
    b.output_format === "blocks"
      ? {
          type: "blocks",
          index: 0,
          blocks: [
            { type: "image", image: logo },
            { type: "text", text: { content: `# ${title}` } },
            { type: "text", text: { content: para } },
            { type: "table", table: { type: "html", html: table, title: "Revenue by quarter", bounding_box: px(doc.width, doc.height, tableBox), bounding_box_normalized: tableBox } },
          ],
        }
      : { type: "markdown", index: 0, markdown: { content: `![Company logo](img-0)\n\n# ${title}\n\n${para}\n\n${table}`, images: [logo] } };
  return json({ id: uuidFrom(`parse:${ctx.seq}:${JSON.stringify(b)}`), pages: [page], meta: meta("2", { pages: 1 }) });
}

export const PARSE_ROUTES: Route[] = [{ op: "parse", method: "POST", path: "/v2/parse", body: "json", schema: PARSE, handle: handleParse }];
