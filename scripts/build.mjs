// Builds the command-line tool once (`npm ci` runs it as `prepare`): JavaScript only, so that a
// command starts without compiling TypeScript or resolving hundreds of modules. The code is split
// (ES modules, esbuild's code splitting): a command parses only what it runs, so `--help` and a plain
// smoke test do not read the config schema (zod), the YAML parser or the Key Vault SDK. The Pulumi
// SDK and providers stay outside the bundle: only `validate` and the demo load them, from node_modules.
// `npm run demo` (demo/demo.ts) is one CommonJS file beside it, dist/demo.js: it starts the tool as
// processes, so its own start-up matters little.
import { Buffer } from "node:buffer";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
export const OUTFILE = `${root}dist/flow-trigger-auth.js`;
/** `npm run demo` (demo/demo.ts). */
export const DEMO_OUTFILE = `${root}dist/demo.js`;

/** Leaves packages matching `filter` out of the bundle, loaded at run time with require(). */
function requireAtRuntime(filter) {
  return {
    name: "require-at-runtime",
    setup(b) {
      // An import becomes a small CommonJS module whose require() (left to run time) loads the package.
      b.onResolve({ filter }, (args) =>
        args.namespace === "require-at-runtime"
          ? { path: args.path, external: true }
          : { path: args.path, namespace: "require-at-runtime" },
      );
      b.onLoad({ filter: /.*/, namespace: "require-at-runtime" }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: "js",
      }));
    },
  };
}

/**
 * Builds the tool and the demo. The tool, from cli/bin.ts: the code in content-named ES modules (dist/cli-<hash>.mjs and
 * dist/chunks/), then dist/flow-trigger-auth.js, the small CommonJS program that imports it. The
 * modules never change once written (a new build writes new names); the program is replaced in one
 * step (written aside, then renamed), and only when it changed: a test suite running beside another,
 * or a tool already running, never sees half a tool. The demo: dist/demo.js, replaced the same way.
 */
export async function buildTool() {
  await buildCli();
  await buildDemo();
}

/** The tool: content-named modules, then the program that imports them. */
async function buildCli() {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { cli: "cli/bin.ts" },
    outdir: `${root}dist`,
    entryNames: "[name]-[hash]",
    chunkNames: "chunks/[name]-[hash]",
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    platform: "node",
    target: "node20",
    format: "esm",
    // The Pulumi SDK and providers are CommonJS packages with directory imports that ES module
    // resolution refuses: they are loaded with require() from node_modules, as before.
    plugins: [requireAtRuntime(/^@pulumi\//)],
    // CommonJS dependencies bundled into ES modules still call require() and read __dirname.
    banner: {
      js:
        'import{createRequire as __cr}from"node:module";import{fileURLToPath as __fu}from"node:url";' +
        'import{dirname as __dn}from"node:path";const require=__cr(import.meta.url);' +
        "const __filename=__fu(import.meta.url);const __dirname=__dn(__filename);",
    },
    minify: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "warning",
    write: false,
  });
  let entry;
  for (const file of result.outputFiles) {
    if (dirname(file.path) === `${root}dist` && basename(file.path).startsWith("cli-")) entry = file.path;
    const existing = await readFile(file.path).catch(() => undefined);
    if (existing && Buffer.compare(existing, file.contents) === 0) continue;
    await mkdir(dirname(file.path), { recursive: true });
    const aside = `${file.path}.${process.pid}.tmp`;
    await writeFile(aside, file.contents);
    await rename(aside, file.path);
  }
  const program = Buffer.from(
    `#!/usr/bin/env node\n"use strict";\nimport(${JSON.stringify(`./${basename(entry)}`)});\n`,
  );
  const current = await readFile(OUTFILE).catch(() => undefined);
  if (current && Buffer.compare(current, program) === 0) return;
  const aside = `${OUTFILE}.${process.pid}.tmp`;
  await writeFile(aside, program, { mode: 0o755 });
  await rename(aside, OUTFILE);
}

/** The demo in one CommonJS file, replaced in one step and only when it changed. */
async function buildDemo() {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["demo/demo.ts"],
    outfile: DEMO_OUTFILE,
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
    write: false,
  });
  const [output] = result.outputFiles;
  const current = await readFile(DEMO_OUTFILE).catch(() => undefined);
  if (current && Buffer.compare(current, output.contents) === 0) return;
  await mkdir(`${root}dist`, { recursive: true });
  const aside = `${DEMO_OUTFILE}.${process.pid}.tmp`;
  await writeFile(aside, output.contents, { mode: 0o755 });
  await rename(aside, DEMO_OUTFILE);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildTool();
