// `npm run test:stress`: the slow proof suites (files named *.stress.ts, which the root config's
// test glob skips: load, and the fuzz at a larger count) plus the fast proof suites, with every
// server's stderr, log and audit file kept in one directory that global-setup scans for secrets
// once all suites are done.
import { join } from "node:path";
import { defineConfig } from "vitest/config";

const root = join(import.meta.dirname, "..", "..");
const logDir = process.env.PROOF_LOG_DIR ?? join(root, ".tmp", `proof-logs-${new Date().toISOString().replace(/[:.]/g, "-")}`);
process.env.PROOF_LOG_DIR = logDir;

export default defineConfig({
  root,
  test: {
    include: [
      "test/stress/**/*.stress.ts",
      "test/faults.test.ts",
      "test/bypass/**/*.test.ts",
      "test/fuzz.test.ts",
      "test/secrets.test.ts",
      // what the OTLP receiver got from servers exporting traces and audit records
      "test/otel.test.ts",
    ],
    exclude: ["node_modules", "dist"],
    globalSetup: ["test/stress/global-setup.ts"],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: "forks",
    // the load test wants the machine to itself
    fileParallelism: false,
    env: {
      PROOF_LOG_DIR: logDir,
      FUZZ_STDIO_RUNS: process.env.FUZZ_STDIO_RUNS ?? "6000",
      FUZZ_INPROC_RUNS: process.env.FUZZ_INPROC_RUNS ?? "30000",
      // issue 8: the directory swap race through the server, at the review's count
      BYPASS_RACE_CALLS: process.env.BYPASS_RACE_CALLS ?? "3000",
    },
  },
});
