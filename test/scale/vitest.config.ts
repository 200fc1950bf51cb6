// `npm run test:scale`: the scale-out proof (issue 10): one redis-server, three replicas and
// Debian's nginx (deploy/nginx/), all real processes on loopback ports. Every replica's
// stderr and audit file is kept in one directory that the stress suite's global-setup scans for
// secrets once the suite is done.
import { join } from "node:path";
import { defineConfig } from "vitest/config";

const root = join(import.meta.dirname, "..", "..");
const logDir = process.env.PROOF_LOG_DIR ?? join(root, ".tmp", `scale-logs-${new Date().toISOString().replace(/[:.]/g, "-")}`);
process.env.PROOF_LOG_DIR = logDir;

export default defineConfig({
  root,
  test: {
    include: ["test/scale/**/*.scale.ts"],
    exclude: ["node_modules", "dist"],
    globalSetup: ["test/stress/global-setup.ts"],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
    env: { PROOF_LOG_DIR: logDir },
  },
});
