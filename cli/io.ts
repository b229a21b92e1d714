/**
 * Everything a command touches outside itself, passed in: environment, output streams, the clock,
 * sleep and timers, HTTP and child processes. The tool's entry point gives the real ones; tests give
 * fakes and run commands in-process.
 */
import { execFile } from "node:child_process";
import type { TokenCredential } from "@azure/identity";
import { realTimer, type Timer } from "../smoke/http";

/** What a finished child process left. */
export interface ExecResult {
  /** Exit code; null when it was killed (timeout) or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why it produced no usable result: it could not start (`ENOENT`...), timed out, or printed too much. */
  failure?: "not-found" | "timeout" | "too-much-output" | "failed-to-start";
}

/** The outside world of a command. */
export interface Io {
  /** Environment variables, e.g. FLOW_CLIENT_SECRET, AZURE_*, INIT_CWD. */
  env: Readonly<Record<string, string | undefined>>;
  /** Standard output; the runner redacts what goes through it. */
  stdout(text: string): void;
  /** Standard error; the runner redacts what goes through it. */
  stderr(text: string): void;
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Waits `ms` (retries and back-off). */
  sleep(ms: number): Promise<void>;
  /** A signal that aborts after `ms` (request timeouts). */
  timer(ms: number): Timer;
  /** A number in [0, 1) (back-off jitter). */
  random(): number;
  /** Every HTTP request of the command (trigger, Entra, Key Vault). */
  fetch: typeof fetch;
  /** Runs a program (the Pulumi CLI) with a time limit and an output limit. */
  exec(
    file: string,
    args: readonly string[],
    limits: { timeoutMs: number; maxBytes: number },
  ): Promise<ExecResult>;
  /** The directory relative paths are resolved against: where the user typed the command. */
  cwd: string;
  /**
   * The ambient Azure credential for Key Vault reads; default `DefaultAzureCredential` (az login,
   * environment, workload or managed identity), built on {@link fetch}.
   */
  azureCredential?: TokenCredential;
}

/** The real world, for the tool's entry point. */
export function processIo(): Io {
  return {
    env: process.env,
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
    timer: realTimer,
    random: () => Math.random(),
    fetch: (input, init) => fetch(input, init),
    exec: execProcess,
    // `npm run` starts commands in the package root and keeps the caller's directory in INIT_CWD.
    cwd: process.env.INIT_CWD ?? process.cwd(),
  };
}

/** Runs `file` without a shell; never rejects. */
export function execProcess(
  file: string,
  args: readonly string[],
  limits: { timeoutMs: number; maxBytes: number },
): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      [...args],
      { timeout: limits.timeoutMs, maxBuffer: limits.maxBytes, killSignal: "SIGKILL", windowsHide: true },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: string | number }) | null;
        if (!e) return resolve({ code: 0, stdout, stderr });
        const failure =
          e.code === "ENOENT"
            ? "not-found"
            : e.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER"
              ? "too-much-output"
              : e.killed
                ? "timeout"
                : typeof e.code === "number"
                  ? undefined
                  : "failed-to-start";
        resolve({
          code: typeof e.code === "number" ? e.code : null,
          stdout,
          stderr,
          ...(failure ? { failure } : {}),
        });
      },
    );
  });
}
