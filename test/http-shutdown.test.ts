/**
 * Graceful shutdown of the HTTP server: SIGTERM stops new requests, lets in-flight calls finish
 * (up to --shutdown-grace-ms), then the process exits 0.
 */
import http from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { textOf, TEST_KEY } from "./helpers.js";
import { connectHttp, eventually, MCP_HEADERS, rawRequest, startHttp } from "./http-support.js";
import { MODERN } from "./eras-support.js";

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

describe("SIGTERM with sessions: a new session is refused while the held ones finish", () => {
  it("initialize (or any legacy request without a session id) on a kept-alive connection gets 503 + Retry-After; the in-flight call, the held session and a modern-era call are served; the refused call reaches nobody", async () => {
    const srv = await startHttp(emu.url, ["--sessions", "--shutdown-grace-ms", "10000"]);
    const c = await connectHttp(srv.url);
    // Three keep-alive connections opened before the signal, as a load balancer holds them: the
    // listening socket closes on SIGTERM, but requests on these still reach the draining server.
    const agents = [0, 1, 2, 3, 4].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    for (const agent of agents) expect((await rawRequest(`${srv.origin}/healthz`, { method: "GET", agent })).status).toBe(200);
    const [probe, opener, holder, sessionless, listener] = agents as [http.Agent, http.Agent, http.Agent, http.Agent, http.Agent];
    emu.setLatency(1_000);
    const call = c.client.callTool({ name: "rerank", arguments: RERANK });
    await eventually(() => expect(emu.requests.length).toBe(1));
    srv.child.kill("SIGTERM");
    await eventually(async () => expect((await rawRequest(`${srv.origin}/readyz`, { method: "GET", agent: probe })).status).toBe(503));

    const modernMeta = { "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/clientInfo": { name: "late", version: "1" } };
    const post = (agent: http.Agent, message: unknown, headers: Record<string, string> = {}) =>
      rawRequest(srv.url, { agent, headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(message) });
    const init = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "late", version: "1" } },
    };
    const refused = await post(opener, init);
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(refused.headers["mcp-session-id"]).toBeUndefined();
    expect(JSON.parse(refused.body).error.message).toMatch(/shutting down and opens no new sessions; retry/);
    // A call without a session id is refused the same way, before it is read: nothing goes upstream.
    const stray = await post(probe, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "rerank", arguments: RERANK } });
    expect(stray.status).toBe(503);
    expect(stray.headers["retry-after"]).toBe("1");

    // The session this server holds is still served, on a connection it already had.
    const held = await post(
      holder,
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "rerank", arguments: { ...RERANK, query: "held" } } },
      { "Mcp-Session-Id": c.transport.sessionId!, "Mcp-Protocol-Version": c.transport.protocolVersion ?? "2025-06-18" },
    );
    expect(held.status).toBe(200);
    expect(held.body).toMatch(/results/);
    // A modern-era (2026-07-28) request has no session to lose: served as before.
    const modern = await post(
      sessionless,
      {
        jsonrpc: "2.0",
        id: 4,
        method: "tools/call",
        params: {
          name: "rerank",
          arguments: { ...RERANK, query: "modern" },
          _meta: modernMeta,
        },
      },
      { "Mcp-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "rerank" },
    );
    expect(modern.status).toBe(200);
    expect(modern.body).toMatch(/results/);
    // A modern subscriptions/listen stream would be cut a moment later: refused, to be opened elsewhere.
    const listen = await post(
      listener,
      { jsonrpc: "2.0", id: 5, method: "subscriptions/listen", params: { notifications: { toolsListChanged: true }, _meta: modernMeta } },
      { "Mcp-Protocol-Version": MODERN, "Mcp-Method": "subscriptions/listen" },
    );
    expect(listen.status).toBe(503);
    expect(listen.headers["retry-after"]).toBe("1");
    expect(JSON.parse(listen.body)).toMatchObject({ id: 5, error: { message: expect.stringMatching(/shutting down and opens no new subscriptions\/listen streams; retry/) } });
    const r = await call;
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toMatch(/results/);
    // Cohere saw the in-flight call, the held session's and the modern one, nothing of the refused ones.
    expect(emu.requests.map((q) => (q.body as { query?: string }).query)).toEqual([RERANK.query, "held", "modern"]);
    expect(srv.stderr()).toMatch(/refused a new session: shutting down/);
    for (const agent of agents) agent.destroy();
    await c.close().catch(() => undefined);
    // (the drain's end with idle connections is the first test's; a second signal exits at once)
    srv.child.kill("SIGTERM");
    expect(await srv.exited).toBe(0);
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
