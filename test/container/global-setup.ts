/**
 * Before the container suites: the stand-in base images (test/container/stand-ins.sh: this
 * machine's node, redis-server and nginx under the official images' names, as no registry is
 * reachable), then the image from the repository's Dockerfile, built from a clean copy of the
 * checkout (what a fresh clone holds) into which canary secrets were planted where .dockerignore
 * must keep them out: `.env` files, a stray node_modules and dist inside src/, a test file. The
 * layer scan (image.container.ts) looks for them. After the suites: every container, volume,
 * network and image of the run is removed, and the work directory with them.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BUILD_STAGE, IMAGE, SLIM_IMAGE, ROOT, VERSION, imageSize, mb, podmanEnv, run, workDir } from "./podman.js";
import { CANARY } from "./secrets.js";

export async function setup(): Promise<void> {
  const work = workDir();
  mkdirSync(work, { recursive: true });
  podmanEnv();

  let t = Date.now();
  const base = await run("bash", [join(ROOT, "test/container/stand-ins.sh"), join(work, "stand-ins")], { timeoutMs: 600_000 });
  if (base.code !== 0) throw new Error(`stand-in images failed:\n${base.stderr}\n${base.stdout}`);
  console.log(`${base.stdout.trim()}\nstand-in base images: ${((Date.now() - t) / 1000).toFixed(1)} s`);

  // The checkout as a fresh clone has it (tracked and new files, nothing ignored), plus canaries.
  const context = join(work, "context");
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT })
    .toString()
    .split("\0")
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(context, f)), { recursive: true });
    try {
      cpSync(join(ROOT, f), join(context, f));
    } catch {
      /* deleted in the work tree but not yet in the index */
    }
  }
  const plant = (rel: string, text: string) => {
    mkdirSync(dirname(join(context, rel)), { recursive: true });
    writeFileSync(join(context, rel), text);
  };
  plant(".env", `CO_API_KEY=${CANARY}-root-env\n`);
  plant("src/.env", `CO_API_KEY=${CANARY}-src-env\n`);
  plant("emulator/.env.production", `CO_API_KEY=${CANARY}-emulator-env\n`);
  plant("src/deploy.env", `CO_API_KEY=${CANARY}-named-env\n`);
  plant("src/node_modules/leak/index.js", `export const key = "${CANARY}-node-modules";\n`);
  plant("src/dist/leak.js", `export const key = "${CANARY}-dist";\n`);
  plant("test/leak.test.ts", `export const key = "${CANARY}-test";\n`);
  plant("src/app.log", `key=${CANARY}-log\n`);

  t = Date.now();
  // The default target (the Dockerfile's last stage: distroless), as `docker build .` gives it.
  const build = await run(
    "podman",
    ["build", "--format", "docker", "--network", "host", "--build-arg", `VERSION=${VERSION}`, "-t", IMAGE, "-f", join(context, "Dockerfile"), context],
    { timeoutMs: 900_000 },
  );
  if (build.code !== 0) throw new Error(`podman build failed:\n${build.stderr.slice(-4000)}\n${build.stdout.slice(-4000)}`);
  const buildSeconds = (Date.now() - t) / 1000;
  console.log(`image ${IMAGE} (default target, distroless): built in ${buildSeconds.toFixed(1)} s (podman build into this run's fresh store), size ${mb(await imageSize(IMAGE))}`);
  // The slim variant (--target slim): the same build and deps stages from the cache just filled,
  // only its own runtime stage is new.
  t = Date.now();
  const slim = await run(
    "podman",
    ["build", "--format", "docker", "--network", "host", "--build-arg", `VERSION=${VERSION}`, "--target", "slim", "-t", SLIM_IMAGE, "-f", join(context, "Dockerfile"), context],
    { timeoutMs: 600_000 },
  );
  if (slim.code !== 0) throw new Error(`podman build --target slim failed:\n${slim.stderr.slice(-4000)}\n${slim.stdout.slice(-4000)}`);
  console.log(`image ${SLIM_IMAGE} (--target slim): built in ${((Date.now() - t) / 1000).toFixed(1)} s (from the cache), size ${mb(await imageSize(SLIM_IMAGE))}`);
  // The build stage too (from the cache just filled), for the layer scan: a canary kept out of the
  // final image by the Dockerfile's COPY lines must also never reach the builder.
  const stage = await run("podman", ["build", "--format", "docker", "--network", "host", "--target", "build", "-t", BUILD_STAGE, "-f", join(context, "Dockerfile"), context], { timeoutMs: 600_000 });
  if (stage.code !== 0) throw new Error(`podman build --target build failed:\n${stage.stderr.slice(-4000)}`);
}

export async function teardown(): Promise<void> {
  const work = workDir();
  if (process.env.KEEP_CONTAINER_WORK) return;
  // Containers and networks through podman (they hold mounts, veths and iptables rules); the
  // images and volumes then go with the store itself: removing them one by one through podman
  // takes a minute or more on a loaded machine, deleting the directory a few seconds.
  await run("podman", ["rm", "--all", "--force", "--time", "0"]);
  await run("podman", ["pod", "rm", "--all", "--force"]);
  const nets = (await run("podman", ["network", "ls", "--format", "{{.Name}}"])).stdout.split("\n").filter((n) => n && n !== "podman");
  for (const n of nets) await run("podman", ["network", "rm", "--force", n]);
  await run("podman", ["image", "unmount", "--all"]);
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(work + "/"))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync("umount", ["-l", m]);
  // The store is ~2 GB in ~100,000 files; on a filesystem mounted with `discard` (these machines)
  // each unlink waits for the disk, so deleting takes minutes: it goes on in the background, out
  // of the suite's wall time. Nothing in it is reused: the next run makes a new directory.
  const trash = `${work}.deleting`;
  renameSync(work, trash);
  spawn("rm", ["-rf", trash], { detached: true, stdio: "ignore" }).unref();
}
