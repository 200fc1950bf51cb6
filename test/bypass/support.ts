/**
 * Shared by the allowlist bypass suites (issue 5, then issues 8 and 12), one file per family of
 * shapes: names.test.ts (tool names and raw JSON-RPC over stdio, an agent that keeps trying),
 * http.test.ts (agents with tokens, headers, query strings, sessions), oauth-tokens.test.ts
 * (access-token shapes) and files.test.ts (files and sizes). None may reach a hidden tool (a
 * refused token reaches nothing at all): the emulator must record nothing for them, and each
 * attempt is one audit line (denied). Each file prints the shapes it tried and their count.
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { startEmulator, type CohereEmulator } from "../../emulator/server.js";
import { BENCH_KEY, proofDir } from "../../bench/lib.js";
// fetch() here lets idle connections go after 200 ms, so a server a test stops is not kept waiting for them
import "../fetch-pool.js";

export type Channel = "stdio" | "HTTP stateless" | "HTTP --sessions";
const CHANNELS: Channel[] = ["stdio", "HTTP stateless", "HTTP --sessions"];
const tried = new Map<string, Map<Channel, number>>();
export function note(channel: Channel, shape: string): void {
  const row = tried.get(shape) ?? new Map<Channel, number>();
  row.set(channel, (row.get(channel) ?? 0) + 1);
  tried.set(shape, row);
}

export let emu: CohereEmulator;
export const dir = proofDir();

/** One emulator for the file (reset before each test); at the end, the shapes tried are printed. */
export function useBypassWorld(family: string): void {
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
        `bypass (${family}): ${total} attempts in ${tried.size} shapes (stdio ${sum("stdio")}, HTTP stateless ${sum("HTTP stateless")}, HTTP --sessions ${sum("HTTP --sessions")}); none reached a hidden tool, read a file outside --allow-file-read or sent an argument over its size rule.`,
        `  ${"shape".padEnd(w)}  ${CHANNELS.map((c) => c.padStart(17)).join("")}`,
        ...[...tried].map(([k, row]) => `  ${k.padEnd(w)}  ${CHANNELS.map((c) => String(row.get(c) ?? "").padStart(17)).join("")}`),
      ].join("\n"),
    );
  });
}

/** The name with its first lower-case letter at or after `from` in upper case. */
function oneUpper(name: string, from: number): string {
  const i = name.slice(from).search(/[a-z]/) + from;
  return name.slice(0, i) + name[i]!.toUpperCase() + name.slice(i + 1);
}

/** Look-alike spellings of a tool name. */
export function variants(name: string): Array<[shape: string, value: string]> {
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
export const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/** Each audit line: its `text` is one line without control/bidi characters, and is bounded. */
export function expectSafeAudit(raw: string): void {
  for (const l of raw.trim().split("\n")) {
    expect(Buffer.byteLength(l), l.slice(0, 200)).toBeLessThan(4_000);
    const { text, tool } = JSON.parse(l) as { text: string; tool: string };
    expect(FORBIDDEN.test(text), JSON.stringify(text)).toBe(false);
    expect(FORBIDDEN.test(tool), JSON.stringify(tool)).toBe(false);
  }
}

export const HIDDEN_TARGETS: Record<string, Record<string, unknown>> = {
  delete_dataset: { id: "ds-1" },
  create_dataset: { name: "x", type: "embed-input", data: { content: '{"text":"a"}\n', filename: "a.jsonl" } },
  cancel_batch: { id: "batch-1" },
  chat_v1: { message: "hi" },
};
export const GROUPS_AND_GLOBS = ["*", "datasets", "delete_*", "*_dataset", "default", "all", "legacy", "?elete_dataset", ""];

// HTTP: agents' tokens, raw JSON-RPC requests, what counts as refused

export const READER_TOKEN = "reader-token-SECRET-5b6c7d8e9f";
export const CURATOR_TOKEN = "curator-token-SECRET-1a2b3c4d5e";

export type Rpc = { status: number; messages: Array<Record<string, unknown>>; headers: Headers };

export async function rpc(url: string, body: unknown, headers: Record<string, string>): Promise<Rpc> {
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

export const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bypass", version: "1" } } };
export const callMsg = (name: string, args: Record<string, unknown>, id = 2) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

/** Refused: an HTTP error, a JSON-RPC error, or a tool error — never a successful result. */
export function expectRefused(r: Rpc, shape: string): void {
  if (r.status >= 400) return;
  expect(r.messages.length, `${shape}: no answer (${r.status})`).toBeGreaterThan(0);
  for (const m of r.messages) {
    if (m.id === undefined) continue;
    const result = m.result as { isError?: boolean } | undefined;
    expect(m.error !== undefined || result?.isError === true, `${shape}: ${JSON.stringify(m).slice(0, 300)}`).toBe(true);
  }
}

// Raw JSON-RPC over stdio: a second initialize, batches, a message over the size limit

export class RawStdio {
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
