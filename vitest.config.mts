import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Pulumi's mock runtime keeps process-wide state: isolate each test file in its own fork.
    pool: "forks",
    // Vitest's default (cores - 1) runs one file at a time on a 2-core CI machine, while the CLI tests
    // mostly wait on child processes and retry back-offs: two files at a time at least.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
