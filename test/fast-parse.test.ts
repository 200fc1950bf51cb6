/**
 * The quick check of a tool's arguments (src/call/fast-parse.ts) against zod's own parse, for
 * every tool of the catalog: whatever it accepts zod accepts, with an equal value (the same keys
 * in the same order, undefined values kept where zod keeps them); whatever zod refuses it leaves
 * to zod (whose messages the agent then gets, unchanged).
 */
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { CATALOG } from "../src/catalog/index.js";
import { fastChecker, fastParse, UNSURE } from "../src/call/fast-parse.js";
import { parseInput } from "../src/call/executor.js";
import { CASES, type Ids } from "./wire-cases.js";

/** Deep equality that also holds every object's key order. */
function same(a: unknown, b: unknown): boolean {
  if (!isDeepStrictEqual(a, b)) return false;
  if (a && typeof a === "object") {
    const ka = Object.keys(a);
    if (ka.join("\0") !== Object.keys(b as object).join("\0")) return false;
    return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return true;
}

const ids = new Proxy({} as Ids, { get: (_t, k) => (typeof k === "string" ? `id-${k}` : undefined) });
const ODD: unknown[] = [undefined, null, "", " ", "x", "usage", 0, -1, 1, 1.5, 999, 1000, 1e9, NaN, Infinity, -Infinity, true, false, [], [""], ["a", 1], [{}], {}, { a: 1 }];

/** Valid arguments and many variations of them: keys removed, replaced by odd values, added. */
function variants(args: Record<string, unknown>): unknown[] {
  const out: unknown[] = [args, {}, null, [], "str", 5, new Map(), Object.assign(Object.create(null), args)];
  const inherited = Object.create({ inherited: 1 });
  out.push(Object.assign(inherited, args));
  out.push({ ...args, zz_extra: 1 }, { ...args, __proto__: { x: 1 } }, JSON.parse(`{"__proto__": 1, "a": 2}`));
  for (const k of Object.keys(args)) {
    const { [k]: _gone, ...rest } = args;
    out.push(rest);
    for (const v of ODD) out.push({ ...args, [k]: v });
    const v = args[k];
    if (Array.isArray(v) && v.length) {
      out.push({ ...args, [k]: [...v, ...v] }, { ...args, [k]: [5] }, { ...args, [k]: [...v.slice(1), null] });
      if (v[0] && typeof v[0] === "object") out.push({ ...args, [k]: [{ ...(v[0] as object), zz: 1 }, ...v.slice(1)] });
      if (typeof v[0] === "string") out.push({ ...args, [k]: [" ", ""] });
    }
    if (v && typeof v === "object" && !Array.isArray(v)) {
      out.push({ ...args, [k]: { ...(v as object), zz: 1 } });
      for (const kk of Object.keys(v)) for (const o of ODD) out.push({ ...args, [k]: { ...(v as object), [kk]: o } });
    }
    if (typeof v === "string") out.push({ ...args, [k]: `${v} ` }, { ...args, [k]: "   " }, { ...args, [k]: v.repeat(50) });
    if (typeof v === "number") out.push({ ...args, [k]: v + 0.5 }, { ...args, [k]: -v }, { ...args, [k]: String(v) });
  }
  return out;
}

describe("fast argument check", () => {
  it("gives zod's value whenever it says yes, and leaves every refusal to zod, for every tool", () => {
    let yes = 0;
    let checked = 0;
    for (const tool of CATALOG) {
      const samples = CASES.filter((c) => c.tool === tool.name).map((c) => c.args(ids));
      if (!samples.length) samples.push({});
      for (const args of samples) {
        for (const v of variants(args)) {
          const zod = tool.input.safeParse(v ?? {});
          const quick = fastParse(tool.input, v ?? {});
          checked++;
          if (quick === UNSURE) continue;
          yes++;
          expect(zod.success, `${tool.name}: quick yes where zod says no for ${JSON.stringify(v)}`).toBe(true);
          expect(same(quick, zod.success ? zod.data : undefined), `${tool.name}: another value for ${JSON.stringify(v)}`).toBe(true);
        }
      }
    }
    // the check is worth having: it says yes to a good share of what was tried
    expect(checked).toBeGreaterThan(5000);
    expect(yes).toBeGreaterThan(200);
  });

  it("checks rerank's input itself (and most tools')", () => {
    for (const name of ["rerank", "tokenize", "classify"]) {
      const tool = CATALOG.find((t) => t.name === name)!;
      expect(fastChecker(tool.input), name).toBeDefined();
    }
    expect(CATALOG.filter((t) => fastChecker(t.input)).length).toBeGreaterThan(30);
  });

  it("leaves the messages of a refused call as zod writes them", () => {
    const rerank = CATALOG.find((t) => t.name === "rerank")!;
    const r = parseInput(rerank, { model: "rerank-v3.5", query: "   ", documents: [], extra: 1 });
    expect(r.ok).toBe(false);
    const text = !r.ok ? r.result.content[0]!.text : "";
    expect(text).toContain("Invalid arguments for rerank; nothing was sent to Cohere.");
    expect(text).toContain("- query: must not be only whitespace");
    expect(text).toContain("- documents: Array must contain at least 1 element(s)");
    expect(text).toContain("Unrecognized key(s) in object: 'extra'");
    const ok = parseInput(rerank, { documents: ["a"], query: "q", model: "rerank-v3.5", top_n: 1 });
    expect(ok.ok && Object.keys(ok.input)).toEqual(["model", "query", "documents", "top_n"]);
  });
});
