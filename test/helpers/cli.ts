/**
 * Runs the tool's commands in-process, the way the bin does (`main(argv, io)`), with a fake world:
 * a scripted Pulumi CLI that prints fixture outputs, captured output, a fixed clock unless told.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { main } from "../../cli/main";
import { reachVault, type FakeVault } from "../../standin/key-vault";
import { FakeIo } from "./fake-io";

/** The repository root. */
export const ROOT = resolve(__dirname, "../..");

/** A fixture's absolute path, e.g. `fixture("outputs/dev.json")`. */
export function fixture(name: string): string {
  return join(ROOT, "test/fixtures", name);
}

/** What a finished command left behind. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  io: FakeIo;
}

/** A fake `pulumi`: `pulumi stack output --json --stack NAME` prints `stacks[NAME]`'s file. */
export interface FakePulumi {
  stacks: Record<string, string>;
  /** Every command line the fake was called with, one string each (without `pulumi`). */
  calls(): Promise<string[]>;
  readonly log: string[];
}

/** A fake Pulumi CLI; an unknown stack fails the way the real CLI does (exit 255, message on stderr). */
export async function fakePulumi(stacks: Record<string, string>): Promise<FakePulumi> {
  const log: string[] = [];
  return { stacks, log, calls: async () => [...log] };
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** The Pulumi CLI the command finds. */
  pulumi?: FakePulumi;
  /** Environment variables. */
  env?: Record<string, string | undefined>;
  /** The directory the command was typed in (default a fresh temporary one). */
  cwd?: string;
  /** "Now" on the fake clock, ISO 8601. */
  now?: string;
  /** Anything else the world needs: routes to fake servers, an Azure credential... */
  setup?: (io: FakeIo) => void;
}

/** Runs `flow-trigger-auth <command> <args>` in-process; resolves when it ends, whatever the code. */
export async function runCli(command: string, args: string[], options: RunOptions = {}): Promise<CliResult> {
  const io = new FakeIo(options.env ?? {}, options.cwd);
  if (options.now) io.nowMs = Date.parse(options.now);
  options.setup?.(io);
  const pulumi = options.pulumi;
  if (pulumi) {
    for (const [stack, file] of Object.entries(pulumi.stacks)) {
      io.pulumi.set(stack, (argv) => {
        pulumi.log.push(argv.join(" "));
        return { stdout: readFileSync(file, "utf8") };
      });
    }
  }
  const code = await main([command, ...args], io);
  if (pulumi) {
    for (const call of io.execs) {
      const line = call.slice(1).join(" ");
      if (!pulumi.log.includes(line)) pulumi.log.push(line);
    }
  }
  return { code, stdout: io.stdoutText, stderr: io.stderrText, io };
}

/** `rotation-status --live --json` of test/fixtures/outputs/dev.json against `vault`, at a fixed time. */
export function runLiveRotationStatus(vault: FakeVault, setup?: (io: FakeIo) => void): Promise<CliResult> {
  return runCli("rotation-status", ["--outputs", fixture("outputs/dev.json"), "--live", "--json"], {
    now: "2026-11-22T09:30:00Z",
    setup: (io) => {
      reachVault(io, vault);
      setup?.(io);
    },
  });
}
