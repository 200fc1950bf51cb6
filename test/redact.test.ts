/** src/redact.ts: secrets out of every text and value, before any cut; split and cut secrets too. */
import { describe, expect, it } from "vitest";
import { cutRedacted, redactDeep, redactParsed, redactTail, redactText, StreamRedactor } from "../src/redact.js";

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
});
