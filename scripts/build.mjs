// Builds the command-line tool once (`npm ci` runs it as `prepare`): one JavaScript file, so that a
// command starts without compiling TypeScript or resolving hundreds of modules. The Pulumi SDK and
// providers stay outside the bundle: only `validate` loads them, from node_modules.
import { Buffer } from "node:buffer";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
export const OUTFILE = `${root}dist/flow-trigger-auth.js`;
/** `npm run demo` (demo/demo.ts), built the same way. */
export const DEMO_OUTFILE = `${root}dist/demo.js`;

/**
 * Builds dist/flow-trigger-auth.js from cli/main.ts and dist/demo.js from demo/demo.ts. Each file is
 * replaced in one step (written aside, then renamed), and only when it changed: a test suite running
 * beside another never sees half a tool.
 */
export async function buildTool() {
  await bundle("cli/main.ts", OUTFILE);
  await bundle("demo/demo.ts", DEMO_OUTFILE);
}

async function bundle(entry, outfile) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    external: ["@pulumi/*"],
    banner: { js: "#!/usr/bin/env node" },
    minify: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "warning",
    write: false,
  });
  const [output] = result.outputFiles;
  const current = await readFile(outfile).catch(() => undefined);
  if (current && Buffer.compare(current, output.contents) === 0) return;
  await mkdir(`${root}dist`, { recursive: true });
  const aside = `${outfile}.${process.pid}.tmp`;
  await writeFile(aside, output.contents, { mode: 0o755 });
  await rename(aside, outfile);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildTool();
