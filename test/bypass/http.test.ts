/**
 * Allowlist bypass over HTTP (issue 5): agent "reader" with its token trying to reach "curator"
 * tools, stateless and with --sessions: widening headers and query strings, look-alike names,
 * batches and a second initialize, malformed tools/call params (audited, issue 8), another
 * agent's session id, an SDK client; no token in the audit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_KEY, connectHttp, spawnOurHttp, type HttpServer } from "../../bench/lib.js";
import { CURATOR_TOKEN, INIT, READER_TOKEN, callMsg, dir, emu, expectRefused, expectSafeAudit, note, rpc, useBypassWorld, variants, type Channel } from "./support.js";

useBypassWorld("HTTP agents");

describe.each([
  ["stateless", [] as string[]],
  ["--sessions", ["--sessions"]],
])("over HTTP (%s), agent 'reader' (rerank, embed) trying to reach 'curator' tools", (mode, extra) => {
  let srv: HttpServer | undefined;
  let reason = "";
  const audit = join(dir, `bypass-http-audit-${mode.replace(/\W/g, "")}-${process.pid}.jsonl`);
  let attempts = 0;
  const channel: Channel = mode === "stateless" ? "HTTP stateless" : "HTTP --sessions";

  beforeAll(async () => {
    const cfg = join(dir, `bypass-agents-${process.pid}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: {
          reader: { tools: ["rerank", "embed"] },
          curator: { tools: "datasets", allow_write: true, allow_destructive: true },
        },
        agents: [
          { name: "reader", profile: "reader", token_env: "READER_TOKEN" },
          { name: "curator", profile: "curator", token_env: "CURATOR_TOKEN" },
        ],
      }),
    );
    const started = await spawnOurHttp(
      emu.url,
      ["--config", cfg, "--audit-log", audit, "--confirm-destructive", "never", "--max-refusals-per-minute", "0", "--max-body-bytes", String(4 * 1024 * 1024), ...extra],
      { READER_TOKEN, CURATOR_TOKEN },
    );
    srv = started.server;
    reason = started.reason ?? "";
  });
  afterAll(async () => srv?.stop());

  const reader = { authorization: `Bearer ${READER_TOKEN}` };

  /** Stateless: one POST. Sessions: initialize first, then the call on that session. */
  async function attempt(shape: string, name: string, args: Record<string, unknown>, headers: Record<string, string> = {}, query = ""): Promise<void> {
    attempts++;
    note(channel, shape);
    const url = srv!.mcpUrl + query;
    if (mode === "stateless") {
      expectRefused(await rpc(url, callMsg(name, args), { ...reader, ...headers }), shape);
      return;
    }
    const init = await rpc(url, INIT, { ...reader, ...headers });
    const sid = init.headers.get("mcp-session-id");
    if (!sid) {
      expect(init.status, shape).toBeGreaterThanOrEqual(400);
      attempts--; // refused before any tool call: no audit line for a call
      return;
    }
    await rpc(url, { jsonrpc: "2.0", method: "notifications/initialized" }, { ...reader, ...headers, "mcp-session-id": sid });
    expectRefused(await rpc(url, callMsg(name, args), { ...reader, ...headers, "mcp-session-id": sid }), shape);
  }

  it("widening headers and query strings neither list nor run a hidden tool", async (ctx) => {
    if (!srv) return ctx.skip(`HTTP: not available (${reason})`);
    const widen: Array<[string, Record<string, string>, string]> = [
      ["X-MCP-Tools: *", { "x-mcp-tools": "*" }, ""],
      ["X-MCP-Tools: delete_dataset", { "x-mcp-tools": "delete_dataset" }, ""],
      ["X-MCP-Tools: datasets (a group)", { "x-mcp-tools": "datasets" }, ""],
      ["X-MCP-Tools: rerank,delete_dataset", { "x-mcp-tools": "rerank,delete_dataset" }, ""],
      ["X-MCP-Tools: default", { "x-mcp-tools": "default" }, ""],
      ["X-MCP-Tools: DELETE_DATASET", { "x-mcp-tools": "DELETE_DATASET" }, ""],
      ["X-MCP-Tools: ' delete_dataset ' (padded)", { "x-mcp-tools": " delete_dataset , *" }, ""],
      ["X-MCP-Tools: ',,*' (empty items)", { "x-mcp-tools": ",,*" }, ""],
      ["?tools=*", {}, "?tools=*"],
      ["?tools=delete_dataset", {}, "?tools=delete_dataset"],
      ["?tools=%2A (encoded *)", {}, "?tools=%2A"],
      ["?tools=delete%5Fdataset (encoded _)", {}, "?tools=delete%5Fdataset"],
      ["?tools=rerank&tools=delete_dataset (repeated)", {}, "?tools=rerank&tools=delete_dataset"],
      ["?TOOLS=* (other case)", {}, "?TOOLS=*"],
      ["header narrows, query widens", { "x-mcp-tools": "rerank" }, "?tools=delete_dataset"],
      ["X-MCP-Profile: curator", { "x-mcp-profile": "curator" }, ""],
      ["X-MCP-Agent: curator", { "x-mcp-agent": "curator" }, ""],
      ["X-Forwarded-User: curator", { "x-forwarded-user": "curator", "x-forwarded-for": "127.0.0.1" }, ""],
      ["?profile=curator&agent=curator", {}, "?profile=curator&agent=curator"],
      ["X-MCP-Allow-Destructive: 1", { "x-mcp-allow-destructive": "1", "x-mcp-allow-write": "1" }, ""],
    ];
    for (const [shape, headers, query] of widen) {
      // listed?
      if (mode === "stateless") {
        const list = await rpc(srv.mcpUrl + query, { jsonrpc: "2.0", id: 9, method: "tools/list", params: {} }, { ...reader, ...headers });
        const names = list.messages.flatMap((m) => ((m.result as { tools?: Array<{ name: string }> } | undefined)?.tools ?? []).map((t) => t.name));
        for (const n of names) expect(["rerank", "embed"], `${shape} listed ${n}`).toContain(n);
      }
      await attempt(shape, "delete_dataset", { id: "ds-1" }, headers, query);
      await attempt(shape, "list_datasets", {}, headers, query);
    }
    expect(emu.requests).toEqual([]);
  });

  it("look-alike names, batches and a second initialize over HTTP", async (ctx) => {
    if (!srv) return ctx.skip(`HTTP: not available (${reason})`);
    for (const [shape, name] of variants("delete_dataset")) await attempt(`tools/call name: ${shape}`, name, { id: "ds-1" });
    // batch arrays in one POST
    for (const [shape, batch] of [
      ["batch: two hidden calls", [callMsg("delete_dataset", { id: "ds-1" }, 3), callMsg("list_datasets", {}, 4)]],
      ["batch: initialize + hidden call", [INIT, callMsg("delete_dataset", { id: "ds-1" }, 5)]],
      ["batch: visible + hidden call", [callMsg("rerank", { model: "rerank-v3.5", query: "q", documents: ["a"] }, 6), callMsg("delete_dataset", { id: "ds-1" }, 7)]],
    ] as const) {
      note(channel, shape);
      const r = await rpc(srv.mcpUrl, batch, reader);
      for (const m of r.messages) {
        if (m.id === 6) continue; // the visible rerank may run
        const result = m.result as { isError?: boolean; protocolVersion?: string } | undefined;
        if (result?.protocolVersion) continue; // the initialize answer
        expect(m.error !== undefined || result?.isError === true, `${shape}: ${JSON.stringify(m).slice(0, 200)}`).toBe(true);
      }
    }
    // a second initialize on the same session (sessions) / another initialize (stateless)
    note(channel, "second initialize, then a hidden call");
    const init = await rpc(srv.mcpUrl, INIT, reader);
    const sid = init.headers.get("mcp-session-id");
    const h = sid ? { ...reader, "mcp-session-id": sid } : reader;
    const again = await rpc(srv.mcpUrl, { ...INIT, id: 8, params: { ...INIT.params, capabilities: { elicitation: {}, experimental: { tools: "*" } } } }, h);
    expect(again.status >= 400 || again.messages.some((m) => m.error !== undefined || m.result !== undefined)).toBe(true);
    expectRefused(await rpc(srv.mcpUrl, callMsg("delete_dataset", { id: "ds-1" }, 9), h), "after a second initialize");
    expect(emu.requests.filter((r) => !/\/v2\/rerank$/.test(r.path))).toEqual([]);
  });

  it("malformed tools/call params (non-string names, non-object arguments) are a -32602, audited once", async (ctx) => {
    if (!srv) return ctx.skip(`HTTP: not available (${reason})`);
    const init = mode === "--sessions" ? await rpc(srv.mcpUrl, INIT, reader) : undefined;
    const sid = init?.headers.get("mcp-session-id");
    const h = sid ? { ...reader, "mcp-session-id": sid } : reader;
    for (const [shape, params] of [
      ["name: number", { name: 123, arguments: { id: "ds-1" } }],
      ["name: array", { name: ["delete_dataset"], arguments: { id: "ds-1" } }],
      ["name: missing", { arguments: { id: "ds-1" } }],
      ["arguments: array", { name: "delete_dataset", arguments: ["ds-1"] }],
      ["params: a string", "delete_dataset"],
      ["name: number, with a progress token (SDK path)", { name: 123, arguments: {}, _meta: { progressToken: 1 } }],
    ] as const) {
      attempts++;
      note(channel, `tools/call malformed ${shape}`);
      const r = await rpc(srv.mcpUrl, { jsonrpc: "2.0", id: 77, method: "tools/call", params }, h);
      const err = r.messages.find((m) => m.id === 77)?.error as { code: number; message: string } | undefined;
      expect(err?.code, `${shape}: ${JSON.stringify(r.messages).slice(0, 300)}`).toBe(-32602);
      expect(err!.message.length, shape).toBeLessThan(200);
    }
    expect(emu.requests).toEqual([]);
  });

  it("another agent's session id, with the reader's token, is not the curator's session", async (ctx) => {
    if (!srv) return ctx.skip(`HTTP: not available (${reason})`);
    if (mode !== "--sessions") return ctx.skip("sessions only");
    const cur = await rpc(srv.mcpUrl, INIT, { authorization: `Bearer ${CURATOR_TOKEN}` });
    const sid = cur.headers.get("mcp-session-id");
    expect(sid).toBeTruthy();
    note(channel, "another agent's Mcp-Session-Id");
    const r = await rpc(srv.mcpUrl, callMsg("delete_dataset", { id: "ds-1" }), { ...reader, "mcp-session-id": sid! });
    expectRefused(r, "curator's session id");
    expect(emu.requests.filter((x) => x.method === "DELETE")).toEqual([]);
  });

  it("the reader cannot use the curator through an SDK client either; audit lines hold no token", async (ctx) => {
    if (!srv) return ctx.skip(`HTTP: not available (${reason})`);
    const c = await connectHttp(srv.mcpUrl, { ...reader, "x-mcp-tools": "*" });
    try {
      const names = (await c.client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(["embed", "rerank"]);
      note(channel, "SDK client with X-MCP-Tools: *");
      const r = await c.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } });
      expect(r.isError).toBe(true);
    } finally {
      await c.close();
    }
    const text = readFileSync(audit, "utf8");
    for (const secret of [READER_TOKEN, CURATOR_TOKEN, BENCH_KEY]) expect(text).not.toContain(secret);
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as { decision: string; tool: string; agent: string });
    const hiddenAllowed = lines.filter((l) => l.decision === "allowed" && l.tool !== "rerank" && l.tool !== "embed");
    expect(hiddenAllowed).toEqual([]);
    expect(lines.filter((l) => l.agent === "reader" && l.decision === "denied").length).toBeGreaterThanOrEqual(attempts);
    expectSafeAudit(text);
    expect(srv.stderr()).not.toContain(READER_TOKEN);
    expect(srv.stderr()).not.toContain(CURATOR_TOKEN);
  });
});
