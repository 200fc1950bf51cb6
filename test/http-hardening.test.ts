/**
 * HTTP under hostile agents and unauthenticated network clients (issue 8, findings 5, 6, 8, 9
 * and 13): one agent cannot take every session or every upstream connection, token guessing is
 * throttled per address (429 + Retry-After, one summary line), slow clients are cut within a
 * few seconds, one address cannot open unbounded connections, and small things: a garbage
 * request target is a 400, CORS reflects the normalised origin, /readyz keeps the upstream's
 * name to loopback or authenticated callers. Every bound is checked with other agents' calls
 * still working.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import type { AuditEvent } from "../src/audit/index.js";
import { TEST_KEY, textOf } from "./helpers.js";
import {
  bearer,
  connectHttp,
  connectionReply,
  holdConnection,
  eventually,
  INIT,
  MCP_HEADERS,
  rawRequest,
  rpc,
  startHttp,
  tempFile,
  writeConfig,
  type HttpServerProc,
} from "./http-support.js";

const A_TOKEN = "harden-a-token-3e4f5a6b7c8d9e0f";
const B_TOKEN = "harden-b-token-0a9b8c7d6e5f4a3b";
const C_TOKEN = "harden-c-token-5d6e7f8a9b0c1d2e";
const ENV = { A_TOKEN, B_TOKEN, C_TOKEN };
const TEAM = {
  profiles: {
    worker: { tools: ["rerank", "embed", "tokenize"] },
    wide: { tools: ["rerank", "embed"], limits: { max_sessions: 2, max_concurrent_calls: 2 } },
  },
  agents: [
    { name: "agent-a", profile: "worker", token_env: "A_TOKEN" },
    { name: "agent-b", profile: "worker", token_env: "B_TOKEN" },
    { name: "agent-c", profile: "wide", token_env: "C_TOKEN" },
  ],
};
const RERANK = { model: "rerank-v3.5", query: "q", documents: ["a", "b"] };
const EMBED = { model: "embed-v4.0", input_type: "search_query", texts: ["x"] };
const call = (name: string, args: unknown, id: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

/** A raw request from a chosen local address (127.0.0.2 is another loopback address on Linux). */
const from = (localAddress: string, url: string, opts: { method?: string; headers?: Record<string, string>; body?: string }) =>
  rawRequest(url, { ...opts, localAddress });

/** Resolves with how long the server took to close a socket we keep feeding one byte at a time. */
function trickle(port: number, head: string, byte: string, everyMs: number, giveUpMs: number): Promise<{ closedAfterMs: number; reply: string }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect({ host: "127.0.0.1", port });
    let reply = "";
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - t0, reply });
    };
    s.on("data", (d) => (reply += d.toString()));
    s.on("close", done);
    s.on("error", () => undefined);
    s.on("connect", () => {
      s.write(head);
      timer = setInterval(() => {
        if (Date.now() - t0 > giveUpMs) {
          s.destroy();
          return;
        }
        if (s.writable) s.write(byte);
      }, everyMs);
    });
  });
}

describe("sessions: each agent has its share (finding 5)", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    srv = await startHttp(emu.url, ["--config", writeConfig(TEAM), "--sessions", "--max-sessions", "4"], ENV);
  });
  afterAll(async () => srv.stop());

  it("an agent past a quarter of --max-sessions gets 429 naming its cap; other agents still open sessions", async () => {
    const a = await connectHttp(srv.url, bearer(A_TOKEN));
    const again = await rpc(srv.url, INIT, bearer(A_TOKEN));
    expect(again.status).toBe(429);
    expect(again.headers["retry-after"]).toBe("30");
    expect(again.body).toMatch(/Too many open sessions for agent \\"agent-a\\": it holds 1, its cap is 1 \(a quarter of --max-sessions\)/);
    const b = await connectHttp(srv.url, bearer(B_TOKEN));
    expect((await b.client.callTool({ name: "rerank", arguments: RERANK })).isError).toBeFalsy();
    // a profile's limits.max_sessions raises (or lowers) the share
    const c1 = await connectHttp(srv.url, bearer(C_TOKEN));
    const c2 = await connectHttp(srv.url, bearer(C_TOKEN));
    const c3 = await rpc(srv.url, INIT, bearer(C_TOKEN));
    expect(c3.status).toBe(429);
    expect(c3.body).toMatch(/its cap is 2 \(profile \\"wide\\" limits\.max_sessions\)/);
    // DELETE gives the slot back
    await a.transport.terminateSession();
    const a2 = await connectHttp(srv.url, bearer(A_TOKEN));
    for (const c of [a2, b, c1, c2]) {
      await c.transport.terminateSession();
      await c.close();
    }
    await a.close();
  });
});

describe("upstream connections: each agent has its share (finding 6)", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    srv = await startHttp(
      emu.url,
      ["--config", writeConfig(TEAM), "--max-concurrent-calls", "4", "--concurrency-wait-ms", "300", "--max-retries", "0", "--timeout", "60000"],
      ENV,
    );
  });
  afterAll(async () => srv.stop());

  it("one agent saturating with 100 slow calls: another agent's call completes within 3 s; the excess is refused clearly", async () => {
    emu.addFault({ path: "/v2/rerank", times: 1_000, fault: { kind: "delay", ms: 15_000 } });
    const ac = new AbortController();
    const slow = Array.from({ length: 100 }, (_, i) =>
      fetch(srv.url, {
        method: "POST",
        headers: { ...MCP_HEADERS, ...bearer(A_TOKEN) },
        body: JSON.stringify(call("rerank", RERANK, i)),
        signal: ac.signal,
      })
        .then(async (r) => textOf(((await r.json()) as { result: unknown }).result))
        .catch(() => "aborted"),
    );
    try {
      // the slow calls are in: agent-a holds its 4 slots
      await eventually(() => expect(emu.requests.filter((r) => r.path === "/v2/rerank").length).toBeGreaterThanOrEqual(4), 10_000);
      const t0 = performance.now();
      const b = await rpc(srv.url, call("embed", EMBED, 1), bearer(B_TOKEN));
      const latency = performance.now() - t0;
      console.log(`finding 6: agent-b's embed took ${latency.toFixed(0)} ms while agent-a held 100 slow calls (limit 4)`);
      expect(b.status).toBe(200);
      expect(JSON.stringify(b.messages[0])).not.toMatch(/isError/);
      expect(latency).toBeLessThan(3_000);
      // the excess of agent-a was refused after a short wait, with what to do
      await new Promise((r) => setTimeout(r, 1_000));
      expect(emu.requests.filter((r) => r.path === "/v2/rerank").length).toBe(4);
    } finally {
      ac.abort();
    }
    const answers = await Promise.all(slow);
    const refused = answers.filter((t) => t.startsWith("Too many calls in flight (429)"));
    // past the first 60 refusals a minute (--max-refusals-per-minute), the short throttled form
    const throttled = answers.filter((t) => t.startsWith("Refused (concurrency), and rate limited (429)"));
    expect(refused.length).toBe(60);
    expect(refused.length + throttled.length).toBeGreaterThanOrEqual(90);
    expect(refused[0]).toMatch(/agent "agent-a" already has 4 calls running at Cohere, its limit \(--max-concurrent-calls\); this call waited 300 ms/);
    expect(refused[0]).toMatch(/Nothing was sent to Cohere/);
    emu.clearFaults();
    // the slots come back once the calls end (here: cut by the client)
    await eventually(async () => {
      const r = await rpc(srv.url, call("rerank", RERANK, 7), bearer(A_TOKEN));
      expect(JSON.stringify(r.messages[0])).toMatch(/results/);
    }, 10_000, 200);
  }, 60_000);
});

describe("failed authentications are throttled per address (finding 8)", () => {
  let srv: HttpServerProc;
  const audit = tempFile("authfail-audit.jsonl");
  beforeAll(async () => {
    srv = await startHttp(emu.url, ["--config", writeConfig(TEAM), "--audit-log", audit, "--max-auth-failures", "5"], {
      ...ENV,
      COHERE_MCP_RATE_WINDOW_MS: "4000",
    });
  });
  afterAll(async () => srv.stop());

  it("past 5 failures an address gets 429 + Retry-After for wrong tokens, while a right token from it is served; one summary line", async () => {
    const wrong = (i: number) => ({ ...MCP_HEADERS, ...bearer(`wrong-token-${i}-abcdefghijklmnop`) });
    const body = JSON.stringify(call("rerank", RERANK, 1));
    const statuses: number[] = [];
    let retryAfter: string | string[] | undefined;
    for (let i = 0; i < 40; i++) {
      const r = await from("127.0.0.2", srv.url, { headers: wrong(i), body });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers["retry-after"];
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(4);
    // the throttle bounds what failures cost, not who may enter (issue 20, finding 3): a valid
    // agent behind the same address (NAT, proxy, node) is served
    const right = await from("127.0.0.2", srv.url, { headers: { ...MCP_HEADERS, ...bearer(A_TOKEN) }, body });
    expect(right.status).toBe(200);
    expect(right.body).toMatch(/results/);
    // another address is unaffected
    const other = await from("127.0.0.1", srv.url, { headers: { ...MCP_HEADERS, ...bearer(B_TOKEN) }, body });
    expect(other.status).toBe(200);
    expect(other.body).toMatch(/results/);
    // one summary line when the window ends, and no more per-try lines than the 5
    const summary = await eventually(() => {
      const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as AuditEvent & { text: string });
      const s = lines.find((l) => l.reason === "throttled");
      expect(s).toBeDefined();
      return { s: s!, lines };
    }, 10_000, 100);
    const auth = summary.lines.filter((l) => l.reason === "auth");
    expect(auth).toHaveLength(5);
    expect(summary.s).toMatchObject({ agent: "(unauthenticated)", tool: "(failed authentications)", remote: "127.0.0.2", suppressed: 35 });
    expect(summary.s.text).toMatch(/^\S+Z 127\.0\.0\.2: 35 further failed authentications suppressed from \S+ to \S+ \(past 5 per 4 s, --max-auth-failures\)$/);
    const logLines = srv.stderr().split("\n").filter((l) => l.includes("without a valid bearer token"));
    expect(logLines).toHaveLength(5);
    // after the window the address may try again
    const later = await from("127.0.0.2", srv.url, { headers: { ...MCP_HEADERS, ...bearer(A_TOKEN) }, body });
    expect(later.status).toBe(200);
  }, 30_000);

  it("requests with no token at all are always 401 (never blocked), but past 5 a window are counted in one summary line", async () => {
    const body = JSON.stringify(call("rerank", RERANK, 1));
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await from("127.0.0.3", srv.url, { headers: MCP_HEADERS, body })).status);
    expect(statuses.every((s) => s === 401)).toBe(true);
    const ok = await from("127.0.0.3", srv.url, { headers: { ...MCP_HEADERS, ...bearer(A_TOKEN) }, body });
    expect(ok.status).toBe(200);
    const s = await eventually(() => {
      const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as AuditEvent & { text: string });
      const mine = lines.filter((l) => l.remote === "127.0.0.3");
      const sum = mine.find((l) => l.reason === "throttled");
      expect(sum).toBeDefined();
      return { sum: sum!, mine };
    }, 10_000, 100);
    expect(s.mine.filter((l) => l.reason === "auth")).toHaveLength(5);
    expect(s.sum).toMatchObject({ tool: "(requests without a token)", suppressed: 25 });
  }, 30_000);
});

describe("slow clients and connection floods (finding 9)", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    srv = await startHttp(
      emu.url,
      ["--config", writeConfig(TEAM), "--headers-timeout-ms", "1500", "--body-timeout-ms", "1500", "--max-connections-per-address", "4"],
      ENV,
    );
  });
  afterAll(async () => srv.stop());

  it("a slow unauthenticated body and slow headers are cut within a few seconds while normal calls keep working", async () => {
    const body = trickle(
      srv.port,
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{`,
      " ",
      200,
      20_000,
    );
    const headers = trickle(srv.port, `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `, "a", 200, 20_000);
    // meanwhile an agent's calls are served
    for (let i = 0; i < 3; i++) {
      const r = await rpc(srv.url, call("rerank", RERANK, i), bearer(A_TOKEN));
      expect(JSON.stringify(r.messages[0])).toMatch(/results/);
    }
    const [b, h] = await Promise.all([body, headers]);
    console.log(`finding 9: slow body cut after ${b.closedAfterMs} ms, slow headers after ${h.closedAfterMs} ms (bounds 1500 ms)`);
    expect(b.closedAfterMs).toBeLessThan(6_000);
    expect(b.reply).toMatch(/^HTTP\/1\.1 401/);
    expect(h.closedAfterMs).toBeLessThan(6_000);
  }, 30_000);

  it("one address cannot hold more than --max-connections-per-address connections; another still connects", async () => {
    const held: net.Socket[] = [];
    for (let i = 0; i < 4; i++) held.push(await holdConnection(srv.port, "127.0.0.2"));
    const fifth = await connectionReply(srv.port, "127.0.0.2");
    expect(fifth).toMatch(/^HTTP\/1\.1 429 Too Many Requests/);
    expect(fifth).toMatch(/--max-connections-per-address/);
    const r = await rpc(srv.url, call("rerank", RERANK, 1), bearer(A_TOKEN)); // from 127.0.0.1
    expect(JSON.stringify(r.messages[0])).toMatch(/results/);
    for (const s of held) s.destroy();
    // once they are closed, the address may connect again
    await eventually(async () => {
      const again = await from("127.0.0.2", srv.url, { headers: { ...MCP_HEADERS, ...bearer(A_TOKEN) }, body: JSON.stringify(call("rerank", RERANK, 2)) });
      expect(again.status).toBe(200);
    }, 5_000, 100);
  });
});

describe("small items (finding 13)", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    srv = await startHttp(emu.url, ["--config", writeConfig(TEAM), "--log-level", "warn"], ENV);
  });
  afterAll(async () => srv.stop());

  it("a request target that is not a URL (`POST http://[`) is a 400 and a warning, not a 500 and an error", async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port: srv.port }, () =>
        s.write(`POST http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`),
      );
      let got = "";
      s.on("data", (d) => (got += d.toString()));
      s.on("close", () => resolve(got));
      setTimeout(() => s.destroy(), 3_000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    await eventually(() => expect(srv.stderr()).toMatch(/"level":"warn".*not a valid URL/));
    expect(srv.stderr()).not.toMatch(/"level":"error"/);
  });

  it("CORS reflects the normalised origin, never the raw header", async () => {
    const r = await rawRequest(srv.url, {
      headers: { ...MCP_HEADERS, ...bearer(A_TOKEN), Origin: "http://localhost:3000/x?y" },
      body: JSON.stringify(INIT),
    });
    expect(r.status).toBe(200);
    expect(r.headers["access-control-allow-origin"]).toBe("http://localhost:3000");
  });

  it("/readyz names the upstream host to a loopback caller only (or with a valid token)", async (ctx) => {
    const local = await rawRequest(`${srv.origin}/readyz`, { method: "GET" });
    expect(JSON.parse(local.body).checks.cohere).toMatch(/127\.0\.0\.1/);
    const ext = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === "IPv4" && !i.internal)?.address;
    if (!ext) return ctx.skip("no non-loopback IPv4 address on this machine");
    // a server bound to that address, reached from it: the caller is not loopback
    const wide = await startHttp(emu.url, ["--config", writeConfig(TEAM), "--host", ext, "--allowed-hosts", ext], ENV);
    try {
      const url = `http://${ext}:${wide.port}/readyz`;
      const anon = await rawRequest(url, { method: "GET" });
      expect(anon.status).toBe(200);
      expect(anon.body).not.toMatch(/127\.0\.0\.1/);
      expect(JSON.parse(anon.body)).toMatchObject({ status: "ready", checks: { cohere: "resolves" } });
      const wrong = await rawRequest(url, { method: "GET", headers: bearer("not-a-valid-token-0123456789") });
      expect(wrong.body).not.toMatch(/127\.0\.0\.1/);
      const authed = await rawRequest(url, { method: "GET", headers: bearer(A_TOKEN) });
      expect(JSON.parse(authed.body).checks.cohere).toMatch(/127\.0\.0\.1/);
    } finally {
      await wide.stop();
    }
  });
});
