import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(__dirname, "..");

describe("what the Pulumi CLI loads", () => {
  it("finds the program: Pulumi.yaml names the nodejs runtime and package.json's main is an existing file", () => {
    const project = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8"));
    expect(project.name).toBe("flow-trigger-auth");
    expect(project.runtime.name).toBe("nodejs");
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.type).not.toBe("module");
    expect(existsSync(join(ROOT, project.main ?? pkg.main))).toBe(true);
  });

  it("runs index.ts through ts-node with the project's tsconfig, as pulumi up does", async () => {
    // Without the engine, the run gets as far as config validation: proof that every module loads.
    // pulumi up also type-checks through ts-node; `npm run typecheck` (tsc, same tsconfig, every file
    // it includes, no global .d.ts of our own) checks a superset of that, so this run only transpiles.
    const { stderr } = await new Promise<{ stderr: string }>((done) =>
      execFile(
        process.execPath,
        ["-r", "ts-node/register", "index.ts"],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            TS_NODE_TRANSPILE_ONLY: "true",
            PULUMI_CONFIG: JSON.stringify({ "flow-trigger-auth:callers": "[]" }),
          },
          timeout: 60_000,
        },
        (_err, _stdout, stderr) => done({ stderr }),
      ),
    );
    expect(stderr).not.toContain("TSError");
    expect(stderr).toContain("flow-trigger-auth:callers: must list at least 1 caller");
  });
});
