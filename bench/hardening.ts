/**
 * Issue 8 figures (hostile agents and unauthenticated clients over HTTP), printed, not asserted:
 *
 *   1. audit bytes per call for a 4 MiB tool name;
 *   2. a refusal flood: 5,000 unknown-tool calls from one agent without a rate_limit → audit lines;
 *   3. 20,000 wrong tokens from one address → answers by status, audit lines, log lines;
 *   4. another agent's latency while one agent holds 150 slow calls (emulator delay fault);
 *   5. how long a slow-body and a slow-header client stay connected.
 *
 *   npm run build && node dist/bench/hardening.js [--entry dist/src/index.js] [--only 1,2,3,4,5]
 *
 * --entry runs another build (e.g. one of 8603b05, for the "before" figures): only flags that
 * build knows are used, every bound at its default.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setMaxListeners } from "node:events";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";

const { values } = parseArgs({
  options: { entry: { type: "string" }, only: { type: "string", default: "1,2,3,4,5" } },
});
const ENTRY = values.entry ?? fileURLToPath(new URL("../src/index.js", import.meta.url));
const ONLY = new Set(String(values.only).split(",").map(Number));
const KEY = "bench-key-0123456789";
const TOKENS = { A: "bench-agent-a-token-0123456789ab", B: "bench-agent-b-token-abcdef012345" };
const dir = mkdtempSync(join(tmpdir(), "cohere-mcp-hardening-"));

interface Server {
  url: string;
  port: number;
  proc: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

async function startServer(upstream: string, args: string[]): Promise<Server> {
  const config = join(dir, `config-${Date.now()}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      profiles: { worker: { tools: ["rerank", "embed"] } },
      agents: [
        { name: "agent-a", profile: "worker", token_env: "TOKEN_A" },
        { name: "agent-b", profile: "worker", token_env: "TOKEN_B" },
      ],
    }),
  );
  const proc = spawn(process.execPath, [ENTRY, "--http", "--port", "0", "--config", config, "--max-retries", "0", ...args], {
    env: { PATH: process.env.PATH ?? "", CO_API_KEY: KEY, CO_API_URL: upstream, TOKEN_A: TOKENS.A, TOKEN_B: TOKENS.B },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearInterval(t);
        resolve(m[1]!);
      }
    }, 20);
    proc.once("exit", (code) => {
      clearInterval(t);
      reject(new Error(`server exited ${code}: ${err}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    proc,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      }),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function post(url: string, token: string, body: unknown, signal?: AbortSignal, via = agent): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: "POST",
        agent: via,
        signal,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "content-length": Buffer.byteLength(text),
        },
      },
      (res) => {
        let b = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (b += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}
const call = (name: string, args: unknown, id = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
const RERANK = { model: "rerank-v3.5", query: "q", documents: ["a", "b"] };
const EMBED = { model: "embed-v4.0", input_type: "search_query", texts: ["x"] };
const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean);

async function pool<T>(n: number, concurrency: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await job(i);
    }),
  );
  return out;
}

async function auditOf4MiBName(emu: CohereEmulator): Promise<void> {
  const audit = join(dir, "audit-4mib.jsonl");
  const srv = await startServer(emu.url, ["--audit-log", audit, "--max-body-bytes", String(9 * 1024 * 1024)]);
  const name = "n".repeat(4 * 1024 * 1024);
  const N = 5;
  let answered = 0;
  for (let i = 0; i < N; i++) answered += (await post(srv.url, TOKENS.A, call(name, {}, i))).body.length;
  await srv.stop();
  const bytes = statSync(audit).size;
  console.log(`1. 4 MiB tool name: ${(bytes / N).toFixed(0)} audit bytes per call (${lines(audit).length} lines for ${N} calls); answer ${(answered / N).toFixed(0)} bytes`);
}

async function refusalFlood(emu: CohereEmulator): Promise<void> {
  const audit = join(dir, "audit-refusals.jsonl");
  const srv = await startServer(emu.url, ["--audit-log", audit]);
  const N = 5_000;
  const t0 = performance.now();
  await pool(N, 16, (i) => post(srv.url, TOKENS.A, call(`no_such_tool_${i}`, {}, i)));
  const secs = (performance.now() - t0) / 1000;
  await srv.stop();
  const ls = lines(audit);
  const suppressed = ls.map((l) => JSON.parse(l) as { suppressed?: number }).reduce((n, l) => n + (l.suppressed ?? 0), 0);
  console.log(
    `2. ${N} unknown-tool calls from one agent (no rate_limit) in ${secs.toFixed(1)} s: ${ls.length} audit lines, ` +
      `${statSync(audit).size} bytes (${suppressed} refusals counted in summary lines)`,
  );
}

async function authFlood(emu: CohereEmulator): Promise<void> {
  const audit = join(dir, "audit-auth.jsonl");
  const srv = await startServer(emu.url, ["--audit-log", audit]);
  const N = 20_000;
  const statuses = new Map<number, number>();
  const body = JSON.stringify(call("rerank", RERANK));
  const t0 = performance.now();
  await pool(N, 32, async (i) => {
    const r = await post(srv.url, `wrong-token-${i}-0123456789abcdef`, body).catch(() => ({ status: 0, body: "" }));
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  });
  const secs = (performance.now() - t0) / 1000;
  const valid = await post(srv.url, TOKENS.B, call("rerank", RERANK)).catch(() => ({ status: 0, body: "" }));
  await srv.stop();
  const logLines = srv.stderr().split("\n").filter((l) => /bearer token|failed authentications/.test(l)).length;
  console.log(
    `3. ${N} wrong tokens from one address in ${secs.toFixed(1)} s (${(N / secs).toFixed(0)}/s): ` +
      `${[...statuses].map(([s, n]) => `${n} × ${s}`).join(", ")}; ${lines(audit).length} audit lines, ${logLines} log lines; ` +
      `a valid token from the same address then: ${valid.status}`,
  );
}

async function starvation(emu: CohereEmulator): Promise<void> {
  const srv = await startServer(emu.url, ["--timeout", "60000", "--log-level", "error"]);
  emu.addFault({ path: "/v2/rerank", times: 10_000, fault: { kind: "delay", ms: 15_000 } });
  const ac = new AbortController();
  setMaxListeners(200, ac.signal);
  const many = new http.Agent({ keepAlive: true, maxSockets: 200 });
  const slow = Array.from({ length: 150 }, (_, i) => post(srv.url, TOKENS.A, call("rerank", RERANK, i), ac.signal, many).catch(() => undefined));
  await new Promise((r) => setTimeout(r, 1_000));
  const latencies: number[] = [];
  // agent-b is another client: its own connections, not queued behind agent-a's on this side
  const other = new http.Agent({ keepAlive: true, maxSockets: 4 });
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = await post(srv.url, TOKENS.B, call("embed", EMBED, i), undefined, other);
    latencies.push(performance.now() - t0);
    if (!r.body.includes("Embedded")) console.log(`   agent-b call ${i}: ${r.body.slice(0, 200)}`);
  }
  const held = emu.requests.filter((r) => r.path === "/v2/rerank").length;
  other.destroy();
  ac.abort();
  await Promise.all(slow);
  many.destroy();
  emu.clearFaults();
  await srv.stop();
  console.log(
    `4. agent-b's embed while agent-a holds 150 slow calls (15 s each; ${held} reached Cohere): ` +
      latencies.map((l) => `${l.toFixed(0)} ms`).join(", "),
  );
}

function trickle(port: number, head: string, byte: string, capMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect({ host: "127.0.0.1", port });
    let timer: NodeJS.Timeout | undefined;
    s.on("error", () => undefined);
    s.on("close", () => {
      clearInterval(timer);
      const ms = Date.now() - t0;
      resolve(ms >= capMs ? undefined : ms);
    });
    s.on("connect", () => {
      s.write(head);
      timer = setInterval(() => (Date.now() - t0 >= capMs ? s.destroy() : s.write(byte)), 500);
    });
  });
}

async function slowClients(emu: CohereEmulator): Promise<void> {
  const srv = await startServer(emu.url, ["--log-level", "error"]);
  const cap = 30_000;
  const [body, headers] = await Promise.all([
    trickle(srv.port, "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{", " ", cap),
    trickle(srv.port, "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", "a", cap),
  ]);
  await srv.stop();
  const show = (ms: number | undefined) => (ms === undefined ? `still connected after ${cap / 1000} s (gave up)` : `cut after ${(ms / 1000).toFixed(1)} s`);
  console.log(`5. unauthenticated slow body (1 byte / 500 ms): ${show(body)}; slow headers: ${show(headers)}`);
}

async function main(): Promise<void> {
  const emu = await startEmulator({ apiKey: KEY, maxRecordedRequests: 1_000 });
  console.log(`cohere-mcp: ${ENTRY}`);
  try {
    if (ONLY.has(1)) await auditOf4MiBName(emu);
    if (ONLY.has(2)) await refusalFlood(emu);
    if (ONLY.has(3)) await authFlood(emu);
    if (ONLY.has(4)) await starvation(emu);
    if (ONLY.has(5)) await slowClients(emu);
  } finally {
    agent.destroy();
    await emu.stop();
  }
}

void main();
