// `npm run test:console`: the console in a real browser — playwright-core driving Debian's
// chromium (found on the PATH; no browser download), axe-core injected into every page.
// Screenshots go to test-artifacts/console/ (gitignored; .ci/run leaves them for the artifacts).
import { join } from "node:path";
import { defineConfig } from "vitest/config";

const root = join(import.meta.dirname, "..", "..");

export default defineConfig({
  root,
  test: {
    include: ["test/console/**/*.test.ts"],
    exclude: ["node_modules", "dist"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
  },
});
