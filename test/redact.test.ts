/** src/redact.ts: secrets out of every text and value, before any cut; split and cut secrets too. */
import { describe, expect, it } from "vitest";
import { cutRedacted, noteClean, redactDeep, redactParsed, redactResult, redactTail, redactText, StreamRedactor } from "../src/redact.js";
import { CATALOG } from "../src/catalog/index.js";
import { shapeResult } from "../src/shape/result.js";
import { scoreText } from "../src/shape/ranking.js";
import fc from "fast-check";

const KEY = "co-0123456789abcdefSECRETxyz";
const TOKEN = 'tok"en\\SECRET-42';
const SECRETS = [KEY, TOKEN];

describe("redaction", () => {
  it("replaces every occurrence, and a token's JSON-escaped form inside raw JSON text", () => {
    expect(redactText(`a ${KEY} b ${KEY}`, SECRETS)).toBe("a [REDACTED] b [REDACTED]");
    expect(redactText(JSON.stringify({ t: TOKEN }), SECRETS)).toBe('{"t":"[REDACTED]"}');
    expect(redactText("co-0", ["co-"])).toBe("co-0"); // too short to be a secret
  });

  it("cuts after redacting, at every offset, and redacts a secret's prefix a cut leaves at the end", () => {
    for (let off = 0; off < 60; off++) {
      const text = `${"x".repeat(off)}${KEY}${"y".repeat(50)}`;
      const cut = cutRedacted(text, 40, SECRETS);
      expect(cut.length).toBeLessThanOrEqual(40);
      for (let n = 6; n <= KEY.length; n++) expect(cut.endsWith(KEY.slice(0, n)), `off ${off}`).toBe(false);
      expect(cut).not.toContain(KEY.slice(0, 6));
    }
    expect(redactTail(`abc ${KEY.slice(0, 6)}`, SECRETS)).toBe("abc [REDACTED]");
    expect(redactTail(`abc ${KEY.slice(0, 5)}`, SECRETS)).toBe(`abc ${KEY.slice(0, 5)}`);
    // a huge text costs a window, not the whole
    expect(cutRedacted(`${KEY}${"z".repeat(5_000_000)}`, 20, SECRETS)).toBe("[REDACTED]zzzzzzzzzz");
  });

  it("redacts parsed JSON deeply, keys included, through \\u escapes, and survives hostile nesting", () => {
    const raw = `{"a":[{"b":"\\u0063o-0123456789abcdefSECRETxyz"}],"${KEY}":1}`;
    const parsed = redactParsed(raw, JSON.parse(raw) as Record<string, unknown>, SECRETS);
    expect(JSON.stringify(parsed)).toBe('{"a":[{"b":"[REDACTED]"}],"[REDACTED]":1}');
    let deep: unknown = KEY;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    redactDeep(deep, SECRETS);
    let inner: unknown = deep;
    while (Array.isArray(inner)) inner = inner[0];
    expect(inner).toBe("[REDACTED]");
  });

  it("streamed pieces: a secret split at every position across two pieces (or three) never shows", () => {
    for (let at = 0; at <= KEY.length; at++) {
      for (const cut of [false, true]) {
        const r = new StreamRedactor(SECRETS);
        const shown: string[] = [r.push("hello "), r.push(KEY.slice(0, at))];
        if (!cut) shown.push(r.push(`${KEY.slice(at)} bye`));
        shown.push(r.flush());
        const all = shown.join("");
        expect(all, `at ${at} cut ${cut}`).not.toContain(KEY.slice(0, 6));
        if (!cut) expect(all).toBe("hello [REDACTED] bye");
        else expect(all).toBe(at >= 6 ? "hello [REDACTED]" : `hello ${KEY.slice(0, at)}`);
      }
    }
    const r = new StreamRedactor(SECRETS);
    expect([r.push("no "), r.push("secret "), r.push("here"), r.flush()].join("")).toBe("no secret here");
    const three = new StreamRedactor(SECRETS);
    expect([three.push(KEY.slice(0, 5)), three.push(KEY.slice(5, 12)), three.push(KEY.slice(12)), three.flush()].join("")).toBe("[REDACTED]");
  });

  it("a shaped result's structured part is walked again unless its JSON showed no secret; a secret anywhere in it is still redacted", () => {
    const rerank = CATALOG.find((t) => t.name === "rerank")!;
    const input = { model: "rerank-v3.5", query: "q", documents: ["a", "b"] };
    // a secret in a key, in a value, spelled through an escape, or only in the secrets' copy: never shows
    for (const data of [
      { id: "x", results: [{ index: 0, relevance_score: 0.5 }], meta: { note: `see ${KEY}` } },
      { id: "x", results: [{ index: 0, relevance_score: 0.5 }], meta: { [KEY]: 1 } },
      { id: `tok"en\\SECRET-42`, results: [] },
    ]) {
      const r = redactResult(shapeResult(rerank, data, input, 20_000, SECRETS), SECRETS);
      const out = JSON.stringify(r);
      expect(out).not.toContain(KEY);
      expect(out).not.toContain(JSON.stringify(TOKEN).slice(1, -1));
    }
    // a value marked clean is skipped only for the very secrets array it was checked with
    const clean = { a: "nothing here" };
    noteClean(clean, JSON.stringify(clean), SECRETS);
    const later = [...SECRETS, "nothing"];
    expect(redactResult({ content: [], structuredContent: clean }, later).structuredContent).toEqual({ a: "[REDACTED] here" });
    // JSON with a secret or an escape is never marked
    const dirty = { a: `x ${KEY}` };
    noteClean(dirty, JSON.stringify(dirty), SECRETS);
    expect(redactResult({ content: [], structuredContent: dirty }, SECRETS).structuredContent).toEqual({ a: "x [REDACTED]" });
  });
});

describe("rerank's score text", () => {
  it("is String(Number(score.toPrecision(4))) for every number", () => {
    const same = (v: number) => expect(scoreText(v), String(v)).toBe(String(Number(v.toPrecision(4))));
    for (const v of [0, -0, 1, 0.5, 0.98, 0.99995, 0.00001234, 0.000001234, 1e-7, 1234.5, 12345, 1e21, 1e300, -0.5, NaN, Infinity, 5e-324]) same(v);
    fc.assert(fc.property(fc.double({ noNaN: false }), (v) => { same(v); }), { numRuns: 20_000 });
    fc.assert(fc.property(fc.double({ min: 0, max: 1 }), (v) => { same(v); }), { numRuns: 20_000 });
    expect(scoreText("0.5")).toBe("0.5");
    expect(scoreText(undefined)).toBe("undefined");
  });
});
