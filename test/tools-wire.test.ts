/**
 * Wire contract of every tool (issue 2): each tool is called through a real MCP client over stdio
 * (dist/src/index.js as a child process) against the emulator, and the request the emulator
 * recorded is compared with what Cohere's spec (/work/shared/cohere/cohere-openapi.yaml) requires:
 * method, exact path (path params substituted and URL-encoded), query (repeat form for arrays),
 * headers, and body (JSON deep-equal with snake_case names, multipart parts, or no body at all).
 *
 * The table runs in order against one emulator state: creates come first and later cases reuse
 * the ids Cohere returned, so get/update/cancel/delete act on real resources.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator, type RecordedRequest } from "../emulator/server.js";
import { CATALOG } from "../src/catalog/index.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";
import { byName, CASES, isComposite, WAITERS, waiterArgs, type Args, type Ids, type Wire } from "./wire-cases.js";

/* ------------------------------------------------------------------------------------------ */

let emu: CohereEmulator;
let c: Connected;
const ids: Ids = {};
const TOOL_NAMES = CATALOG.map((t) => t.name);

beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  c = await connectStdio(emu.url, ["--tools", TOOL_NAMES.join(","), "--confirm-destructive", "never"]);
});
afterAll(async () => {
  await c?.close();
  await emu?.stop();
});

function headersOk(req: RecordedRequest, kind: "json" | "multipart" | "none"): void {
  expect(req.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
  expect(req.headers["x-client-name"]).toBe("cohere-mcp");
  const ct = req.headers["content-type"];
  if (kind === "json") expect(ct).toMatch(/^application\/json\s*(;|$)/i);
  else if (kind === "multipart") expect(ct).toMatch(/^multipart\/form-data;\s*boundary=/i);
  else {
    expect(ct).toBeUndefined();
    expect(req.rawBody).toBe("");
  }
}

function assertWire(req: RecordedRequest, wire: Wire): void {
  expect(`${req.method} ${req.path}`).toBe(`${wire.method} ${wire.path}`);
  expect(req.query).toStrictEqual(wire.query ?? {});
  const kind = wire.json !== undefined ? "json" : wire.multipart ? "multipart" : "none";
  headersOk(req, kind);
  if (kind === "json") expect(req.body).toStrictEqual(wire.json);
  if (wire.multipart) {
    expect(req.multipart?.fields).toStrictEqual(wire.multipart.fields);
    const files = req.multipart?.files ?? {};
    expect(Object.keys(files).sort()).toEqual(Object.keys(wire.multipart.files).sort());
    for (const [name, want] of Object.entries(wire.multipart.files)) {
      const got = files[name]!;
      expect(got.filename, `${name} filename`).toBe(want.filename);
      if (want.text !== undefined) expect(got.text, `${name} content`).toBe(want.text);
      if (want.size !== undefined) expect(got.size, `${name} size`).toBe(want.size);
      if (want.contentType !== undefined) expect(got.contentType, `${name} content type`).toBe(want.contentType);
      else expect(got.contentType, `${name} content type`).toBeTruthy();
    }
  }
  expect(req.validationError).toBeUndefined();
  expect(req.valid).toBe(true);
}

/** The JSON Cohere answered, as the tool returned it. */
function dataOf(r: ToolCallResult): Record<string, any> {
  if (r.structuredContent && typeof r.structuredContent === "object") return r.structuredContent as Record<string, any>;
  const text = textOf(r);
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    const m = /\{[\s\S]*\}/.exec(text);
    return m ? (JSON.parse(m[0]) as Record<string, any>) : {};
  }
}

async function callAndRecord(name: string, args: Args): Promise<{ r: ToolCallResult; reqs: RecordedRequest[] }> {
  const start = emu.requests.length;
  const r = (await c.client.callTool({ name, arguments: args })) as ToolCallResult;
  return { r, reqs: emu.requests.slice(start) };
}

describe("every tool sends the spec's wire request (stdio client → cohere-mcp → emulator)", () => {
  it("the table covers every tool in the catalog (composite tools through their waiter entry)", () => {
    const covered = new Set(CASES.map((k) => k.tool));
    const plain = CATALOG.filter((t) => !isComposite(t)).map((t) => t.name);
    const composite = CATALOG.filter(isComposite).map((t) => t.name);
    expect(plain.filter((n) => !covered.has(n)), "tools without a wire case").toEqual([]);
    expect([...covered].filter((n) => !byName.has(n)), "cases for tools not in the catalog").toEqual([]);
    expect(composite.filter((n) => !WAITERS[n]), "composite tools without a WAITERS entry").toEqual([]);
    // Every Cohere operation is covered once by a plain tool.
    const ops = new Set(CATALOG.filter((t) => !isComposite(t)).map((t) => `${t.method} ${t.path}`));
    expect(ops.size).toBe(42); // the spec's 41 and parse
  });

  it("lists every tool it was started with", async () => {
    const { tools } = await c.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
  });

  for (const k of CASES) {
    it(`${k.tool}${k.label ? ` (${k.label})` : ""}`, async () => {
      const tool = byName.get(k.tool);
      expect(tool, `${k.tool} is in the catalog`).toBeDefined();
      const wire = k.wire(ids);
      // The record itself agrees with the expected route.
      expect(tool!.method).toBe(wire.method);

      const { r, reqs } = await callAndRecord(k.tool, k.args(ids));
      // Keep the returned ids first, so one wrong wire detail does not cascade into later cases.
      if (!r.isError && k.capture) k.capture(dataOf(r), ids);
      expect(reqs.map((q) => `${q.method} ${q.path}`), `${k.tool} sends exactly one request`).toHaveLength(1);
      assertWire(reqs[0]!, wire);
      if (k.status !== undefined) {
        expect(r.isError).toBe(true);
        expect(textOf(r)).toContain(String(k.status));
      } else {
        expect(r.isError, textOf(r)).toBeFalsy();
      }

      // Composite waiters run right after the case that leaves their resource ready to poll.
      for (const [name, w] of Object.entries(WAITERS)) {
        const waiter = byName.get(name);
        if (!waiter || w.after !== k.tool || k.status !== undefined) continue;
        const id = ids[w.id]!;
        const getPath = byName.get(w.get)!.path.replace(/\{[^}]+\}/, encodeURIComponent(id));
        const { reqs: polled } = await callAndRecord(name, waiterArgs(waiter, id));
        expect(polled.length, `${name} polls at least once`).toBeGreaterThan(0);
        for (const q of polled) {
          expect(`${q.method} ${q.path}`, name).toBe(`GET ${getPath}`);
          expect(q.query).toStrictEqual({});
          headersOk(q, "none");
          expect(q.valid).toBe(true);
        }
      }
    });
  }
});
