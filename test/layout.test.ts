/**
 * The layout's one rule, checked on every source file (docs/architecture.md#layout): an area imports
 * only areas below it in LAYERS (or itself), so nothing imports upwards; one command never imports
 * another's folder; kinds/ and fields/ are zod only; and what the tool loads at start, following its
 * static imports from cli/main.ts, never reaches the Pulumi SDK (only `validate` loads it, lazily).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli";

/** The areas from top to bottom: each may import those below it. */
const LAYERS = [
  ["index.ts", "ops/"],
  // npm run demo: drives the built tool, the stand-ins, and the audit and the mocked program in-process.
  ["demo/"],
  ["cli/"],
  ["commands/"],
  ["engine/"],
  ["program/"],
  ["components/"],
  ["lib/"],
  ["config/"],
  ["outputs.ts"],
  ["kinds/"],
  ["fields/"],
  ["trigger-url.ts"],
  ["rotation.ts"],
  ["naming.ts"],
  ["dates.ts"],
  ["clouds.ts"],
  ["printable.ts"],
  // Stand-ins of the outside services, below everything: they share no code with what they stand in for.
  ["standin/"],
];

/** The only areas that may import standin/ (besides the tests): the product never talks to a stand-in. */
const STANDIN_USERS = ["demo/"];

/** Folders that are not the program or the tool: tests, benchmarks, the build script. */
const NOT_SOURCE = new Set([
  "node_modules",
  "dist",
  "test",
  "bench",
  "scripts",
  ".git",
  ".scratch",
  ".pulumi-state",
]);

/** Every source file (TypeScript, not a test), relative to the root. */
function sources(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return NOT_SOURCE.has(name) ? [] : sources(path);
    return name.endsWith(".ts") && !name.endsWith(".test.ts") && !name.endsWith(".d.ts")
      ? [relative(ROOT, path)]
      : [];
  });
}

/** An import of a file: what it names, and whether it is loaded at once (static) or when called (`import()`). */
interface Import {
  specifier: string;
  lazy: boolean;
}

/** The modules a file imports: static imports and exports, `import()`, `import("...").Type`. */
function importsOf(text: string): Import[] {
  const found: Import[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^"';]*?\bfrom\s*["']([^"']+)["']/gm))
    found.push({ specifier: m[1], lazy: /^\s*(?:import|export)\s+type\b/.test(m[0]) });
  for (const m of text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g))
    found.push({ specifier: m[1], lazy: true });
  return found;
}

/** The file a relative specifier of `from` names, relative to the root. */
function resolveFrom(from: string, specifier: string): string {
  const base = normalize(join(dirname(from), specifier));
  for (const candidate of [`${base}.ts`, join(base, "index.ts"), base]) {
    try {
      if (statSync(join(ROOT, candidate)).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return base;
}

/** The layer of a file (its index in LAYERS), or -1 when no layer holds it. */
function layerOf(file: string): number {
  return LAYERS.findIndex((layer) =>
    layer.some((area) => (area.endsWith("/") ? file.startsWith(area) : file === area)),
  );
}

/** Its command's folder, e.g. `commands/smoke/`, or undefined. */
const commandOf = (file: string) => /^commands\/[^/]+\//.exec(file)?.[0];

/** Every way `files` break the layout, one line each. */
function layoutProblems(files: readonly string[], read: (file: string) => string): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const layer = layerOf(file);
    if (layer < 0) {
      problems.push(
        `${file}: in no layer of LAYERS (test/layout.test.ts): give its folder a place in the order`,
      );
      continue;
    }
    for (const { specifier } of importsOf(read(file))) {
      if (!specifier.startsWith(".")) {
        if (/^(kinds|fields)\//.test(file) && specifier !== "zod")
          problems.push(`${file} imports ${specifier}: kinds/ and fields/ are zod only`);
        continue;
      }
      const target = resolveFrom(file, specifier);
      const targetLayer = layerOf(target);
      if (
        target.startsWith("standin/") &&
        !file.startsWith("standin/") &&
        !STANDIN_USERS.some((a) => file.startsWith(a))
      )
        problems.push(
          `${file} imports ${target}: only ${STANDIN_USERS.join(", ")} and tests use the stand-ins`,
        );
      if (targetLayer >= 0 && targetLayer < layer)
        problems.push(`${file} imports ${target}, a layer above it (${LAYERS[targetLayer].join(", ")})`);
      if (commandOf(file) && commandOf(target) && commandOf(file) !== commandOf(target))
        problems.push(
          `${file} imports ${target}: one command never imports another's folder (move it to lib/)`,
        );
    }
  }
  return problems;
}

/** The packages reached from `entry` through static imports only (what loads when the file loads). */
function staticPackages(entry: string, read: (file: string) => string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { specifier, lazy } of importsOf(read(file))) {
      if (lazy) continue;
      if (specifier.startsWith(".")) visit(resolveFrom(file, specifier));
      else packages.add(specifier);
    }
  };
  visit(entry);
  return packages;
}

const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

describe("the layout", () => {
  it("nothing imports upwards, no command imports another, kinds/ and fields/ are zod only", () => {
    const files = sources();
    expect(files.length).toBeGreaterThan(50);
    expect(layoutProblems(files, read)).toEqual([]);
  });

  it("the check finds an upward import, a command reaching into another, a folder with no place, and the product using a stand-in", () => {
    const fake: Record<string, string> = {
      "lib/runner.ts": 'import { x } from "../commands/smoke/smoke";\n',
      "commands/audit/audit.ts": 'const { y } = await import("../smoke/credentials");\n',
      "kinds/secret.ts": 'import * as pulumi from "@pulumi/pulumi";\n',
      "newfolder/thing.ts": "",
      "lib/http.ts": 'import { createStandin } from "../standin/standin";\n',
    };
    expect(layoutProblems(Object.keys(fake), (f) => fake[f])).toEqual([
      "lib/runner.ts imports commands/smoke/smoke.ts, a layer above it (commands/)",
      "commands/audit/audit.ts imports commands/smoke/credentials.ts: one command never imports another's folder (move it to lib/)",
      "kinds/secret.ts imports @pulumi/pulumi: kinds/ and fields/ are zod only",
      "newfolder/thing.ts: in no layer of LAYERS (test/layout.test.ts): give its folder a place in the order",
      "lib/http.ts imports standin/standin.ts: only demo/ and tests use the stand-ins",
    ]);
  });

  it("the tool loads no Pulumi SDK at start: only validate loads it, when it runs", () => {
    const packages = [...staticPackages("cli/main.ts", read)];
    expect(packages.filter((p) => p.startsWith("@pulumi/"))).toEqual([]);
    // validate does reach it, through its lazy load of the offline engine.
    expect([...staticPackages("engine/offline-engine.ts", read)]).toContain("@pulumi/pulumi");
  });

  it("a command's --help (and a plain smoke run) loads no schema library and no SDK: they load when the run needs them", () => {
    for (const command of ["smoke", "handoff", "rotation-status", "validate", "audit"]) {
      const heavy = [...staticPackages(`commands/${command}/${command}.ts`, read)].filter((p) =>
        /^(zod|yaml|@pulumi\/|@azure\/)/.test(p),
      );
      expect(heavy, command).toEqual([]);
    }
  });
});
