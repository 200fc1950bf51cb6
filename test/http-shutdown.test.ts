/**
 * Graceful shutdown of the HTTP server: SIGTERM stops new requests, lets in-flight calls finish
 * (up to --shutdown-grace-ms), then the process exits 0.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { textOf, TEST_KEY } from "./helpers.js";
import { connectHttp, eventually, rawRequest, startHttp } from "./http-support.js";

const RERANK = { model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "paris is the capital"] };

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

describe.each([
  ["stateless", [] as string[]],
  ["sessions", ["--sessions"]],
])("SIGTERM (%s)", (_mode, extra) => {
  it("drains an in-flight call: it returns successfully and the process exits 0", async () => {
    const srv = await startHttp(emu.url, [...extra, "--shutdown-grace-ms", "10000"]);
    const c = await connectHttp(srv.url);
    emu.setLatency(1_000);
    const call = c.client.callTool({ name: "rerank", arguments: RERANK });
    // Bounded wait until the call has reached the upstream, so it is truly in flight.
    await eventually(() => expect(emu.requests.length).toBe(1));
    srv.child.kill("SIGTERM");
    // New connections are refused (or answered 503) while it drains.
    await eventually(async () => {
      const r = await rawRequest(`${srv.origin}/readyz`, { method: "GET" }).catch((e: Error) => ({ status: 0, error: e }));
      expect([0, 503]).toContain(r.status);
    });
    const r = await call;
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toMatch(/results/);
    expect(await srv.exited).toBe(0);
    expect(emu.requests[0]!.aborted).toBeFalsy();
    expect(srv.stderr()).toMatch(/shutting down/);
    await c.close().catch(() => undefined);
  });
});

describe("SIGTERM past the grace period", () => {
  it("cancels what is still running, answers it with an error, and exits 0", async () => {
    const srv = await startHttp(emu.url, ["--shutdown-grace-ms", "300", "--max-retries", "0"]);
    const c = await connectHttp(srv.url);
    emu.addFault({ path: "/v2/rerank", fault: { kind: "delay", ms: 20_000 } });
    const call = c.client.callTool({ name: "rerank", arguments: RERANK }).then(
      (r) => ({ ok: true as const, r }),
      (e: Error) => ({ ok: false as const, e }),
    );
    await eventually(() => expect(emu.requests.length).toBe(1));
    srv.child.kill("SIGTERM");
    const outcome = await call;
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.e.message).toMatch(/shut down before the call finished/);
    expect(await srv.exited).toBe(0);
    await eventually(() => expect(emu.requests[0]!.aborted).toBe(true));
    await c.close().catch(() => undefined);
  });

  it("SIGINT shuts down the same way when idle", async () => {
    const srv = await startHttp(emu.url);
    srv.child.kill("SIGINT");
    expect(await srv.exited).toBe(0);
  });
});
