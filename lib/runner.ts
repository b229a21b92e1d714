/**
 * The one runner of every command: argument parsing (commander), `--json` (exactly one JSON object
 * on stdout, whatever happens), redaction and escaping of everything printed (no secret, no control
 * or invisible character from a file or a server reaches the terminal raw), and the exit-code table. A command
 * is a `run(argv, io)` that resolves to its exit code; tests call it in-process.
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { printable, printableJson } from "../printable";
import { redact } from "./redact";
import { EXIT, EXIT_CODES_DOC, interruptExitCode } from "./exit";
import type { Io } from "./io";
import { closest } from "./suggest";

/** The tool's name, as people type it. */
export const TOOL = "flow-trigger-auth";

/** What the user is told when a signal stops the command. */
export function interruptMessage(signal: unknown): string {
  const name = signal === "SIGTERM" ? "SIGTERM" : "SIGINT";
  return `interrupted by ${name}: stopped, and every program it had started was ended; nothing was completed`;
}

/**
 * Bad arguments or input the user has to fix (exit 2). The message never repeats a value given.
 * `subject` `arguments` marks a problem with the command line itself: only then is the user pointed at
 * the command's help.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** What the error is about, for reports that name it (e.g. the smoke test's `secret` check). */
  readonly subject?: string;
  constructor(message: string, subject?: string) {
    super(message);
    if (subject !== undefined) this.subject = subject;
  }
}

/** What a command produced. */
export interface Outcome {
  exitCode: number;
  /** The `--json` object. */
  json: unknown;
  /** The text printed without `--json`. */
  text: string;
  /** Where {@link text} goes; default stdout. */
  textTo?: "stdout" | "stderr";
}

/** What a running command can use besides its options. */
export interface Context {
  io: Io;
  /** `--json` was given. */
  json: boolean;
  /** `--quiet` was given: no progress lines. */
  quiet: boolean;
  /** When the command started, on the io's clock. */
  startedAt: number;
  /** Registers a secret value: nothing printed afterwards contains it. */
  secret(value: string | undefined): void;
  /** A line for the person at the terminal (stderr), also in `--json` and `--quiet` mode; redacted. */
  note(text: string): void;
  /**
   * A progress line on stderr, printed at once (an attempt, a wait, a step begun): not with `--quiet`.
   * Redacted and escaped; one line (lib/progress.ts gives the form of a retry).
   */
  progress(text: string): void;
  /**
   * Lines of the report that are final already (a check that finished), printed at once where the
   * report goes: stdout, or with `--json` stderr as progress (the JSON document comes at the end). The
   * outcome's `text` then holds only the rest.
   */
  report(text: string): void;
}

/** A command of the tool. */
export interface CommandSpec<O> {
  name: string;
  /** Two or three real command lines, shown at the end of its help (without the tool's name). */
  examples: string[];
  /** Adds the command's options (and its description) to `program`. */
  configure(program: Command): void;
  run(options: O, ctx: Context): Promise<Outcome>;
  /**
   * The outcome of a usage error, an internal error or an interrupt, in the command's own report
   * shape; `hint` is the one line to add after a usage error about the command line (else undefined).
   */
  failure?(
    kind: "usage" | "internal" | "interrupted",
    message: string,
    ctx: Context,
    subject?: string,
    hint?: string,
  ): Outcome;
}

/** The hint after an error in a command's options (the only hint it gets). */
export function helpHint(command: string): string {
  return `run '${TOOL} help ${command}' for its options`;
}

/** The end of every command's help: where the exit codes are, then the examples. */
export function helpFooter(examples: readonly string[]): string {
  return [
    "",
    `Exit codes: the same for every command, see ${EXIT_CODES_DOC}.`,
    "",
    "Examples:",
    ...examples.map((e) => `  ${TOOL} ${e}`),
    "",
  ].join("\n");
}

/** Shortest secret value that gets scrubbed from output (shorter ones would mangle ordinary words). */
const MIN_REDACTED_LENGTH = 8;

/** Options whose value would be a secret itself: refused whatever their value. */
export function secretOptionNames(argv: readonly string[]): string[] {
  return argv
    .filter((a) => a.startsWith("-"))
    .map((a) => optionName(a))
    .filter(
      (name) =>
        /secret|password|passwd|client-?key|token|assertion/i.test(name) &&
        !/^--(key-vault-secret-uri|federated-token-file|access-token-file)$/.test(name),
    );
}

/** The option name of an argument, without any value glued to it (`-pX` gives `-p`, `--a=b` gives `--a`). */
function optionName(arg: string): string {
  if (arg.startsWith("--")) return arg.split("=")[0];
  return arg.slice(0, 2);
}

/** An option value parser that refuses with `reason`, which must not repeat the value. */
export function parser<T>(parse: (value: string) => T | undefined, reason: string): (value: string) => T {
  return (value) => {
    const parsed = parse(value);
    if (parsed === undefined) throw new InvalidArgumentError(reason);
    return parsed;
  };
}

/** Runs `spec` on `argv` with `io`; resolves to the exit code after printing the outcome. */
export async function runCommand<O>(spec: CommandSpec<O>, argv: readonly string[], io: Io): Promise<number> {
  const secrets: string[] = [];
  const json = argv.includes("--json");
  // Exactly one outcome is printed: an interrupt's, or the command's, whichever comes first; nothing
  // the command prints after it.
  let printed = false;
  const clean = (text: string) => printable(redact(text, secrets), { lines: true });
  const ctx: Context = {
    io,
    json,
    quiet: false,
    startedAt: io.now(),
    secret: (value) => {
      if (value && value.length >= MIN_REDACTED_LENGTH && !secrets.includes(value)) secrets.push(value);
    },
    note: (text) => {
      if (!printed) io.stderr(`${clean(text)}\n`);
    },
    progress: (text) => {
      if (!printed && !ctx.quiet) io.stderr(`${clean(text)}\n`);
    },
    report: (text) => {
      if (printed || !text) return;
      if (!json) io.stdout(clean(text));
      else if (!ctx.quiet) io.stderr(clean(text));
    },
  };
  // Secrets of the ambient Azure credential (Key Vault reads) are never printed either.
  for (const name of [
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "IDENTITY_HEADER",
  ]) {
    ctx.secret(io.env[name]);
  }
  const print = (outcome: Outcome): number => {
    if (printed) return outcome.exitCode;
    printed = true;
    if (json) io.stdout(`${printableJson(redactValues(outcome.json, secrets), 2)}\n`);
    else if (outcome.text) (outcome.textTo === "stderr" ? io.stderr : io.stdout)(clean(outcome.text));
    return outcome.exitCode;
  };
  const fail = (
    kind: "usage" | "internal" | "interrupted",
    message: string,
    subject?: string,
    hint?: string,
  ): number => {
    const cleanMessage = redact(message, secrets);
    const exitCode =
      kind === "usage"
        ? EXIT.usage
        : kind === "internal"
          ? EXIT.internal
          : interruptExitCode(io.interrupted?.reason);
    const outcome = spec.failure?.(kind, cleanMessage, ctx, subject, hint) ?? {
      exitCode,
      json: { error: { kind, message: cleanMessage } },
      text: `${spec.name}: ${kind === "internal" ? "internal error: " : ""}${cleanMessage}\n${hint ? `${hint}\n` : ""}`,
      textTo: "stderr",
    };
    return print(outcome);
  };
  const interrupted = () => fail("interrupted", interruptMessage(io.interrupted?.reason));

  const refused = secretOptionNames(argv);
  if (refused.length) {
    return fail(
      "usage",
      `${[...new Set(refused)].join(", ")}: a secret is never taken from the command line (it would show in process lists, shell history and CI logs); see --help for where it comes from`,
      "arguments",
    );
  }

  let help = "";
  const program = new Command(`${TOOL} ${spec.name}`)
    .helpOption("-h, --help", "show this help")
    .option("--json", "print exactly one JSON object on stdout")
    .option("-q, --quiet", "print no progress on stderr, only the result")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => (help += s),
      writeErr: () => undefined,
      outputError: () => undefined,
    });
  spec.configure(program);
  program.addHelpText("after", helpFooter(spec.examples));
  try {
    program.parse([...argv], { from: "user" });
  } catch (err) {
    if (!(err instanceof CommanderError)) return fail("internal", errorMessage(err));
    if (
      err.code === "commander.helpDisplayed" ||
      err.code === "commander.help" ||
      err.code === "commander.version"
    ) {
      return print({ exitCode: EXIT.ok, json: { command: spec.name, help }, text: help });
    }
    const { message, hinted } = commanderMessage(err, argv, program);
    return fail("usage", message, "arguments", hinted ? undefined : helpHint(spec.name));
  }
  ctx.quiet = program.opts().quiet === true;

  if (io.interrupted?.aborted) return interrupted();
  // An interrupt wins over whatever the command is waiting for; what it does afterwards is not printed.
  const stop = new Promise<"interrupted">((resolve) =>
    io.interrupted?.addEventListener("abort", () => resolve("interrupted"), { once: true }),
  );
  try {
    const outcome = await Promise.race([spec.run(program.opts() as O, ctx), stop]);
    return outcome === "interrupted" ? interrupted() : print(outcome);
  } catch (err) {
    if (io.interrupted?.aborted) return interrupted();
    if (isUsageError(err)) {
      const subject = (err as { subject?: string }).subject;
      return fail(
        "usage",
        (err as Error).message,
        subject,
        subject === "arguments" ? helpHint(spec.name) : undefined,
      );
    }
    return fail("internal", errorMessage(err));
  }
}

/** A {@link UsageError}, or a library's error that says it is one (`kind: "usage"`). */
export function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || (err instanceof Error && (err as { kind?: unknown }).kind === "usage");
}

/**
 * Commander's refusal, without any value it may have echoed; an unknown option names what was typed
 * and the closest option of the command. `hinted`: the message says what to do itself (the closest
 * option, or what a value must be), so it gets no other hint.
 */
function commanderMessage(
  err: CommanderError,
  argv: readonly string[],
  program: Command,
): { message: string; hinted: boolean } {
  if (err.code === "commander.unknownOption") {
    const given = argv.find((a) => a.startsWith("-") && err.message.includes(`'${a}'`));
    const typed = given ? optionName(given) : undefined;
    const names = program.options.flatMap((o) => (o.long ? [o.long] : []));
    const match = typed?.startsWith("--")
      ? closest(
          typed.slice(2),
          names.map((n) => n.slice(2)),
        )
      : undefined;
    if (typed && match)
      return { message: `unknown option ${printable(typed)}; did you mean --${match}?`, hinted: true };
    return { message: `unknown option${typed ? ` ${printable(typed)}` : ""}`, hinted: false };
  }
  if (err.code === "commander.invalidArgument") {
    // "error: option '--cloud <name>' argument 'x' is invalid. <reason>": keep the option and the reason.
    const option = /option '([^' ]+)/.exec(err.message)?.[1] ?? "an option";
    const reason = err.message.split(" is invalid. ")[1] ?? "is invalid";
    return { message: `${option}: ${reason}`, hinted: true };
  }
  const message = err.message
    .replace(/^error:\s*/, "")
    .replace(/\n?\(Did you mean [^)]*\)/, "")
    .replace(/'[^']*'/g, (m) => (m.startsWith("'-") ? m.split(" ")[0] + "'" : "the argument"));
  return { message, hinted: false };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}` : String(err);
}

/** `value` with every string in it redacted (keys are fixed words and stay as they are). */
export function redactValues(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === "string") return redact(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactValues(v, secrets));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValues(v, secrets)]));
  }
  return value;
}
