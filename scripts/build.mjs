// Builds the command-line tool once (`npm ci` runs it as `prepare`): one JavaScript file, so that a
// command starts without compiling TypeScript or resolving hundreds of modules. The Pulumi SDK and
// providers stay outside the bundle: only `validate` loads them, from node_modules.
import { chmod } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
export const OUTFILE = `${root}dist/flow-trigger-auth.js`;

/** Builds dist/flow-trigger-auth.js from cli/main.ts. */
export async function buildTool() {
  await build({
    absWorkingDir: root,
    entryPoints: ["cli/main.ts"],
    outfile: OUTFILE,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    external: ["@pulumi/*"],
    banner: { js: "#!/usr/bin/env node" },
    minify: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "warning",
  });
  await chmod(OUTFILE, 0o755);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildTool();
