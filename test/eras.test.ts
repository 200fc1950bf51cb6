/**
 * Both MCP eras on one server (issue 26): the SDK v2 client pinned to 2026-07-28 (and in auto
 * mode, which now picks it) over stdio and HTTP (a static token; --sessions too), and a legacy
 * v1 client on the same server still getting 2025-11-25. The same tools, the same allowlist,
 * refusals, streamed chat as progress, cancellation closing the upstream request, and the era in
 * the audit line and the metrics. --eras turns either era off.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, runCli, textOf, TEST_KEY, type ToolCallResult } from "./helpers.js";
import { bearer, connectHttp, eventually, MCP_HEADERS, rpc, sha256Hex, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";
import { MODERN, modernHttp, modernStdio, type ModernConnected } from "./eras-support.js";

const RERANK = { name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a", "b"] } };
const LONG = Array.from({ length: 80 }, (_, i) => `word${i}`).join(" ");
const CHAT = { name: "chat", arguments: { model: "command-a-03-2025", messages: [{ role: "user", content: LONG }] } };

type AuditLine = Record<string, unknown> & { tool: string; era?: string; decision: string };
const auditOf = (file: string): AuditLine[] =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditLine);

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

describe("stdio serves both eras", () => {
  const audit = tempFile("eras-stdio.jsonl");
  const ARGS = ["--tools", "rerank,chat,tokenize", "--audit-log", audit];
  let modern: ModernConnected;
  beforeAll(async () => {
    modern = await modernStdio(emu.url, ARGS);
  });
  afterAll(async () => modern?.close());

  it("a v2 client pinned to 2026-07-28 discovers, lists the same tools as a legacy client, and calls", async () => {
    expect(modern.client.getProtocolEra()).toBe("modern");
    expect(modern.client.getNegotiatedProtocolVersion()).toBe(MODERN);
    const legacy = await connectStdio(emu.url, ARGS);
    try {
      expect(legacy.client.getServerVersion()?.name).toBe("cohere-mcp");
      const [m, l] = [await modern.client.listTools(), await legacy.client.listTools()];
      expect(m.tools).toEqual(l.tools);
      const r = (await modern.client.callTool(RERANK)) as ToolCallResult;
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(emu.requests.filter((q) => q.path === "/v2/rerank")).toHaveLength(1);
      expect(((await legacy.client.callTool(RERANK)) as ToolCallResult).isError).toBeFalsy();
    } finally {
      await legacy.close();
    }
    const lines = await eventually(() => {
      const l = auditOf(audit).filter((x) => x.tool === "rerank");
      expect(l).toHaveLength(2);
      return l;
    });
    expect(lines.map((l) => l.era).sort()).toEqual(["legacy", "modern"]);
  });

  it("a tool outside the allowlist is refused the same way, nothing sent", async () => {
    const r = (await modern.client.callTool({ name: "embed", arguments: { model: "embed-v4.0", texts: ["a"] } })) as ToolCallResult;
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/not enabled for this agent/);
    expect(emu.requests).toHaveLength(0);
  });

  it("streamed chat arrives as progress, and cancelling closes the upstream request", async () => {
    const progress: string[] = [];
    // Pieces 20 ms apart, as a model streams them. The SDK v2 client forgets a call's progress
    // handler when it reads the result, and handles a notification a microtask after reading it:
    // pieces it reads in the same chunk as the result are dropped on its side. On a loaded machine
    // a starved client read the whole burst with the result (1 of ~6 loaded full runs), so the
    // pieces are spread out and only the tail may be lost: what arrives is in order, a prefix.
    emu.setStreamChunkDelay(20);
    const r = (await modern.client.callTool(CHAT, { onprogress: (p) => progress.push(p.message ?? "") })) as ToolCallResult;
    emu.setStreamChunkDelay(0);
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(progress.length).toBeGreaterThan(1);
    const text = (r.structuredContent as { text: string }).text;
    expect(text.startsWith(progress.join("")), `${progress.join("")} | ${text}`).toBe(true);
    expect(progress.join("").length).toBeGreaterThan(text.length / 2);

    // cancelling a call whose upstream request is under way closes that request
    emu.addFault({ path: "/v2/rerank", fault: { kind: "delay", ms: 3_000 } });
    const ac = new AbortController();
    const call = modern.client.callTool(RERANK, { signal: ac.signal });
    await eventually(() => expect(emu.openConnections()).toBeGreaterThan(0));
    const aborted = emu.waitForAbort((q) => q.path === "/v2/rerank", 5_000);
    setTimeout(() => ac.abort("stop"), 200);
    await expect(call).rejects.toThrow();
    await aborted;
  });

  it("auto mode picks 2026-07-28", async () => {
    const auto = await modernStdio(emu.url, ARGS, "auto");
    try {
      expect(auto.client.getNegotiatedProtocolVersion()).toBe(MODERN);
    } finally {
      await auto.close();
    }
  });

  it("--eras legacy: a pinned modern client cannot connect, a legacy one can; --eras modern: the reverse", async () => {
    await expect(modernStdio(emu.url, [...ARGS, "--eras", "legacy"])).rejects.toThrow();
    const legacy = await connectStdio(emu.url, [...ARGS, "--eras", "legacy"]);
    await legacy.close();
    const only = await modernStdio(emu.url, [...ARGS, "--eras", "modern"]);
    await only.close();
    await expect(connectStdio(emu.url, [...ARGS, "--eras", "modern"])).rejects.toThrow();
  });
});

describe("limits, argument rules and the wait tools in the modern era", () => {
  it("a profile's rate limit and argument rules refuse a 2026-07-28 client's calls as a legacy one's, nothing sent; a wait tool polls to the end", async () => {
    const config = writeConfig({
      profiles: {
        limited: {
          tools: ["rerank", "datasets", "embed_jobs"],
          allow_write: true,
          rate_limit: { per_tool_per_minute: { rerank: 2 } },
          arguments: { max_documents: 2 },
        },
      },
    });
    const m = await modernStdio(emu.url, ["--config", config, "--profile", "limited"], { pin: MODERN }, { env: { COHERE_MCP_POLL_INTERVAL_MS: "50" } });
    try {
      const tooMany = (await m.client.callTool({ name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a", "b", "c"] } })) as ToolCallResult;
      expect(tooMany.isError).toBe(true);
      expect(emu.requests).toHaveLength(0);
      for (let i = 0; i < 2; i++) expect(((await m.client.callTool(RERANK)) as ToolCallResult).isError).toBeFalsy();
      const limited = (await m.client.callTool(RERANK)) as ToolCallResult;
      expect(limited.isError).toBe(true);
      expect(textOf(limited)).toMatch(/rate limit|per minute|limit/i);
      expect(emu.requests.filter((q) => q.path === "/v2/rerank")).toHaveLength(2);

      const ds = (await m.client.callTool({ name: "create_dataset", arguments: { name: "d", type: "embed-input", data_text: '{"text":"a"}\n' } })) as ToolCallResult;
      const job = (await m.client.callTool({
        name: "create_embed_job",
        arguments: { model: "embed-v4.0", dataset_id: (ds.structuredContent as { id: string }).id, input_type: "search_document" },
      })) as ToolCallResult;
      const id = (job.structuredContent as { job_id: string }).job_id;
      const progress: string[] = [];
      const waited = (await m.client.callTool({ name: "wait_for_embed_job", arguments: { id, timeout_s: 30 } }, { onprogress: (p) => progress.push(p.message ?? "") })) as ToolCallResult;
      expect(waited.isError, textOf(waited)).toBeFalsy();
      expect(emu.requests.filter((q) => q.method === "GET").length).toBeGreaterThan(0);
    } finally {
      await m.close();
    }
  });
});

describe("HTTP serves both eras on one endpoint", () => {
  const OPS = "ops-token-0123456789abcdef";
  const SEARCH = "search-token-0123456789abcdef";
  const audit = tempFile("eras-http.jsonl");
  const config = writeConfig({
    profiles: { ops: { tools: ["rerank", "chat", "tokenize"] }, search: { tools: ["tokenize"] } },
    agents: [
      { name: "ops", profile: "ops", token_sha256: sha256Hex(OPS) },
      { name: "search", profile: "search", token_sha256: sha256Hex(SEARCH) },
    ],
  });
  for (const sessions of [false, true]) {
    describe(sessions ? "--sessions" : "stateless", () => {
      let srv: HttpServerProc;
      beforeAll(async () => {
        srv = await startHttp(emu.url, ["--config", config, "--audit-log", audit, "--metrics-port", "0", ...(sessions ? ["--sessions"] : [])]);
      });
      afterAll(async () => srv?.stop());

      it("a pinned modern client with a token calls; a legacy client on the same URL gets 2025-11-25", async () => {
        const m = await modernHttp(srv.url, bearer(OPS));
        try {
          expect(m.client.getNegotiatedProtocolVersion()).toBe(MODERN);
          const r = (await m.client.callTool(RERANK)) as ToolCallResult;
          expect(r.isError, textOf(r)).toBeFalsy();
          const progress: string[] = [];
          const chat = (await m.client.callTool(CHAT, { onprogress: (p) => progress.push(p.message ?? "") })) as ToolCallResult;
          expect(chat.isError, textOf(chat)).toBeFalsy();
          expect(progress.join("")).toBe((chat.structuredContent as { text: string }).text);
        } finally {
          await m.close();
        }
        const l = await connectHttp(srv.url, bearer(OPS));
        try {
          expect(l.transport.protocolVersion ?? "2025-11-25").toBe("2025-11-25");
          expect(((await l.client.callTool(RERANK)) as ToolCallResult).isError).toBeFalsy();
        } finally {
          await l.close();
        }
        const lines = await eventually(() => {
          const x = auditOf(audit).filter((a) => a.tool === "rerank" && a.agent === "ops");
          expect(x.length).toBeGreaterThanOrEqual(2);
          return x;
        });
        expect(new Set(lines.map((a) => a.era))).toEqual(new Set(["modern", "legacy"]));
      });

      it("each agent sees and may call only its own tools; no token is 401", async () => {
        const s = await modernHttp(srv.url, bearer(SEARCH));
        try {
          expect((await s.client.listTools()).tools.map((t) => t.name)).toEqual(["tokenize"]);
          const r = (await s.client.callTool(RERANK)) as ToolCallResult;
          expect(r.isError).toBe(true);
          expect(textOf(r)).toMatch(/not enabled for this agent/);
        } finally {
          await s.close();
        }
        await expect(modernHttp(srv.url, {})).rejects.toThrow();
        await expect(modernHttp(srv.url, bearer("wrong-token-0123456789abcdef"))).rejects.toThrow();
      });

      it("a modern client's cancellation (the request's stream closed) closes the upstream request", async () => {
        const m = await modernHttp(srv.url, bearer(OPS));
        try {
          emu.addFault({ path: "/v2/rerank", fault: { kind: "delay", ms: 3_000 } });
          const ac = new AbortController();
          const call = m.client.callTool(RERANK, { signal: ac.signal });
          await eventually(() => expect(emu.openConnections()).toBeGreaterThan(0));
          const aborted = emu.waitForAbort((q) => q.path === "/v2/rerank", 5_000);
          setTimeout(() => ac.abort("stop"), 200);
          await expect(call).rejects.toThrow();
          await aborted;
        } finally {
          emu.reset();
          await m.close();
        }
      });

      it("auto mode picks 2026-07-28", async () => {
        const a = await modernHttp(srv.url, bearer(OPS), "auto");
        try {
          expect(a.client.getNegotiatedProtocolVersion()).toBe(MODERN);
        } finally {
          await a.close();
        }
      });
    });
  }

  it("metrics count calls by era", async () => {
    const srv = await startHttp(emu.url, ["--config", config, "--metrics-port", "0"]);
    try {
      const m = await modernHttp(srv.url, bearer(OPS));
      await m.client.callTool(RERANK);
      await m.close();
      const port = /metrics on http:\/\/[^:]+:(\d+)/.exec(srv.stderr())?.[1];
      expect(port, srv.stderr()).toBeTruthy();
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/cohere_mcp_calls_by_era_total\{era="modern",transport="http"\} 1/);
    } finally {
      await srv.stop();
    }
  });

  it("--eras modern: a legacy initialize is refused with the revision served; --eras legacy: a modern request is not served", async () => {
    const srv = await startHttp(emu.url, ["--config", config, "--eras", "modern"]);
    try {
      const init = await rpc(
        srv.url,
        { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } } },
        { ...MCP_HEADERS, ...bearer(OPS) },
      );
      expect(JSON.stringify(init.messages)).toContain(MODERN);
      expect(init.messages[0]?.error).toBeTruthy();
      const m = await modernHttp(srv.url, bearer(OPS));
      await m.close();
    } finally {
      await srv.stop();
    }
    const old = await startHttp(emu.url, ["--config", config, "--eras", "legacy"]);
    try {
      await expect(modernHttp(old.url, bearer(OPS))).rejects.toThrow();
      const l = await connectHttp(old.url, bearer(OPS));
      await l.close();
    } finally {
      await old.stop();
    }
  });
});

describe("misconfiguration fails at start", () => {
  it("an unknown --eras value, an empty list, or a COHERE_MCP_STATE_KEY under 32 characters: the server does not start, and says why (never the key)", async () => {
    const bad = await runCli(["--eras", "modern,future"], { CO_API_KEY: TEST_KEY });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--eras takes modern and\/or legacy \(comma-separated\), got "future"/);
    expect(bad.stdout).toBe("");
    const empty = await runCli(["--eras", ","], { CO_API_KEY: TEST_KEY });
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toMatch(/--eras needs at least one of modern, legacy/);
    const short = await runCli([], { CO_API_KEY: TEST_KEY, COHERE_MCP_STATE_KEY: "short-state-key-SECRET" });
    expect(short.code).not.toBe(0);
    expect(short.stderr).toMatch(/COHERE_MCP_STATE_KEY must be at least 32 characters/);
    expect(short.stderr).not.toContain("short-state-key-SECRET");
  });
});
