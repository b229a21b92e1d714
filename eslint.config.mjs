// Lint configuration: typescript-eslint's recommended rules over every TypeScript file.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", "coverage/**", ".scratch/**", ".pulumi-state/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      eqeqeq: ["error", "always"],
      "no-console": "off",
    },
  },
  {
    // Build and benchmark scripts run on Node.js.
    files: ["**/*.mjs"],
    languageOptions: {
      globals: {
        process: "readonly",
        fetch: "readonly",
        URL: "readonly",
        URLSearchParams: "readonly",
        console: "readonly",
      },
    },
  },
  {
    // Test doubles and the mocked engine mirror loosely typed provider payloads.
    files: ["test/**/*.ts", "standin/**/*.ts", "**/*.test.ts", "engine/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
