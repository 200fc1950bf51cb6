// `npm run test:container` (issue 25): the image built from the Dockerfile with Podman, run read-only
// and non-root against the emulator (stdio, HTTP, SIGTERM drain, healthcheck, layer scan), and the
// compose fleet (Redis, three replicas, nginx, the emulator). Podman keeps everything of the run
// under CONTAINER_WORK, made fresh per run and removed afterwards (KEEP_CONTAINER_WORK=1 keeps it).
import { join } from "node:path";
import { defineConfig } from "vitest/config";

const root = join(import.meta.dirname, "..", "..");
const work = process.env.CONTAINER_WORK ?? join(root, ".tmp", `container-${new Date().toISOString().replace(/[:.]/g, "-")}`);
process.env.CONTAINER_WORK = work;

export default defineConfig({
  root,
  test: {
    include: ["test/container/**/*.container.ts"],
    exclude: ["node_modules", "dist"],
    globalSetup: ["test/container/global-setup.ts"],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: "forks",
    fileParallelism: false,
    env: { CONTAINER_WORK: work },
  },
});
