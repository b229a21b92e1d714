/**
 * `flow-trigger-auth handoff`: the flow makers' sheet (docs/operations.md), from stack outputs saved
 * to files (`--outputs`) or asked of the Pulumi CLI (`--stack`), one section per environment. With
 * `--out`, it replaces a previous sheet only: never an input, a symbolic link or another file (unless
 * `--force` for the last), and never half-written.
 */
import { randomBytes } from "node:crypto";
import { lstat, realpath, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { Option, type Command } from "commander";
import type { OutputsSource } from "../../lib/stack-outputs";
import { FileReadError, readBoundedFile } from "../../lib/bounded-file";
import type { Io } from "../../lib/io";
import { addOutputsOptions, maxWaitOption, type OutputsOptions } from "../../lib/options";
import { EXIT } from "../../lib/exit";
import { runCommand, UsageError, type CommandSpec } from "../../lib/runner";

interface Options extends OutputsOptions {
  /** Absent: markdown (a given --format may conflict with --json; the default does not). */
  format?: "markdown" | "json";
  out?: string;
  force?: boolean;
  json?: boolean;
}

const spec: CommandSpec<Options> = {
  name: "handoff",
  examples: [
    "handoff --stack dev --stack prod --out handoff.md",
    "handoff --outputs dev.json --format json",
    "handoff --stack dev --json --quiet",
  ],
  configure(program: Command) {
    program
      .description(
        "Print the flow makers' hand-off sheet: per environment the tenant, token endpoint and scope, the principal " +
          "object IDs to paste into the trigger's Allowed users, and what each calling system's owner must do.",
      )
      .addOption(
        new Option("--format <format>", "sheet format (default: markdown)").choices(["markdown", "json"]),
      )
      .option("--out <file>", "write the sheet to FILE (replacing only a previous sheet) instead of stdout")
      .option("--force", "with --out: replace FILE even if it is not a previous hand-off sheet");
    addOutputsOptions(program);
    maxWaitOption(program, 120, "Pulumi CLI");
  },
  async run(o, ctx) {
    const { io } = ctx;
    // Without --out, --json and --format both say what stdout gets: markdown and JSON cannot both be it.
    if (ctx.json && o.format === "markdown" && !o.out) {
      throw new UsageError(
        "--json and --format markdown both choose what is printed on stdout: give one (or write the markdown sheet with --out FILE and get what was written as JSON)",
        "arguments",
      );
    }
    if (o.force && !o.out)
      throw new UsageError("--force goes with --out FILE: without --out nothing is replaced", "arguments");
    // Loaded only here: reading outputs needs their schema (zod), which --help does not.
    const [{ loadOutputs }, { buildHandoff, isSheet, renderJson, renderMarkdown, SHEET_KIND }] =
      await Promise.all([import("../../lib/stack-outputs"), import("./sheet")]);
    const environments = await loadOutputs(o.sources, io, ctx.startedAt + o.maxWaitS * 1000, ctx.progress);
    const sheet = buildHandoff(environments);
    // --json is about stdout; the file's format is --format's.
    if (!o.out)
      return {
        exitCode: EXIT.ok,
        json: sheet,
        text: o.format === "json" ? renderJson(sheet) : renderMarkdown(sheet),
      };
    const asJson = o.format === "json";
    const text = asJson ? renderJson(sheet) : renderMarkdown(sheet);
    const written = await writeSheet(o.out, text, o.sources, io, o.force ? undefined : isSheet);
    ctx.note(`handoff: wrote ${o.out} (${sheet.environments.length} environment(s))`);
    return {
      exitCode: EXIT.ok,
      json: {
        kind: SHEET_KIND,
        written,
        format: asJson ? "json" : "markdown",
        environments: sheet.environments.length,
      },
      text: "",
    };
  },
};

/** `flow-trigger-auth handoff <argv>`. */
export function handoff(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(spec, argv, io);
}

/**
 * Writes `text` to `out` through a temporary file and a rename; refuses what it must not replace: an
 * existing file that is not a sheet, as `isSheet` tells (none with --force).
 */
async function writeSheet(
  out: string,
  text: string,
  sources: readonly OutputsSource[],
  io: Io,
  isSheet: ((content: string) => boolean) | undefined,
): Promise<string> {
  const target = path.resolve(io.cwd, out);
  const existing = await lstat(target).catch(() => undefined);
  if (existing) {
    if (existing.isSymbolicLink())
      throw new UsageError(`--out ${out} is a symbolic link: give the path of a regular file`);
    if (!existing.isFile()) throw new UsageError(`--out ${out} exists and is not a regular file`);
    const real = await realpath(target);
    for (const s of sources) {
      if (s.kind !== "file") continue;
      const input = await realpath(path.resolve(io.cwd, s.file)).catch(() => undefined);
      if (input === real)
        throw new UsageError(`--out ${out} is an input of this command (--outputs): it would be overwritten`);
    }
    if (isSheet) {
      const head = await readHead(target, out);
      if (!isSheet(head)) {
        throw new UsageError(
          `--out ${out} exists and is not a hand-off sheet: refusing to replace it (add --force to replace it anyway)`,
        );
      }
    }
  }
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${randomBytes(6).toString("hex")}.tmp`,
  );
  try {
    await writeFile(temporary, text, { encoding: "utf8", flag: "wx", mode: 0o644 });
    await rename(temporary, target);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new UsageError(
      `cannot write --out ${out}: ${(err as NodeJS.ErrnoException).code ?? "write failed"}`,
    );
  }
  return target;
}

/** Largest file recognised as a previous sheet (one for many environments of 100 callers is far smaller). */
const MAX_SHEET_BYTES = 16 * 1024 * 1024;

/**
 * The text of an existing `--out` file, to recognise a sheet: a regular file read with a bound (it
 * may have become a FIFO or a device since it was looked at); a larger one is no sheet of ours.
 */
async function readHead(file: string, out: string): Promise<string> {
  try {
    return (await readBoundedFile(file, { what: `--out ${out}`, maxBytes: MAX_SHEET_BYTES })).toString(
      "utf8",
    );
  } catch (err) {
    if (err instanceof FileReadError && err.reason === "too-large") return "";
    if (err instanceof FileReadError) throw new UsageError(err.message);
    throw err;
  }
}
