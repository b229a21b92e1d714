/**
 * What the post-deploy commands (`handoff`, `rotation-status`) share: where the stack outputs come
 * from (`--outputs FILE` / `--stack NAME`, both repeatable, in the order given), and one way to turn
 * errors into exit codes: a usage or input problem is exit 2 with a message naming the option.
 */
import { basename } from "node:path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import {
  readStackOutputsFile,
  readStackOutputsFromPulumi,
  type StackOutputs,
  StackOutputsError,
} from "./stack-outputs";

/** Bad arguments or input the user has to fix (exit 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Where one set of stack outputs comes from. */
export type OutputsSource = { kind: "file"; file: string } | { kind: "stack"; stack: string };

/** One environment's outputs, with the name it is reported under. */
export interface LoadedOutputs {
  /** `dev` for `--stack dev`; the file name without `.json` for `--outputs outputs/dev.json`. */
  label: string;
  /** Where they came from, for messages: `stack dev` or `outputs/dev.json`. */
  source: string;
  outputs: StackOutputs;
}

/**
 * Adds the repeatable `--outputs FILE` and `--stack NAME` options to `program`; the returned array
 * fills, in command-line order, as commander parses.
 */
export function addOutputsOptions(program: Command): OutputsSource[] {
  const sources: OutputsSource[] = [];
  program
    .option(
      "--outputs <file>",
      "stack outputs saved with `pulumi stack output --json > FILE` (repeatable: one section per file)",
      (file: string) => {
        sources.push({ kind: "file", file });
        return file;
      },
    )
    .option(
      "--stack <name>",
      "ask the Pulumi CLI for this stack's outputs (repeatable: one section per stack)",
      (stack: string) => {
        if (!/^[A-Za-z0-9_./-]+$/.test(stack)) {
          throw new InvalidArgumentError("must be a stack name such as dev or org/project/dev");
        }
        sources.push({ kind: "stack", stack });
        return stack;
      },
    );
  return sources;
}

/** Reads every source, in order; a source that is not stack outputs throws {@link StackOutputsError}. */
export async function loadOutputs(sources: readonly OutputsSource[]): Promise<LoadedOutputs[]> {
  if (sources.length === 0) {
    throw new UsageError("give --outputs FILE (saved with `pulumi stack output --json`) or --stack NAME");
  }
  const loaded: LoadedOutputs[] = [];
  for (const s of sources) {
    if (s.kind === "file") {
      loaded.push({
        label: labelOfFile(s.file),
        source: s.file,
        outputs: await readStackOutputsFile(s.file),
      });
    } else {
      loaded.push({
        label: s.stack,
        source: `stack ${s.stack}`,
        outputs: await readStackOutputsFromPulumi(s.stack),
      });
    }
  }
  return loaded;
}

function labelOfFile(file: string): string {
  return basename(file).replace(/\.json$/i, "");
}

/** Parses `--warn-days`-style values: a whole number of days, 0 or more. */
export function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw new InvalidArgumentError("must be a whole number of days, 0 or more, e.g. 30");
  return Number(value.trim());
}

/**
 * Parses `--now`: an ISO 8601 date (midnight UTC) or time with `Z` or an offset, e.g.
 * `2026-11-22T09:30:00Z`; a time without a zone would depend on the machine's time zone.
 */
export function isoInstant(value: string): number {
  const ms = Date.parse(value);
  if (
    !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value) ||
    Number.isNaN(ms)
  ) {
    throw new InvalidArgumentError("must be an ISO 8601 time with Z or an offset, e.g. 2026-11-22T09:30:00Z");
  }
  return ms;
}

/**
 * Makes commander report bad arguments as exit 2 (its message names the option and what is allowed)
 * and `--help` as exit 0, instead of exiting on its own.
 */
export function configureExits(program: Command): Command {
  return program.exitOverride().showHelpAfterError("(run with --help for every option)");
}

/**
 * Runs a command's `main`, mapping errors to exit codes: usage and bad input are 2, anything
 * unexpected is 2 too (with its message only: no stack traces that could carry request details).
 * Sets `process.exitCode` rather than exiting, so pending output is flushed.
 */
export async function runMain(name: string, main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed its message (or the help text).
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError || err instanceof StackOutputsError) {
      process.stderr.write(`${name}: ${message}\n`);
    } else {
      process.stderr.write(`${name}: unexpected error: ${message}\n`);
    }
    process.exitCode = 2;
  }
}
