/**
 * The scale-out harness: real components on free loopback ports, each stopped by its PID.
 *  - replicas: `cohere-mcp --http --store redis://... --replica-id rN` child processes;
 *  - nginx: Debian's nginx as a non-daemon, with its own prefix, pid, logs and temp dirs in a temp
 *    folder, running deploy/nginx/nginx.conf as shipped, with deploy/nginx/cohere-mcp.conf's
 *    placeholders filled with the replicas' ports.
 * Plus a small HTTP client for JSON-RPC through nginx with a keep-alive pool.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BENCH_KEY, ENTRY, ROOT, freePort, proofDir, scrubbedEnv, sleep } from "../../bench/lib.js";

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});
function track(p: ChildProcess): ChildProcess {
  children.add(p);
  p.once("exit", () => children.delete(p));
  return p;
}
const exited = (p: ChildProcess) => p.exitCode !== null || p.signalCode !== null;
function waitExit(p: ChildProcess): Promise<void> {
  return exited(p) ? Promise.resolve() : new Promise((r) => p.once("exit", () => r()));
}

export function nginxPath(): string | undefined {
  for (const p of ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"]) {
    try {
      execFileSync(p, ["-v"], { stdio: "ignore" });
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Replicas

export interface Replica {
  tag: string;
  port: number;
  url: string;
  audit: string;
  proc?: ChildProcess;
  stderr(): string;
  start(): Promise<void>;
  /** SIGKILL: no drain, no goodbye. */
  kill(): Promise<void>;
  /** SIGTERM: the usual drain. */
  stop(): Promise<void>;
  readyz(): Promise<number>;
}

export interface ReplicaOptions {
  emulatorUrl: string;
  redisUrl: string;
  args: string[];
  env?: Record<string, string>;
}

let seq = 0;
export async function makeReplica(tag: string, o: ReplicaOptions): Promise<Replica> {
  const port = await freePort();
  const dir = proofDir();
  const id = `${process.pid}-${++seq}`;
  const audit = join(dir, `scale-${tag}-${id}-audit.jsonl`);
  const errFile = join(dir, `scale-${tag}-${id}.stderr.log`);
  let err = "";
  const r: Replica = {
    tag,
    port,
    url: `http://127.0.0.1:${port}`,
    audit,
    stderr: () => err,
    async start() {
      const sink = createWriteStream(errFile, { flags: "a" });
      const p = track(
        spawn(
          process.execPath,
          [ENTRY, "--http", "--host", "127.0.0.1", "--port", String(port), "--replica-id", tag, "--store", o.redisUrl, "--audit-log", audit, ...o.args],
          { env: scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: o.emulatorUrl, ...o.env }), stdio: ["ignore", "pipe", "pipe"] },
        ),
      );
      r.proc = p;
      const keep = (d: Buffer) => {
        err = (err + d.toString()).slice(-500_000);
        sink.write(d);
      };
      p.stdout!.on("data", keep);
      p.stderr!.on("data", keep);
      p.once("exit", () => sink.end());
      const deadline = Date.now() + 15_000;
      while (!/cohere-mcp listening on/.test(err)) {
        if (exited(p)) throw new Error(`replica ${tag} exited: ${err.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`replica ${tag} did not start: ${err.slice(-2000)}`);
        await sleep(25);
      }
    },
    async kill() {
      if (!r.proc) return;
      r.proc.kill("SIGKILL");
      await waitExit(r.proc);
      r.proc = undefined;
    },
    async stop() {
      if (!r.proc) return;
      const p = r.proc;
      p.kill("SIGTERM");
      const t = setTimeout(() => p.kill("SIGKILL"), 10_000);
      await waitExit(p);
      clearTimeout(t);
      r.proc = undefined;
    },
    async readyz() {
      return (await request(`${r.url}/readyz`, { method: "GET" })).status;
    },
  };
  return r;
}

// ---------------------------------------------------------------------------------------------
// nginx

export interface Nginx {
  url: string;
  port: number;
  pid(): number | undefined;
  errorLog(): string;
  stop(): Promise<void>;
}

/** deploy/nginx/cohere-mcp.conf with its placeholders filled (and optional edits, for the tests that show why a line is there). */
export function fillNginxTemplate(listen: number, replicas: readonly Replica[], edit: (conf: string) => string = (c) => c): string {
  let conf = readFileSync(join(ROOT, "deploy", "nginx", "cohere-mcp.conf"), "utf8");
  conf = conf.replaceAll("${MCP_LISTEN}", `127.0.0.1:${listen}`);
  replicas.forEach((r, i) => (conf = conf.replaceAll(`\${MCP_R${i + 1}}`, `127.0.0.1:${r.port}`)));
  if (/\$\{MCP_/.test(conf.replace(/^#.*$/gm, ""))) throw new Error("deploy/nginx/cohere-mcp.conf has placeholders this harness does not fill");
  return edit(conf);
}

/** An edit for startNginx: `addresses` are not limited per client (the geo block), e.g. a load generator. */
export const unlimited =
  (...addresses: string[]) =>
  (conf: string): string =>
    conf.replace(/(geo \$cohere_mcp_unlimited \{\n\s*default 0;\n)/, `$1${addresses.map((a) => `    ${a} 1;\n`).join("")}`);

/** nginx running deploy/nginx/nginx.conf as shipped, with cohere-mcp.conf filled in next to it, in a temp prefix. */
export async function startNginx(replicas: readonly Replica[], edit?: (conf: string) => string): Promise<Nginx> {
  const bin = nginxPath();
  if (!bin) throw new Error("nginx is not installed (Debian: apt-get install nginx)");
  const prefix = mkdtempSync(join(tmpdir(), "cohere-mcp-nginx-"));
  chmodSync(prefix, 0o755); // workers (nobody, when the master is root) create temp files below
  let port = 0;
  let proc: ChildProcess | undefined;
  for (let attempt = 0; attempt < 5 && !proc; attempt++) {
    port = await freePort();
    writeFileSync(join(prefix, "cohere-mcp.conf"), fillNginxTemplate(port, replicas, edit));
    writeFileSync(join(prefix, "nginx.conf"), readFileSync(join(ROOT, "deploy", "nginx", "nginx.conf"), "utf8"));
    const p = track(
      spawn(bin, ["-p", `${prefix}/`, "-c", join(prefix, "nginx.conf"), "-e", join(prefix, "error.log"), "-g", "daemon off;"], { stdio: ["ignore", "pipe", "pipe"] }),
    );
    let out = "";
    p.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (exited(p)) break;
      const up = await request(`http://127.0.0.1:${port}/healthz`, { method: "GET" }).then(
        () => true,
        () => false,
      );
      if (up) {
        proc = p;
        break;
      }
      if (Date.now() > deadline) {
        p.kill("SIGKILL");
        await waitExit(p);
        throw new Error(`nginx did not start: ${out}`);
      }
      await sleep(50);
    }
    if (!proc && attempt === 4) throw new Error(`nginx did not start: ${out}\n${safeRead(join(prefix, "error.log"))}`);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: () => proc?.pid,
    errorLog: () => safeRead(join(prefix, "error.log")),
    async stop() {
      if (proc) {
        const p = proc;
        proc = undefined;
        p.kill("SIGQUIT"); // graceful
        const t = setTimeout(() => p.kill("SIGKILL"), 5_000);
        await waitExit(p);
        clearTimeout(t);
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP client

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const pool = new http.Agent({ keepAlive: true, maxSockets: 512 });

/** `localAddress`: the source address (127.0.0.2, 127.0.0.3 ... are other clients on loopback). */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {}): Promise<Response> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? "POST",
        headers: { ...opts.headers, ...(opts.body !== undefined ? { "Content-Length": String(Buffer.byteLength(opts.body)) } : {}) },
        agent: pool, // pooled per source address too
        localAddress: opts.localAddress,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
        res.on("aborted", () => reject(new Error("response aborted")));
      },
    );
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export const MCP_HEADERS = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };

export type CallOutcome =
  | { kind: "ok"; text: string }
  | { kind: "refused"; text: string }
  | { kind: "failed"; detail: string };

let rpcId = 0;
/** One stateless tools/call through `url`, classified: a result, a refusal (isError), or a failure the client saw. */
export async function callTool(url: string, token: string, name: string, args: Record<string, unknown>): Promise<CallOutcome> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method: "tools/call", params: { name, arguments: args } });
  let res: Response;
  try {
    res = await request(`${url}/mcp`, { headers: { ...MCP_HEADERS, Authorization: `Bearer ${token}` }, body });
  } catch (err) {
    return { kind: "failed", detail: (err as Error).message };
  }
  if (res.status !== 200) return { kind: "failed", detail: `HTTP ${res.status}: ${res.body.slice(0, 200)}` };
  let msg: { result?: { isError?: boolean; content?: Array<{ text?: string }> }; error?: { message?: string } };
  try {
    msg = JSON.parse(res.body) as typeof msg;
  } catch {
    return { kind: "failed", detail: `not JSON: ${res.body.slice(0, 200)}` };
  }
  if (msg.error) return { kind: "failed", detail: `JSON-RPC error: ${msg.error.message}` };
  const text = (msg.result?.content ?? []).map((c) => c.text ?? "").join("");
  return msg.result?.isError ? { kind: "refused", text } : { kind: "ok", text };
}

export function auditLines(path: string): Array<Record<string, unknown>> {
  return safeRead(path)
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // a line cut by SIGKILL
      }
    });
}
