import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/console/ runs in a browser, under its own config (npm run test:console).
    exclude: ["node_modules", "dist", "test/console/**"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Vitest's default on a 2-core machine is ONE worker (cores - 1). Most of a suite's time is
    // spent waiting on real sockets and child processes, not on the CPU: two workers halve the
    // wall time (~300 s → ~160 s measured) with every test still passing.
    maxWorkers: 2,
  },
});
