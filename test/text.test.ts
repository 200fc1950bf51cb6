/** quoteForHumans / escapeControls: values from others shown to people cannot rewrite the text around them. */
import { describe, expect, it } from "vitest";
import { escapeControls, escapeForHumans, quoteForHumans } from "../src/audit/text.js";

describe("quoteForHumans", () => {
  it("escapes every C0/C1 control, DEL, bidi override/isolate/mark and line separator, and the quote", () => {
    const all: string[] = [];
    for (let c = 0; c <= 0x1f; c++) all.push(String.fromCharCode(c));
    for (let c = 0x7f; c <= 0x9f; c++) all.push(String.fromCharCode(c));
    all.push("\u061c", "\u200e", "\u200f", "\u2028", "\u2029", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e");
    all.push("\u2066", "\u2067", "\u2068", "\u2069");
    for (const ch of all) {
      const q = quoteForHumans(`a${ch}b`);
      expect(q, `U+${ch.charCodeAt(0).toString(16)}`).toMatch(/^"a\\(?:[nrt]|u[0-9a-f]{4})b"$/);
    }
    expect(quoteForHumans('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteForHumans("line\nbreak\ttab\rcr")).toBe('"line\\nbreak\\ttab\\rcr"');
    expect(quoteForHumans("\u202eevil")).toBe('"\\u202eevil"');
    expect(quoteForHumans('say "hi"')).toBe('"say \\"hi\\""');
  });

  it("leaves ordinary text alone, letters of every script included", () => {
    expect(quoteForHumans("support-tickets")).toBe('"support-tickets"');
    expect(quoteForHumans("données été 数据 🙂")).toBe('"données été 数据 🙂"');
  });

  it("cuts to the bound with a marker and the original length, never inside a surrogate pair", () => {
    expect(quoteForHumans("x".repeat(10), 4)).toBe('"xxxx…" (10 characters)');
    expect(quoteForHumans("abc🙂def", 4)).toBe('"abc…" (8 characters)');
    expect(quoteForHumans("x".repeat(4_000_000)).length).toBeLessThan(240);
  });

  it("escapeControls keeps quotes (for our own phrases) but escapes controls; escapeForHumans escapes both", () => {
    expect(escapeControls('dataset "a"\nb')).toBe('dataset "a"\\nb');
    expect(escapeForHumans('dataset "a"\nb')).toBe('dataset \\"a\\"\\nb');
  });
});
