import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { CohereClient, buildQuery, normaliseBaseUrl, parseRetryAfter, type ClientOptions } from "../src/cohere/client.js";
import { CohereApiError, CohereTransportError } from "../src/cohere/errors.js";
import { TEST_KEY, testClient } from "./helpers.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const make = (o: Partial<ClientOptions> = {}) => testClient(emu.url, o);

const check = { method: "POST" as const, path: "/v1/check-api-key", retryable: true };

describe("Cohere client over a real socket", () => {
  it("retries a 429 after the Retry-After it was given, then succeeds", async () => {
    const client = make();
    emu.addFault({ path: "/v1/check-api-key", fault: { kind: "status", status: 429, retryAfter: "1", message: "slow down" } });
    const t0 = Date.now();
    const res = await client.request(check);
    const waited = Date.now() - t0;
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(2);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(emu.requests).toHaveLength(2);
    await client.close();
  });

  it("retries 5xx at most twice and then reports Cohere's status and message", async () => {
    const client = make();
    emu.addFault({ path: "/v1/check-api-key", times: 5, fault: { kind: "status", status: 503, message: "overloaded" } });
    const err = await client.request(check).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CohereApiError);
    expect((err as CohereApiError).status).toBe(503);
    expect((err as CohereApiError).toToolText()).toMatch(/503: overloaded.*try again later.*3 attempts/);
    expect(emu.requests).toHaveLength(3);
    await client.close();
  });

  it("never retries a write after it reached Cohere", async () => {
    const client = make();
    emu.addFault({ path: "/v2/batches", fault: { kind: "status", status: 503, message: "busy" } });
    const err = await client
      .request({ method: "POST", path: "/v2/batches", json: { name: "b", input_dataset_id: "ds-1", model: "command-a-03-2025" }, retryable: false })
      .catch((e: unknown) => e);
    expect((err as CohereApiError).status).toBe(503);
    expect(emu.requests).toHaveLength(1);
    await client.close();
  });

  it("retries a write when the connection was refused before sending", async () => {
    const client = new CohereClient({ ...make().options, baseUrl: "http://127.0.0.1:9", maxRetries: 2, retryBaseMs: 5 });
    const retries: string[] = [];
    const err = await client
      .request({ method: "POST", path: "/v2/batches", json: {}, retryable: false, onRetry: (i) => retries.push(i.reason) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CohereTransportError);
    expect(retries).toEqual(["ECONNREFUSED", "ECONNREFUSED"]);
    await client.close();
  });

  it("a cancel during retry backoff ends at once as 'cancelled', whatever the abort reason", async () => {
    const client = make({ retryBaseMs: 5_000 });
    emu.addFault({ path: "/v1/check-api-key", times: 3, fault: { kind: "status", status: 503, message: "busy" } });
    const ac = new AbortController();
    setTimeout(() => ac.abort("client went away"), 100);
    const t0 = Date.now();
    const err = await client.request({ ...check, signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CohereTransportError);
    expect((err as CohereTransportError).kind).toBe("cancelled");
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(emu.requests).toHaveLength(1); // no retry started
    await client.close();
  });

  it("does not retry 400/401/404", async () => {
    const client = make();
    for (const status of [400, 401, 404]) {
      emu.reset();
      emu.addFault({ path: "/v1/check-api-key", fault: { kind: "status", status, message: `m${status}` } });
      const err = (await client.request(check).catch((e: unknown) => e)) as CohereApiError;
      expect(err.status).toBe(status);
      expect(emu.requests).toHaveLength(1);
    }
    await client.close();
  });

  it("times out each attempt and says so", async () => {
    const client = make({ timeoutMs: 200, maxRetries: 0 });
    emu.addFault({ path: "/v1/check-api-key", fault: { kind: "delay", ms: 1500 } });
    const t0 = Date.now();
    const err = await client.request(check).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CohereTransportError);
    expect((err as CohereTransportError).kind).toBe("timeout");
    expect(Date.now() - t0).toBeLessThan(1200);
    await client.close();
  });

  it("maps the agent-guide statuses to advice", async () => {
    const client = make({ maxRetries: 0 });
    const cases: Array<[number, RegExp]> = [
      [400, /Fix the fields/],
      [401, /CO_API_KEY/],
      [402, /billing/],
      [404, /Check the id/],
      [429, /Production key/],
      [500, /try again later/],
    ];
    for (const [status, advice] of cases) {
      emu.reset();
      emu.addFault({ path: "/v1/check-api-key", fault: { kind: "status", status, message: `cohere says ${status}` } });
      const err = (await client.request(check).catch((e: unknown) => e)) as CohereApiError;
      expect(err.toToolText()).toContain(`cohere says ${status}`);
      expect(err.toToolText()).toMatch(advice);
    }
    await client.close();
  });

  it("redacts the key from error messages", async () => {
    const client = make({ maxRetries: 0 });
    emu.addFault({ path: "/v1/check-api-key", fault: { kind: "status", status: 400, message: `bad key ${TEST_KEY}` } });
    const err = (await client.request(check).catch((e: unknown) => e)) as CohereApiError;
    expect(err.toToolText()).not.toContain(TEST_KEY);
    expect(err.toToolText()).toContain("[REDACTED]");
    await client.close();
  });

  it("sends repeat-form query arrays and multipart bodies", async () => {
    const client = make();
    const res = await client.request({
      method: "POST",
      path: "/v1/datasets",
      query: { name: "d", type: "embed-input", keep_fields: ["a", "b"] },
      multipart: [{ name: "data", value: new TextEncoder().encode('{"text":"hi"}\n'), filename: "data.jsonl" }],
      retryable: false,
    });
    expect(res.status).toBe(200);
    const req = emu.requests[0]!;
    expect(req.query.keep_fields).toEqual(["a", "b"]);
    expect(req.multipart?.files.data?.filename).toBe("data.jsonl");
    expect(req.multipart?.files.data?.text).toBe('{"text":"hi"}\n');
    await client.close();
  });

  it("reuses keep-alive connections: 20 sequential calls share at most 2 sockets", async () => {
    const own = await startEmulator({ apiKey: TEST_KEY });
    const client = new CohereClient({ ...make().options, baseUrl: own.url });
    for (let i = 0; i < 20; i++) await client.request(check);
    expect(own.requests).toHaveLength(20);
    // undici may open a second socket while the first is still finishing its response
    expect(own.openConnections()).toBeLessThanOrEqual(2);
    await client.close();
    await own.stop();
  });

  it("helpers: base URL, query and Retry-After parsing", () => {
    expect(normaliseBaseUrl("https://api.cohere.com/v1/")).toBe("https://api.cohere.com");
    expect(normaliseBaseUrl("https://x.example/proxy/v2")).toBe("https://x.example/proxy");
    expect(buildQuery({ a: [1, 2], b: undefined, c: "x y" })).toBe("?a=1&a=2&c=x%20y");
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});
