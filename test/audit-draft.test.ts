/**
 * A call's audit line is made in two steps (issue 13): its head (who, what, when, the arguments'
 * hash) while the request is on its way to Cohere, the rest when the call ends. The line must be
 * the very bytes the one-step path writes for the same event, whatever the values hold (secrets,
 * control characters, huge values, cuts across a secret), and a secret learnt between the two
 * steps must still be redacted. The audit's clock must read as Date's own ISO form.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  auditLine,
  createAuditSink,
  finishLine,
  HeadMemo,
  isoTime,
  prepareHead,
  UNAUTHENTICATED,
  type AuditHead,
  type AuditTail,
} from "../src/audit/index.js";

const SECRET = "sk-live-0123456789abcdef";
const TOKEN = "agent-token-fedcba9876543210";

/** Strings a hostile caller or upstream might put in a field: secrets whole and cut, controls, bidi, long runs. */
const hostile = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(SECRET, TOKEN, `x${SECRET}y`, SECRET.slice(0, 10), "a\nb", "\u202etxt", "r\u2028s", "\u0085", "\"quoted\"", "with space"),
  fc.tuple(fc.nat({ max: 700 }), fc.constantFrom("a", "é", "\n", SECRET)).map(([n, c]) => c.repeat(Math.max(1, Math.ceil(n / c.length)))),
  fc.tuple(fc.nat({ max: 650 }), fc.constantFrom(SECRET, TOKEN)).map(([n, s]) => "p".repeat(n) + s + "q"),
);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const headArb: fc.Arbitrary<AuditHead> = fc.record({
  time: fc.constant("2026-11-30T12:00:00.000Z"),
  agent: fc.oneof(hostile, fc.constant(UNAUTHENTICATED), fc.constant("search-agent")),
  sub: opt(hostile),
  client_id: opt(hostile),
  jti: opt(hostile),
  transport: fc.constantFrom("stdio" as const, "http" as const),
  tool: fc.oneof(hostile, fc.constant("rerank")),
  access: opt(fc.constantFrom("read" as const, "write" as const, "destructive" as const)),
  argsHash: opt(fc.constant("sha256:0123456789abcdef")),
  ignoredTools: opt(fc.array(hostile, { maxLength: 25 })),
  counters: opt(fc.constant("local")),
  key: opt(fc.constantFrom("default", "prod")),
  replica: opt(fc.constantFrom("r1", "a0b1c2")),
  remote: opt(fc.oneof(hostile, fc.constant("127.0.0.1"))),
  session: opt(fc.oneof(hostile, fc.constant("r1.0b7c4c8e-1111-2222-3333-444455556666"))),
  // --otel: the request span's ids (issue 24)
  trace_id: opt(fc.constant("4bf92f3577b34da6a3ce929d0e0e4736")),
  span_id: opt(fc.constant("00f067aa0ba902b7")),
});

const tailArb: fc.Arbitrary<AuditTail> = fc.record({
  upstreamMs: opt(fc.double({ min: 0, max: 1e5, noNaN: true })),
  retries: opt(fc.nat({ max: 5 })),
  decision: fc.constantFrom("allowed" as const, "denied" as const),
  reason: opt(fc.constantFrom("rate_limit" as const, "budget" as const, "invalid_input" as const)),
  detail: opt(hostile),
  resource: opt(fc.oneof(hostile, fc.constant("with rerank-v3.5"), fc.constant("5 documents"))),
  status: opt(fc.constantFrom(200, 429, 500)),
  outcome: opt(fc.oneof(fc.constantFrom("ok", "rate_limited", "upstream_error", "cancelled"), hostile)),
  requestId: opt(hostile),
  billedUnits: opt(
    fc.dictionary(fc.oneof(fc.constantFrom("input_tokens", "output_tokens", "search_units", "2", "10"), hostile), fc.oneof(fc.nat({ max: 5000 }), fc.double()), {
      maxKeys: 4,
    }),
  ),
  charge: opt(fc.constant("estimated" as const)),
  charged: opt(fc.dictionary(fc.constantFrom("output_tokens", "input_tokens", "usd"), fc.nat({ max: 1e12 }), { maxKeys: 3 })),
  confirmed: opt(fc.constant(true)),
  latencyMs: fc.double({ min: 0, max: 1e5, noNaN: true }),
});

describe("the two-step audit line", () => {
  it("is byte for byte the line the one-step path writes, for any head and tail", () => {
    const secrets = [SECRET, TOKEN];
    fc.assert(
      fc.property(headArb, tailArb, (h, t) => {
        expect(finishLine(prepareHead(h, secrets), t, secrets)).toBe(auditLine({ ...h, ...t }, secrets));
      }),
      { numRuns: 3000 },
    );
  });

  it("is the same line whatever resource phrase the head expected (the one the call ends with, another, or none)", () => {
    const secrets = [SECRET, TOKEN];
    fc.assert(
      fc.property(headArb, tailArb, fc.constantFrom("same", "other", "none"), hostile, (h, t, which, other) => {
        const expected = which === "same" ? t.resource : which === "other" ? other : undefined;
        expect(finishLine(prepareHead(h, secrets, undefined, undefined, expected), t, secrets)).toBe(auditLine({ ...h, ...t }, secrets));
      }),
      { numRuns: 3000 },
    );
  });

  it("is the same line when the unchanging part of the head is remembered from call to call", () => {
    const secrets = [SECRET, TOKEN];
    // one memo for every run: a key that mixed two heads up would give one of them the other's fields
    const memo = new HeadMemo(secrets);
    const agents = fc.constantFrom("search-agent", "search-agent2", "2:search-agent", "", SECRET, "a\u0000b");
    const small: fc.Arbitrary<AuditHead> = fc.record({
      time: fc.constantFrom("2026-11-30T12:00:00.000Z", "2026-11-30T12:00:00.001Z"),
      agent: agents,
      sub: opt(agents),
      client_id: opt(agents),
      jti: opt(agents),
      token_label: opt(agents),
      transport: fc.constantFrom("stdio" as const, "http" as const),
      tool: fc.constantFrom("rerank", "embed", "rerank2", "x"),
      access: opt(fc.constantFrom("read" as const, "write" as const)),
      argsHash: opt(fc.constantFrom("sha256:0123456789abcdef", "sha256:fedcba9876543210")),
      ignoredTools: opt(fc.array(agents, { maxLength: 3 })),
      counters: opt(fc.constant("local")),
      key: opt(fc.constantFrom("default", "prod")),
      replica: opt(fc.constantFrom("r1", "r2")),
      remote: opt(fc.constantFrom("127.0.0.1", "10.0.0.2")),
      session: opt(fc.constantFrom("r1.a", "r1.b")),
    });
    fc.assert(
      fc.property(small, tailArb, (h, t) => {
        expect(finishLine(prepareHead(h, secrets, undefined, memo), t, secrets)).toBe(auditLine({ ...h, ...t }, secrets));
      }),
      { numRuns: 4000 },
    );
  });

  it("never lets a secret through, whole or as the head of a cut", () => {
    const secrets = [SECRET, TOKEN];
    fc.assert(
      fc.property(headArb, tailArb, (h, t) => {
        const line = finishLine(prepareHead(h, secrets), t, secrets);
        expect(line).not.toContain(SECRET);
        expect(line).not.toContain(TOKEN);
        expect(line.indexOf("\n")).toBe(line.length - 1);
      }),
      { numRuns: 1000 },
    );
  });

  const dir = mkdtempSync(join(tmpdir(), "audit-draft-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("redacts a secret the server learnt after the head was made (a new agent token)", async () => {
    const file = join(dir, "late-secret.jsonl");
    let secrets: readonly string[] = [];
    const sink = createAuditSink(file, () => secrets);
    // the token straddles the 200-character bound of a value: cut first, its head would stay
    const agent = "a".repeat(190) + TOKEN;
    // and so does the resource phrase the head expected the call to end with
    const resource = `on ${TOKEN} documents`;
    const draft = sink.begin!({ time: isoTime(Date.now()), agent, transport: "http", tool: "rerank", access: "read" }, resource);
    secrets = [TOKEN];
    draft.finish({ decision: "allowed", status: 200, outcome: "ok", resource, latencyMs: 3 });
    await sink.close();
    const line = readFileSync(file, "utf8");
    expect(line).not.toContain(TOKEN.slice(0, 8));
    expect(JSON.parse(line)).toMatchObject({
      agent: "a".repeat(190) + "[REDACTED]",
      tool: "rerank",
      decision: "allowed",
      status: 200,
      resource: "on [REDACTED] documents",
    });
  });

  it("writes through the sink the same line as record() does", async () => {
    const a = join(dir, "two-step.jsonl");
    const b = join(dir, "one-step.jsonl");
    const head: AuditHead = { time: "2026-11-30T00:00:00.000Z", agent: "search-agent", transport: "stdio", tool: "rerank", access: "read", argsHash: "sha256:00" };
    const tail: AuditTail = { upstreamMs: 1.25, decision: "allowed", resource: "5 documents with rerank-v3.5", status: 200, outcome: "ok", billedUnits: { search_units: 1 }, latencyMs: 2.04 };
    const two = createAuditSink(a, () => [SECRET]);
    two.begin!(head).finish(tail);
    await two.close();
    const one = createAuditSink(b, () => [SECRET]);
    one.record({ ...head, ...tail });
    await one.close();
    expect(readFileSync(a, "utf8")).toBe(readFileSync(b, "utf8"));
    expect(JSON.parse(readFileSync(a, "utf8")).text).toBe("2026-11-30T00:00:00.000Z search-agent called rerank (read) on 5 documents with rerank-v3.5: allowed, 200 in 2 ms, billed 1 search unit");
  });
});

describe("isoTime", () => {
  it("reads as Date's toISOString, across days, years and leap days", () => {
    const edges = [0, 1, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000 - 1, 951_782_400_000, 1_764_547_199_999, 1_764_547_200_000, 253_402_300_799_999];
    for (const ms of edges) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
    // a fraction of a millisecond is dropped, as Date drops it
    expect(isoTime(1_764_547_200_123.9)).toBe(new Date(1_764_547_200_123.9).toISOString());
  });

  it("answers as Date does outside its fast range", () => {
    expect(isoTime(-1)).toBe(new Date(-1).toISOString());
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
