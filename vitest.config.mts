import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Pulumi's mock runtime keeps process-wide state: isolate each test file in its own fork.
    pool: "forks",
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
