/**
 * Parse (POST /v2/parse, beyond the spec) in the fidelity check, the server's side: every request
 * the `parse` tool sends validates against the supplementary ParseRequest (test/spec/parse.ts:
 * Cohere's reference and cohere-ai 8.1.0's types, over the spec's own ParseDocument and
 * ParseOutputFormat; nothing else may be sent), and the emulator's answer to each validates against
 * the spec's ParseResponse. test/fidelity.test.ts replays the SDK's parse examples and error bodies.
 */
import { mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";
import { errorsText, loadSpec, opPointer } from "./spec/openapi.js";
import { PNG_URI } from "./wire-cases.js";

const REQUEST = `${opPointer("POST", "/v2/parse")}/requestBody/content/application~1json/schema`;
const RESPONSE = `${opPointer("POST", "/v2/parse")}/responses/200/content/application~1json/schema`;

let emu: CohereEmulator;
let c: Connected;
const dir = realpathSync(mkdtempSync(join(tmpdir(), "cmcp-fidelity-parse-")));
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  writeFileSync(join(dir, "page.png"), Buffer.from(PNG_URI.split(",")[1]!, "base64"));
  c = await connectStdio(emu.url, ["--tools", "parse", "--allow-file-read", `docs=${dir}`]);
});
afterAll(async () => {
  await c?.close();
  await emu?.stop();
});

describe("the parse tool's requests and the emulator's answers, against the supplementary schema", () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ["an image URL, Markdown", { model: "parse-v5.0", document_url: "https://example.com/invoice.png", output_format: "markdown" }],
    ["a data URI, blocks", { model: "parse-v5.0", document_url: PNG_URI, output_format: "blocks" }],
    ["a file by path, the default format", { model: "parse-v5.0", document_path: join(dir, "page.png") }],
  ];
  for (const [what, args] of cases) {
    it(what, async () => {
      emu.reset();
      const r = (await c.client.callTool({ name: "parse", arguments: args })) as ToolCallResult;
      expect(r.isError, textOf(r)).toBeFalsy();
      const sent = emu.requests.filter((q) => q.path === "/v2/parse");
      expect(sent).toHaveLength(1);
      const req = loadSpec().validator(REQUEST);
      expect(req(sent[0]!.body), errorsText(req)).toBe(true);

      const again = await fetch(`${emu.url}/v2/parse`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(sent[0]!.body),
      });
      expect(again.status).toBe(200);
      expect(again.headers.get("x-api-warning")).toBeNull(); // the supplement declares none
      const res = loadSpec().validator(RESPONSE);
      expect(res(await again.json()), errorsText(res)).toBe(true);
    });
  }

  it("the request schema is strict: a field outside the reference fails it", () => {
    const req = loadSpec().validator(REQUEST);
    const ok = { model: "parse-v5.0", document: { type: "image_url", image_url: "https://example.com/a.png" } };
    expect(req(ok)).toBe(true);
    expect(req({ ...ok, pages: [1] })).toBe(false);
    expect(req({ ...ok, output_format: "html" })).toBe(false);
    expect(req({ model: "parse-v5.0", document: { type: "file", file: "x" } })).toBe(false);
  });
});
