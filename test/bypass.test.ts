/**
 * Allowlist bypass attempts (issue 5): every shape we could think of for reaching a tool the
 * agent may not use — case changes, unicode look-alikes, zero-width characters, whitespace,
 * trailing dots and separators, prefixes, the exact names of every hidden tool, non-string
 * names, a second `initialize`, batch JSON-RPC arrays, and over HTTP widening headers and
 * query strings, another agent's session, other agents' names; and with OAuth (issue 12) the
 * access-token shapes: another audience, expired, another key, alg none, HS256 with the
 * issuer's public key, another issuer, embedded or remote keys, tampered claims and more.
 * None may reach a hidden tool (a refused token reaches nothing at all): the emulator must
 * record nothing for them, and each attempt is one audit line (denied).
 * The shapes tried and their count are printed.
 *
 * Issue 8 adds shapes that try to get round the other rules: a file read outside
 * --allow-file-read through a directory swap race and through FIFOs, arguments that pass the
 * item counts by size (one 1 MB document, 96 inputs of 50 content parts), and a message over
 * the stdio size limit that used to stop the server. Malformed calls (a non-string name, array
 * arguments) are audited too, and every audit line's `text` is one line with no control or bidi
 * character whatever the name held. An agent that keeps trying is throttled: past
 * --max-refusals-per-minute its refusals are a short 429 and one summary line.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { startSwapper } from "./swap-race.js";
import { BENCH_KEY, ENTRY, connectHttp, freePort, proofDir, connectOurStdio, scrubbedEnv, spawnOurHttp, textOf, type HttpServer, type McpConn } from "../bench/lib.js";
import { generateKeyPair, exportJWK, SignJWT, UnsecuredJWT, base64url } from "jose";
import { startHttp, type HttpServerProc } from "./http-support.js";
import { startIdp, type Idp } from "./oauth-idp.js";

type Channel = "stdio" | "HTTP stateless" | "HTTP --sessions";
const CHANNELS: Channel[] = ["stdio", "HTTP stateless", "HTTP --sessions"];
const tried = new Map<string, Map<Channel, number>>();
function note(channel: Channel, shape: string): void {
  const row = tried.get(shape) ?? new Map<Channel, number>();
  row.set(channel, (row.get(channel) ?? 0) + 1);
  tried.set(shape, row);
}

let emu: CohereEmulator;
const dir = proofDir();

beforeAll(async () => {
  emu = await startEmulator({ apiKey: BENCH_KEY });
});
beforeEach(() => emu.reset());
afterAll(async () => {
  await emu.stop();
  const sum = (ch: Channel) => [...tried.values()].reduce((a, row) => a + (row.get(ch) ?? 0), 0);
  const total = CHANNELS.reduce((a, ch) => a + sum(ch), 0);
  const w = Math.max(...[...tried.keys()].map((k) => k.length));
  console.log(
    [
      `bypass: ${total} attempts in ${tried.size} shapes (stdio ${sum("stdio")}, HTTP stateless ${sum("HTTP stateless")}, HTTP --sessions ${sum("HTTP --sessions")}); none reached a hidden tool, read a file outside --allow-file-read or sent an argument over its size rule.`,
      `  ${"shape".padEnd(w)}  ${CHANNELS.map((c) => c.padStart(17)).join("")}`,
      ...[...tried].map(([k, row]) => `  ${k.padEnd(w)}  ${CHANNELS.map((c) => String(row.get(c) ?? "").padStart(17)).join("")}`),
    ].join("\n"),
  );
});

/** The name with its first lower-case letter at or after `from` in upper case. */
function oneUpper(name: string, from: number): string {
  const i = name.slice(from).search(/[a-z]/) + from;
  return name.slice(0, i) + name[i]!.toUpperCase() + name.slice(i + 1);
}

/** Look-alike spellings of a tool name. */
function variants(name: string): Array<[shape: string, value: string]> {
  const mid = Math.floor(name.length / 2);
  const at = (s: string, i: number, ins: string) => s.slice(0, i) + ins + s.slice(i);
  const out: Array<[string, string]> = [
    ["case: UPPER", name.toUpperCase()],
    ["case: Title", name[0]!.toUpperCase() + name.slice(1)],
    ["case: one letter", oneUpper(name, mid)],
    ["unicode: Cyrillic е/а/о for e/a/o", name.replace(/e/g, "\u0435").replace(/a/g, "\u0430").replace(/o/g, "\u043e")],
    ["unicode: one Cyrillic letter", name.replace(/[eao]/, (c) => ({ e: "\u0435", a: "\u0430", o: "\u043e" })[c]!)],
    ["unicode: Greek ο for o", name.replace(/o/g, "\u03bf")],
    ["unicode: fullwidth", [...name].map((ch) => (ch === "_" ? "\uff3f" : String.fromCharCode(ch.charCodeAt(0) + 0xfee0))).join("")],
    ["unicode: mathematical bold", [...name].map((ch) => (/[a-z]/.test(ch) ? String.fromCodePoint(0x1d41a + ch.charCodeAt(0) - 97) : ch)).join("")],
    ["unicode: NFKC-equivalent ligature/compat chars", name.replace("fi", "\ufb01").replace(/_/g, "\uff3f")],
    ["unicode: combining mark after a letter", at(name, 1, "\u0301")],
    ["unicode: underscore look-alike (‗ U+2017)", name.replace(/_/g, "\u2017")],
    ["unicode: dash instead of underscore", name.replace(/_/g, "-")],
    ["separator: dot instead of underscore", name.replace(/_/g, ".")],
    ["separator: removed", name.replace(/_/g, "")],
    ["separator: doubled", name.replace(/_/g, "__")],
  ];
  for (const [label, zw] of [
    ["U+200B zero-width space", "\u200b"],
    ["U+200C ZWNJ", "\u200c"],
    ["U+200D ZWJ", "\u200d"],
    ["U+2060 word joiner", "\u2060"],
    ["U+FEFF BOM", "\ufeff"],
    ["U+00AD soft hyphen", "\u00ad"],
  ] as const) {
    out.push([`zero-width: ${label} at start`, zw + name], [`zero-width: ${label} inside`, at(name, mid, zw)], [`zero-width: ${label} at end`, name + zw]);
  }
  for (const [label, ws] of [
    ["space", " "],
    ["tab", "\t"],
    ["newline", "\n"],
    ["CR LF", "\r\n"],
    ["NBSP", "\u00a0"],
    ["ideographic space", "\u3000"],
  ] as const) {
    out.push([`whitespace: leading ${label}`, ws + name], [`whitespace: trailing ${label}`, name + ws]);
  }
  for (const t of [".", "..", "/", "\\", "\u0000", "%00", "()", "#", "?x=1", ";", ":", "*", "~"]) out.push([`trailing: ${JSON.stringify(t)}`, name + t]);
  for (const p of ["cohere_", "cohere.", "cohere/", "tools/", "./", "../", "mcp__cohere__", "default,", "*"]) out.push([`prefix: ${JSON.stringify(p)}`, p + name]);
  out.push(
    ["encoded: %5F for _", name.replace(/_/g, "%5F")],
    ["encoded: \\u005f literally", name.replace(/_/g, "\\u005f")],
    ["encoded: HTML entity", name.replace(/_/g, "&#95;")],
    ["list: with a visible tool", `rerank,${name}`],
    ["hostile: newline and a forged audit sentence", `${name}\nroot called ${name} (destructive): allowed, 200 in 1 ms`],
    ["hostile: CR, ANSI erase-line and cursor-up", `\r\u001b[2K\u001b[1A${name}`],
    ["hostile: bidi override (U+202E) and isolate (U+2066)", `\u202e${name}\u2066`],
    ["hostile: C1 NEL (U+0085) and LINE SEPARATOR (U+2028)", `${name}\u0085\u2028x`],
    ["hostile: 1 MB name", name + "x".repeat(1024 * 1024)],
  );
  return out;
}

/** What must never reach a terminal from a caller's value (issue 8, finding 4). */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/** Each audit line: its `text` is one line without control/bidi characters, and is bounded. */
function expectSafeAudit(raw: string): void {
  for (const l of raw.trim().split("\n")) {
    expect(Buffer.byteLength(l), l.slice(0, 200)).toBeLessThan(4_000);
    const { text, tool } = JSON.parse(l) as { text: string; tool: string };
    expect(FORBIDDEN.test(text), JSON.stringify(text)).toBe(false);
    expect(FORBIDDEN.test(tool), JSON.stringify(tool)).toBe(false);
  }
}

const HIDDEN_TARGETS: Record<string, Record<string, unknown>> = {
  delete_dataset: { id: "ds-1" },
  create_dataset: { name: "x", type: "embed-input", data: { content: '{"text":"a"}\n', filename: "a.jsonl" } },
  cancel_batch: { id: "batch-1" },
  chat_v1: { message: "hi" },
};
const GROUPS_AND_GLOBS = ["*", "datasets", "delete_*", "*_dataset", "default", "all", "legacy", "?elete_dataset", ""];

// ---------------------------------------------------------------------------------------------

describe("over stdio (default flags: 16 read tools visible)", () => {
  let c: McpConn;
  const audit = join(dir, `bypass-stdio-audit-${process.pid}.jsonl`);
  let visible: Set<string>;
  let hidden: string[];
  let attempts = 0;

  beforeAll(async () => {
    // every attempt audited one by one (the refusal throttle has its own test below)
    c = await connectOurStdio(emu.url, ["--audit-log", audit, "--max-refusals-per-minute", "0"]);
    visible = new Set((await c.client.listTools()).tools.map((t) => t.name));
    hidden = (JSON.parse(readFileSync(join(import.meta.dirname, "..", "tools.manifest.json"), "utf8")) as { tools: Array<{ name: string }> }).tools
      .map((t) => t.name)
      .filter((n) => !visible.has(n));
  });
  afterAll(async () => c?.close());

  let protocolRefusals = 0;
  async function refused(name: unknown, args: Record<string, unknown>, shape: string): Promise<void> {
    attempts++;
    note("stdio", shape);
    let r: unknown;
    try {
      r = await c.client.callTool({ name: name as string, arguments: args });
    } catch {
      protocolRefusals++; // a JSON-RPC error is a refusal too (the SDK checks the request's shape first)
      return;
    }
    expect((r as { isError?: boolean }).isError, `${shape}: ${JSON.stringify(name)} → ${textOf(r)}`).toBe(true);
  }

  it("every hidden tool by its exact name is refused, and says how to enable it", async () => {
    expect(hidden.length).toBeGreaterThanOrEqual(25);
    for (const name of hidden) {
      await refused(name, HIDDEN_TARGETS[name] ?? {}, "tools/call name: exact name of a hidden tool");
    }
    expect(emu.requests).toEqual([]);
  });

  it("look-alike spellings of hidden tools are refused", async () => {
    for (const [target, args] of Object.entries(HIDDEN_TARGETS)) {
      for (const [shape, name] of variants(target)) await refused(name, args, `tools/call name: ${shape}`);
    }
    for (const g of GROUPS_AND_GLOBS) await refused(g, { id: "ds-1" }, "tools/call name: group, glob or keyword");
    expect(emu.requests).toEqual([]);
  });

  it("non-string and structured names, and non-object arguments, are refused", async () => {
    for (const [shape, name] of [
      ["name: number", 123],
      ["name: null", null],
      ["name: true", true],
      ["name: array", ["delete_dataset"]],
      ["name: object", { name: "delete_dataset" }],
    ] as const) {
      await refused(name, { id: "ds-1" }, `tools/call ${shape}`);
    }
    for (const [shape, args] of [
      ["arguments: array", ["ds-1"]],
      ["arguments: string", "ds-1"],
      ["arguments: null", null],
    ] as const) {
      await refused("delete_dataset", args as unknown as Record<string, unknown>, `tools/call ${shape}`);
    }
    expect(emu.requests).toEqual([]);
  });

  it("arguments or _meta that name tools or flags do not widen anything", async () => {
    for (const [shape, args] of [
      ["arguments.tools = '*'", { id: "ds-1", tools: "*" }],
      ["arguments.allow_destructive = true", { id: "ds-1", allow_destructive: true, "--allow-destructive": true }],
      ["arguments.__proto__ widening", JSON.parse('{"id":"ds-1","__proto__":{"allowDestructive":true,"visible":["delete_dataset"]}}') as Record<string, unknown>],
    ] as const) {
      await refused("delete_dataset", args, `tools/call with ${shape}`);
    }
    attempts++;
    note("stdio", "tools/call with params._meta naming tools");
    const r = await c.client.request(
      { method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-1" }, _meta: { tools: "*", profile: "admin" } } },
      (await import("@modelcontextprotocol/sdk/types.js")).CallToolResultSchema,
    );
    expect(r.isError).toBe(true);
    expect(emu.requests).toEqual([]);
  });

  it("one denied audit line per attempt (malformed ones included), none of them a hidden tool allowed, none forged", async () => {
    await c.close();
    const raw = readFileSync(audit, "utf8");
    const lines = raw.trim().split("\n").map((l) => JSON.parse(l) as { decision: string; tool: string; reason: string });
    // malformed calls (non-string names, non-object arguments) are answered -32602 and audited too
    expect(lines.length).toBe(attempts);
    expect(protocolRefusals).toBe(8);
    expect(lines.filter((l) => l.decision !== "denied")).toEqual([]);
    expect(lines.filter((l) => l.reason === "invalid_input" && l.tool === "(tools/call)")).toHaveLength(5);
    expectSafeAudit(raw);
    expect(raw).not.toContain(BENCH_KEY);
  });
});

// ---------------------------------------------------------------------------------------------
// Raw JSON-RPC over stdio: a second initialize, batches

class RawStdio {
  private buf = "";
  private waiters = new Map<number | string, (m: Record<string, unknown>) => void>();
  readonly all: Array<Record<string, unknown>> = [];
  constructor(readonly child: ChildProcess) {
    child.stdout!.on("data", (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf("\n")) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        try {
          const msg = JSON.parse(line) as Record<string, unknown>;
          this.all.push(msg);
          const id = msg.id as number | string | undefined;
          if (id !== undefined && this.waiters.has(id)) {
            this.waiters.get(id)!(msg);
            this.waiters.delete(id);
          }
        } catch {
          this.all.push({ unparsable: line });
        }
      }
    });
  }
  send(msg: unknown): void {
    this.child.stdin!.write(JSON.stringify(msg) + "\n");
  }
  request(id: number, method: string, params: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to ${method} #${id}`)), 5_000);
      this.waiters.set(id, (m) => {
        clearTimeout(t);
        resolve(m);
      });
      this.send({ jsonrpc: "2.0", id, method, params });
    });
  }
}

describe("raw JSON-RPC over stdio", () => {
  let child: ChildProcess;
  let raw: RawStdio;
  beforeAll(async () => {
    child = spawn(process.execPath, [ENTRY], {
      env: scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emu.url }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stderr!.resume();
    raw = new RawStdio(child);
    const init = await raw.request(1, "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "bypass", version: "1" },
    });
    expect(init.result).toBeTruthy();
    raw.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  });
  afterAll(() => {
    child.stdin!.end();
    child.kill();
  });

  it("a second initialize (other client info, elicitation, sampling, roots) widens nothing", async () => {
    note("stdio", "second initialize, then tools/list and a hidden call");
    const again = await raw.request(2, "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: { elicitation: {}, sampling: {}, roots: { listChanged: true }, experimental: { tools: "*" } },
      clientInfo: { name: "admin", version: "9" },
    });
    expect(again.error ?? again.result).toBeTruthy();
    const list = await raw.request(3, "tools/list", {});
    const names = ((list.result as { tools: Array<{ name: string }> }).tools ?? []).map((t) => t.name);
    expect(names).not.toContain("delete_dataset");
    expect(names.length).toBe(16);
    const call = await raw.request(4, "tools/call", { name: "delete_dataset", arguments: { id: "ds-1" } });
    expect(call.error ?? (call.result as { isError?: boolean }).isError).toBeTruthy();
    expect(emu.requests).toEqual([]);
  });

  it("batch arrays (hidden calls, initialize + call) reach nothing, and the server keeps answering", async () => {
    const batches: Array<[string, unknown[]]> = [
      ["batch: two hidden calls", [
        { jsonrpc: "2.0", id: 10, method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-1" } } },
        { jsonrpc: "2.0", id: 11, method: "tools/call", params: { name: "cancel_batch", arguments: { id: "b-1" } } },
      ]],
      ["batch: initialize + hidden call", [
        { jsonrpc: "2.0", id: 12, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } },
        { jsonrpc: "2.0", id: 13, method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-1" } } },
      ]],
      ["batch: visible + hidden call", [
        { jsonrpc: "2.0", id: 14, method: "tools/call", params: { name: "list_datasets", arguments: {} } },
        { jsonrpc: "2.0", id: 15, method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-1" } } },
      ]],
      ["batch: nested array", [[{ jsonrpc: "2.0", id: 16, method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-1" } } }]]],
    ];
    for (const [shape, batch] of batches) {
      note("stdio", shape);
      raw.send(batch);
    }
    // then a normal request must still be answered
    const ping = await raw.request(20, "ping", {});
    expect(ping.result).toEqual({});
    await new Promise((r) => setTimeout(r, 200));
    const hiddenHits = emu.requests.filter((r) => /datasets\/ds-1|batches\/b-1/.test(r.path));
    expect(hiddenHits).toEqual([]);
    // whatever answered a batched hidden call, it was not a success
    for (const m of raw.all) {
      if (m.id === 10 || m.id === 11 || m.id === 13 || m.id === 15 || m.id === 16) {
        expect(m.error ?? (m.result as { isError?: boolean } | undefined)?.isError).toBeTruthy();
      }
    }
  });

  it("a message that is not JSON-RPC, or not JSON, does not stop the server", async () => {
    for (const junk of ["{", "[]", "null", '"tools/call"', '{"jsonrpc":"2.0","id":30,"method":"tools/call","params":"delete_dataset"}']) {
      note("stdio", "malformed message, then a ping");
      child.stdin!.write(junk + "\n");
    }
    const ping = await raw.request(31, "ping", {});
    expect(ping.result).toEqual({});
    expect(emu.requests.filter((r) => r.method === "DELETE")).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// HTTP: agents with tokens, widening headers and query strings, sessions of another agent

const READER_TOKEN = "reader-token-SECRET-5b6c7d8e9f";
const CURATOR_TOKEN = "curator-token-SECRET-1a2b3c4d5e";

type Rpc = { status: number; messages: Array<Record<string, unknown>>; headers: Headers };

async function rpc(url: string, body: unknown, headers: Record<string, string>): Promise<Rpc> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const messages: Array<Record<string, unknown>> = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("data:")) {
      try {
        messages.push(JSON.parse(line.slice(5)) as Record<string, unknown>);
      } catch {
        /* keep going */
      }
    }
  }
  if (!messages.length && text.trim()) {
    try {
      const j = JSON.parse(text) as Record<string, unknown> | Array<Record<string, unknown>>;
      messages.push(...(Array.isArray(j) ? j : [j]));
    } catch {
      /* not JSON */
    }
  }
  return { status: res.status, messages, headers: res.headers };
}

const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bypass", version: "1" } } };
const callMsg = (name: string, args: Record<string, unknown>, id = 2) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

/** Refused: an HTTP error, a JSON-RPC error, or a tool error — never a successful result. */
function expectRefused(r: Rpc, shape: string): void {
  if (r.status >= 400) return;
  expect(r.messages.length, `${shape}: no answer (${r.status})`).toBeGreaterThan(0);
  for (const m of r.messages) {
    if (m.id === undefined) continue;
    const result = m.result as { isError?: boolean } | undefined;
    expect(m.error !== undefined || result?.isError === true, `${shape}: ${JSON.stringify(m).slice(0, 300)}`).toBe(true);
  }
}

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

// ---------------------------------------------------------------------------------------------
// Issue 8: around the file rules, the argument size rules and the stdio size limit

describe("issue 8 shapes over stdio: files outside the allowed directory, sizes past the rules", () => {
  const RACE_CALLS = Number(process.env.BYPASS_RACE_CALLS ?? 400);

  it(`a directory swap race during ${RACE_CALLS} create_dataset calls never sends an outside file upstream`, async (ctx) => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "cmcp-bypass-race-")));
    const dirIn = join(base, "allowed");
    const dirOut = join(base, "outside");
    mkdirSync(join(dirIn, "race"), { recursive: true });
    mkdirSync(dirOut);
    writeFileSync(join(dirIn, "race", "secret.jsonl"), '{"text":"inside"}\n');
    writeFileSync(join(dirOut, "secret.jsonl"), '{"text":"OUTSIDE"}\n');
    symlinkSync(dirOut, join(dirIn, "swap"));
    const c = await connectOurStdio(emu.url, ["--tools", "create_dataset", "--allow-file-read", dirIn]);
    const swapper = startSwapper(join(dirIn, "race"), join(dirIn, "swap"));
    if (typeof swapper === "string") {
      await c.close();
      return ctx.skip(swapper);
    }
    let refused = 0;
    try {
      for (let i = 0; i < RACE_CALLS; i++) {
        note("stdio", "file path: directory swapped for a symlink out during the read");
        const r = await c.client.callTool({ name: "create_dataset", arguments: { name: "d", type: "embed-input", data_path: "race/secret.jsonl" } });
        if ((r as { isError?: boolean }).isError) refused++;
      }
    } finally {
      await swapper.stop();
      await c.close();
    }
    const uploads = emu.requests.filter((q) => q.multipart);
    const outside = uploads.filter((q) => q.multipart!.files.data?.text.includes("OUTSIDE"));
    console.log(`bypass: swap race: ${RACE_CALLS} calls, ${uploads.length} uploads (all inside), ${refused} refused, ${outside.length} outside`);
    expect(outside).toEqual([]);
    expect(uploads.length + refused).toBe(RACE_CALLS);
  });

  it("FIFOs and other non-regular files by path are refused at once and send nothing", async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "cmcp-bypass-fifo-")));
    const fifos = [0, 1, 2, 3, 4, 5].map((i) => join(base, `p${i}.jsonl`));
    for (const f of fifos) execFileSync("mkfifo", [f]);
    mkdirSync(join(base, "dir.jsonl"));
    const c = await connectOurStdio(emu.url, ["--tools", "create_dataset", "--allow-file-read", base]);
    try {
      const calls = [...fifos.map((f) => f.slice(base.length + 1)), "dir.jsonl"].map((p) => {
        note("stdio", "file path: a FIFO or directory instead of a file");
        return c.client.callTool({ name: "create_dataset", arguments: { name: "d", type: "embed-input", data_path: p } });
      });
      const timeout = new Promise<"timed out">((r) => setTimeout(() => r("timed out"), 15_000).unref());
      const all = await Promise.race([Promise.all(calls), timeout]);
      expect(all).not.toBe("timed out");
      for (const r of all as Array<{ isError?: boolean }>) expect(textOf(r)).toMatch(/is not a regular file/);
      expect(emu.requests).toEqual([]);
    } finally {
      for (const f of fifos) {
        try {
          closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          /* no reader waiting */
        }
      }
      await c.close();
    }
  });

  it("arguments past the size rules (one 1 MB document, 96 inputs × 50 content parts, text split many ways) send nothing", async () => {
    const cfg = join(dir, `bypass-sizes-${process.pid}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: {
          sized: { tools: ["rerank", "embed", "chat", "tokenize"], arguments: { max_documents: 100, max_inputs: 96, max_input_chars: 100_000, max_content_parts: 200 } },
        },
      }),
    );
    const c = await connectOurStdio(emu.url, ["--config", cfg, "--profile", "sized"]);
    const parts = (n: number, k: number) => Array.from({ length: n }, () => ({ content: Array.from({ length: k }, () => ({ type: "text", text: "t" })) }));
    const shapes: Array<[string, string, Record<string, unknown>, RegExp]> = [
      ["size: one 1 MB rerank document", "rerank", { model: "rerank-v3.5", query: "q", documents: ["x".repeat(1_000_000)] }, /max_input_chars/],
      ["size: 100 documents of 1,100 characters", "rerank", { model: "rerank-v3.5", query: "q", documents: Array.from({ length: 100 }, () => "y".repeat(1_100)) }, /max_input_chars/],
      ["size: a 120,000-character query", "rerank", { model: "rerank-v3.5", query: "q".repeat(120_000), documents: ["a"] }, /max_input_chars/],
      ["size: 96 embed inputs × 50 content parts", "embed", { model: "embed-v4.0", input_type: "search_document", inputs: parts(96, 50) }, /max_content_parts/],
      ["size: 1 embed input × 201 content parts", "embed", { model: "embed-v4.0", input_type: "search_document", inputs: parts(1, 201) }, /max_content_parts/],
      ["size: chat with 201 messages", "chat", { model: "command-a-03-2025", messages: Array.from({ length: 201 }, () => ({ role: "user", content: "hi" })) }, /max_content_parts/],
      ["size: chat text split over many parts", "chat", { model: "command-a-03-2025", messages: [{ role: "user", content: Array.from({ length: 150 }, () => ({ type: "text", text: "z".repeat(700) })) }] }, /max_input_chars/],
    ];
    try {
      for (const [shape, name, args, rule] of shapes) {
        note("stdio", shape);
        const r = await c.client.callTool({ name, arguments: args });
        expect((r as { isError?: boolean }).isError, shape).toBe(true);
        expect(textOf(r), shape).toMatch(rule);
        expect(textOf(r), shape).toMatch(/Nothing was sent to Cohere/);
      }
      expect(emu.requests).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it("a message over the stdio size limit is answered with an error, and the server keeps serving", async () => {
    const child = spawn(process.execPath, [ENTRY], { env: scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emu.url }), stdio: ["pipe", "pipe", "pipe"] });
    child.stderr!.resume();
    const raw = new RawStdio(child);
    try {
      await raw.request(1, "initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "big", version: "1" } });
      raw.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      note("stdio", "message over --max-message-bytes (11 MB base64 audio)");
      const big = await raw.request(2, "tools/call", {
        name: "transcribe_audio",
        arguments: { model: "cohere-transcribe-03-2026", language: "en", file_base64: "A".repeat(11 * 1024 * 1024) },
      });
      expect((big.error as { message: string }).message).toMatch(/over this server's limit of 10485760 bytes.*--allow-file-read/);
      const ping = await raw.request(3, "ping", {});
      expect(ping.result).toEqual({});
      expect(child.exitCode).toBeNull();
      expect(emu.requests).toEqual([]);
    } finally {
      child.stdin!.end();
      child.kill();
    }
  });
});

// HTTP with OAuth (issue 12): access-token shapes. A refused token reaches nothing, visible tools
// included; a valid token reaches only its profile narrowed by its scopes.

describe.each([
  ["stateless", [] as string[]],
  ["--sessions", ["--sessions"]],
])("over HTTP with oauth (%s): access-token shapes", (mode, extra) => {
  const channel: Channel = mode === "stateless" ? "HTTP stateless" : "HTTP --sessions";
  const audit = join(dir, `bypass-oauth-audit-${mode.replace(/\W/g, "")}-${process.pid}.jsonl`);
  let idp: Idp;
  let other: Idp;
  let srv: HttpServerProc;
  let resource: string;
  const tokens: string[] = [];
  let refusedAttempts = 0;

  beforeAll(async () => {
    const client = (id: string, scope: string, groups: string[]) => ({ client_id: id, client_secret: `${id}-secret-SECRET-0a1b2c3d`, scope, groups });
    idp = await startIdp([client("reader-bot", "cohere:read", ["readers"]), client("curator-bot", "cohere:read cohere:write cohere:destructive", ["curators"])]);
    other = await startIdp([client("curator-bot", "cohere:read cohere:write cohere:destructive", ["curators"])]);
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    for (const i of [idp, other]) i.resources.add(resource).add("http://127.0.0.1:9/elsewhere");
    const cfg = join(dir, `bypass-oauth-${mode.replace(/\W/g, "")}-${process.pid}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: { reader: { tools: ["rerank", "embed", "create_dataset"] }, curator: { tools: "datasets", allow_write: true, allow_destructive: true } },
        agents: [{ name: "static-reader", profile: "reader", token_env: "READER_TOKEN" }],
        oauth: {
          issuer: idp.issuer,
          resource,
          rules: [
            { claim: "groups", includes: "readers", profile: "reader" },
            { claim: "groups", includes: "curators", profile: "curator" },
          ],
          jwks_cooldown_s: 1,
        },
      }),
    );
    // every refused token must be audited one by one here: the failed-login throttle stays off
    srv = await startHttp(emu.url, ["--port", String(port), "--config", cfg, "--audit-log", audit, "--confirm-destructive", "never", "--max-auth-failures", "0", "--max-refusals-per-minute", "0", ...extra], {
      READER_TOKEN,
      CO_API_KEY: BENCH_KEY,
    });
  });
  afterAll(async () => {
    await srv?.stop();
    await idp?.stop();
    await other?.stop();
  });

  /** Claims a reader token would carry; the shape changes what it tests. */
  const claims = (over: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: idp.issuer, aud: resource, sub: "reader-bot", client_id: "reader-bot", groups: ["readers"], scope: "cohere:read", jti: `j-${Math.random()}`, iat: now, exp: now + 300, ...over };
  };

  /** Stateless: one POST. Sessions: the call on a session opened with the same credential (when it opens). */
  async function tryToken(shape: string, authorization: string | undefined, query = "", body: unknown = callMsg("rerank", { model: "rerank-v3.5", query: "q", documents: ["a"] })): Promise<Rpc> {
    note(channel, `oauth: ${shape}`);
    const h: Record<string, string> = authorization === undefined ? {} : { authorization };
    let sid: string | null = null;
    if (mode === "--sessions") {
      const init = await rpc(srv.url + query, INIT, h);
      sid = init.headers.get("mcp-session-id");
      if (!sid) {
        expect(init.status, shape).toBeGreaterThanOrEqual(400);
        refusedAttempts++;
        return init;
      }
    }
    const r = await rpc(srv.url + query, body, sid ? { ...h, "mcp-session-id": sid } : h);
    if (r.status >= 400) refusedAttempts++;
    return r;
  }

  it("forged, foreign and tampered tokens are refused with 401 and reach nothing", async () => {
    const { privateKey: attacker, publicKey: attackerPub } = await generateKeyPair("RS256", { extractable: true });
    const k = idp.signingKey();
    const pem = await idp.publicPem();
    const real = await idp.sign(claims());
    const [h, p] = real.split(".") as [string, string, string];
    const widened = base64url.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(base64url.decode(p))), scope: "cohere:read cohere:write cohere:destructive", groups: ["curators"] }));
    const foreignSameKid = await new SignJWT(claims()).setProtectedHeader({ alg: "RS256", kid: k.kid }).sign(attacker);
    const shapes: Array<[string, string]> = [
      ["token for another audience (same issuer)", (await idp.token("reader-bot", "http://127.0.0.1:9/elsewhere", "cohere:read")).access_token],
      ["token from another issuer for this resource", (await other.token("curator-bot", resource, "cohere:read cohere:write cohere:destructive")).access_token],
      ["issuer's key, expired", await idp.sign(claims({ exp: Math.floor(Date.now() / 1000) - 120 }))],
      ["issuer's key, nbf in the future", await idp.sign(claims({ nbf: Math.floor(Date.now() / 1000) + 600 }))],
      ["issuer's key, iss with a trailing slash", await idp.sign(claims({ iss: `${idp.issuer}/` }))],
      ["issuer's key, aud array without this resource", await idp.sign(claims({ aud: ["http://127.0.0.1:9/elsewhere", `${resource}x`] }))],
      ["issuer's key, aud as a prefix of this resource", await idp.sign(claims({ aud: resource.replace(/\/mcp$/, "") }))],
      ["issuer's key, no exp", await idp.sign(claims({ exp: undefined }))],
      ["issuer's key, unknown crit header", await idp.sign(claims(), { crit: ["x-bypass"], "x-bypass": true }, { "x-bypass": true })],
      ["signed by another key, issuer's kid", foreignSameKid],
      ["signed by another key, unknown kid", await new SignJWT(claims()).setProtectedHeader({ alg: "RS256", kid: "attacker" }).sign(attacker)],
      ["signed by another key, no kid", await new SignJWT(claims()).setProtectedHeader({ alg: "RS256" }).sign(attacker)],
      ["another key embedded in the header (jwk)", await new SignJWT(claims()).setProtectedHeader({ alg: "RS256", jwk: await exportJWK(attackerPub) }).sign(attacker)],
      ["another key by URL in the header (jku / x5u)", await new SignJWT(claims()).setProtectedHeader({ alg: "RS256", kid: "attacker", jku: "http://127.0.0.1:9/jwks", x5u: "http://127.0.0.1:9/x5c" }).sign(attacker)],
      ["alg none", new UnsecuredJWT(claims()).encode()],
      ["alg None (other case)", `${base64url.encode(JSON.stringify({ alg: "None", typ: "JWT" }))}.${p}.`],
      ["alg none with the real signature kept", `${base64url.encode(JSON.stringify({ alg: "none", kid: k.kid }))}.${p}.${real.split(".")[2]}`],
      ["HS256 keyed with the issuer's public key (PEM)", await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: k.kid }).sign(new TextEncoder().encode(pem))],
      ["HS256 keyed with the issuer's public JWK", await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: k.kid }).sign(new TextEncoder().encode(JSON.stringify({ e: k.e, kty: k.kty, n: k.n })))],
      ["HS256 with kid path traversal and an empty-ish key", await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: "../../../../dev/null" }).sign(new Uint8Array(32))],
      ["real token, claims widened (signature kept)", `${h}.${widened}.${real.split(".")[2]}`],
      ["real token, signature stripped", `${h}.${p}.`],
      ["real token, header swapped to another kid", `${base64url.encode(JSON.stringify({ alg: "RS256", kid: "k999" }))}.${p}.${real.split(".")[2]}`],
      ["real token with the static token appended", `${real}${READER_TOKEN}`],
      ["JWE-shaped (five parts)", `${h}.${p}.${p}.${p}.${p}`],
    ];
    tokens.push(real, ...shapes.map(([, t]) => t));
    for (const [shape, token] of shapes) {
      const r = await tryToken(shape, `Bearer ${token}`);
      expect(r.status, shape).toBe(401);
      expect(r.headers.get("www-authenticate"), shape).toContain('error="invalid_token"');
    }
    expect(emu.requests).toEqual([]);
    // the control: the real token (same claims) is accepted
    const ok = await rpc(srv.url, { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }, { authorization: `Bearer ${real}` });
    expect(ok.status === 200 || ok.status === 400, `control: ${ok.status}`).toBe(true);
  });

  it("a token anywhere but the Authorization header, or two credentials at once, is refused", async () => {
    const real = await idp.sign(claims());
    tokens.push(real);
    const list = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
    for (const [shape, auth, query, body] of [
      ["token in ?access_token= (no header)", undefined, `?access_token=${real}`, undefined],
      ["token in the JSON body (no header)", undefined, "", { ...list, access_token: real, params: { _meta: { authorization: `Bearer ${real}` } } }],
      ["two bearer tokens in one header", `Bearer ${real} ${READER_TOKEN}`, "", undefined],
      ["static token and JWT, comma-joined", `Bearer ${READER_TOKEN}, Bearer ${real}`, "", undefined],
      ["DPoP scheme with a bearer token", `DPoP ${real}`, "", undefined],
      ["Basic with the token as password", `Basic ${Buffer.from(`reader-bot:${real}`).toString("base64")}`, "", undefined],
    ] as Array<[string, string | undefined, string, unknown]>) {
      const r = await tryToken(shape, auth, query, body);
      expect(r.status, shape).toBe(401);
    }
    expect(emu.requests).toEqual([]);
  });

  it("a valid token reaches only its profile narrowed by its scopes: claims naming other profiles, agents or tools widen nothing", async () => {
    const widen: Array<[string, Record<string, unknown>, Record<string, string>]> = [
      ["valid token, extra claim profile=curator", { profile: "curator", agent: "curator-bot", tools: "*" }, {}],
      ["valid token, client_id of another agent, groups kept", { client_id: "curator-bot" }, {}],
      ["valid token, X-MCP-Tools: * and X-MCP-Profile", {}, { "x-mcp-tools": "*", "x-mcp-profile": "curator" }],
      ["valid token, scope claim as an array (not read by default)", { scope: undefined, scopes: ["cohere:destructive"], scp: "cohere:read" }, {}],
    ];
    for (const [shape, over, headers] of widen) {
      const token = await idp.sign(claims(over));
      tokens.push(token);
      for (const name of ["delete_dataset", "list_datasets"]) {
        const r = await tryToken(`${shape} → ${name}`, `Bearer ${token}`, "", callMsg(name, { id: "ds-1" }));
        if (r.status < 400) expectRefused(r, shape);
        // the headers variant: header narrowing never widens
        if (Object.keys(headers).length) {
          const h = await rpc(srv.url, callMsg(name, { id: "ds-1" }), { authorization: `Bearer ${token}`, ...headers });
          expectRefused(h, shape);
        }
      }
    }
    // a read-scope token and a write tool inside its profile: 403 insufficient_scope
    const token = await idp.sign(claims());
    tokens.push(token);
    const r = await tryToken("read-scope token → write tool in its profile", `Bearer ${token}`, "", callMsg("create_dataset", { name: "x", type: "embed-input", data_text: "{}" }));
    expect(r.status).toBe(403);
    expect(r.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(emu.requests).toEqual([]);
  });

  it("one denied audit line per refused token; no token in the audit or the server's stderr", async () => {
    const text = readFileSync(audit, "utf8");
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as { decision: string; tool: string; reason?: string });
    expect(lines.filter((l) => l.decision === "allowed" && l.tool !== "rerank" && l.tool !== "embed")).toEqual([]);
    expect(lines.filter((l) => l.decision === "denied" && (l.reason === "auth" || l.reason === "insufficient_scope")).length).toBeGreaterThanOrEqual(refusedAttempts);
    for (const t of tokens) {
      expect(text).not.toContain(t);
      expect(srv.stderr()).not.toContain(t);
    }
    expect(text).not.toContain(READER_TOKEN);
  });
});

// An agent that keeps trying (issue 8, finding 3): refusals are not free to repeat forever.

describe("an agent that keeps trying, with the default refusal throttle (stdio)", () => {
  it("past 60 refusals a minute: a short 429 each, no line each, one summary line; nothing sent", async () => {
    const audit = join(dir, `bypass-throttle-audit-${process.pid}.jsonl`);
    const c = await connectOurStdio(emu.url, ["--audit-log", audit]);
    const answers: string[] = [];
    try {
      for (let i = 0; i < 150; i++) {
        note("stdio", "repeated hidden calls past --max-refusals-per-minute");
        const r = await c.client.callTool({ name: "delete_dataset", arguments: { id: `ds-${i}` } });
        expect(r.isError).toBe(true);
        answers.push(textOf(r));
      }
    } finally {
      await c.close(); // the server writes the window's summary as it closes
    }
    expect(answers.slice(0, 60).every((t) => t.startsWith("Tool delete_dataset (destructive) is not enabled"))).toBe(true);
    expect(answers.slice(60).every((t) => /^Refused \(not in profile\), and rate limited \(429\)/.test(t))).toBe(true);
    const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { reason: string; suppressed?: number; text: string });
    expect(lines.filter((l) => l.reason === "not_in_profile")).toHaveLength(60);
    const summary = lines.filter((l) => l.reason === "throttled");
    expect(summary).toHaveLength(1);
    expect(summary[0]!.suppressed).toBe(90);
    expect(summary[0]!.text).toMatch(/^stdio: 90 further refused calls suppressed/);
    expect(emu.requests).toEqual([]);
  });
});
