/**
 * The HTTP transport over real sockets: cohere-mcp --http as a child process, the SDK's
 * StreamableHTTPClientTransport, the Cohere emulator upstream.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { runCli, textOf, TEST_KEY } from "./helpers.js";
import { hostAllowed, isLoopbackHost, originAllowed } from "../src/transports/http/admission/origin.js";
import {
  bearer,
  connectHttp,
  eventually,
  INIT,
  MCP_HEADERS,
  rawRequest,
  rpc,
  sha256Hex,
  startHttp,
  writeConfig,
  type HttpServerProc,
} from "./http-support.js";

const SEARCH_TOKEN = "search-token-4f9a0c1e7b2d4a5c";
const OPS_TOKEN = "ops-token-8d2e6b1f0a9c3e7d";

const TEAM = {
  profiles: {
    search: { tools: ["rerank", "embed", "list_models"] },
    ops: { tools: "datasets" },
  },
  agents: [
    { name: "search-agent", profile: "search", token_env: "SEARCH_AGENT_TOKEN" },
    { name: "ops-agent", profile: "ops", token_sha256: sha256Hex(OPS_TOKEN) },
  ],
};
const TEAM_ENV = { SEARCH_AGENT_TOKEN: SEARCH_TOKEN };

const RERANK = { model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "paris is the capital"] };

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const names = (tools: Array<{ name: string }>) => tools.map((t) => t.name).sort();

describe("Host / Origin / bind checks (pure)", () => {
  it("accepts loopback Host names with any port, and only those by default", () => {
    for (const h of ["localhost", "localhost:8080", "127.0.0.1:1", "[::1]:3000", "LOCALHOST:9"]) expect(hostAllowed(h, undefined), h).toBe(true);
    for (const h of [undefined, "", "evil.com", "127.0.0.2", "localhost.evil.com", "[::1]x:1", "localhost:80:80", "localhost:http", "::1"]) {
      expect(hostAllowed(h, undefined), String(h)).toBe(false);
    }
  });

  it("configured hosts: a name (any port), name:port, or *", () => {
    expect(hostAllowed("mcp.example.com:443", ["mcp.example.com"])).toBe(true);
    expect(hostAllowed("mcp.example.com:8443", ["mcp.example.com:443"])).toBe(false);
    expect(hostAllowed("localhost:1", ["mcp.example.com"])).toBe(false);
    expect(hostAllowed("anything:1", ["*"])).toBe(true);
  });

  it("origins: none passes, loopback http(s) by default, exact origins when configured", () => {
    expect(originAllowed(undefined, undefined)).toBe(true);
    for (const o of ["http://localhost:6274", "https://127.0.0.1", "http://[::1]:80"]) expect(originAllowed(o, undefined), o).toBe(true);
    for (const o of ["null", "file://", "http://evil.com", "chrome-extension://abc", "http://localhost.evil.com"]) {
      expect(originAllowed(o, undefined), o).toBe(false);
    }
    expect(originAllowed("https://app.example.com", ["https://app.example.com/"])).toBe(true);
    expect(originAllowed("http://localhost:1", ["https://app.example.com"])).toBe(false);
  });

  it("knows loopback bind addresses", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "example.com"]) expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe("two agents, stateless (default)", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    srv = await startHttp(emu.url, ["--config", writeConfig(TEAM)], TEAM_ENV);
  });
  afterAll(async () => {
    expect(await srv.stop()).toBe(0);
  });

  it("prints where it listens, with the real port", () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(srv.port).toBeGreaterThan(0);
  });

  it("each agent sees only its profile's tools", async () => {
    const a = await connectHttp(srv.url, bearer(SEARCH_TOKEN));
    const b = await connectHttp(srv.url, bearer(OPS_TOKEN));
    try {
      expect(names((await a.client.listTools()).tools)).toEqual(["embed", "list_models", "rerank"]);
      expect(names((await b.client.listTools()).tools)).toEqual(["get_dataset", "get_dataset_usage", "list_datasets"]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("each agent is refused the other's tools, and nothing is sent upstream", async () => {
    const a = await connectHttp(srv.url, bearer(SEARCH_TOKEN));
    const b = await connectHttp(srv.url, bearer(OPS_TOKEN));
    try {
      const r1 = await a.client.callTool({ name: "list_datasets", arguments: {} });
      expect(r1.isError).toBe(true);
      expect(textOf(r1)).toMatch(/not enabled for this agent/);
      const r2 = await b.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r2.isError).toBe(true);
      expect(textOf(r2)).toMatch(/not enabled for this agent/);
      const r3 = await a.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } });
      expect(r3.isError).toBe(true);
      expect(emu.requests).toHaveLength(0);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("an allowed call reaches Cohere with the server's key, never the agent's token", async () => {
    const a = await connectHttp(srv.url, bearer(SEARCH_TOKEN));
    try {
      const r = await a.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError).toBeFalsy();
      expect(emu.requests).toHaveLength(1);
      expect(emu.requests[0]!.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
      expect(JSON.stringify(emu.requests[0]!.headers)).not.toContain(SEARCH_TOKEN);
    } finally {
      await a.close();
    }
  });

  it("no token → 401 with WWW-Authenticate; wrong token → 401; nothing upstream", async () => {
    const none = await rpc(srv.url, INIT);
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toBe('Bearer realm="cohere-mcp"');
    for (const auth of [`Bearer ${SEARCH_TOKEN}x`, `Bearer ${OPS_TOKEN.slice(0, -1)}`, `Basic ${SEARCH_TOKEN}`, "Bearer", SEARCH_TOKEN]) {
      const r = await rpc(srv.url, INIT, { Authorization: auth });
      expect(r.status, auth).toBe(401);
      expect(r.headers["www-authenticate"], auth).toMatch(/^Bearer realm="cohere-mcp"/);
    }
    const call = await rpc(
      srv.url,
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "rerank", arguments: RERANK } },
      { Authorization: "Bearer not-a-real-token-000000" },
    );
    expect(call.status).toBe(401);
    await expect(connectHttp(srv.url, bearer("wrong-token-0000000000"))).rejects.toThrow();
    expect(emu.requests).toHaveLength(0);
  });

  it("an unauthenticated request is refused on its headers: a large body is not read first", async () => {
    const big = JSON.stringify({ ...INIT, padding: "x".repeat(256 * 1024) });
    const r = await rawRequest(srv.url, { headers: MCP_HEADERS, body: big });
    expect(r.status).toBe(401);
    expect(r.headers.connection).toBe("close");
  });

  it("a token in the query string is not accepted", async () => {
    const r = await rpc(`${srv.url}?token=${SEARCH_TOKEN}&access_token=${SEARCH_TOKEN}`, INIT);
    expect(r.status).toBe(401);
  });

  it("X-MCP-Tools narrows the agent's set; names outside the profile are ignored, never added", async () => {
    const narrowed = await connectHttp(srv.url, { ...bearer(SEARCH_TOKEN), "X-MCP-Tools": "rerank" });
    const widened = await connectHttp(srv.url, {
      ...bearer(SEARCH_TOKEN),
      "X-MCP-Tools": "rerank,list_datasets,delete_dataset,*",
    });
    const onlyOutside = await connectHttp(srv.url, { ...bearer(SEARCH_TOKEN), "X-MCP-Tools": "list_datasets" });
    try {
      expect(names((await narrowed.client.listTools()).tools)).toEqual(["rerank"]);
      const r = await narrowed.client.callTool({ name: "embed", arguments: { model: "embed-v4.0", texts: ["x"], input_type: "search_document" } });
      expect(r.isError).toBe(true);
      // "*" matches inside the profile only, so the set is the profile, and list_datasets stays out.
      expect(names((await widened.client.listTools()).tools)).toEqual(["embed", "list_models", "rerank"]);
      const w = await widened.client.callTool({ name: "list_datasets", arguments: {} });
      expect(w.isError).toBe(true);
      expect(names((await onlyOutside.client.listTools()).tools)).toEqual([]);
      expect(emu.requests).toHaveLength(0);
    } finally {
      await narrowed.close();
      await widened.close();
      await onlyOutside.close();
    }
  });

  it("?tools= narrows for clients that cannot set headers", async () => {
    const c = await connectHttp(`${srv.url}?tools=list_models,list_datasets`, bearer(SEARCH_TOKEN));
    try {
      expect(names((await c.client.listTools()).tools)).toEqual(["list_models"]);
    } finally {
      await c.close();
    }
  });

  it("stateless: no session id, GET and DELETE are 405, each POST stands alone", async () => {
    const init = await rpc(srv.url, INIT, bearer(SEARCH_TOKEN));
    expect(init.status).toBe(200);
    expect(init.headers["mcp-session-id"]).toBeUndefined();
    const list = await rpc(srv.url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, bearer(SEARCH_TOKEN));
    expect(list.status).toBe(200);
    const tools = (list.messages[0]!.result as { tools: Array<{ name: string }> }).tools;
    expect(names(tools)).toEqual(["embed", "list_models", "rerank"]);
    const get = await rawRequest(srv.url, { method: "GET", headers: { ...bearer(SEARCH_TOKEN), Accept: "text/event-stream" } });
    expect(get.status).toBe(405);
    const del = await rawRequest(srv.url, { method: "DELETE", headers: bearer(SEARCH_TOKEN) });
    expect(del.status).toBe(405);
  });

  it("Host and Origin attacks are refused with 403 before auth; loopback names pass", async () => {
    const port = srv.port;
    for (const host of ["evil.example.com", `evil.example.com:${port}`, `localhost.evil.com:${port}`, `127.0.0.1.nip.io:${port}`]) {
      const r = await rawRequest(srv.url, { headers: { ...MCP_HEADERS, ...bearer(SEARCH_TOKEN), Host: host }, body: JSON.stringify(INIT) });
      expect(r.status, host).toBe(403);
    }
    for (const origin of ["http://evil.example.com", `http://evil.example.com:${port}`, "null", "file://", "http://localhost.evil.com"]) {
      const r = await rawRequest(srv.url, {
        headers: { ...MCP_HEADERS, ...bearer(SEARCH_TOKEN), Origin: origin },
        body: JSON.stringify(INIT),
      });
      expect(r.status, origin).toBe(403);
    }
    // Without a token, a foreign Host is still 403 (not 401): nothing else is looked at.
    const noAuth = await rawRequest(srv.url, { headers: { ...MCP_HEADERS, Host: "evil.example.com" }, body: JSON.stringify(INIT) });
    expect(noAuth.status).toBe(403);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "localhost"]) {
      const r = await rawRequest(srv.url, {
        headers: { ...MCP_HEADERS, ...bearer(SEARCH_TOKEN), Host: host, Origin: `http://${host}` },
        body: JSON.stringify(INIT),
      });
      expect(r.status, host).toBe(200);
      expect(r.headers["access-control-allow-origin"]).toBe(`http://${host}`);
    }
    expect(emu.requests).toHaveLength(0);
  });

  it("unknown paths are 404; bad JSON is a JSON-RPC parse error", async () => {
    expect((await rawRequest(`${srv.origin}/other`, { headers: bearer(SEARCH_TOKEN), body: "{}" })).status).toBe(404);
    const bad = await rawRequest(srv.url, { headers: { ...MCP_HEADERS, ...bearer(SEARCH_TOKEN) }, body: "{not json" });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe(-32700);
  });

  it("/healthz and /readyz answer without a token", async () => {
    const h = await rawRequest(`${srv.origin}/healthz`, { method: "GET" });
    expect(h.status).toBe(200);
    expect(JSON.parse(h.body).status).toBe("ok");
    const r = await rawRequest(`${srv.origin}/readyz`, { method: "GET" });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ status: "ready", checks: { config: "loaded" } });
  });
});

describe("request limits", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    // 1.5 s: a healthy call must finish well inside it on a loaded CI machine (400 ms did not, twice)
    srv = await startHttp(emu.url, ["--max-body-bytes", "4096", "--request-timeout-ms", "1500", "--max-retries", "0"]);
  });
  afterAll(async () => {
    await srv.stop();
  });

  it("a body over --max-body-bytes is 413 and nothing is sent upstream; one under it passes", async () => {
    const big = {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "rerank", arguments: { ...RERANK, documents: Array.from({ length: 400 }, (_, i) => `document number ${i}`) } },
    };
    const r = await rawRequest(srv.url, { headers: MCP_HEADERS, body: JSON.stringify(big) });
    expect(r.status).toBe(413);
    expect(r.body).toMatch(/larger than 4096 bytes/);
    const chunked = await rawRequest(srv.url, {
      headers: { ...MCP_HEADERS, "Transfer-Encoding": "chunked" },
      body: Buffer.from(JSON.stringify(big)),
    });
    expect(chunked.status).toBe(413);
    const ok = await rpc(srv.url, { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "rerank", arguments: RERANK } });
    expect(ok.status).toBe(200);
    expect(emu.requests, JSON.stringify(ok.messages)).toHaveLength(1);
  });

  it("a call that outlives --request-timeout-ms is cancelled with a JSON-RPC error, upstream aborted", async () => {
    emu.addFault({ path: "/v2/rerank", fault: { kind: "delay", ms: 5_000 } });
    const c = await connectHttp(srv.url);
    try {
      const err = await c.client.callTool({ name: "rerank", arguments: RERANK }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/timed out after 1500 ms/);
      await eventually(() => expect(emu.requests[0]?.aborted).toBe(true));
      // The server is still healthy afterwards.
      const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError).toBeFalsy();
    } finally {
      await c.close();
    }
  });
});

describe("sessions (--sessions)", () => {
  let srv: HttpServerProc;
  beforeAll(async () => {
    srv = await startHttp(emu.url, ["--config", writeConfig(TEAM), "--sessions", "--max-sessions", "3", "--max-sessions-per-agent", "2"], TEAM_ENV);
  });
  afterAll(async () => {
    expect(await srv.stop()).toBe(0);
  });

  it("issues a session id, serves calls in it, and DELETE ends it", async () => {
    const c = await connectHttp(srv.url, { ...bearer(SEARCH_TOKEN), "X-MCP-Tools": "rerank,list_models" });
    const sid = c.transport.sessionId;
    expect(sid).toMatch(/^[0-9a-f]{6}\.[0-9a-f-]{36}$/); // <replica tag>.<uuid>; the tag defaults to 6 random hex digits
    expect(names((await c.client.listTools()).tools)).toEqual(["list_models", "rerank"]);
    const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
    expect(r.isError).toBeFalsy();
    await c.transport.terminateSession();
    const after = await rpc(srv.url, { jsonrpc: "2.0", id: 9, method: "tools/list" }, { ...bearer(SEARCH_TOKEN), "Mcp-Session-Id": sid! });
    expect(after.status).toBe(404);
    await c.close();
  });

  it("the GET stream opens for a session", async () => {
    const init = await rpc(srv.url, INIT, bearer(OPS_TOKEN));
    const sid = init.headers["mcp-session-id"] as string;
    expect(sid).toBeTruthy();
    const stream = await new Promise<{ status: number; type: string }>((resolve, reject) => {
      const u = new URL(srv.url);
      import("node:http").then(({ default: http }) => {
        const req = http.request(
          {
            host: u.hostname,
            port: u.port,
            path: u.pathname,
            method: "GET",
            headers: { ...bearer(OPS_TOKEN), Accept: "text/event-stream", "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18" },
          },
          (res) => {
            resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]) });
            res.destroy();
          },
        );
        req.on("error", reject);
        req.end();
      }, reject);
    });
    expect(stream.status).toBe(200);
    expect(stream.type).toContain("text/event-stream");
    await rawRequest(srv.url, { method: "DELETE", headers: { ...bearer(OPS_TOKEN), "Mcp-Session-Id": sid } });
  });

  it("a session belongs to its agent: another agent's token cannot use it", async () => {
    const a = await connectHttp(srv.url, bearer(SEARCH_TOKEN));
    try {
      const sid = a.transport.sessionId!;
      const r = await rpc(srv.url, { jsonrpc: "2.0", id: 5, method: "tools/list" }, {
        ...bearer(OPS_TOKEN),
        "Mcp-Session-Id": sid,
        "Mcp-Protocol-Version": "2025-06-18",
      });
      expect(r.status).toBe(404);
      const missing = await rpc(srv.url, { jsonrpc: "2.0", id: 6, method: "tools/list" }, bearer(SEARCH_TOKEN));
      expect(missing.status).toBe(400);
    } finally {
      await a.transport.terminateSession();
      await a.close();
    }
  });

  it("caps open sessions per agent (429) and in all (503 beyond --max-sessions, reached by several agents); DELETE frees a slot", async () => {
    const open = [];
    for (let i = 0; i < 2; i++) open.push(await connectHttp(srv.url, bearer(SEARCH_TOKEN)));
    const mine = await rpc(srv.url, INIT, bearer(SEARCH_TOKEN));
    expect(mine.status).toBe(429);
    expect(mine.body).toMatch(/Too many open sessions for agent \\"search-agent\\": it holds 2, its cap is 2 \(--max-sessions-per-agent\)/);
    open.push(await connectHttp(srv.url, bearer(OPS_TOKEN)));
    const over = await rpc(srv.url, INIT, bearer(OPS_TOKEN));
    expect(over.status).toBe(503);
    expect(over.body).toMatch(/Too many open sessions \(3\)/);
    await open[0]!.transport.terminateSession();
    const next = await connectHttp(srv.url, bearer(OPS_TOKEN));
    open.push(next);
    for (const c of open.slice(1)) {
      await c.transport.terminateSession();
      await c.close();
    }
    await open[0]!.close();
  });
});

describe("session idle expiry", () => {
  it("closes a session unused for --session-idle-ms", async () => {
    const srv = await startHttp(emu.url, ["--sessions", "--session-idle-ms", "300", "--log-level", "debug"]);
    try {
      const c = await connectHttp(srv.url);
      const sid = c.transport.sessionId!;
      await c.client.listTools();
      // Wait (bounded) without touching the session, which would keep it alive.
      await eventually(() => expect(srv.stderr()).toMatch(new RegExp(`"session closed","session":"${sid}".*"why":"idle"`)), 5_000, 50);
      const r = await rpc(srv.url, { jsonrpc: "2.0", id: 7, method: "tools/list" }, { "Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-06-18" });
      expect(r.status).toBe(404);
      await c.close();
    } finally {
      await srv.stop();
    }
  });
});

describe("binding beyond loopback", () => {
  it("refuses to start without agents, and says why", async () => {
    const r = await runCli(["--http", "--host", "0.0.0.0", "--port", "0"], { CO_API_KEY: TEST_KEY });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Refusing to listen on 0\.0\.0\.0/);
    expect(r.stderr).toMatch(/agents/);
    expect(r.stdout).toBe("");
  });

  it("with agents, needs --allowed-hosts", async () => {
    const r = await runCli(["--http", "--host", "0.0.0.0", "--port", "0", "--config", writeConfig(TEAM)], {
      CO_API_KEY: TEST_KEY,
      ...TEAM_ENV,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--allowed-hosts/);
  });

  it("refuses an agent whose token variable is unset or weak", async () => {
    const unset = await runCli(["--http", "--port", "0", "--config", writeConfig(TEAM)], { CO_API_KEY: TEST_KEY });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/SEARCH_AGENT_TOKEN is not set/);
    const weak = await runCli(["--http", "--port", "0", "--config", writeConfig(TEAM)], { CO_API_KEY: TEST_KEY, SEARCH_AGENT_TOKEN: "short" });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/at least 16 characters/);
    expect(weak.stderr).not.toContain("short\n");
  });

  it("with agents and --allowed-hosts it serves that Host (token still required)", async () => {
    const srv = await startHttp(
      emu.url,
      ["--host", "0.0.0.0", "--allowed-hosts", "mcp.example.test", "--config", writeConfig(TEAM)],
      TEAM_ENV,
    );
    try {
      expect(srv.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/mcp$/);
      const url = `http://127.0.0.1:${srv.port}/mcp`;
      const host = { Host: `mcp.example.test:${srv.port}` };
      expect((await rpc(url, INIT, host)).status).toBe(401);
      expect((await rpc(url, INIT, { ...host, ...bearer(SEARCH_TOKEN) })).status).toBe(200);
      expect((await rpc(url, INIT, { Host: `127.0.0.1:${srv.port}`, ...bearer(SEARCH_TOKEN) })).status).toBe(403);
    } finally {
      expect(await srv.stop()).toBe(0);
    }
  });
});

describe("destructive confirmation over HTTP", () => {
  it("stateless: refused (the server cannot ask), nothing sent; --sessions: asked through elicitation, then sent", async () => {
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
    const { ElicitRequestSchema } = await import("@modelcontextprotocol/sdk/types.js");
    const connect = async (url: string) => {
      const client = new Client({ name: "confirming", version: "1" }, { capabilities: { elicitation: { form: {} } } });
      const asked: string[] = [];
      client.setRequestHandler(ElicitRequestSchema, async (req) => {
        asked.push(String(req.params.message));
        return { action: "accept", content: {} };
      });
      const transport = new StreamableHTTPClientTransport(new URL(url));
      await client.connect(transport);
      return { client, transport, asked };
    };
    const stateless = await startHttp(emu.url, ["--tools", "delete_dataset"]);
    const sessions = await startHttp(emu.url, ["--tools", "delete_dataset", "--sessions"]);
    try {
      const a = await connect(stateless.url);
      const r1 = await a.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } });
      expect(r1.isError).toBe(true);
      expect(textOf(r1)).toMatch(/stateless HTTP, where it cannot ask the user.*--sessions.*--confirm-destructive=never/);
      expect(a.asked).toEqual([]);
      expect(emu.requests.filter((r) => r.method === "DELETE")).toHaveLength(0);
      await a.client.close();

      const b = await connect(sessions.url);
      await b.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } });
      expect(b.asked).toHaveLength(1);
      expect(b.asked[0]).toMatch(/ds-1/);
      expect(emu.requests.filter((r) => r.method === "DELETE" && r.path === "/v1/datasets/ds-1")).toHaveLength(1);
      await b.transport.terminateSession();
      await b.client.close();
    } finally {
      await stateless.stop();
      await sessions.stop();
    }
  });
});
