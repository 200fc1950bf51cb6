/**
 * Modern (2026-07-28) clients and list changes over HTTP: the tool list carries honest cache
 * hints (private, 5 minutes: it changes only on a reload), the server advertises
 * tools.listChanged, and a client holding a `subscriptions/listen` stream (the SDK v2 client's
 * `listen`) is told by a SIGHUP reload that changes its tools, and only then: an agent whose
 * tools did not change is not told; one the reload removed, or whose token it rotated, has its
 * stream ended.
 *
 * Listen streams are bounded as legacy sessions are: an agent over its share gets 429 (another
 * agent still gets its stream), the replica over --max-sessions gets 503, and a stream that
 * closes (the client goes, a reload revokes it) frees its slot.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { bearer, eventually, rawRequest, rpc, sha256Hex, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";
import { MODERN, modernHttp, type ModernConnected } from "./eras-support.js";

const T = {
  alpha: "listen-alpha-0123456789abcdef",
  beta: "listen-beta-0123456789abcdef",
  gamma: "listen-gamma-0123456789abcdef",
  delta: "listen-delta-0123456789abcdef",
  deltaNew: "listen-delta-new-0123456789ab",
};
const agents = (delta: string) => [
  { name: "alpha", profile: "wide", token_sha256: sha256Hex(T.alpha) },
  { name: "beta", profile: "narrow", token_sha256: sha256Hex(T.beta) },
  { name: "gamma", profile: "narrow", token_sha256: sha256Hex(T.gamma) },
  { name: "delta", profile: "narrow", token_sha256: sha256Hex(delta) },
];
const V1 = { profiles: { wide: { tools: ["rerank", "embed"] }, narrow: { tools: ["rerank"] } }, agents: agents(T.delta) };
// wide gains chat; gamma is removed; delta's token is rotated; narrow (beta) is unchanged
const V2 = {
  profiles: { wide: { tools: ["rerank", "embed", "chat"] }, narrow: { tools: ["rerank"] } },
  agents: agents(T.deltaNew).filter((a) => a.name !== "gamma"),
};
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
  "io.modelcontextprotocol/clientCapabilities": {},
};

describe("modern clients: list cache hints and change notices on reload", () => {
  let emu: CohereEmulator;
  let srv: HttpServerProc;
  let config: string;
  const audit = tempFile("listen.jsonl");
  beforeAll(async () => {
    emu = await startEmulator();
    config = writeConfig(V1);
    srv = await startHttp(emu.url, ["--config", config, "--audit-log", audit]);
  });
  afterAll(async () => {
    await srv?.stop();
    await emu?.stop();
  });

  it("lists say private for 5 minutes and discover offers listChanged; a reload tells exactly the listeners whose tools changed, and ends the revoked ones", async () => {
    const listed = await rpc(
      srv.url,
      { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: ENVELOPE } },
      { ...bearer(T.alpha), "Mcp-Protocol-Version": MODERN, "Mcp-Method": "tools/list" },
    );
    expect(listed.messages[0]?.result).toMatchObject({ resultType: "complete", ttlMs: 300_000, cacheScope: "private" });

    const clients: Record<string, ModernConnected> = {};
    const told: Record<string, number> = {};
    const subs: Record<string, Awaited<ReturnType<ModernConnected["client"]["listen"]>>> = {};
    try {
      for (const name of ["alpha", "beta", "gamma", "delta"] as const) {
        const c = (clients[name] = await modernHttp(srv.url, bearer(T[name])));
        told[name] = 0;
        c.client.setNotificationHandler("notifications/tools/list_changed", () => void told[name]!++);
        subs[name] = await c.client.listen({ toolsListChanged: true });
        expect(subs[name]!.honoredFilter, name).toEqual({ toolsListChanged: true });
      }
      expect(clients.alpha!.client.getServerCapabilities()?.tools?.listChanged).toBe(true);
      expect((await clients.alpha!.client.listTools()).tools.map((t) => t.name).sort()).toEqual(["embed", "rerank"]);

      writeFileSync(config, JSON.stringify(V2));
      srv.child.kill("SIGHUP");
      await eventually(() => expect(told.alpha).toBe(1));
      // removed (gamma) and rotated (delta): their streams end
      const endings = await Promise.all([subs.gamma!.closed, subs.delta!.closed]);
      expect(endings).toEqual(["remote", "remote"]);
      // one more exchange on beta's connection: its stream would have carried a notice by now
      expect((await clients.beta!.client.listTools()).tools.map((t) => t.name)).toEqual(["rerank"]);
      expect(told.beta).toBe(0);
      expect((await clients.alpha!.client.listTools()).tools.map((t) => t.name).sort()).toEqual(["chat", "embed", "rerank"]);
      expect(readFileSync(audit, "utf8")).toContain('"event":"config_reload"');
    } finally {
      for (const s of Object.values(subs)) await s.close().catch(() => undefined);
      for (const c of Object.values(clients)) await c.close().catch(() => undefined);
    }
    expect(srv.stderr()).not.toContain(T.alpha);
  });
});

interface RawListen {
  status: number;
  retryAfter: string | undefined;
  /** The refusal's body (JSON-RPC error), or the stream's first event. */
  body: string;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** The client side's local port. */
  port: number;
  close(): void;
}

/** POST a raw subscriptions/listen; resolves on a refusal's whole body, or on the stream's first event (the ack). */
function openListen(url: string, token: string, id: string): Promise<RawListen> {
  const u = new URL(url);
  const body = JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "subscriptions/listen",
    params: { _meta: ENVELOPE, notifications: { toolsListChanged: true } },
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: "POST",
        agent: false,
        headers: {
          ...bearer(token),
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          "Mcp-Protocol-Version": MODERN,
          "Mcp-Method": "subscriptions/listen",
          "Content-Length": String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        let text = "";
        let settled = false;
        const ended = new Promise<void>((r) => res.once("close", () => r()));
        const done = () => {
          if (settled) return;
          settled = true;
          const ra = res.headers["retry-after"];
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: Array.isArray(ra) ? ra[0] : ra,
            body: text,
            ended,
            port: req.socket?.localPort ?? 0,
            close: () => req.destroy(),
          });
        };
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          text += d;
          if (res.statusCode === 200 && text.includes("\n\n")) done();
        });
        res.on("end", done);
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The kernel's timer on the server's side of a loopback connection (/proc/net/tcp "tr": 0 none, 1 retransmit, 2 keep-alive). */
function serverTimer(serverPort: number, clientPort: number): number | undefined {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, "0");
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1]?.endsWith(`:${hex(serverPort)}`) && f[2]?.endsWith(`:${hex(clientPort)}`)) return Number.parseInt(f[5]!.split(":")[0]!, 16);
  }
  return undefined;
}
const KEEPALIVE_TIMER = 2;

const L = {
  a: "bound-a-0123456789abcdef0123",
  aNew: "bound-a-new-0123456789abcdef",
  b: "bound-b-0123456789abcdef0123",
  c: "bound-c-0123456789abcdef0123",
  d: "bound-d-0123456789abcdef0123",
};
const boundConfig = (aToken: string) => ({
  profiles: { p: { tools: ["rerank"] }, solo: { tools: ["rerank"], limits: { max_sessions: 1 } } },
  agents: [
    { name: "a", profile: "p", token_sha256: sha256Hex(aToken) },
    { name: "b", profile: "p", token_sha256: sha256Hex(L.b) },
    { name: "c", profile: "solo", token_sha256: sha256Hex(L.c) },
    { name: "d", profile: "p", token_sha256: sha256Hex(L.d) },
  ],
});

describe("modern clients: subscriptions/listen streams are bounded per agent", () => {
  let emu: CohereEmulator;
  let srv: HttpServerProc;
  let config: string;
  beforeAll(async () => {
    emu = await startEmulator();
    config = writeConfig(boundConfig(L.a));
    srv = await startHttp(emu.url, ["--config", config, "--max-sessions-per-agent", "2", "--max-sessions", "5", "--metrics-port", "0"]);
  });
  afterAll(async () => {
    await srv?.stop();
    await emu?.stop();
  });

  it("429 past the agent's share (flag or profile), 503 past --max-sessions, and a closed or revoked stream frees its slot", async () => {
    const open: RawListen[] = [];
    const listen = async (token: string, id: string) => {
      const l = await openListen(srv.url, token, id);
      if (l.status === 200) open.push(l);
      return l;
    };
    const listenGauge = async () => {
      const m = /cohere-mcp metrics on (http:\/\/\S+)/.exec(srv.stderr());
      const text = (await rawRequest(m![1]!, { method: "GET" })).body;
      const by: Record<string, number> = {};
      for (const x of text.matchAll(/^cohere_mcp_listen_streams_open\{agent="([^"]+)"\} (\d+)$/gm)) if (Number(x[2])) by[x[1]!] = Number(x[2]);
      return by;
    };
    const errorOf = (l: RawListen) => JSON.parse(l.body) as { id: unknown; error: { code: number; message: string } };
    try {
      const a1 = await listen(L.a, "a1");
      const a2 = await listen(L.a, "a2");
      expect([a1.status, a2.status]).toEqual([200, 200]);
      expect(a1.body).toContain("notifications/subscriptions/acknowledged");
      // the server probes a silent stream's peer (TCP keep-alive), so a vanished client's slot is freed
      // (eventually: until the client's delayed ACK of the ack event comes, a retransmit timer shows)
      await eventually(() => expect(serverTimer(srv.port, a1.port)).toBe(KEEPALIVE_TIMER));

      // a at its share (--max-sessions-per-agent 2): refused before any stream opens
      const a3 = await listen(L.a, "a3");
      expect(a3.status).toBe(429);
      expect(a3.retryAfter).toBe("30");
      expect(errorOf(a3).id).toBe("a3");
      expect(errorOf(a3).error.message).toMatch(/subscriptions\/listen streams for agent "a": it holds 2, its cap is 2 \(--max-sessions-per-agent\)/);
      // another agent still gets its stream
      expect((await listen(L.b, "b1")).status).toBe(200);

      // a closes one: it may open one again (the server sees the close a moment later)
      a1.close();
      await eventually(async () => {
        const again = await listen(L.a, "a4");
        expect(again.status).toBe(200);
      });
      expect((await listen(L.a, "a5")).status).toBe(429);

      // a profile's limits.max_sessions sets its own share
      expect((await listen(L.c, "c1")).status).toBe(200);
      const c2 = await listen(L.c, "c2");
      expect(c2.status).toBe(429);
      expect(errorOf(c2).error.message).toContain('its cap is 1 (profile "solo" limits.max_sessions)');

      // a 2 + b 1 + c 1 + d 1 = --max-sessions 5: b is under its share, the replica is full
      expect((await listen(L.d, "d1")).status).toBe(200);
      const b2 = await listen(L.b, "b2");
      expect(b2.status).toBe(503);
      expect(errorOf(b2).error.message).toContain("(5, --max-sessions)");

      // what an operator sees
      expect(await listenGauge()).toEqual({ a: 2, b: 1, c: 1, d: 1 });

      // a reload that rotates a's token ends a's streams and frees their slots
      const aStreams = open.filter((l) => l.body.includes('"a2"') || l.body.includes('"a4"'));
      expect(aStreams).toHaveLength(2);
      writeFileSync(config, JSON.stringify(boundConfig(L.aNew)));
      srv.child.kill("SIGHUP");
      await Promise.all(aStreams.map((l) => l.ended));
      const fresh = [await listen(L.aNew, "n1"), await listen(L.aNew, "n2")];
      expect(fresh.map((l) => l.status)).toEqual([200, 200]);
      expect((await listen(L.aNew, "n3")).status).toBe(429);
      // and the streams a client closes leave the gauge
      for (const l of open.filter((x) => x.body.includes('"b1"') || x.body.includes('"d1"'))) l.close();
      await eventually(async () => expect(await listenGauge()).toEqual({ a: 2, c: 1 }));
    } finally {
      for (const l of open) l.close();
    }
    expect(srv.stderr()).toContain("refused a subscriptions/listen stream: the agent holds its share");
    for (const t of Object.values(L)) expect(srv.stderr()).not.toContain(t);
  });
});
