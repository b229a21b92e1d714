/**
 * Everything a command touches outside itself, passed in: environment, output streams, the clock,
 * sleep and timers, HTTP and child processes. The tool's entry point gives the real ones; tests give
 * fakes and run commands in-process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { TokenCredential } from "@azure/identity";
import { realTimer, type Timer } from "./http";

/** What a finished child process left. */
export interface ExecResult {
  /** Exit code; null when it was killed (timeout) or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  /**
   * Why it produced no usable result: it could not start (`ENOENT`...), timed out, printed too much,
   * or the command was interrupted (SIGINT, SIGTERM). In every case but the first, it and whatever it
   * started were ended.
   */
  failure?: "not-found" | "timeout" | "too-much-output" | "failed-to-start" | "interrupted";
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
  /**
   * Runs a program (the Pulumi CLI) with a time limit and an output limit; when either is reached, or
   * the command is interrupted, the program and everything it started are ended.
   */
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
  /**
   * Aborts when the user interrupts the command (SIGINT, SIGTERM); its `reason` is the signal's name.
   * The runner then prints the interrupted outcome (exit 130 or 143) and nothing else.
   */
  interrupted?: AbortSignal;
}

/** The real world, for the tool's entry point; `interrupted` aborts on SIGINT or SIGTERM (cli/main.ts). */
export function processIo(interrupted?: AbortSignal): Io {
  return {
    env: process.env,
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
    timer: realTimer,
    random: () => Math.random(),
    fetch: (input, init) => fetch(input, init),
    exec: (file, args, limits) => execProcess(file, args, limits, interrupted),
    // `npm run` starts commands in the package root and keeps the caller's directory in INIT_CWD.
    cwd: process.env.INIT_CWD ?? process.cwd(),
    ...(interrupted ? { interrupted } : {}),
  };
}

/** The programs this process started and has not seen end (each the leader of its process group). */
const running = new Set<ChildProcess>();

/** On POSIX every program starts as the leader of a process group of its own, which ends as a whole. */
const GROUPS = process.platform !== "win32";

/**
 * Ends `child` and, on POSIX, every process it started (its process group), at once: also when `child`
 * itself has exited and something it started lives on.
 */
function endGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    if (GROUPS) process.kill(-child.pid, "SIGKILL");
    else child.kill("SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * Runs `file` without a shell, in a process group of its own; never rejects. At the time limit, at
 * `maxBytes` of output, or when `interrupted` aborts, the whole group is ended (SIGKILL): a grandchild
 * holding the output pipe open cannot keep the command waiting.
 */
export function execProcess(
  file: string,
  args: readonly string[],
  limits: { timeoutMs: number; maxBytes: number },
  interrupted?: AbortSignal,
): Promise<ExecResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(file, [...args], {
        detached: GROUPS,
        stdio: ["ignore", "pipe", "pipe"],
        windowsHide: true,
      });
    } catch {
      resolve({ code: null, stdout: "", stderr: "", failure: "failed-to-start" });
      return;
    }
    running.add(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    let failure: ExecResult["failure"];
    let done = false;
    const finish = (result: ExecResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      interrupted?.removeEventListener("abort", onInterrupt);
      running.delete(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve(result);
    };
    const text = () => ({
      stdout: Buffer.concat(stdout).toString("utf8"),
      stderr: Buffer.concat(stderr).toString("utf8"),
    });
    const end = (why: NonNullable<ExecResult["failure"]>) => {
      failure ??= why;
      endGroup(child);
      // It exited already and something that left its group still holds a pipe: done anyway.
      if (child.exitCode !== null || child.signalCode !== null) finish({ code: null, ...text(), failure });
    };
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) end("too-much-output");
      else into.push(chunk);
    };
    child.stdout?.on("data", collect(stdout));
    child.stderr?.on("data", collect(stderr));
    const timer = setTimeout(() => end("timeout"), limits.timeoutMs);
    const onInterrupt = () => end("interrupted");
    if (interrupted?.aborted) end("interrupted");
    else interrupted?.addEventListener("abort", onInterrupt, { once: true });
    child.on("error", (err: NodeJS.ErrnoException) => {
      finish({ code: null, ...text(), failure: err.code === "ENOENT" ? "not-found" : "failed-to-start" });
    });
    // Ended by us: done when it exits, whatever still holds its pipes. Otherwise wait for all its
    // output ('close'); the time limit still applies if something it started keeps a pipe open.
    child.on("exit", () => {
      if (failure) finish({ code: null, ...text(), failure });
    });
    child.on("close", (code) => {
      finish({ code: failure ? null : code, ...text(), ...(failure ? { failure } : {}) });
    });
  });
}

/**
 * Every process descending from `root`, read from /proc (Linux); none elsewhere. For the programs
 * libraries start themselves (the Azure CLI behind the ambient credential), which no process group of
 * ours holds.
 */
export function descendantsOf(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // it ended meanwhile
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/**
 * Ends every program this process started and whatever those started: the process groups of
 * {@link execProcess}, then (Linux) any other descendant. For interrupts and for the tool's exit.
 */
export function endChildren(): void {
  for (const child of running) endGroup(child);
  for (const pid of descendantsOf(process.pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
