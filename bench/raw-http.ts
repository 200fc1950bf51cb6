/**
 * A raw HTTP client for the throughput bench: the requests an MCP client of each era sends for a
 * `tools/call`, byte for byte in what the server reads (method, headers, body), over one
 * keep-alive undici connection per client, with nothing else per call: no SDK, no schema
 * validation, no transport state. Its own CPU per call is the same for both eras (a string
 * concatenation and a JSON.parse), so a difference between eras measured through it is the
 * server's.
 *
 *  - legacy (2025-11-25): `initialize` and `notifications/initialized` once (as the v1 SDK client
 *    does; a stateless server does not need them), then each call with `Mcp-Protocol-Version`.
 *  - modern (2026-07-28): `server/discover` once (as the v2 SDK client does), then each call with
 *    `Mcp-Protocol-Version`, `Mcp-Method: tools/call`, `Mcp-Name: <tool>` and the envelope in
 *    `params._meta`.
 *
 * Seen through the McpConn the bench's drivers use (client.callTool): a non-200 answer or a
 * JSON-RPC error throws (closedLoop counts it) and is counted here too (`failures`).
 */
import { Client as UndiciClient } from "undici";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { McpConn } from "./lib.js";
import { CALL_TIMEOUT_MS } from "./settings.js";

export type Era = "legacy" | "modern";

const LEGACY = "2025-11-25";
const MODERN = "2026-07-28";

export interface RawConn extends McpConn {
  /** Answers that were not HTTP 200, and JSON-RPC errors, since the connection opened. */
  failures(): { status: number; rpc: number };
}

/** The headers each era's SDK client sends with a POST (the v1/v2 clients' fetch adds the same transport headers to both). */
function headersOf(era: Era, extra: Record<string, string>, method: string, name?: string): Record<string, string> {
  const h: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": era === "modern" ? MODERN : LEGACY,
    ...extra,
  };
  if (era === "modern") {
    h["mcp-method"] = method;
    if (name !== undefined) h["mcp-name"] = name;
  }
  return h;
}

/** The JSON-RPC messages in an answer: one JSON body, or the `data:` lines of an SSE one. */
function messagesOf(contentType: string, text: string): Array<{ result?: unknown; error?: { message?: string } }> {
  if (!contentType.includes("text/event-stream")) return text ? [JSON.parse(text)] : [];
  const out = [];
  for (const line of text.split("\n")) if (line.startsWith("data: ")) out.push(JSON.parse(line.slice(6)));
  return out;
}

export async function connectRawHttp(mcpUrl: string, era: Era, name: string, extra: Record<string, string> = {}): Promise<RawConn> {
  const url = new URL(mcpUrl);
  const http = new UndiciClient(url.origin, {
    pipelining: 1,
    headersTimeout: CALL_TIMEOUT_MS,
    bodyTimeout: CALL_TIMEOUT_MS,
    keepAliveTimeout: 60_000,
  });
  const path = url.pathname + url.search;
  const envelope = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": { name, version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": {},
  };
  let status = 0;
  let rpc = 0;

  const post = async (headers: Record<string, string>, body: string): Promise<unknown> => {
    const r = await http.request({ path, method: "POST", headers, body });
    const text = await r.body.text();
    if (r.statusCode === 202 && !text) return undefined; // a notification's answer
    if (r.statusCode !== 200) {
      status++;
      throw new Error(`HTTP ${r.statusCode}: ${text.slice(0, 200)}`);
    }
    const ct = r.headers["content-type"];
    const msg = messagesOf(Array.isArray(ct) ? ct.join(",") : (ct ?? ""), text).find((m) => "result" in m || "error" in m);
    if (!msg || msg.error || msg.result === undefined) {
      rpc++;
      throw new Error(`JSON-RPC error: ${msg?.error?.message ?? "no result in the answer"}`);
    }
    return msg.result;
  };
  // A call answered by the other era's code would make the comparison meaningless: a 2026-07-28
  // result says `resultType`, a 2025-era one does not.
  const call = async (headers: Record<string, string>, body: string): Promise<unknown> => {
    const result = await post(headers, body);
    if (("resultType" in (result as object)) !== (era === "modern")) {
      rpc++;
      throw new Error(`a ${era} tools/call was answered as the other era would answer it`);
    }
    return result;
  };

  // What the era's client sends before its first call (the connection is closed if it fails).
  try {
    await opening(era, extra, envelope, name, post);
  } catch (err) {
    await http.destroy();
    throw err;
  }

  // Per tool: the headers, and the body around the arguments, built once.
  const prebuilt = new Map<string, { headers: Record<string, string>; head: string; tail: string }>();
  const partsFor = (tool: string) => {
    let p = prebuilt.get(tool);
    if (!p) {
      const meta = era === "modern" ? `,"_meta":${JSON.stringify(envelope)}` : "";
      p = { headers: headersOf(era, extra, "tools/call", tool), head: `{"method":"tools/call","params":{"name":${JSON.stringify(tool)},"arguments":`, tail: `${meta}},"jsonrpc":"2.0","id":` };
      prebuilt.set(tool, p);
    }
    return p;
  };
  let id = 1;
  const client = {
    callTool: (params: { name: string; arguments?: Record<string, unknown> }) => {
      const p = partsFor(params.name);
      return call(p.headers, `${p.head}${JSON.stringify(params.arguments ?? {})}${p.tail}${id++}}`);
    },
    close: () => http.close(),
  };
  return {
    client: client as unknown as Client,
    pid: null,
    stderr: () => "",
    close: () => http.close(),
    failures: () => ({ status, rpc }),
  };
}

/** What each era's client sends before its first call. */
async function opening(era: Era, extra: Record<string, string>, envelope: object, name: string, post: (h: Record<string, string>, body: string) => Promise<unknown>): Promise<void> {
  if (era === "legacy") {
    const init = { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name, version: "1.0.0" } };
    const h = headersOf(era, extra, "initialize");
    delete h["mcp-protocol-version"]; // the v1 client sends no version header with initialize
    await post(h, JSON.stringify({ method: "initialize", params: init, jsonrpc: "2.0", id: 0 }));
    await post(headersOf(era, extra, "notifications/initialized"), JSON.stringify({ method: "notifications/initialized", jsonrpc: "2.0" }));
  } else {
    await post(
      headersOf(era, extra, "server/discover"),
      JSON.stringify({ jsonrpc: "2.0", id: "server-discover-probe-1", method: "server/discover", params: { _meta: envelope } }),
    );
  }
}

export async function connectManyRaw(n: number, url: string, era: Era, name: string): Promise<RawConn[]> {
  const conns: RawConn[] = [];
  for (let i = 0; i < n; i += 16) {
    conns.push(...(await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, j) => connectRawHttp(url, era, `${name}-${i + j}`)))));
  }
  return conns;
}
