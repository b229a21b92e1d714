/**
 * `flow-trigger-auth <command> [options]`: the tool's one entry point (the package's `bin`). It loads
 * only the command it runs (docs/commands.md), gives it the real outside world, and exits with the
 * command's code once everything printed has been flushed.
 */
import { version } from "../package.json";
import { printable } from "../printable";
import { redact } from "../lib/redact";
import type { Io } from "../lib/io";
import { endChildren, processIo } from "../lib/io";
import { EXIT, EXIT_CODES_DOC, interruptExitCode } from "../lib/exit";
import { closest } from "../lib/suggest";

type Run = (argv: readonly string[], io: Io) => Promise<number>;

/** The commands, each with its line in the tool's help (the one place it is written). */
const SUMMARIES = {
  smoke: "check that a flow refuses anonymous calls and accepts the caller's token",
  handoff: "print the flow makers' hand-off sheet: object IDs for Allowed users, token facts per caller",
  "rotation-status": "name the callers whose published secret nears expiry or whose rotation is overdue",
  validate: "validate Pulumi.<stack>.yaml offline and show the resources it would declare",
  audit: "prove from each flow's definition in Dataverse that its trigger admits exactly its callers",
};

/** A command's name. */
type CommandName = keyof typeof SUMMARIES;

/** Each command, loaded only when it runs (commands/<name>/). */
const LOADERS: Record<CommandName, () => Promise<Run>> = {
  smoke: async () => (await import("../commands/smoke/smoke")).smoke,
  handoff: async () => (await import("../commands/handoff/handoff")).handoff,
  "rotation-status": async () => (await import("../commands/rotation-status/rotation-status")).rotationStatus,
  validate: async () => (await import("../commands/validate/validate")).validate,
  audit: async () => (await import("../commands/audit/audit")).audit,
};

/** The tool's own help: its commands, where the exit codes are, examples. */
function toolHelp(): string {
  const width = Math.max(...Object.keys(SUMMARIES).map((c) => c.length));
  return [
    "Usage: flow-trigger-auth <command> [options]   (npm run <command> -- [options])",
    "",
    "Commands:",
    ...Object.entries(SUMMARIES).map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    "",
    "Every command takes --help, --json (exactly one JSON object on stdout) and --quiet (no progress on stderr).",
    "flow-trigger-auth help <command> shows a command's options; --version (-V) the tool's version.",
    `Exit codes: the same for every command, see ${EXIT_CODES_DOC}.`,
    "",
    "Examples:",
    "  flow-trigger-auth validate --stack dev",
    "  flow-trigger-auth handoff --stack dev --out handoff.md",
    "  flow-trigger-auth help smoke",
    "",
  ].join("\n");
}

/** Runs the tool on `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const json = argv.includes("--json");
  if (argv[0] === "--version" || argv[0] === "-V") {
    io.stdout(json ? `${JSON.stringify({ version })}\n` : `${version}\n`);
    return EXIT.ok;
  }
  // `help <command>` is `<command> --help`; `help` alone, `--help` or no command at all: the tool's help.
  const helpOf = argv[0] === "help" ? argv.slice(1).find((a) => !a.startsWith("-")) : undefined;
  const [command, ...rest] = helpOf !== undefined ? [helpOf, "--help", ...(json ? ["--json"] : [])] : argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    if (json) io.stdout(`${JSON.stringify({ help: toolHelp(), commands: Object.keys(SUMMARIES) })}\n`);
    else io.stdout(toolHelp());
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (!Object.hasOwn(LOADERS, command)) {
    // What was typed is named (escaped and cut short: it could be anything), with the closest command.
    const typed = printable(command.length > 40 ? `${command.slice(0, 37)}...` : command);
    const option = command.startsWith("-");
    const match = option ? undefined : closest(command, Object.keys(SUMMARIES));
    const message = match
      ? `unknown command '${typed}'; did you mean ${match}?`
      : `unknown ${option ? "option" : "command"} '${typed}'; the commands are ${Object.keys(SUMMARIES).join(", ")}`;
    if (json) io.stdout(`${JSON.stringify({ error: { kind: "usage", message } })}\n`);
    else io.stderr(`flow-trigger-auth: ${message}\n`);
    return EXIT.usage;
  }
  const run = await LOADERS[command as CommandName]();
  return run(rest, io);
}
/** Runs the tool as a program: the process's arguments, the real outside world, signals, exit. */
export function runAsProgram(): void {
  // SIGINT and SIGTERM: every program started is ended at once, and the runner prints the interrupted
  // outcome (one JSON document with --json) and exits 130 or 143. A second signal exits right away.
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    endChildren();
    if (interrupt.signal.aborted) process.exit(interruptExitCode(interrupt.signal.reason));
    interrupt.abort(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Whatever ends the tool (a timeout, an error, the last line printed) ends what it started too.
  process.on("exit", endChildren);
  main(process.argv.slice(2), processIo(interrupt.signal)).then(
    (code) => exit(code),
    (err: unknown) => {
      // The runner reports every error of a command; this is a failure of the entry point itself.
      process.stderr.write(
        `flow-trigger-auth: internal error: ${printable(redact(err instanceof Error ? err.message : String(err)))}\n`,
      );
      exit(EXIT.internal);
    },
  );
}

/** Exits once stdout and stderr are flushed (they may be pipes read by `pulumi up` or CI). */
function exit(code: number): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
