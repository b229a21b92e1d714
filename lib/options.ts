/**
 * Options shared by several commands, each with a parser that refuses bad values without repeating
 * them (values can be secrets pasted in the wrong place).
 */
import type { Command } from "commander";
import { parseIsoInstant } from "../dates";
import { STACK_NAME_PATTERN as STACK_NAME } from "../naming";
import type { OutputsSource } from "./stack-outputs";
import { parser } from "./runner";

/** What {@link addOutputsOptions} adds to a command's options. */
export interface OutputsOptions {
  /** `--outputs FILE` and `--stack NAME`, in command-line order. */
  sources: OutputsSource[];
  /** `--max-wait-s`: the budget of every outside call, in seconds. */
  maxWaitS: number;
}

/** Adds the repeatable `--outputs FILE` and `--stack NAME`, collected in command-line order as `sources`. */
export function addOutputsOptions(program: Command): void {
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
      parser((stack) => {
        if (!STACK_NAME.test(stack)) return undefined;
        sources.push({ kind: "stack", stack });
        return stack;
      }, "must be a stack name such as dev or org/project/dev"),
    );
  program.setOptionValue("sources", sources);
}

/** Adds `--max-wait-s N` (default `seconds`), the budget of the outside calls named in `calls`. */
export function maxWaitOption(program: Command, seconds: number, calls = "Pulumi CLI, Key Vault"): void {
  program.option(
    "--max-wait-s <n>",
    `time budget of every outside call (${calls}), in seconds`,
    parser(
      (v) => (/^\d+(\.\d+)?$/.test(v) && Number(v) <= 86_400 ? Number(v) : undefined),
      "must be a number of seconds from 0 to 86400",
    ),
    seconds,
  );
}

/** A whole number of days, 0 or more. */
export const wholeDays = parser(
  (v) => (/^\d{1,5}$/.test(v.trim()) ? Number(v.trim()) : undefined),
  "must be a whole number of days, 0 or more, e.g. 30",
);

/** What {@link isoInstant} takes, for option descriptions. */
export const ISO_INSTANT_HELP = "an ISO 8601 time with Z or an offset, e.g. 2026-11-22T09:30:00Z";

/**
 * An ISO 8601 time with `Z` or an offset, e.g. `2026-11-22T09:30:00Z`: a time (or a bare date)
 * without a zone would leave the reader to guess which day and hour is meant, and a day that does not
 * exist (`2027-02-30`) is refused, not rolled over.
 */
export const isoInstant = parser(
  (v) => parseIsoInstant(v, { dateOnly: false }),
  "must be an ISO 8601 time with Z or an offset, on a day that exists, e.g. 2026-11-22T09:30:00Z",
);
