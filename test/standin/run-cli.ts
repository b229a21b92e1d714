/**
 * Runs the REAL smoke CLI (`ts-node --transpile-only smoke/cli.ts`) as a child process, the way a
 * pipeline or `pulumi up` does, with a minimal environment: no inherited Azure settings, only what
 * the test passes (e.g. NODE_EXTRA_CA_CERTS, FLOW_CLIENT_SECRET).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";

/** Root of the project (where package.json is). */
export const PROJECT_DIR = join(__dirname, "..", "..");

const TS_NODE = join(PROJECT_DIR, "node_modules", ".bin", "ts-node");

/** What a child process did. */
export interface ProcessRun {
  /** Exit code (null when killed). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in ms. */
  elapsedMs: number;
}

/** Runs `script` (relative to the project) with ts-node; never rejects. */
export function runTsScript(
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
  timeoutMs = 60_000,
): Promise<ProcessRun> {
  const started = Date.now();
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    ...env,
  })) {
    if (v !== undefined) childEnv[k] = v;
  }
  return new Promise((resolve) => {
    execFile(
      TS_NODE,
      ["--transpile-only", script, ...args],
      { cwd: PROJECT_DIR, env: childEnv, timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
        resolve({ code, stdout, stderr, elapsedMs: Date.now() - started });
      },
    );
  });
}

/** Runs `smoke/cli.ts` with `args`. */
export function runSmokeCli(
  args: readonly string[],
  env: Record<string, string | undefined>,
  timeoutMs?: number,
): Promise<ProcessRun> {
  return runTsScript("smoke/cli.ts", args, env, timeoutMs);
}
