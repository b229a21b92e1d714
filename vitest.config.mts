import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Pulumi's mock runtime keeps process-wide state: isolate each test file in its own fork.
    pool: "forks",
  },
});
