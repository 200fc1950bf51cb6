/**
 * A real redis-server for the tests and the bench: on a free loopback port, with its own data
 * directory, stopped by its PID. Redis cannot pick its own port (--port 0 turns TCP off), so a
 * free port is chosen first and the start is retried on the rare clash.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, sleep } from "./lib.js";

export interface RedisServer {
  port: number;
  url: string;
  pid(): number | undefined;
  /** SIGTERM (Redis saves its data on the way out when started with persist) and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** SIGSTOP: Redis hangs (connections stay open, nothing answers). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Start again on the same port and data directory (after stop). */
  restart(): Promise<void>;
  /** Stop and remove the data directory. */
  dispose(): Promise<void>;
  stderr(): string;
}

/** Path of redis-server, or undefined when it is not installed. */
export function redisServerPath(): string | undefined {
  for (const p of ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]) {
    try {
      execFileSync(p, ["--version"], { stdio: "ignore" });
      return p;
    } catch {
      /* next */
    }
  }
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

function waitExit(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once("exit", () => resolve()));
}

/**
 * Start redis-server. `persist`: keep the data across stop()/restart() (an RDB written on
 * SIGTERM), as a production Redis with persistence would; otherwise nothing touches the disk.
 */
export async function startRedis(
  opts: { persist?: boolean; appendonly?: boolean; password?: string; tls?: { cert: string; key: string; ca: string } } = {},
): Promise<RedisServer> {
  const bin = redisServerPath();
  if (!bin) throw new Error("redis-server is not installed (Debian: apt-get install redis-server)");
  const dir = mkdtempSync(join(tmpdir(), "cohere-mcp-redis-"));
  let port = 0;
  let proc: ChildProcess | undefined;
  let err = "";

  const launch = async (): Promise<boolean> => {
    const listen = opts.tls
      ? ["--port", "0", "--tls-port", String(port), "--tls-cert-file", opts.tls.cert, "--tls-key-file", opts.tls.key, "--tls-ca-cert-file", opts.tls.ca, "--tls-auth-clients", "no"]
      : ["--port", String(port)];
    const args = [
      ...listen,
      "--bind", "127.0.0.1",
      "--dir", dir,
      "--daemonize", "no",
      "--logfile", "",
      // appendonly: every write on disk before Redis answers (survives a SIGKILL)
      "--appendonly", opts.appendonly ? "yes" : "no",
      ...(opts.appendonly ? ["--appendfsync", "always"] : []),
      "--save", opts.persist ? "3600 1" : "",
      "--protected-mode", "no",
    ];
    if (opts.password) args.push("--requirepass", opts.password);
    const p = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    running.add(p);
    p.once("exit", () => running.delete(p));
    let out = "";
    const collect = (d: Buffer) => {
      out += d.toString();
      err = (err + d.toString()).slice(-20_000);
    };
    p.stdout!.on("data", collect);
    p.stderr!.on("data", collect);
    const ok = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 10_000);
      const check = () => {
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(t);
          resolve(true);
        }
      };
      p.stdout!.on("data", check);
      p.once("exit", () => {
        clearTimeout(t);
        resolve(false);
      });
    });
    if (!ok) {
      p.kill("SIGKILL");
      await waitExit(p);
      return false;
    }
    proc = p;
    return true;
  };

  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    if (await launch()) break;
    if (attempt >= 4) throw new Error(`redis-server did not start:\n${err.slice(-2000)}`);
    await sleep(100);
  }

  const server: RedisServer = {
    port,
    url: `${opts.tls ? "rediss" : "redis"}://127.0.0.1:${port}/0`,
    pid: () => proc?.pid,
    stderr: () => err,
    async stop() {
      if (!proc) return;
      const p = proc;
      proc = undefined;
      p.kill("SIGTERM");
      await waitExit(p);
    },
    async kill() {
      if (!proc) return;
      const p = proc;
      proc = undefined;
      p.kill("SIGKILL");
      await waitExit(p);
    },
    pause() {
      proc?.kill("SIGSTOP");
    },
    resume() {
      proc?.kill("SIGCONT");
    },
    async restart() {
      for (let attempt = 0; attempt < 20; attempt++) {
        if (await launch()) return;
        await sleep(200); // the port may still be in TIME_WAIT for a moment
      }
      throw new Error(`redis-server did not restart on port ${port}:\n${err.slice(-2000)}`);
    },
    async dispose() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
