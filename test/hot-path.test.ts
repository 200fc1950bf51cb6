/**
 * What the per-call fast path of issue 13 must keep: the process's secrets are one array until a
 * secret is added (so redaction's per-array matchers are built once, not per call), and a secret
 * learned later is still redacted at once; the Cohere client's attempt signal aborts on the
 * caller's signal or its own timer, leaves no listener behind on the caller's signal, and keeps
 * the per-attempt timeout semantics (precise, until the headers for a stream).
 */
import { getEventListeners } from "node:events";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { createApp } from "../src/runtime/app.js";
import { AttemptSignal, attemptsInFlight, Deadlines } from "../src/cohere/attempt.js";
import type { ClientOptions } from "../src/cohere/client.js";
import { CohereTransportError } from "../src/cohere/errors.js";
import { parseOptions } from "../src/config/options.js";
import { createLogger } from "../src/runtime/logger.js";
import { TEST_KEY, testClient } from "./helpers.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY, streamChunkDelayMs: 150 });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const make = (o: Partial<ClientOptions> = {}) => testClient(emu.url, { maxRetries: 0, ...o });

describe("secrets", () => {
  it("are one array until a secret is added; a late secret is redacted from the next answer", async () => {
    const app = createApp(parseOptions([], { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url }), createLogger("silent"));
    try {
      const first = app.secrets();
      expect(app.secrets()).toBe(first);
      expect(app.client.secrets()).toBe(app.client.secrets());
      expect(Object.isFrozen(first)).toBe(true);

      const late = "late-agent-token-SECRET-55aa";
      emu.addFault({ path: "/v1/check-api-key", times: 2, fault: { kind: "json", body: { valid: true, note: `seen ${late}` } } });
      const before = await app.client.request({ method: "POST", path: "/v1/check-api-key", retryable: true });
      expect(JSON.stringify(before.data)).toContain(late);

      app.addSecret(late);
      expect(app.secrets()).not.toBe(first);
      expect(app.secrets()).toContain(late);
      expect(first).not.toContain(late);
      const after = await app.client.request({ method: "POST", path: "/v1/check-api-key", retryable: true });
      expect(JSON.stringify(after.data)).not.toContain(late);
      expect(JSON.stringify(after.data)).toContain("[REDACTED]");
    } finally {
      await app.close();
    }
  });
});

describe("the attempt signal", () => {
  it("aborts on its timer with a TimeoutError, once, and not after stopTimer", async () => {
    const fired: unknown[] = [];
    const s = new AttemptSignal(undefined, 30);
    s.addEventListener("abort", () => fired.push(s.reason), { once: true });
    await new Promise((r) => setTimeout(r, 80));
    expect(s.aborted).toBe(true);
    expect(s.timedOut).toBe(true);
    expect(fired).toHaveLength(1);
    expect((fired[0] as DOMException).name).toBe("TimeoutError");

    const quiet = new AttemptSignal(undefined, 30);
    let called = false;
    quiet.addEventListener("abort", () => (called = true));
    quiet.stopTimer();
    await new Promise((r) => setTimeout(r, 80));
    expect(called).toBe(false);
    expect(quiet.aborted).toBe(false);
  });

  it("times out attempts of different timeouts, sharing one timer, each at its own deadline and never before", async () => {
    const deadlines = new Deadlines();
    const fired: Array<{ ms: number; late: number }> = [];
    const start = (ms: number) => {
      const s = new AttemptSignal(undefined, ms, deadlines);
      s.addEventListener("abort", () => fired.push({ ms, late: performance.now() - s.deadline }));
      return s;
    };
    const long = start(120);
    const short = start(40);
    const ended = start(20);
    ended.stopTimer(); // ended before its deadline: never fires
    const mid = start(70);
    expect(deadlines.size).toBe(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(fired.map((f) => f.ms)).toEqual([40, 70, 120]);
    for (const f of fired) expect(f.late).toBeGreaterThanOrEqual(0);
    expect([short, mid, long].every((s) => s.timedOut && s.aborted)).toBe(true);
    expect(ended.aborted).toBe(false);
    expect(deadlines.size).toBe(0);
    long.stopTimer(); // after its timeout: nothing happens
    expect(fired).toHaveLength(3);
  });

  it("passes the listener to the caller's signal: the caller's abort and reason, and no listener left after", () => {
    const ac = new AbortController();
    const s = new AttemptSignal(ac.signal, 10_000);
    const seen: unknown[] = [];
    const listener = () => seen.push(s.reason);
    s.addEventListener("abort", listener, { once: true });
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(1);
    s.removeEventListener("abort", listener);
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
    s.addEventListener("abort", listener, { once: true });
    ac.abort("client went away");
    s.stopTimer();
    expect(seen).toEqual(["client went away"]);
    expect(s.aborted).toBe(true);
    expect(s.timedOut).toBe(false);
  });

  it("a request leaves no listener on the caller's signal, for a plain answer and a whole stream", async () => {
    const client = make();
    const ac = new AbortController();
    await client.request({ method: "POST", path: "/v1/check-api-key", retryable: true, signal: ac.signal });
    await new Promise((r) => setImmediate(r)); // undici lets go of it when the body closes
    expect(attemptsInFlight()).toBe(0); // nor an attempt in the timer's set
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
    const res = await client.request({
      method: "POST",
      path: "/v2/chat",
      json: { model: "command-a-03-2025", messages: [{ role: "user", content: "hi" }], stream: true },
      retryable: true,
      stream: true,
      signal: ac.signal,
    });
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(1); // until the body ends
    expect(attemptsInFlight()).toBe(0); // a stream's timeout ends with its headers
    await res.body!.text();
    await new Promise((r) => setImmediate(r));
    expect(getEventListeners(ac.signal, "abort")).toHaveLength(0);
    await client.close();
  });

  it("times out an attempt at its --timeout (not on a coarse tick), and a stream's body may outlast it", async () => {
    const client = make({ timeoutMs: 300 });
    emu.addFault({ path: "/v1/check-api-key", fault: { kind: "delay", ms: 3_000 } });
    const t0 = Date.now();
    const err = await client.request({ method: "POST", path: "/v1/check-api-key", retryable: true }).catch((e: unknown) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(CohereTransportError);
    expect((err as CohereTransportError).kind).toBe("timeout");
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(700);

    // the emulator sends a stream's pieces 150 ms apart: the whole body takes longer than 300 ms
    const s0 = Date.now();
    const res = await client.request({
      method: "POST",
      path: "/v2/chat",
      json: { model: "command-a-03-2025", messages: [{ role: "user", content: "tell me a long story please" }], stream: true },
      retryable: true,
      stream: true,
    });
    const body = await res.body!.text();
    expect(Date.now() - s0).toBeGreaterThan(300);
    expect(body).toContain("message-end");
    await client.close();
  });
});
