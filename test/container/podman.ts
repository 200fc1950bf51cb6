/**
 * Podman for `npm run test:container`, set up the way it runs on these machines (found by trying):
 * the runc runtime with the cgroupfs manager, no default ulimits (the sandbox refuses raising
 * RLIMIT_NPROC/NOFILE), events to a file. Everything podman keeps (images, containers, volumes,
 * CNI networks) lives under one work directory made fresh per run (CONTAINER_WORK, set by the
 * vitest config), so nothing is shared with another run or with the machine's own podman.
 */
import { execFile, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
/** The name the image is published under (server.json, compose.yaml, Kubernetes): the Dockerfile's
 *  default target (its last stage, distroless); the test builds it under this tag. */
export const IMAGE = `ghcr.io/cohere-mcp/cohere-mcp:${VERSION}`;
export { VERSION };
/** The Dockerfile's `slim` target (with a shell), under the tag convention docs/container.md gives. */
export const SLIM_IMAGE = `${IMAGE}-slim`;
/** The Dockerfile's `build` stage, tagged for the layer scan. */
export const BUILD_STAGE = "localhost/cohere-mcp-build-stage:test";

export function workDir(): string {
  const d = process.env.CONTAINER_WORK;
  if (!d) throw new Error("CONTAINER_WORK is not set: run through `npm run test:container`");
  return d;
}

/** Write containers.conf and storage.conf under the work dir; returns the env podman needs. */
export function podmanEnv(): Record<string, string> {
  const work = workDir();
  const conf = join(work, "containers.conf");
  const storage = join(work, "storage.conf");
  mkdirSync(join(work, "cni"), { recursive: true });
  writeFileSync(
    conf,
    [
      "[containers]",
      "default_ulimits = []",
      "",
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${join(work, "events.log")}"`,
      "",
      "[network]",
      `network_config_dir = "${join(work, "cni")}"`,
      "",
    ].join("\n"),
  );
  writeFileSync(
    storage,
    ["[storage]", 'driver = "overlay"', `graphroot = "${join(work, "storage")}"`, `runroot = "${join(work, "run")}"`, ""].join(
      "\n",
    ),
  );
  return { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage };
}

export function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CONTAINERS_CONF: join(workDir(), "containers.conf"),
    CONTAINERS_STORAGE_CONF: join(workDir(), "storage.conf"),
  };
}

/** Podman warns on stderr about healthcheck timers when there is no systemd: not an error. */
const NOISE = /unable to get systemd connection|level=warning msg="StopSignal/;
export const quiet = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => l && !NOISE.test(l))
    .join("\n");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command (podman, buildah, podman-compose) with podman's env; never throws. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; input?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: { ...env(), ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr: quiet(stderr) });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** `podman ARGS`; throws with its stderr when it fails; returns stdout trimmed. */
export async function podman(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run("podman", args, opts);
  if (r.code !== 0) throw new Error(`podman ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout.trim();
}

export function execFileText(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: env(), maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

/** Podman's own figure for an image's size in bytes. */
export async function imageSize(ref: string): Promise<number> {
  return Number(await podman(["image", "inspect", "--format", "{{.Size}}", ref]));
}

export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
