import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CATALOG } from "../src/catalog/index.js";
import { describeTool } from "../src/catalog/describe.js";
import { ALL_OPERATIONS, BEYOND_SPEC } from "./spec/beyond.js";
import { buildConfigSchema, buildManifest, stringify, withFlagTable, withToolTable } from "../src/catalog/manifest.js";

const root = new URL("../", import.meta.url);
const read = (f: string) => readFileSync(new URL(f, root), "utf8");
const operations = JSON.parse(readFileSync(new URL("./fixtures/cohere-operations.json", import.meta.url), "utf8")) as {
  operations: Array<{ method: string; path: string; deprecated: boolean }>;
};

describe("catalog", () => {
  /** Composite tools: records on a spec operation's path that run a hook (polling) instead of one call. */
  const COMPOSITE = ["wait_for_batch", "wait_for_embed_job", "wait_for_finetuned_model"];
  const operationTools = CATALOG.filter((t) => !t.poll);

  it("has one tool per operation in the spec (41) and beyond it (parse: 42 in all), each on its method and path", () => {
    expect(operationTools).toHaveLength(ALL_OPERATIONS);
    const ops = [...operations.operations, ...BEYOND_SPEC].map((o) => `${o.method} ${o.path}`);
    expect(new Set(ops).size).toBe(42);
    expect(operationTools.map((t) => `${t.method} ${t.path}`).sort()).toEqual([...ops].sort());
  });

  it("composite tools come on top: wait tools, read class, each on a spec GET whose tool is in its group", () => {
    expect(CATALOG.filter((t) => t.poll).map((t) => t.name).sort()).toEqual(COMPOSITE);
    const ops = new Set(operations.operations.map((o) => `${o.method} ${o.path}`));
    for (const t of CATALOG.filter((x) => x.poll)) {
      expect(t.method, t.name).toBe("GET");
      expect(t.access, t.name).toBe("read");
      expect(ops.has(`GET ${t.path}`), t.name).toBe(true);
      const get = operationTools.find((o) => o.method === "GET" && o.path === t.path)!;
      expect(t.group, t.name).toBe(get.group);
      expect(t.deprecated === true, t.name).toBe(get.deprecated === true);
      expect(t.defaultVisible, t.name).toBe(false);
      expect(t.localKeys, t.name).toEqual(["timeout_s"]);
    }
  });

  it("marks every spec-deprecated operation deprecated", () => {
    for (const op of operations.operations.filter((o) => o.deprecated)) {
      const t = CATALOG.find((x) => x.method === op.method && x.path === op.path)!;
      expect(t.deprecated, t.name).toBe(true);
    }
  });

  it("names are unique, snake_case, ≤ 64 chars", () => {
    const names = CATALOG.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) {
      expect(n).toMatch(/^[a-z0-9_]+$/);
      expect(n.length).toBeLessThanOrEqual(64);
    }
  });

  it("every tool carries a title, a description and all four annotations consistent with its class", () => {
    for (const t of CATALOG) {
      const d = describeTool(t);
      const a = d.annotations;
      expect(d.title, t.name).toBeTruthy();
      expect(d.description.length, t.name).toBeGreaterThan(40);
      for (const k of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
        expect(typeof a[k], `${t.name}.${k}`).toBe("boolean");
      }
      expect(a.readOnlyHint, t.name).toBe(t.access === "read");
      expect(a.destructiveHint, t.name).toBe(t.access === "destructive");
      expect(a.openWorldHint, t.name).toBe(true);
      if (t.access === "read") expect(a.idempotentHint, t.name).toBe(true);
      if (t.method === "DELETE") expect(t.access, t.name).toBe("destructive");
      if (/^cancel_/.test(t.name)) expect(t.access, t.name).toBe("destructive");
      if (/^(create|update)_/.test(t.name)) expect(t.access, t.name).toBe("write");
      if (t.method === "GET") expect(t.access, t.name).toBe("read");
    }
  });

  it("input schemas are plain objects without $schema or top-level unions", () => {
    for (const t of CATALOG) {
      const s = describeTool(t).inputSchema;
      expect(s.type, t.name).toBe("object");
      for (const k of ["$schema", "anyOf", "oneOf", "allOf", "$ref", "definitions"]) expect(k in s, `${t.name} ${k}`).toBe(false);
    }
  });

  it.each(CATALOG.map((t) => [t.name, t] as const))("schema snapshot: %s", async (name, t) => {
    const d = describeTool(t);
    await expect(
      stringify({ description: d.description, annotations: d.annotations, inputSchema: d.inputSchema, outputSchema: d.outputSchema }),
    ).toMatchFileSnapshot(
      `./__snapshots__/schemas/${name}.json`,
    );
  });
});

describe("generated files are fresh (run `npm run manifest` when this fails)", () => {
  it("tools.manifest.json", () => {
    expect(read("tools.manifest.json")).toBe(stringify(buildManifest()));
  });
  it("config.schema.json", () => {
    expect(read("config.schema.json")).toBe(stringify(buildConfigSchema()));
  });
  it("tool table (docs/tools.md) and flag table (docs/flags.md)", () => {
    const tools = read("docs/tools.md");
    expect(tools).toBe(withToolTable(tools));
    const flags = read("docs/flags.md");
    expect(flags).toBe(withFlagTable(flags));
  });
});

describe("start-up index (served from tools.manifest.json without loading zod)", () => {
  it("gives every tool the same descriptor and policy facts as the catalog records", async () => {
    const { TOOL_INDEX, policyOf } = await import("../src/catalog/light.js");
    expect(TOOL_INDEX.map((t) => t.name)).toEqual(CATALOG.map((t) => t.name));
    for (const [i, t] of CATALOG.entries()) {
      expect(TOOL_INDEX[i]!.descriptor, t.name).toEqual(describeTool(t));
      expect(TOOL_INDEX[i]!.policy, t.name).toEqual(policyOf(t));
    }
  });
});
