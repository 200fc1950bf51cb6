/**
 * Cohere Parse (issue 21, section 1): the `parse` tool end to end over stdio against the
 * emulator — Markdown and blocks results bounded for an agent, a document by path (read,
 * size-checked against Cohere's 20 MB limit, sniffed and sent as a data URI), inputs Cohere would
 * refuse refused before sending — and the emulator's own refusals, as Cohere documents them.
 */
import { mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { billedText } from "../src/audit/line.js";
import { PARSE_MAX_BYTES } from "../src/catalog/models.js";
import { parse } from "../src/catalog/tools/parse.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";
import { PNG_URI } from "./wire-cases.js";

let emu: CohereEmulator;
let c: Connected;
const dir = realpathSync(mkdtempSync(join(tmpdir(), "cmcp-parse-")));
const PNG = Buffer.from(PNG_URI.split(",")[1]!, "base64");
const URL_DOC = { model: "parse-v5.0", document_url: "https://example.com/invoice.png" };

beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  writeFileSync(join(dir, "page.png"), PNG);
  writeFileSync(join(dir, "report.pdf"), "%PDF-1.7\n%fake\n");
  writeFileSync(join(dir, "notes.txt"), "just text");
  const big = Buffer.alloc(PARSE_MAX_BYTES + 1);
  PNG.copy(big);
  writeFileSync(join(dir, "huge.png"), big);
  c = await connectStdio(emu.url, ["--tools", "parse", "--allow-file-read", `docs=${dir}`, "--max-file-bytes", String(64 * 1024 * 1024)]);
});
afterAll(async () => {
  await c?.close();
  await emu.stop();
});
beforeEach(() => emu.reset());

const call = async (args: Record<string, unknown>) => (await c.client.callTool({ name: "parse", arguments: args })) as ToolCallResult;

describe("parse tool", () => {
  it("is a default-visible read tool of its own group, with an output schema", async () => {
    const d = await connectStdio(emu.url);
    try {
      const t = (await d.client.listTools()).tools.find((x) => x.name === "parse");
      expect(t?.annotations?.readOnlyHint).toBe(true);
      expect(Object.keys(t!.outputSchema!.properties!)).toEqual(["output_format", "page_count", "pages"]);
    } finally {
      await d.close();
    }
  });

  it("markdown: the page's Markdown as the text, pages and billed pages in structuredContent", async () => {
    const r = await call(URL_DOC);
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toMatch(/^Parsed 1 page to Markdown\.\n\n!\[Company logo\]\(img-0\)\n\n# Document /);
    expect(textOf(r)).toContain("<table>");
    const s = r.structuredContent!;
    expect(s).toMatchObject({ output_format: "markdown", page_count: 1, billed_units: { pages: 1 } });
    expect((s.pages as Array<Record<string, unknown>>)[0]).toMatchObject({ index: 0, images: [{ id: "img-0", category: "logo" }] });
    expect(emu.requests.at(-1)!.body).toEqual({ model: "parse-v5.0", document: { type: "image_url", image_url: URL_DOC.document_url } });
  });

  it("blocks: counted by type per page, one line a block, no pixel boxes", async () => {
    const r = await call({ ...URL_DOC, output_format: "blocks" });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(textOf(r)).toMatch(/^Parsed 1 page into 4 blocks \(2 text, 1 table, 1 image\)\.\nPage 1: 2 text, 1 table, 1 image\n {2}\[image, logo\] Company logo\n {2}\[text\] # Document/);
    expect(textOf(r)).toMatch(/\[table\] Revenue by quarter \(\d+ characters of HTML\)/);
    const s = r.structuredContent!;
    expect(s.block_counts).toEqual({ text: 2, table: 1, image: 1 });
    const page = (s.pages as Array<{ counts: unknown; blocks: Array<Record<string, unknown>> }>)[0]!;
    expect(page.counts).toEqual({ text: 2, table: 1, image: 1 });
    expect(JSON.stringify(page.blocks)).not.toContain("bounding_box");
    expect(page.blocks.find((b) => b.type === "table")).toMatchObject({ title: "Revenue by quarter", box: { top_left_x: 0.1 } });
  });

  it("a path under --allow-file-read is read, recognised as PNG and sent as a data URI", async () => {
    const r = await call({ model: "parse-v5.0", document_path: "page.png" });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect((emu.requests.at(-1)!.body as { document: { image_url: string } }).document.image_url).toBe(PNG_URI);
    expect(textOf(r)).toMatch(/800x600 pixels/);
  });

  it("refuses before sending what Cohere would refuse: a PDF (path or data URI), a non-image, over 20 MB, both or neither document", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ model: "parse-v5.0", document_path: "report.pdf" }, /is a PDF\. Cohere Parse takes images only for now \(PDF is not yet supported\): render each page/],
      [{ model: "parse-v5.0", document_path: "notes.txt" }, /is not an image Cohere Parse reads \(PNG, JPEG, WebP, GIF, TIFF or BMP\)/],
      [{ model: "parse-v5.0", document_path: "huge.png" }, new RegExp(`is ${PARSE_MAX_BYTES + 1} bytes, over Cohere's limit of ${PARSE_MAX_BYTES} bytes for a parse document`)],
      [{ model: "parse-v5.0", document_url: "data:application/pdf;base64,JVBERi0xLjc=" }, /document_url: a PDF data URI: Cohere Parse takes images only/],
      [{ model: "parse-v5.0", document_url: "data:text/plain;base64,aGk=" }, /must be an image data URI/],
      [{ model: "parse-v5.0", document_url: "ftp://example.com/a.png" }, /must be an http\(s\) image URL or a data URI/],
      [{ model: "parse-v5.0", document_url: "https://example.com/a.png", document_path: "page.png" }, /give exactly one of document_url or document_path/],
      [{ model: "parse-v5.0" }, /give exactly one of document_url or document_path/],
    ];
    for (const [args, re] of cases) {
      const r = await call(args);
      expect(r.isError, JSON.stringify(args)).toBe(true);
      expect(textOf(r)).toMatch(re);
      expect(textOf(r)).toMatch(/nothing was sent to Cohere/i);
    }
    expect(emu.requests).toHaveLength(0);
  });

  it("an inline data URI over 20 MB decoded is refused by the schema (the server's message limit usually stops it first)", () => {
    const r = parse.input.safeParse({ model: "parse-v5.0", document_url: `data:image/png;base64,${"A".repeat(Math.ceil((PARSE_MAX_BYTES * 4) / 3) + 8)}` });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/over Cohere's limit of 20971520 bytes \(20 MB\)/);
  });

  it("a Markdown page longer than the output budget is cut, with the parse hint", async () => {
    const small = await connectStdio(emu.url, ["--tools", "parse", "--max-output-chars", "500"]);
    try {
      const r = (await small.client.callTool({ name: "parse", arguments: URL_DOC })) as ToolCallResult;
      expect(r.isError).toBeFalsy();
      expect(textOf(r).length).toBeLessThanOrEqual(250);
      expect(textOf(r)).toMatch(/^Parsed 1 page to Markdown\./);
      expect(textOf(r)).toMatch(/Parse a smaller image, or ask for output_format blocks/);
    } finally {
      await small.close();
    }
  });

  it("an unknown or wrong-kind model: Cohere's 404 / 400 reach the agent with what to do", async () => {
    expect(textOf(await call({ ...URL_DOC, model: "parse-v9" }))).toMatch(/model 'parse-v9' not found[\s\S]*list_models/);
    expect(textOf(await call({ ...URL_DOC, model: "command-a-03-2025" }))).toMatch(/model 'command-a-03-2025' is not supported by the parse API/);
  });

  it("the audit sentence names billed pages", () => {
    expect(billedText({ pages: 1 })).toBe("1 page");
    expect(billedText({ pages: 3 })).toBe("3 pages");
  });
});

describe("emulator /v2/parse refuses as Cohere does", () => {
  const post = async (body: unknown) => {
    const res = await fetch(`${emu.url}/v2/parse`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, message: ((await res.json()) as { message: string }).message };
  };
  const doc = (image_url: string) => ({ type: "image_url", image_url });

  it("unsupported document type, too large, too many pixels, unknown or wrong model, a document type other than image_url", async () => {
    expect(await post({ model: "parse-v5.0", document: doc("data:application/pdf;base64,JVBERi0=") })).toEqual({
      status: 400,
      message: "invalid request: unsupported document type 'application/pdf': only images are supported (PDF and other file types are not yet supported)",
    });
    const big = await post({ model: "parse-v5.0", document: doc(`data:image/png;base64,${"A".repeat(Math.ceil((PARSE_MAX_BYTES * 4) / 3) + 8)}`) });
    expect(big.status).toBe(400);
    expect(big.message).toMatch(/^invalid request: document is too large: \d+ bytes, the maximum file size is 20 MB$/);
    const huge = Buffer.from(PNG);
    huge.writeUInt32BE(10000, 16);
    huge.writeUInt32BE(6000, 20);
    expect(await post({ model: "parse-v5.0", document: doc(`data:image/png;base64,${huge.toString("base64")}`) })).toEqual({
      status: 400,
      message: "invalid request: image is too large: 10000x6000 pixels, the maximum is 50 megapixels",
    });
    expect((await post({ model: "parse-v9", document: doc("https://e.com/a.png") })).status).toBe(404);
    expect(await post({ model: "embed-v4.0", document: doc("https://e.com/a.png") })).toEqual({
      status: 400,
      message: "invalid request: model 'embed-v4.0' is not supported by the parse API",
    });
    expect((await post({ model: "parse-v5.0", document: { type: "file_url", file_url: "https://e.com/a.pdf" } })).status).toBe(400);
    expect((await post({ model: "parse-v5.0", document: doc("https://e.com/a.png"), output_format: "html" })).status).toBe(400);
  });
});
