/**
 * Runs the post-deploy commands as real processes (`ts-node --transpile-only ops/<cli>.ts ...`), the
 * way `npm run` does, and fakes the Pulumi CLI with a script on PATH that prints fixture outputs.
 * No network: everything stays on this machine.
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";

/** The repository root (commands run from here, as `npm run` does). */
export const ROOT = resolve(__dirname, "../..");

/** A fixture's absolute path, e.g. `fixture("outputs/dev.json")`. */
export function fixture(name: string): string {
  return join(ROOT, "test/fixtures", name);
}

/** What a finished command left behind. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** A directory put first on PATH (e.g. one holding a fake `pulumi`). */
  pathPrepend?: string;
}

/** Runs `ops/<script>-cli.ts` with `args`; resolves when it exits, whatever the code. */
export function runCli(
  script: "handoff" | "rotation-status" | "validate",
  args: string[],
  options: RunOptions = {},
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  if (options.pathPrepend) env.PATH = `${options.pathPrepend}${delimiter}${process.env.PATH ?? ""}`;
  return new Promise((done) => {
    execFile(
      join(ROOT, "node_modules/.bin/ts-node"),
      ["--transpile-only", `ops/${script}-cli.ts`, ...args],
      { cwd: ROOT, env, timeout: 50_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** A fake `pulumi` on PATH: `pulumi stack output --json --stack NAME` prints `stacks[NAME]`'s file. */
export interface FakePulumi {
  /** The directory to put first on PATH. */
  dir: string;
  /** Every command line the fake was called with, one string each. */
  calls(): Promise<string[]>;
}

/** Writes a fake Pulumi CLI; an unknown stack fails the way the real CLI does (exit 255, message on stderr). */
export async function fakePulumi(stacks: Record<string, string>): Promise<FakePulumi> {
  const dir = await mkdtemp(join(tmpdir(), "fake-pulumi-"));
  const log = join(dir, "calls.log");
  const cases = Object.entries(stacks)
    .map(([name, file]) => `  ${shellQuote(name)}) cat ${shellQuote(file)} ;;`)
    .join("\n");
  const script = `#!/bin/sh
echo "$*" >> ${shellQuote(log)}
stack=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--stack" ]; then stack="$2"; fi
  shift
done
case "$stack" in
${cases}
  *) echo "error: no stack named '$stack' found" >&2; exit 255 ;;
esac
`;
  const bin = join(dir, "pulumi");
  await writeFile(bin, script, "utf8");
  await chmod(bin, 0o755);
  await writeFile(log, "", "utf8");
  return {
    dir,
    calls: async () => (await readFile(log, "utf8")).split("\n").filter(Boolean),
  };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
