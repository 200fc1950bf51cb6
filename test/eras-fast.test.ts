/**
 * The modern era's HTTP fast path (src/transports/http/modern/fastpath.ts) answers exactly as the
 * SDK's createMcpHandler does: the same requests go to a server with the fast path and to one
 * with COHERE_MCP_MODERN_FAST=off, and the answers (status, every header but the date, the body
 * byte for byte; an MRTR requestState, signed with a fresh nonce and time, compared by shape) and
 * the audit lines are the same. Which requests take the fast path is checked on the predicate itself: the
 * plain ones below do, and anything the SDK must judge (a progress token, an MRTR retry, headers
 * that disagree with the body, an odd envelope, a cursor, a batch) does not.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IncomingMessage } from "node:http";
import { readFileSync } from "node:fs";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { TEST_KEY } from "./helpers.js";
import { bearer, eventually, rawRequest, sha256Hex, startHttp, tempFile, writeConfig, MCP_HEADERS, type HttpServerProc } from "./http-support.js";
import { MODERN } from "./eras-support.js";
import { modernPlainCall } from "../src/transports/http/modern/fastpath.js";

const TEAM = "team-token-0123456789abcdef";
const RO = "ro-token-0123456789abcdef";
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
  "io.modelcontextprotocol/clientCapabilities": {},
};
const ELICITING = { ...ENVELOPE, "io.modelcontextprotocol/clientCapabilities": { elicitation: { form: {} } } };
const RERANK = { model: "rerank-v3.5", query: "capital of france", documents: ["Paris is in France.", "Bananas."] };

interface Case {
  what: string;
  token: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

const list = (token: string, id: number | string = 1): Case => ({
  what: `tools/list (${token === TEAM ? "team" : "ro"})`,
  token,
  body: { jsonrpc: "2.0", id, method: "tools/list", params: { _meta: ENVELOPE } },
  headers: { "Mcp-Protocol-Version": MODERN, "Mcp-Method": "tools/list" },
});
const call = (what: string, name: string, args: Record<string, unknown> | undefined, o: { token?: string; id?: number | string; meta?: Record<string, unknown> } = {}): Case => ({
  what,
  token: o.token ?? TEAM,
  body: { jsonrpc: "2.0", id: o.id ?? 7, method: "tools/call", params: { name, ...(args ? { arguments: args } : {}), _meta: o.meta ?? ENVELOPE } },
  headers: { "Mcp-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": name },
});

/** Requests the fast path answers (each is checked to qualify), sent to both servers. */
const FAST: Case[] = [
  list(TEAM),
  list(RO, "a-string-id"),
  call("a read call", "rerank", RERANK),
  call("a read call with a string id", "rerank", RERANK, { id: "req-1" }),
  call("invalid arguments", "rerank", { model: "rerank-v3.5", query: "q" }),
  call("no arguments at all", "rerank", undefined),
  call("an unknown tool", "no_such_tool", {}),
  call("a tool outside the agent's profile", "embed", { model: "embed-v4.0", texts: ["a"], input_type: "search_query" }, { token: RO }),
  call("embed", "embed", { model: "embed-v4.0", texts: ["a", "b"], input_type: "search_query", embedding_types: ["float"] }),
  call("chat", "chat", { model: "command-a-03-2025", messages: [{ role: "user", content: "hello" }] }),
  call("a write tool", "list_datasets", {}),
  call("a destructive call, the client can elicit: input_required", "delete_dataset", { id: "ds_123" }, { meta: ELICITING }),
  call("a W3C trace context in _meta", "rerank", RERANK, { meta: { ...ENVELOPE, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } }),
];

function fakeReq(c: Case): IncomingMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...MCP_HEADERS, ...c.headers })) headers[k.toLowerCase()] = v;
  return { method: "POST", headers } as unknown as IncomingMessage;
}

/**
 * The parts of an answer a client sees; the MRTR state (random nonce, signing time) reduced to its
 * shape, and the emulator's random ids (UUIDs, of a fixed length) masked.
 */
function seen(r: { status: number; headers: Record<string, unknown>; body: string }) {
  const state = r.body.replace(/"requestState":"[A-Za-z0-9_.-]+"/, '"requestState":"<signed>"');
  const body = state.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid-of-36-chars>");
  const { date: _date, "content-length": length, ...headers } = r.headers as Record<string, unknown>;
  return { status: r.status, headers, length: r.body === state ? length : "(state)", body };
}

/** The audit lines' decisions, without times and latencies. */
function decisions(path: string) {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map(({ agent, tool, decision, reason, outcome, era, transport, argsHash, status }) => ({ agent, tool, decision, reason, outcome, era, transport, argsHash, status }));
}

describe("the modern era's HTTP fast path", () => {
  let emu: CohereEmulator;
  let fast: HttpServerProc;
  let sdk: HttpServerProc;
  const auditFast = tempFile("fast.jsonl");
  const auditSdk = tempFile("sdk.jsonl");
  beforeAll(async () => {
    emu = await startEmulator({ apiKey: TEST_KEY });
    const config = writeConfig({
      profiles: {
        team: { tools: ["rerank", "embed", "chat", "datasets"], allow_write: true, allow_destructive: true },
        ro: { tools: ["rerank"] },
      },
      agents: [
        { name: "team", profile: "team", token_sha256: sha256Hex(TEAM) },
        { name: "ro", profile: "ro", token_sha256: sha256Hex(RO) },
      ],
    });
    [fast, sdk] = await Promise.all([
      startHttp(emu.url, ["--config", config, "--audit-log", auditFast, "--request-timeout-ms", "2000"]),
      startHttp(emu.url, ["--config", config, "--audit-log", auditSdk, "--request-timeout-ms", "2000"], { COHERE_MCP_MODERN_FAST: "off" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([fast?.stop(), sdk?.stop()]);
    await emu?.stop();
  });

  it("answers every plain modern request byte for byte as the SDK's handler does, with the same audit lines", async () => {
    for (const c of FAST) {
      expect(modernPlainCall(fakeReq(c), c.body), c.what).toBeDefined();
      const send = (url: string) =>
        rawRequest(url, { headers: { ...MCP_HEADERS, ...c.headers, ...bearer(c.token) }, body: JSON.stringify(c.body) });
      const a = seen(await send(fast.url));
      const b = seen(await send(sdk.url));
      expect(a, c.what).toEqual(b);
      expect(a.status, c.what).toBe(200);
    }
    // the answers a user would act on, as the SDK's handler gives them
    const asked = JSON.parse(seen(await rawRequest(fast.url, { headers: { ...MCP_HEADERS, ...FAST[11]!.headers, ...bearer(TEAM) }, body: JSON.stringify(FAST[11]!.body) })).body);
    expect(asked.result.resultType).toBe("input_required");
    expect(asked.result.inputRequests.confirm.params.message).toMatch(/ds_123/);
    const listed = JSON.parse((await rawRequest(fast.url, { headers: { ...MCP_HEADERS, ...FAST[0]!.headers, ...bearer(TEAM) }, body: JSON.stringify(FAST[0]!.body) })).body);
    expect(listed.result).toMatchObject({ resultType: "complete", ttlMs: 300_000, cacheScope: "private" });
    expect(listed.result._meta["io.modelcontextprotocol/serverInfo"].name).toBe("cohere-mcp");
    expect(emu.requests.filter((r) => r.method === "DELETE")).toHaveLength(0);
    // the same decisions audited, in the same order, with the era
    const [fa, sa] = [decisions(auditFast), decisions(auditSdk)];
    expect(fa.length).toBeGreaterThan(8);
    expect(fa).toEqual(sa);
    expect(new Set(fa.map((d) => d.era))).toEqual(new Set(["modern"]));
  });

  it("a call that outlives --request-timeout-ms: the same error, the upstream request closed, audited as cancelled", async () => {
    const c = FAST[2]!;
    emu.addFault({ path: "/v2/rerank", fault: { kind: "delay", ms: 5_000 }, times: 2 });
    try {
      const send = (url: string) => rawRequest(url, { headers: { ...MCP_HEADERS, ...c.headers, ...bearer(c.token) }, body: JSON.stringify(c.body) });
      const aborted = [1, 2].map(() => emu.waitForAbort((q) => q.path === "/v2/rerank", 10_000));
      const [a, b] = await Promise.all([send(fast.url), send(sdk.url)]);
      expect(seen(a)).toEqual(seen(b));
      expect(JSON.parse(a.body).error).toMatchObject({ code: -32001, message: expect.stringMatching(/--request-timeout-ms/) });
      await Promise.all(aborted);
    } finally {
      emu.reset();
    }
    await eventually(() => expect(decisions(auditFast).at(-1)).toMatchObject({ tool: "rerank", outcome: "cancelled" }));
    await eventually(() => expect(decisions(auditSdk).at(-1)).toEqual(decisions(auditFast).at(-1)));
  });

  it("leaves to the SDK's handler anything it would have to judge", () => {
    const plain = FAST[2]!;
    const p = plain.body.params as Record<string, unknown>;
    const variants: Array<[string, Case]> = [
      ["a progress token (answered as SSE)", { ...plain, body: { ...plain.body, params: { ...p, _meta: { ...ENVELOPE, progressToken: 1 } } } }],
      ["an MRTR retry (requestState)", { ...plain, body: { ...plain.body, params: { ...p, requestState: "x" } } }],
      ["an MRTR retry (inputResponses)", { ...plain, body: { ...plain.body, params: { ...p, inputResponses: {} } } }],
      ["an Mcp-Name that disagrees", { ...plain, headers: { ...plain.headers, "Mcp-Name": "embed" } }],
      ["an Mcp-Name in Base64 form", { ...plain, headers: { ...plain.headers, "Mcp-Name": "=?base64?cmVyYW5r?=" } }],
      ["no Mcp-Name", { ...plain, headers: { "Mcp-Protocol-Version": MODERN, "Mcp-Method": "tools/call" } }],
      ["an Mcp-Method that disagrees", { ...plain, headers: { ...plain.headers, "Mcp-Method": "tools/list" } }],
      ["no protocol header", { ...plain, headers: { "Mcp-Method": "tools/call", "Mcp-Name": "rerank" } }],
      ["a 2025 protocol header", { ...plain, headers: { ...plain.headers, "Mcp-Protocol-Version": "2025-11-25" } }],
      ["an envelope for another revision", { ...plain, body: { ...plain.body, params: { ...p, _meta: { ...ENVELOPE, "io.modelcontextprotocol/protocolVersion": "2027-01-01" } } } }],
      ["no clientInfo", { ...plain, body: { ...plain.body, params: { ...p, _meta: { "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {} } } } }],
      ["capabilities that are not objects", { ...plain, body: { ...plain.body, params: { ...p, _meta: { ...ENVELOPE, "io.modelcontextprotocol/clientCapabilities": { elicitation: true } } } } }],
      ["arguments that are not an object", { ...plain, body: { ...plain.body, params: { ...p, arguments: [1] } } }],
      ["an extra top-level key", { ...plain, body: { ...plain.body, extra: 1 } }],
      ["a list with a cursor", { ...FAST[0]!, body: { ...FAST[0]!.body, params: { cursor: "x", _meta: ENVELOPE } } }],
      ["a destructive call from a client that cannot elicit (-32021, HTTP 400)", { ...plain, headers: { ...plain.headers, "Mcp-Name": "delete_dataset" }, body: { ...plain.body, params: { ...p, name: "delete_dataset", arguments: { id: "ds_1" } } } }],
      ["server/discover", { ...FAST[0]!, headers: { "Mcp-Protocol-Version": MODERN, "Mcp-Method": "server/discover" }, body: { jsonrpc: "2.0", id: 1, method: "server/discover", params: { _meta: ENVELOPE } } }],
    ];
    for (const [what, c] of variants) expect(modernPlainCall(fakeReq(c), c.body), what).toBeUndefined();
    expect(modernPlainCall(fakeReq(plain), [plain.body]), "a batch").toBeUndefined();
    expect(modernPlainCall({ ...fakeReq(plain), headers: { ...fakeReq(plain).headers, accept: "application/json" } } as unknown as IncomingMessage, plain.body), "JSON only").toBeUndefined();
  });

  it("refuses to start on a COHERE_MCP_MODERN_FAST that is neither on nor off", async () => {
    await expect(startHttp(emu.url, [], { COHERE_MCP_MODERN_FAST: "fast" })).rejects.toThrow(/COHERE_MCP_MODERN_FAST must be "on" or "off"/);
  });
});
