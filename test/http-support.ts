/** Test harness for the HTTP transport: cohere-mcp --http as a real child process, SDK clients over real sockets. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENTRY, TEST_KEY } from "./helpers.js";

export interface HttpServerProc {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string | null>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | string | null>;
}

/** Start `cohere-mcp --http --port 0 ...args` and wait for its "listening on" line. */
export async function startHttp(
  baseUrl: string,
  args: string[] = [],
  env: Record<string, string | undefined> = {},
): Promise<HttpServerProc> {
  const fullEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    CO_API_KEY: TEST_KEY,
    CO_API_URL: baseUrl,
    COHERE_MCP_RETRY_BASE_MS: "20",
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete fullEnv[k];
    else fullEnv[k] = v;
  }
  const child = spawn(process.execPath, [ENTRY, "--http", "--port", "0", ...args], {
    env: fullEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cohere-mcp --http did not start in 10 s:\n${err}`)), 10_000);
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /cohere-mcp listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cohere-mcp --http exited (${code}) before listening:\n${err}`));
    });
  });
  const u = new URL(url);
  return {
    url,
    origin: u.origin,
    port: Number(u.port),
    child,
    stderr: () => err + (out ? `\n[stdout]\n${out}` : ""),
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

export async function connectHttp(
  url: string,
  headers: Record<string, string> = {},
  name = "cohere-mcp-http-test",
): Promise<{ client: Client; transport: StreamableHTTPClientTransport; close(): Promise<void> }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return { client, transport, close: () => client.close() };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Write a JSON config to a fresh temp dir; returns its path. */
export function writeConfig(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "cohere-mcp-http-"));
  const path = join(dir, "config.json");
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export function tempFile(name: string): string {
  return join(mkdtempSync(join(tmpdir(), "cohere-mcp-http-")), name);
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request with full control of Host, Origin and the body (fetch forbids setting Host). */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; localAddress?: string; agent?: http.Agent } = {},
): Promise<RawResponse> {
  const u = new URL(url);
  const headers: Record<string, string> = { ...opts.headers };
  const named = (h: string) => Object.keys(headers).some((k) => k.toLowerCase() === h);
  // Like fetch: a known body gets a Content-Length unless the caller asks for chunks.
  if (opts.body !== undefined && !named("content-length") && !named("transfer-encoding")) {
    headers["Content-Length"] = String(Buffer.byteLength(opts.body));
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? "POST",
        headers,
        // a keep-alive agent's connection can outlive the server's listening socket (shutdown tests)
        agent: opts.agent ?? false,
        // another loopback source address (127.0.0.2 ...) is another client on Linux
        localAddress: opts.localAddress,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export const MCP_HEADERS = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };

/** POST one JSON-RPC message; for SSE answers, the `data:` payloads are parsed. */
export async function rpc(
  url: string,
  message: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse & { messages: Array<Record<string, unknown>> }> {
  const r = await rawRequest(url, { headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(message) });
  const messages: Array<Record<string, unknown>> = [];
  if (String(r.headers["content-type"]).includes("text/event-stream")) {
    for (const line of r.body.split("\n")) if (line.startsWith("data: ")) messages.push(JSON.parse(line.slice(6)));
  } else if (r.body) {
    try {
      messages.push(JSON.parse(r.body));
    } catch {
      /* not JSON */
    }
  }
  return { ...r, messages };
}

export const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

/** Poll until `check` passes or `ms` is up (a bounded wait, not a timing assertion). */
export async function eventually<T>(check: () => Promise<T> | T, ms = 5_000, step = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setTimeout(r, step));
  }
}

/** Open a TCP connection from `localAddress` and hold it (the connection cap counts it). */
export async function holdConnection(port: number, localAddress: string): Promise<net.Socket> {
  const s = net.connect({ host: "127.0.0.1", port, localAddress });
  await new Promise((r) => s.once("connect", r));
  return s;
}

/** Everything the server writes on a connection from `localAddress` until it closes it (a refusal, e.g.). */
export function connectionReply(port: number, localAddress: string): Promise<string> {
  return new Promise<string>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    let got = "";
    s.on("data", (d) => (got += d.toString()));
    s.on("close", () => resolve(got));
    s.on("error", () => resolve(got));
  });
}
