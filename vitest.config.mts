import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

/**
 * Files that need a process of their own: they load index.ts (a program that runs on import, reading
 * Pulumi's process-wide config) or set up @azure/identity's managed-identity source, which it keeps for
 * the whole process.
 */
const OWN_PROCESS = [
  "test/index.test.ts",
  "test/index-bad-config.test.ts",
  "commands/smoke/managed-identity.test.ts",
  "commands/smoke/managed-identity-imds.test.ts",
];

export default defineConfig({
  test: {
    globalSetup: ["test/global-setup.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        // Every other file shares its worker's module cache with the files run before it there: the
        // SDKs load once per worker instead of once per file (about half the suite's time). Each
        // mocked run installs its own mocks (engine/mock-engine.ts), so no state carries over.
        test: {
          name: "shared",
          include: ["**/*.test.ts"],
          exclude: [...configDefaults.exclude, ".scratch/**", ".pulumi-state/**", ...OWN_PROCESS],
          isolate: false,
        },
      },
      { extends: true, test: { name: "own-process", include: OWN_PROCESS, isolate: true } },
    ],
  },
});
