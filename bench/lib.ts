/**
 * Shared by the bench and the proof suites: child processes with a scrubbed environment
 * (the emulator, cohere-mcp over stdio or HTTP, the peer), MCP clients over stdio and HTTP,
 * RSS of a child, percentiles, and the tagged rerank call used to catch answers delivered to
 * the wrong client.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, type WriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Client as ClientV2 } from "@modelcontextprotocol/client";
import { StdioClientTransport as StdioClientTransportV2 } from "@modelcontextprotocol/client/stdio";

/** Repository root, whether this runs from bench/ (vitest) or dist/bench/ (compiled). */
export const ROOT = (() => {
  const here = fileURLToPath(new URL(".", import.meta.url));
  return here.replace(/\/dist\/bench\/?$/, "").replace(/\/bench\/?$/, "");
})();
export const ENTRY = `${ROOT}/dist/src/index.js`;
export const EMULATOR_CLI = `${ROOT}/dist/emulator/cli.js`;
export const MINIMAL_SERVER = `${ROOT}/dist/bench/minimal-server.js`;
export const PEER_BIN = `${ROOT}/node_modules/@ivotoby/openapi-mcp-server/bin/mcp-server.js`;
export const PEER_SPEC = `${ROOT}/bench/fixtures/cohere-openapi.yaml`;

export const BENCH_KEY = "bench-key-SECRET-9f8e7d6c5b4a";

/**
 * Every secret the proof suites hand to a server (the Cohere key, agent tokens) contains this
 * marker, so a scan for it also catches a secret that leaked cut short.
 */
export const SECRET_MARKER = "SECRET";

/**
 * Where the proof suites keep server logs, stderr and audit files. Under `npm run test:stress`
 * this is PROOF_LOG_DIR, scanned for secrets after all suites; otherwise a fresh temp dir.
 */
export function proofDir(): string {
  const d = process.env.PROOF_LOG_DIR;
  if (d) {
    mkdirSync(d, { recursive: true });
    return d;
  }
  return mkdtempSync(join(tmpdir(), "cohere-mcp-proof-"));
}

let seq = 0;
/** With PROOF_LOG_DIR set, a file that keeps a child's stderr for the secrets scan. */
function stderrSink(label: string): WriteStream | undefined {
  const d = process.env.PROOF_LOG_DIR;
  if (!d) return undefined;
  mkdirSync(d, { recursive: true });
  return createWriteStream(join(d, `${label}-${process.pid}-${++seq}.stderr.log`), { flags: "a" });
}

/** The same minimal environment for every child: no NODE_OPTIONS, no NODE_EXTRA_CA_CERTS. */
export function scrubbedEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** VmRSS of a process in bytes (Linux), or NaN. */
export function rssOf(pid: number | null | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * CPU time (user + system) a process has used, in microseconds, or NaN: the sum of its threads'
 * run time in /proc/PID/task/TID/schedstat (nanoseconds, so short slices of calls are exact),
 * else /proc/PID/stat (clock ticks of 10 ms). Linux only.
 */
export function cpuOf(pid: number | null | undefined): number {
  if (!pid) return NaN;
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    }
    if (Number.isFinite(ns) && ns > 0) return ns / 1000;
  } catch {
    /* no schedstat: ticks below */
  }
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}

export const mib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 1048576).toFixed(1)} MiB` : "n/a");

// ---------------------------------------------------------------------------------------------
// Statistics

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), mean };
}

/** A bench script's `--name value` argument from its command line, else the fallback. */
export function argOf(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

export function median(xs: readonly number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 50);
}

// ---------------------------------------------------------------------------------------------
// Child processes

export interface Child {
  proc: ChildProcess;
  url: string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Children still running when this process exits are killed, so no emulator or server outlives a bench or test run. */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});
function track(proc: ChildProcess): ChildProcess {
  running.add(proc);
  proc.once("exit", () => running.delete(proc));
  return proc;
}

function stopChild(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    proc.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    proc.kill("SIGTERM");
  });
}

/** The Cohere emulator in its own process (so its CPU is not the measuring process's). */
export async function spawnEmulator(apiKey = BENCH_KEY, extraArgs: string[] = []): Promise<Child> {
  const proc = track(
    spawn(process.execPath, [EMULATOR_CLI, "--port", "0", "--api-key", apiKey, "--max-recorded", "200", ...extraArgs], {
      env: scrubbedEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let out = "";
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`emulator did not start: ${err}`)), 10_000);
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`emulator exited ${code}: ${err}`));
    });
  });
  return { proc, url, stderr: () => err, stop: () => stopChild(proc) };
}

export interface HttpServer extends Child {
  /** http://127.0.0.1:PORT/mcp */
  mcpUrl: string;
}

/**
 * Start `cohere-mcp --http` on a free port. Resolves to undefined (with the reason) when the
 * HTTP transport is not available: the process exits or never accepts a connection.
 */
export async function spawnOurHttp(
  upstream: string,
  args: string[] = [],
  env: Record<string, string | undefined> = {},
  timeoutMs = 10_000,
  /** A port chosen beforehand (e.g. for a config naming this server's URL); default: a free one. */
  fixedPort?: number,
  /** Another build's dist/src/index.js (the bench's --baseline). */
  entry = ENTRY,
): Promise<{ server?: HttpServer; reason?: string }> {
  const port = fixedPort ?? (await freePort());
  const proc = track(
    spawn(process.execPath, [entry, "--http", "--host", "127.0.0.1", "--port", String(port), ...args], {
      env: scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: upstream, ...env }),
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let err = "";
  const sink = stderrSink("http");
  const keep = (d: Buffer) => {
    err = (err + d.toString()).slice(-1_000_000);
    sink?.write(d);
  };
  proc.stderr!.on("data", keep);
  proc.stdout!.on("data", keep);
  proc.once("exit", () => sink?.end());
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      return { reason: `cohere-mcp --http exited (${proc.exitCode ?? proc.signalCode}): ${err.trim().split("\n").pop() ?? ""}` };
    }
    if (await canConnect(port)) {
      const url = `http://127.0.0.1:${port}`;
      return { server: { proc, url, mcpUrl: `${url}/mcp`, stderr: () => err, stop: () => stopChild(proc, 5000) } };
    }
    await sleep(50);
  }
  await stopChild(proc);
  return { reason: `cohere-mcp --http did not listen within ${timeoutMs} ms` };
}

/** The bare SDK proxy (bench/minimal-server) over stateless HTTP, with the tools named (e.g. "rerank,embed"). */
export async function spawnMinimalHttp(upstream: string, tools: string): Promise<HttpServer> {
  const port = await freePort();
  const proc = track(
    spawn(process.execPath, [MINIMAL_SERVER], {
      env: scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: upstream, MINIMAL_TOOL: tools, MINIMAL_HTTP_PORT: String(port) }),
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  proc.stdout!.on("data", () => undefined);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`minimal HTTP server exited ${proc.exitCode}: ${err}`);
    if (await canConnect(port)) {
      const url = `http://127.0.0.1:${port}`;
      return { proc, url, mcpUrl: `${url}/mcp`, stderr: () => err, stop: () => stopChild(proc) };
    }
    await sleep(50);
  }
  await stopChild(proc);
  throw new Error("minimal HTTP server did not listen within 10 s");
}

/** The peer (@ivotoby/openapi-mcp-server) over HTTP against the same upstream. */
export async function spawnPeerHttp(upstream: string, apiKey = BENCH_KEY): Promise<HttpServer> {
  const port = await freePort();
  const proc = track(spawn(
    process.execPath,
    [
      PEER_BIN,
      "--api-base-url", upstream,
      "--openapi-spec", PEER_SPEC,
      "--headers", `Authorization:Bearer ${apiKey}`,
      "--transport", "http",
      "--host", "127.0.0.1",
      "--port", String(port),
      "--verbose", "false",
    ],
    { env: scrubbedEnv(), stdio: ["ignore", "pipe", "pipe"] },
  ));
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  proc.stdout!.on("data", () => undefined);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`peer exited ${proc.exitCode}: ${err}`);
    if (await canConnect(port)) {
      const url = `http://127.0.0.1:${port}`;
      return { proc, url, mcpUrl: `${url}/mcp`, stderr: () => err, stop: () => stopChild(proc) };
    }
    await sleep(50);
  }
  await stopChild(proc);
  throw new Error("peer did not listen within 30 s");
}

export const peerStdioArgs = (upstream: string, apiKey = BENCH_KEY): string[] => [
  PEER_BIN,
  "--api-base-url", upstream,
  "--openapi-spec", PEER_SPEC,
  "--headers", `Authorization:Bearer ${apiKey}`,
  "--verbose", "false",
];

// ---------------------------------------------------------------------------------------------
// MCP clients

export interface McpConn {
  client: Client;
  pid: number | null;
  stderr(): string;
  close(): Promise<void>;
}

/** An SDK client over stdio to any command, with a scrubbed environment. */
export async function connectStdioCmd(
  command: string,
  args: string[],
  env: Record<string, string>,
  name = "cohere-mcp-bench",
): Promise<McpConn> {
  const transport = new StdioClientTransport({ command, args, env, stderr: "pipe" });
  let err = "";
  const sink = stderrSink(`stdio-${name}`);
  transport.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-200_000);
    sink?.write(d);
  });
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    pid: transport.pid,
    stderr: () => err,
    close: async () => {
      await client.close();
      sink?.end();
    },
  };
}

/**
 * The SDK v2 client pinned to MCP 2026-07-28 (the modern era) over stdio to any command, seen
 * through the McpConn the drivers use (listTools, callTool with v1's three arguments).
 */
export async function connectStdioModern(
  command: string,
  args: string[],
  env: Record<string, string>,
  name = "cohere-mcp-bench-modern",
): Promise<McpConn> {
  const transport = new StdioClientTransportV2({ command, args, env, stderr: "pipe" });
  let err = "";
  transport.stderr?.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-200_000)));
  const v2 = new ClientV2({ name, version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  await v2.connect(transport);
  const client = {
    listTools: () => v2.listTools(),
    callTool: (params: { name: string; arguments?: Record<string, unknown> }, _schema?: unknown, options?: { timeout?: number }) =>
      v2.callTool(params, options),
    close: () => v2.close(),
  };
  return { client: client as unknown as Client, pid: transport.pid, stderr: () => err, close: () => v2.close() };
}

/** The SDK v2 client pinned to MCP 2026-07-28 over streamable HTTP, seen as an McpConn (see connectStdioModern). */
export async function connectHttpModern(mcpUrl: string, headers: Record<string, string> = {}, name = "cohere-mcp-bench-modern"): Promise<McpConn> {
  const { StreamableHTTPClientTransport: HttpV2 } = await import("@modelcontextprotocol/client");
  const v2 = new ClientV2({ name, version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  await v2.connect(new HttpV2(new URL(mcpUrl), { requestInit: { headers } }));
  const client = {
    listTools: () => v2.listTools(),
    callTool: (params: { name: string; arguments?: Record<string, unknown> }, _schema?: unknown, options?: { timeout?: number }) =>
      v2.callTool(params, options),
    close: () => v2.close(),
  };
  return { client: client as unknown as Client, pid: null, stderr: () => "", close: () => v2.close() };
}

/** cohere-mcp over stdio against `upstream`. */
export function connectOurStdio(upstream: string, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<McpConn> {
  return connectStdioCmd(process.execPath, [ENTRY, ...args], scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: upstream, ...env }));
}

export async function connectHttp(mcpUrl: string, headers: Record<string, string> = {}, name = "cohere-mcp-bench"): Promise<McpConn> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers } });
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return {
    client,
    pid: null,
    stderr: () => "",
    close: async () => {
      try {
        if (transport.sessionId) await transport.terminateSession();
      } catch {
        /* stateless servers may refuse DELETE */
      }
      await client.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Calls

export const RERANK_ARGS = {
  model: "rerank-v3.5",
  query: "what is the capital of france",
  documents: [
    "Paris is the capital and largest city of France.",
    "Berlin is the capital of Germany.",
    "The Eiffel Tower is in Paris.",
    "Bananas are rich in potassium.",
    "France borders Spain, Italy, Germany and Belgium.",
  ],
};

export const EMBED_ARGS = {
  model: "embed-v4.0",
  input_type: "search_document",
  texts: ["The quick brown fox jumps over the lazy dog."],
  embedding_types: ["float"],
};

export type CallResult = {
  content?: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

export function textOf(r: unknown): string {
  return ((r as CallResult).content ?? []).map((c) => c.text ?? "").join("");
}

/**
 * A rerank call whose answer encodes a number: document i holds d_i of the nine query words,
 * so its relevance score is d_i/9 and the digits d_0..d_5 spell the tag. Any answer that
 * keeps indices and scores can be decoded, so an answer meant for another client shows.
 */
const TAG_DIGITS = 6;
export const TAG_SPACE = 10 ** TAG_DIGITS;
const QUERY_WORDS = Array.from({ length: 9 }, (_, i) => `kw${i + 1}`);

export function taggedRerankArgs(tag: number): { model: string; query: string; documents: string[] } {
  const digits = String(tag % TAG_SPACE).padStart(TAG_DIGITS, "0").split("").map(Number);
  return {
    model: "rerank-v3.5",
    query: QUERY_WORDS.join(" "),
    documents: digits.map((d, i) => [...QUERY_WORDS.slice(0, d), `filler${i}`].join(" ")),
  };
}

/** Read the tag back from an answer (structured content, JSON text, or index/score pairs). */
export function decodeRerankTag(result: unknown): number | undefined {
  const pairs = new Map<number, number>();
  const take = (results: unknown) => {
    if (!Array.isArray(results)) return;
    for (const r of results) {
      const o = r as { index?: unknown; relevance_score?: unknown };
      if (typeof o.index === "number" && typeof o.relevance_score === "number") pairs.set(o.index, o.relevance_score);
    }
  };
  const r = result as CallResult;
  take(r.structuredContent?.results);
  if (pairs.size < TAG_DIGITS) {
    const text = textOf(r);
    try {
      take((JSON.parse(text) as { results?: unknown }).results);
    } catch {
      for (const m of text.matchAll(/"index"\s*:\s*(\d+)\s*,\s*"relevance_score"\s*:\s*([\d.eE+-]+)/g)) {
        pairs.set(Number(m[1]), Number(m[2]));
      }
    }
  }
  if (pairs.size < TAG_DIGITS) return undefined;
  let tag = 0;
  for (let i = 0; i < TAG_DIGITS; i++) {
    const s = pairs.get(i);
    if (s === undefined) return undefined;
    tag = tag * 10 + Math.round(s * 9);
  }
  return tag;
}

/** Size of a JSON value as an agent receives it: characters and the chars/4 token estimate. */
export function sizeOf(value: unknown): { chars: number; tokens: number } {
  const chars = JSON.stringify(value).length;
  return { chars, tokens: Math.round(chars / 4) };
}
