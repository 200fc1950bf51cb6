/**
 * Schemas every client accepts (issue 14): every input and output schema that tools/list
 * advertises, taken from a real server over stdio, must compile with a bare `new Ajv2020()`
 * (no formats plugin: an unknown `format` throws) and with Ajv's strict mode, and must not use
 * what some clients reject: `$schema`, `$ref`/`$defs`/`definitions`, type arrays, a `const`
 * without a `type` beside it, or `format`. zod still validates what `format` used to say.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type ToolCallResult } from "./helpers.js";

interface Advertised {
  name: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
}

let emu: CohereEmulator;
let tools: Advertised[];
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  const c = await connectStdio(emu.url, ["--tools", "*", "--allow-write", "--allow-destructive"]);
  try {
    tools = (await c.client.listTools()).tools as Advertised[];
  } finally {
    await c.close();
  }
});
afterAll(async () => emu.stop());

/** Every schema a client sees: the advertised ones, and the manifest's (what the .mcpb ships). */
function schemas(): Array<[string, Record<string, unknown>]> {
  const manifest = JSON.parse(readFileSync(new URL("../tools.manifest.json", import.meta.url), "utf8")) as { tools: Advertised[] };
  const out: Array<[string, Record<string, unknown>]> = [];
  const seen = new Set<string>(); // the same schema in both places is compiled once
  const add = (what: string, s: Record<string, unknown>) => {
    const key = JSON.stringify(s);
    if (!seen.has(key)) out.push([what, s]);
    seen.add(key);
  };
  for (const [where, list] of [["tools/list", tools], ["tools.manifest.json", manifest.tools]] as const) {
    for (const t of list) {
      add(`${where} ${t.name} input`, t.inputSchema);
      if (t.outputSchema) add(`${where} ${t.name} output`, t.outputSchema);
    }
  }
  return out;
}

/** Walk a schema; `at` is a JSON pointer. Property names are data, not keywords. */
function problems(schema: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown, at: string) => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`));
    if (!node || typeof node !== "object") return;
    const n = node as Record<string, unknown>;
    for (const k of ["$schema", "$ref", "$defs", "definitions", "$id", "$dynamicRef"]) if (k in n) found.push(`${at}: ${k}`);
    if (Array.isArray(n.type)) found.push(`${at}: type array ${JSON.stringify(n.type)}`);
    if ("const" in n && typeof n.type !== "string") found.push(`${at}: const ${JSON.stringify(n.const)} without type`);
    if (typeof n.format === "string") found.push(`${at}: format ${n.format}`);
    for (const [k, v] of Object.entries(n)) {
      if ((k === "properties" || k === "patternProperties") && v && typeof v === "object") {
        for (const [pk, pv] of Object.entries(v)) walk(pv, `${at}/${k}/${pk}`);
      } else if (typeof v === "object") walk(v, `${at}/${k}`);
    }
  };
  walk(schema, "");
  return found;
}

describe("advertised schemas are portable", () => {
  it("tools/list advertises all 45 tools, and the manifest the same schemas", () => {
    expect(tools).toHaveLength(45);
    const manifest = JSON.parse(readFileSync(new URL("../tools.manifest.json", import.meta.url), "utf8")) as { tools: Advertised[] };
    for (const t of tools) {
      const m = manifest.tools.find((x) => x.name === t.name)!;
      expect(t.inputSchema, t.name).toEqual(m.inputSchema);
    }
  });

  it("every input and output schema compiles with a bare new Ajv2020()", () => {
    const failed: string[] = [];
    const ajv = new Ajv2020(); // default options: no formats plugin, so an unknown format throws
    for (const [what, s] of schemas()) {
      try {
        ajv.compile(s);
      } catch (err) {
        failed.push(`${what}: ${(err as Error).message}`);
      }
    }
    expect(failed).toEqual([]);
  });

  it("every input and output schema compiles in Ajv strict mode (strict: true, all strict checks as errors)", () => {
    const failed: string[] = [];
    let what = "";
    const ajv = new Ajv2020({
      strict: true,
      logger: { log: () => undefined, warn: (...m: unknown[]) => failed.push(`${what}: ${m.join(" ")}`), error: () => undefined },
    });
    for (const [name, s] of schemas()) {
      what = name;
      try {
        ajv.compile(s);
      } catch (err) {
        failed.push(`${what}: ${(err as Error).message}`);
      }
    }
    expect(failed).toEqual([]);
  });

  it("no $schema, $ref/$defs, type arrays, const without type, or format anywhere", () => {
    const found: string[] = [];
    for (const [what, s] of schemas()) for (const p of problems(s)) found.push(`${what} ${p}`);
    expect(found).toEqual([]);
  });

  it("the scan itself finds each of those (so a clean result means something)", () => {
    expect(
      problems({
        $schema: "x",
        type: "object",
        properties: {
          a: { $ref: "#/$defs/a" },
          b: { type: ["string", "null"] },
          c: { const: "x" },
          d: { type: "string", format: "date-time" },
          format: { type: "string" }, // a property named "format" is data, not a keyword
        },
        $defs: {},
      }),
    ).toEqual([
      ": $schema",
      ": $defs",
      "/properties/a: $ref",
      "/properties/b: type array [\"string\",\"null\"]",
      "/properties/c: const \"x\" without type",
      "/properties/d: format date-time",
    ]);
  });
});

describe("what format used to say is still enforced (by zod, before anything is sent)", () => {
  it("list_datasets with a before that is no date-time is a tool error and reaches nobody", async () => {
    emu.reset();
    const c = await connectStdio(emu.url);
    try {
      const r = (await c.client.callTool({ name: "list_datasets", arguments: { before: "last tuesday" } })) as ToolCallResult;
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/before/);
      expect(emu.requests).toHaveLength(0);
      const ok = (await c.client.callTool({ name: "list_datasets", arguments: { before: "2026-01-01T00:00:00Z" } })) as ToolCallResult;
      expect(ok.isError, textOf(ok)).toBeFalsy();
      expect(emu.requests).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it("create_connector with a url that is no URL is a tool error and reaches nobody", async () => {
    emu.reset();
    const c = await connectStdio(emu.url, ["--tools", "create_connector"]);
    try {
      const r = (await c.client.callTool({ name: "create_connector", arguments: { name: "c", url: "not a url" } })) as ToolCallResult;
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/url/);
      expect(emu.requests).toHaveLength(0);
    } finally {
      await c.close();
    }
  });
});
