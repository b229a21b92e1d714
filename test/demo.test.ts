/**
 * `npm run demo` as a newcomer runs it: `npm run -s demo` as a process, offline, with a HOME and a
 * TMPDIR of its own, so that what it leaves behind can be seen. Asserts on exit codes and on the demo's
 * own step lines, never on the wording of the tool's commands, and never on time.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { constants as osConstants, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/cli";

/** A fresh HOME, TMPDIR and npm cache (npm's own log goes to its cache, as for any `npm run`). */
function sandbox() {
  const base = mkdtempSync(join(tmpdir(), "demo-test-"));
  const dirs = { home: join(base, "home"), tmp: join(base, "tmp"), npmCache: join(base, "npm-cache") };
  for (const d of Object.values(dirs)) mkdirSync(d);
  return dirs;
}

/** Starts `npm run -s demo -- args`; `lines` holds its output so far; `exited` its exit code and output. */
function startDemo(args: string[], box: ReturnType<typeof sandbox>) {
  const child = spawn("npm", ["run", "-s", "demo", "--", ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: box.home,
      TMPDIR: box.tmp,
      npm_config_cache: box.npmCache,
      npm_config_update_notifier: "false",
      // npm 11 on Node 22 keeps a compile cache of its own in TMPDIR (module.enableCompileCache): npm's
      // file, as its log is, not the demo's.
      NODE_DISABLE_COMPILE_CACHE: "1",
    } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const take = (chunk: Buffer) => {
    output += chunk.toString();
    for (const w of waiters.filter((w) => w.pattern.test(output))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  // The status a shell reports: npm ends itself by the signal it got (code null), the shell says 128 + its number.
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on("close", (code, signal) =>
      resolve({ code: code ?? (signal ? 128 + osConstants.signals[signal] : null), output }),
    ),
  );
  /** Resolves once the output matches `pattern` (or the demo ended: the test then fails on what it printed). */
  const seen = (pattern: RegExp) =>
    Promise.race([
      new Promise<void>((resolve) => (pattern.test(output) ? resolve() : waiters.push({ pattern, resolve }))),
      exited.then(() => undefined),
    ]);
  return { child, exited, seen, output: () => output };
}

/** Everything `git status` knows of the repository, ignored files included. */
const gitStatus = () =>
  execFileSync("git", ["status", "--porcelain", "--ignored"], { cwd: ROOT, encoding: "utf8" });

/** The steps of a demo's output: each `[n/N] title` with the lines up to the next step. */
function steps(output: string): string[] {
  return output.split(/^(?=\[\d+\/\d+\] )/m).slice(1);
}

/** PIDs of processes whose working directory is under `folder` (what the demo started runs there). */
function processesIn(folder: string): number[] {
  if (!existsSync("/proc")) return [];
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/cwd`).startsWith(folder);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** True when nothing listens on 127.0.0.1:`port` any more. */
const closed = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(true));
  });

describe("npm run demo", () => {
  it("runs every step as expected, offline, and leaves nothing behind: not in the repository, the home or the temporary folder", async () => {
    const box = sandbox();
    const before = gitStatus();
    const r = await startDemo([], box).exited;
    expect(r.code, r.output).toBe(0);

    const found = steps(r.output);
    expect(found.map((s) => s.split("\n")[0].replace(/:.*/, ""))).toEqual([
      "[1/7] validate",
      "[2/7] outputs",
      "[3/7] handoff",
      "[4/7] stand-ins",
      "[5/7] smoke as erp, a caller flow approvals allows",
      "[6/7] smoke as crm, which flow approvals does not allow",
      "[7/7] audit",
    ]);
    // Each step behaved as expected, with the exit code it expected, and says what Azure does instead.
    for (const s of found) {
      expect(s).toMatch(/^ {2}ok: /m);
      expect(s).toMatch(/^ {2}In Azure: /m);
    }
    expect(found[0]).toContain("(exit 0, as expected)");
    expect(found[4]).toContain("(exit 0, as expected)");
    expect(found[5]).toContain("(exit 1, as expected)");
    expect(found[6]).toContain("(exit 0, as expected)");
    expect(r.output).toMatch(/^demo: all 7 steps behaved as expected, in [\d.]+ s\.$/m);
    // No token or secret in what it printed.
    expect(r.output).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);

    expect(gitStatus()).toBe(before);
    expect(readdirSync(box.home)).toEqual([]);
    expect(readdirSync(box.tmp)).toEqual([]);
  }, 240_000);

  it("on Ctrl-C (SIGINT) stops the stand-ins and every process it started, removes its folder, and exits 130", async () => {
    const box = sandbox();
    const demo = startDemo([], box);
    await demo.seen(/Entra ID and Power Automate at https:\/\/127\.0\.0\.1:(\d+)/);
    const port = Number(/at https:\/\/127\.0\.0\.1:(\d+)/.exec(demo.output())?.[1]);
    const folder = /working in (\S+)/.exec(demo.output())?.[1] ?? "";
    expect(port, demo.output()).toBeGreaterThan(0);
    expect(folder.startsWith(box.tmp)).toBe(true);
    // As a terminal's Ctrl-C: SIGINT to npm and what it started in its process group (the demo).
    for (const pid of foregroundOf(demo.child.pid!)) process.kill(pid, "SIGINT");
    const r = await demo.exited;
    expect(r.code, r.output).toBe(130);
    expect(r.output).toMatch(
      /^demo: interrupted \(SIGINT\); stopped everything it started and removed its folder\.$/m,
    );
    expect(r.output).not.toContain("demo: all 7 steps");
    expect(await closed(port)).toBe(true);
    expect(processesIn(folder)).toEqual([]);
    expect(readdirSync(box.tmp)).toEqual([]);
    expect(readdirSync(box.home)).toEqual([]);
  }, 240_000);

  it("a step that does not behave as expected stops the demo with exit 1 and removes its folder; --keep keeps it", async () => {
    const box = sandbox();
    const r = await startDemo(["--stack", "nosuch"], box).exited;
    expect(r.code, r.output).toBe(1);
    const [first] = steps(r.output);
    expect(first).toMatch(/^\[1\/7\] validate/);
    expect(first).toMatch(/^ {2}FAILED: the stack file is valid: exit 2, expected 0$/m);
    expect(r.output).not.toContain("[2/7]");
    expect(readdirSync(box.tmp)).toEqual([]);

    const kept = await startDemo(["--stack", "nosuch", "--keep"], box).exited;
    expect(kept.code).toBe(1);
    const folder = /working in (\S+)/.exec(kept.output)?.[1] ?? "";
    expect(readdirSync(box.tmp)).toEqual([folder.slice(box.tmp.length + 1)]);
    expect(readdirSync(box.home)).toEqual([]);
  });

  it("a stack of one caller and no flows: a flow that allows it, an app of the tenant it refuses, no audit", async () => {
    const box = sandbox();
    const dir = mkdtempSync(join(tmpdir(), "demo-stack-"));
    writeFileSync(
      join(dir, "Pulumi.solo.yaml"),
      [
        "config:",
        "  azure-native:location: westeurope",
        "  azure-native:subscriptionId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "  flow-trigger-auth:callers:",
        "    - name: intake",
        "      secretReaders: [{ objectId: 0d9e8f7a-2222-4b3c-8d4e-5f6a7b8c9d0e, type: ServicePrincipal }]",
      ].join("\n"),
    );
    const r = await startDemo(["--stack", "solo", "--dir", dir], box).exited;
    expect(r.code, r.output).toBe(0);
    const found = steps(r.output);
    expect(found[4]).toMatch(/^\[5\/7\] smoke as intake, a caller flow demo allows/);
    expect(found[4]).toContain("(exit 0, as expected)");
    expect(found[5]).toMatch(/^\[6\/7\] smoke as an app of the tenant, which flow demo does not allow/);
    expect(found[5]).toContain("(exit 1, as expected)");
    expect(found[6]).toMatch(/^ {2}skipped: the stack names no flows/m);
    expect(readdirSync(box.tmp)).toEqual([]);
  }, 240_000);

  it("refuses an unknown option with exit 2, naming it, and starts nothing", async () => {
    const box = sandbox();
    const r = await startDemo(["--stak", "dev"], box).exited;
    expect(r.code).toBe(2);
    expect(r.output).toContain("--stak");
    expect(readdirSync(box.tmp)).toEqual([]);
  });
});

/**
 * The PIDs of the processes `pid` started, and theirs, that are in its process group: what a terminal's
 * Ctrl-C reaches (the demo's own children run in groups of their own: the demo must end them).
 */
function foregroundOf(pid: number): number[] {
  if (!existsSync("/proc")) return [pid];
  const procs = new Map<number, { ppid: number; pgrp: number }>();
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      procs.set(Number(p), { ppid: Number(ppid), pgrp: Number(pgrp) });
    } catch {
      // ended meanwhile
    }
  }
  const group = procs.get(pid)?.pgrp;
  const found = [pid];
  for (let i = 0; i < found.length; i++)
    for (const [child, { ppid }] of procs) if (ppid === found[i] && !found.includes(child)) found.push(child);
  return found.filter((p) => procs.get(p)?.pgrp === group);
}
