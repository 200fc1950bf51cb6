/**
 * OpenTelemetry (issue 24): a real OTLP receiver (test/helpers/otlp-receiver.ts, the protobuf and
 * JSON encodings decoded with the OpenTelemetry packages' own decoders) receives what a stdio and
 * an HTTP server export. Asserted against the MCP semantic conventions: one SERVER span per
 * request named `{mcp.method.name} {gen_ai.tool.name}`, its attributes, the child spans (guards,
 * each Cohere HTTP attempt as a CLIENT span, a retry wait), a caller's traceparent continued from
 * `params._meta` and from the HTTP header, audit lines that carry the span's ids, audit records
 * as OTLP log records, mcp.server.operation.duration, and no secret in any exported byte.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, TEST_KEY, textOf } from "./helpers.js";
import { connectHttp, eventually, rpc, sha256Hex, startHttp, tempFile, writeConfig } from "./http-support.js";
import { startOtlpReceiver, type CapturedSpan, type OtlpReceiver } from "./helpers/otlp-receiver.js";
import { redisServerPath, startRedis } from "../bench/redis.js";
import { MODERN, modernHttp } from "./eras-support.js";

const CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const HEADER_TRACE = "0af7651916cd43dd8448eb211c80319c";
const HEADER_SPAN = "b7ad6b7169203331";
const AGENT_TOKEN = "agent-token-SECRET-5c4b3a29180f";
const HEADER_SECRET = "collector-SECRET-cafe0123";
const RERANK = { model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "paris is the capital"] };
const CHAT = { model: "command-a-03-2025", messages: [{ role: "user", content: "hello there" }] };

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());

const children = (spans: CapturedSpan[], parent: CapturedSpan) => spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);
const one = (spans: CapturedSpan[], name: string) => {
  const found = spans.filter((s) => s.name === name);
  expect(found.map((s) => s.name), `spans named ${name}`).toHaveLength(1);
  return found[0]!;
};

/** No secret, nor a 12-character piece of one, in anything the receiver got. */
function expectNoSecret(rec: OtlpReceiver, secrets: string[]): void {
  const all = rec.raw.join("\n");
  expect(all.length).toBeGreaterThan(0);
  for (const s of secrets) {
    expect(all.includes(s), `a secret in the OTLP export`).toBe(false);
    expect(all.includes(s.slice(0, 12)), `the start of a secret in the OTLP export`).toBe(false);
  }
  expect(all).not.toContain("SECRET");
}

describe("stdio, http/protobuf", () => {
  let rec: OtlpReceiver;
  const audit = tempFile("audit.jsonl");
  let stderr = "";

  beforeAll(async () => {
    rec = await startOtlpReceiver();
    emu.reset();
    // one 503 before the answer: the rerank is retried (two attempts and a wait)
    const c = await connectStdio(emu.url, ["--audit-log", audit, "--audit-otlp"], {
      CO_API_KEY: TEST_KEY,
      OTEL_EXPORTER_OTLP_ENDPOINT: rec.url,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${HEADER_SECRET}`,
      OTEL_SERVICE_NAME: "gateway-under-test",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test",
    });
    emu.addFault({ path: "/v2/rerank", times: 1, fault: { kind: "status", status: 503 } });
    const r = await c.client.callTool({ name: "rerank", arguments: RERANK, _meta: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`, tracestate: "rojo=00f067aa0ba902b7" } });
    expect(r.isError).toBeFalsy();
    const pieces: string[] = [];
    const chat = await c.client.callTool({ name: "chat", arguments: CHAT }, undefined, { onprogress: (p) => void pieces.push(String(p.message)) });
    expect(textOf(chat).length).toBeGreaterThan(0);
    expect(pieces.length).toBeGreaterThan(0);
    const refused = await c.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } });
    expect(refused.isError).toBe(true);
    await c.client.listTools();
    await c.client.ping();
    await c.client.notification({ method: "notifications/cancelled", params: { requestId: 999, reason: "test" } });
    await c.close(); // the server flushes its exporters on the way out
    await eventually(() => expect(rec.logs.length).toBe(3), 10_000);
    // initialize, notifications/initialized, 3 calls, tools/list, ping, notifications/cancelled
    await eventually(() => expect(rec.spans.filter((s) => s.kind === 2)).toHaveLength(8), 10_000);
    await eventually(() => expect(rec.metrics.some((m) => m.name === "mcp.server.session.duration")).toBe(true), 10_000);
    stderr = c.stderr();
  }, 30_000);
  afterAll(async () => rec.stop());

  it("one SERVER span per request, named and attributed by the MCP conventions; the caller's _meta.traceparent is its parent", () => {
    const span = one(rec.spans, "tools/call rerank");
    expect(span.kind).toBe(2);
    expect(span.encoding).toBe("protobuf");
    expect(span.traceId).toBe(CALLER_TRACE);
    expect(span.parentSpanId).toBe(CALLER_SPAN);
    expect(span.attributes).toMatchObject({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "rerank",
      "gen_ai.operation.name": "execute_tool",
      "jsonrpc.request.id": expect.any(String),
      "network.transport": "pipe",
      "cohere_mcp.agent": "stdio",
    });
    expect(span.attributes["error.type"]).toBeUndefined();
    expect(span.resource).toMatchObject({ "service.name": "gateway-under-test", "deployment.environment.name": "test", "service.version": "0.1.0" });
    const list = one(rec.spans, "tools/list");
    expect(list.attributes["mcp.method.name"]).toBe("tools/list");
    expect(list.attributes["gen_ai.operation.name"]).toBeUndefined();
  });

  it("every request and notification received is a SERVER span by the conventions; mcp.protocol.version (negotiated) on each", () => {
    const init = one(rec.spans, "initialize");
    const version = init.attributes["mcp.protocol.version"];
    expect(version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(init.attributes).toMatchObject({ "mcp.method.name": "initialize", "jsonrpc.request.id": expect.any(String), "network.transport": "pipe" });
    for (const name of ["notifications/initialized", "ping", "notifications/cancelled", "tools/list", "tools/call rerank", "tools/call chat"]) {
      const span = one(rec.spans, name);
      expect(span.kind, name).toBe(2);
      expect(span.attributes["mcp.protocol.version"], name).toBe(version);
      expect(span.attributes["gen_ai.operation.name"], name).toBe(name.startsWith("tools/call") ? "execute_tool" : undefined);
    }
    // a notification has no id
    for (const name of ["notifications/initialized", "notifications/cancelled"]) {
      expect(one(rec.spans, name).attributes["jsonrpc.request.id"], name).toBeUndefined();
      expect(one(rec.spans, name).attributes["mcp.method.name"]).toBe(name);
    }
    expect(one(rec.spans, "ping").attributes["error.type"]).toBeUndefined();
  });

  it("mcp.server.session.duration: the stdio connection, recorded when it ends", () => {
    const m = rec.metrics.find((x) => x.name === "mcp.server.session.duration")!;
    expect(m.unit).toBe("s");
    expect(m.points).toHaveLength(1);
    expect(m.points[0]!.count).toBe(1);
    expect(m.points[0]!.sum).toBeGreaterThan(0);
    expect(m.points[0]!.attributes).toMatchObject({ "network.transport": "pipe", "mcp.protocol.version": one(rec.spans, "initialize").attributes["mcp.protocol.version"] });
  });

  it("children: the guards, each Cohere attempt (CLIENT, HTTP client + gen_ai attributes) and the wait between them", () => {
    const span = one(rec.spans, "tools/call rerank");
    const kids = children(rec.spans, span);
    const names = kids.map((k) => k.name).sort();
    // no guards span: the memory store makes no round trip (with --store, below, there is one)
    expect(names).toEqual(["POST /v2/rerank", "POST /v2/rerank", "cohere_mcp.retry_wait"]);
    const attempts = kids.filter((k) => k.name === "POST /v2/rerank").sort((a, b) => a.start - b.start);
    for (const a of attempts) {
      expect(a.kind).toBe(3);
      expect(a.attributes).toMatchObject({
        "http.request.method": "POST",
        "url.template": "/v2/rerank",
        "server.address": "127.0.0.1",
        "gen_ai.provider.name": "cohere",
        "gen_ai.request.model": "rerank-v3.5",
      });
    }
    expect(attempts[0]!.attributes["http.response.status_code"]).toBe(503);
    expect(attempts[0]!.attributes["error.type"]).toBe("503");
    expect(attempts[1]!.attributes["http.response.status_code"]).toBe(200);
    expect(attempts[1]!.attributes["http.request.resend_count"]).toBe(1);
    expect(attempts[1]!.attributes["cohere.request_id"]).toEqual(expect.any(String));
    const wait = kids.find((k) => k.name === "cohere_mcp.retry_wait")!;
    expect(wait.start).toBeGreaterThanOrEqual(attempts[0]!.end - 1);
    expect(wait.end).toBeLessThanOrEqual(attempts[1]!.start + 1);
    // every child lies inside its parent
    for (const k of kids) expect(k.start >= span.start - 1 && k.end <= span.end + 1, k.name).toBe(true);
  });

  it("a streamed chat: its attempt span lasts until the stream ends and carries the tokens", () => {
    const span = one(rec.spans, "tools/call chat");
    const attempt = children(rec.spans, span).find((k) => k.name === "POST /v2/chat")!;
    expect(attempt.attributes["gen_ai.usage.input_tokens"]).toEqual(expect.any(Number));
    expect(attempt.attributes["gen_ai.usage.output_tokens"]).toEqual(expect.any(Number));
    expect(attempt.attributes["cohere_mcp.stream.pieces"]).toBeGreaterThan(0);
    expect(span.traceId).not.toBe(CALLER_TRACE); // no traceparent: a trace of its own
    expect(span.parentSpanId).toBe("");
  });

  it("a refused call: error.type tool_error, ERROR status, nothing sent", () => {
    const span = one(rec.spans, "tools/call delete_dataset");
    expect(span.attributes["error.type"]).toBe("tool_error");
    expect(span.status.code).toBe(2);
    expect(children(rec.spans, span).filter((k) => k.kind === 3)).toHaveLength(0);
  });

  it("each audit line carries its request span's trace_id and span_id; the same records arrive as OTLP log records", () => {
    const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      const span = one(rec.spans, `tools/call ${String(line.tool)}`);
      expect(line.trace_id).toBe(span.traceId);
      expect(line.span_id).toBe(span.spanId);
      const log = rec.logs.find((l) => l.spanId === span.spanId)!;
      expect(log.traceId).toBe(span.traceId);
      expect(log.body).toBe(line.text);
      expect(log.eventName).toBe("cohere_mcp.audit");
      for (const k of ["agent", "tool", "decision", "argsHash", "latencyMs"]) expect(log.attributes[`cohere_mcp.audit.${k}`], k).toEqual(line[k]);
    }
    expect(rec.logs.find((l) => l.attributes["cohere_mcp.audit.decision"] === "denied")!.severityNumber).toBe(13);
  });

  it("metrics from the audit events: mcp.server.operation.duration by tool, refusals as tool_error", () => {
    const points = rec.metrics.filter((m) => m.name === "mcp.server.operation.duration").flatMap((m) => m.points);
    expect(points.find((p) => p.attributes["gen_ai.tool.name"] === "rerank")!.count).toBe(1);
    expect(points.find((p) => p.attributes["gen_ai.tool.name"] === "delete_dataset")!.attributes["error.type"]).toBe("tool_error");
    expect(rec.metrics.find((m) => m.name === "mcp.server.operation.duration")!.unit).toBe("s");
    expect(rec.metrics.some((m) => m.name === "cohere_mcp.calls")).toBe(true);
  });

  it("no secret in any exported byte, nor in stderr (the collector's header value included)", () => {
    expectNoSecret(rec, [TEST_KEY, HEADER_SECRET]);
    expect(stderr).not.toContain(HEADER_SECRET);
    expect(stderr).not.toContain(TEST_KEY);
  });
});

describe("HTTP, http/json", () => {
  let rec: OtlpReceiver;
  let httpSpans: CapturedSpan[];
  let mcpSpans: CapturedSpan[];
  const audit = tempFile("audit.jsonl");
  const byId = (id: string) => mcpSpans.find((s) => s.attributes["jsonrpc.request.id"] === id)!;
  const httpParentOf = (s: CapturedSpan) => httpSpans.find((h) => h.spanId === s.parentSpanId && h.traceId === s.traceId);

  beforeAll(async () => {
    rec = await startOtlpReceiver();
    const config = writeConfig({
      profiles: { search: { tools: ["rerank"] } },
      agents: [{ name: "search-agent", profile: "search", token_sha256: sha256Hex(AGENT_TOKEN) }],
    });
    const srv = await startHttp(emu.url, ["--config", config, "--audit-log", audit, "--audit-otlp"], {
      OTEL_EXPORTER_OTLP_ENDPOINT: rec.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
    try {
      const auth = { Authorization: `Bearer ${AGENT_TOKEN}`, traceparent: `00-${HEADER_TRACE}-${HEADER_SPAN}-01` };
      // the fast path (no _meta): the header is the HTTP span's parent, the HTTP span the MCP span's
      const a = await rpc(srv.url, { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "rerank", arguments: RERANK } }, auth);
      expect(a.status).toBe(200);
      // the SDK path (_meta present): _meta's context is the MCP span's parent, the HTTP span a link
      const b = await rpc(
        srv.url,
        { jsonrpc: "2.0", id: "b-8", method: "tools/call", params: { name: "rerank", arguments: RERANK, _meta: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` } } },
        { ...auth, "mcp-protocol-version": "2025-06-18" },
      );
      expect(b.status).toBe(200);
      // refused before MCP: a wrong token (401), a foreign Origin (403)
      expect((await rpc(srv.url, { jsonrpc: "2.0", id: 9, method: "tools/list" }, { Authorization: "Bearer wrong-token-SECRET-0000" })).status).toBe(401);
      expect((await rpc(srv.url, { jsonrpc: "2.0", id: 10, method: "tools/list" }, { ...auth, Origin: "http://evil.example" })).status).toBe(403);
      // the modern era (2026-07-28): server/discover and a call, each MCP span under its HTTP span
      const modern = await modernHttp(srv.url, { Authorization: `Bearer ${AGENT_TOKEN}` });
      expect(((await modern.client.callTool({ name: "rerank", arguments: RERANK })) as { isError?: boolean }).isError).toBeFalsy();
      await modern.close();
      // an operator notice: a reload (SIGHUP) is a log record too
      srv.child.kill("SIGHUP");
      await eventually(() => expect(readFileSync(audit, "utf8")).toContain('"event":"config_reload"'), 10_000);
      await srv.stop();
      await eventually(() => expect(rec.spans.filter((s) => s.name.startsWith("tools/call"))).toHaveLength(3), 10_000);
    } finally {
      await srv.stop();
    }
    httpSpans = rec.spans.filter((s) => s.attributes["http.request.method"] !== undefined && s.kind === 2);
    mcpSpans = rec.spans.filter((s) => s.attributes["mcp.method.name"] !== undefined);
  }, 30_000);
  afterAll(async () => rec.stop());

  it("each request is an HTTP SERVER span by the HTTP conventions; its MCP span is its child", () => {
    const viaHeader = byId("7");
    expect(viaHeader.name).toBe("tools/call rerank");
    expect(viaHeader.encoding).toBe("json");
    expect(viaHeader.attributes).toMatchObject({ "network.transport": "tcp", "network.protocol.name": "http", "cohere_mcp.agent": "search-agent" });
    const http = httpParentOf(viaHeader)!;
    expect(http, "the MCP span's parent is the request's HTTP span").toBeDefined();
    expect(http.name).toBe("POST /mcp");
    expect(http.kind).toBe(2);
    expect(http.traceId).toBe(HEADER_TRACE);
    expect(http.parentSpanId).toBe(HEADER_SPAN);
    expect(http.attributes).toMatchObject({
      "http.request.method": "POST",
      "url.path": "/mcp",
      "url.scheme": "http",
      "http.route": "/mcp",
      "http.response.status_code": 200,
      "server.address": "127.0.0.1",
      "server.port": expect.any(Number),
      "client.address": "127.0.0.1",
      "network.protocol.version": "1.1",
    });
    expect(http.attributes["error.type"]).toBeUndefined();
    // it starts first (the answer's write may close the response a moment before the MCP span's end)
    expect(http.start).toBeLessThanOrEqual(viaHeader.start);
    expect(children(rec.spans, viaHeader).map((k) => k.name).sort()).toEqual(["POST /v2/rerank"]);
  });

  it("with _meta.traceparent, _meta is the MCP span's parent and the request's HTTP span (child of the header's context) its link", () => {
    const viaMeta = byId("b-8");
    expect(viaMeta.traceId).toBe(CALLER_TRACE);
    expect(viaMeta.parentSpanId).toBe(CALLER_SPAN);
    expect(viaMeta.links).toHaveLength(1);
    const http = httpSpans.find((h) => h.spanId === viaMeta.links[0]!.spanId)!;
    expect(http.name).toBe("POST /mcp");
    expect(http.traceId).toBe(HEADER_TRACE);
    expect(http.parentSpanId).toBe(HEADER_SPAN);
    expect(viaMeta.attributes["mcp.protocol.version"]).toBe("2025-06-18");
    expect(children(rec.spans, viaMeta).map((k) => k.name).sort()).toEqual(["POST /v2/rerank"]);
    const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.trace_id === CALLER_TRACE)!.span_id).toBe(viaMeta.spanId);
    expect(lines.find((l) => l.trace_id === HEADER_TRACE)!.span_id).toBe(byId("7").spanId);
  });

  it("a request refused before MCP (401, 403) is an HTTP span with error.type and no MCP span", () => {
    for (const status of [401, 403]) {
      const refused = httpSpans.filter((h) => h.attributes["http.response.status_code"] === status);
      expect(refused, String(status)).toHaveLength(1);
      expect(refused[0]!.attributes["error.type"]).toBe(String(status));
      expect(refused[0]!.status.code ?? 0, "a 4xx leaves the server span's status unset").toBe(0);
      expect(rec.spans.filter((s) => s.parentSpanId === refused[0]!.spanId)).toHaveLength(0);
    }
    // every MCP span over HTTP sits under (or links to) an HTTP span
    for (const m of mcpSpans) expect(httpParentOf(m) ?? httpSpans.find((h) => h.spanId === m.links[0]?.spanId), m.name).toBeDefined();
  });

  it("the modern era: server/discover and the call carry mcp.protocol.version 2026-07-28 from the envelope", () => {
    const discover = one(mcpSpans, "server/discover");
    expect(discover.kind).toBe(2);
    expect(httpParentOf(discover)!.name).toBe("POST /mcp");
    const call = mcpSpans.find((s) => s.name === "tools/call rerank" && s.attributes["jsonrpc.request.id"] !== "7" && s.attributes["jsonrpc.request.id"] !== "b-8")!;
    expect(call.attributes["mcp.protocol.version"]).toBe(MODERN);
    expect(httpParentOf(call)!.attributes["http.response.status_code"]).toBe(200);
  });

  it("--audit-otlp: an operator notice (a reload) arrives as a log record, like the file's line", () => {
    const line = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === "config_reload")!;
    const notices = rec.logs.filter((l) => l.eventName === "cohere_mcp.notice");
    expect(notices).toHaveLength(1);
    expect(notices[0]!.body).toBe(line.text);
    expect(notices[0]!.attributes).toMatchObject({ "cohere_mcp.audit.event": "config_reload", "cohere_mcp.audit.outcome": "ok" });
    expect(notices[0]!.severityNumber).toBe(9);
    // the calls' records are there too, each with its trace
    expect(rec.logs.filter((l) => l.eventName === "cohere_mcp.audit" && l.attributes["cohere_mcp.audit.tool"] === "rerank")).toHaveLength(3);
  });

  it("no secret in any exported byte", () => {
    expectNoSecret(rec, [TEST_KEY, AGENT_TOKEN, sha256Hex(AGENT_TOKEN), "wrong-token-SECRET-0000"]);
  });
});

describe("HTTP --sessions", () => {
  it("each request's span names its MCP session and protocol version; initialize and its notification too; the session's duration when it ends", async () => {
    const rec = await startOtlpReceiver();
    const config = writeConfig({
      profiles: { search: { tools: ["rerank"] } },
      agents: [{ name: "search-agent", profile: "search", token_sha256: sha256Hex(AGENT_TOKEN) }],
    });
    const srv = await startHttp(emu.url, ["--config", config, "--sessions", "--shutdown-grace-ms", "100"], { OTEL_EXPORTER_OTLP_ENDPOINT: rec.url });
    try {
      const c = await connectHttp(srv.url, { Authorization: `Bearer ${AGENT_TOKEN}` });
      const session = c.transport.sessionId!;
      await c.client.listTools();
      const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError).toBeFalsy();
      await c.transport.terminateSession(); // DELETE: the session ends
      await c.close();
      await srv.stop();
      await eventually(() => expect(rec.metrics.some((m) => m.name === "mcp.server.session.duration")).toBe(true), 10_000);
      await eventually(() => expect(rec.spans.filter((s) => s.attributes["mcp.method.name"] !== undefined)).toHaveLength(4), 10_000);
      const version = one(rec.spans, "initialize").attributes["mcp.protocol.version"];
      expect(version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      for (const name of ["notifications/initialized", "tools/list", "tools/call rerank"]) {
        expect(one(rec.spans, name).attributes, name).toMatchObject({ "mcp.session.id": session, "mcp.protocol.version": version });
      }
      const points = rec.metrics.find((m) => m.name === "mcp.server.session.duration")!.points;
      expect(points).toHaveLength(1);
      expect(points[0]!.count).toBe(1);
      expect(points[0]!.attributes).toMatchObject({ "network.transport": "tcp", "network.protocol.name": "http", "mcp.protocol.version": version });
    } finally {
      await srv.stop();
      await rec.stop();
    }
  }, 30_000);
});

describe("the user's confirmation and file reads", () => {
  it("a destructive call's confirmation and a path input's read are child spans", async () => {
    const rec = await startOtlpReceiver();
    const dir = mkdtempSync(join(tmpdir(), "otel-files-"));
    writeFileSync(join(dir, "talk.wav"), "RIFF123");
    const c = await connectStdio(
      emu.url,
      ["--tools", "transcribe_audio,delete_dataset", "--allow-destructive", "--allow-file-read", dir],
      { CO_API_KEY: TEST_KEY, OTEL_EXPORTER_OTLP_ENDPOINT: rec.url },
      { capabilities: { elicitation: {} } },
    );
    try {
      c.client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "decline" }));
      const heard = await c.client.callTool({ name: "transcribe_audio", arguments: { model: "cohere-transcribe-03-2026", language: "en", file_path: "talk.wav" } });
      expect(heard.isError, textOf(heard)).toBeFalsy();
      const declined = await c.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } });
      expect(declined.isError).toBe(true);
      await c.close();
      await eventually(() => expect(rec.spans.filter((s) => s.name.startsWith("tools/call"))).toHaveLength(2), 10_000);
      const heardSpan = one(rec.spans, "tools/call transcribe_audio");
      const kids = children(rec.spans, heardSpan).sort((a, b) => a.start - b.start);
      expect(kids.map((k) => k.name)).toEqual(["cohere_mcp.read_files", "POST /v2/audio/transcriptions"]);
      const del = one(rec.spans, "tools/call delete_dataset");
      expect(del.attributes).toMatchObject({ "error.type": "tool_error", "cohere_mcp.refusal.reason": "not_confirmed" });
      const confirm = children(rec.spans, del).find((k) => k.name === "cohere_mcp.confirm")!;
      expect(confirm.attributes).toMatchObject({ "cohere_mcp.confirmed": false, "cohere_mcp.confirm.mode": "elicit" });
      // the lookup of the target's name for the question, inside the confirmation
      expect(children(rec.spans, confirm).map((k) => k.name)).toEqual(["GET"]);
      expect(children(rec.spans, del).some((k) => k.name.startsWith("DELETE"))).toBe(false);
    } finally {
      await rec.stop();
    }
  }, 30_000);
});

describe.skipIf(redisServerPath() === undefined)("the shared store (--store, redis-server)", () => {
  it("each round trip the guards make to Redis is a CLIENT span inside the guards' span", async () => {
    const rec = await startOtlpReceiver();
    const redis = await startRedis();
    const config = writeConfig({ profiles: { limited: { tools: ["rerank"], rate_limit: { per_minute: 100 } } }, default_profile: "limited" });
    try {
      const c = await connectStdio(emu.url, ["--config", config, "--store", redis.url], { CO_API_KEY: TEST_KEY, OTEL_EXPORTER_OTLP_ENDPOINT: rec.url });
      const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError, textOf(r)).toBeFalsy();
      await c.close();
      await eventually(() => expect(rec.spans.filter((s) => s.name.startsWith("tools/call"))).toHaveLength(1), 10_000);
      const guards = children(rec.spans, one(rec.spans, "tools/call rerank")).find((k) => k.name === "cohere_mcp.guards")!;
      const trips = children(rec.spans, guards);
      expect(trips.length).toBeGreaterThan(0);
      for (const t of trips) {
        expect(t.name).toMatch(/^store (take|add|get)$/);
        expect(t.kind).toBe(3);
        expect(t.attributes).toMatchObject({ "db.system.name": "redis", "db.operation.name": expect.any(String) });
        expect(t.start >= guards.start - 1 && t.end <= guards.end + 1).toBe(true);
      }
    } finally {
      await redis.dispose();
      await rec.stop();
    }
  }, 30_000);
});

describe("the sampler from the environment", () => {
  it("OTEL_TRACES_SAMPLER=always_off records no span and puts no trace id in the audit line; metrics still flow", async () => {
    const rec = await startOtlpReceiver();
    const audit = tempFile("audit-sampler.jsonl");
    const c = await connectStdio(emu.url, ["--audit-log", audit], {
      CO_API_KEY: TEST_KEY,
      OTEL_EXPORTER_OTLP_ENDPOINT: rec.url,
      OTEL_TRACES_SAMPLER: "always_off",
    });
    try {
      const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError).toBeFalsy();
      await c.close(); // flushes the exporters
      await eventually(() => expect(rec.metrics.some((m) => m.name === "mcp.server.operation.duration")).toBe(true), 10_000);
      expect(rec.spans).toHaveLength(0);
      const line = JSON.parse(readFileSync(audit, "utf8").trim().split("\n").at(-1)!) as Record<string, unknown>;
      expect(line.tool).toBe("rerank");
      expect(line.trace_id).toBeUndefined();
    } finally {
      await rec.stop();
    }
  }, 30_000);
});
