/**
 * Cohere Parse answers for an agent's context: Markdown pages as the text (cut by the output
 * budget like every result), or, for `output_format: "blocks"`, the blocks counted by type per
 * page and listed one line each; the structured result keeps the pages, without pixel boxes.
 */
import type { Shaped } from "../catalog/types.js";

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v.filter((x) => x && typeof x === "object") as Obj[]) : []);
const obj = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");

const BLOCK_TYPES = ["text", "table", "image"] as const;
type BlockType = (typeof BLOCK_TYPES)[number];
type Counts = Record<BlockType, number>;

/** Characters of one block shown on its line in the text. */
const LINE_CHARS = 200;

const oneLine = (s: string): string => {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > LINE_CHARS ? `${flat.slice(0, LINE_CHARS - 1)}…` : flat;
};

const round3 = (v: unknown) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v);

/** Normalized box only (4 numbers, 3 decimals): the pixel box says the same at the image's scale. */
function box(v: unknown): Obj | undefined {
  const b = obj(v);
  if (!Object.keys(b).length) return undefined;
  return Object.fromEntries(Object.entries(b).map(([k, n]) => [k, round3(n)]));
}

function image(i: Obj): Obj {
  const out: Obj = { id: str(i.id), description: str(i.description), category: str(i.category) };
  const b = box(i.bounding_box_normalized);
  if (b) out.box = b;
  return out;
}

/** One block as kept in the structured result. */
function block(b: Obj): { type: BlockType | "other"; kept: Obj; line: string } {
  const type = str(b.type);
  if (type === "text") {
    const content = str(obj(b.text).content);
    return { type, kept: { type, content }, line: `[text] ${oneLine(content)}` };
  }
  if (type === "table") {
    const t = obj(b.table);
    const kept: Obj = { type, html: str(t.html) };
    if (typeof t.title === "string") kept.title = t.title;
    if (typeof t.description === "string") kept.description = t.description;
    const bx = box(t.bounding_box_normalized);
    if (bx) kept.box = bx;
    const what = str(t.title) || str(t.description);
    return { type, kept, line: `[table] ${what ? `${oneLine(what)} ` : ""}(${str(t.html).length} characters of HTML)` };
  }
  if (type === "image") {
    const kept: Obj = { type, ...image(obj(b.image)) };
    return { type, kept, line: `[image, ${str(kept.category) || "other"}] ${oneLine(str(kept.description))}` };
  }
  return { type: "other", kept: b, line: `[${type || "unknown"}]` };
}

const countsText = (c: Counts) =>
  BLOCK_TYPES.filter((t) => c[t] > 0)
    .map((t) => `${c[t]} ${t}`)
    .join(", ") || "no blocks";

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

export function shapeParse(data: unknown, input: Record<string, unknown>): Shaped {
  const d = obj(data);
  const pages = arr(d.pages);
  const billed = obj(obj(d.meta).billed_units);
  const format = pages.some((p) => p.type === "blocks" || Array.isArray(p.blocks)) ? "blocks" : String(input.output_format ?? "markdown");
  const structured: Obj = { id: str(d.id), output_format: format, page_count: pages.length };
  if (Object.keys(billed).length) structured.billed_units = billed;

  if (format === "blocks") {
    const total: Counts = { text: 0, table: 0, image: 0 };
    const lines: string[] = [];
    structured.pages = pages.map((p, n) => {
      const counts: Counts = { text: 0, table: 0, image: 0 };
      const blocks = arr(p.blocks).map(block);
      for (const b of blocks) if (b.type !== "other") counts[b.type]++;
      for (const t of BLOCK_TYPES) total[t] += counts[t];
      const index = typeof p.index === "number" ? p.index : n;
      lines.push(`Page ${index + 1}: ${countsText(counts)}`, ...blocks.map((b) => `  ${b.line}`));
      return { index, counts, blocks: blocks.map((b) => b.kept) };
    });
    structured.block_counts = total;
    const head = `Parsed ${plural(pages.length, "page")} into ${plural(total.text + total.table + total.image, "block")} (${countsText(total)}).`;
    return { structured, text: [head, ...lines].join("\n") };
  }

  const texts: string[] = [];
  structured.pages = pages.map((p, n) => {
    const md = obj(p.markdown);
    const index = typeof p.index === "number" ? p.index : n;
    const content = str(md.content);
    texts.push(pages.length > 1 ? `--- page ${index + 1} ---\n${content}` : content);
    const page: Obj = { index, markdown: content };
    const images = arr(md.images);
    if (images.length) page.images = images.map(image);
    return page;
  });
  const head = `Parsed ${plural(pages.length, "page")} to Markdown.`;
  return { structured, text: [head, ...texts].join("\n\n") };
}
