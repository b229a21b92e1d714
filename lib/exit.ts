/**
 * The tool's exit codes, the one table (docs/commands.md#exit-codes): every command's result, and the
 * smoke test's and the audit's verdicts, map to these. No imports: the entry point and the pure
 * libraries take it without loading anything else.
 */

/** Where the exit codes are explained, the one place (help texts point there instead of restating them). */
export const EXIT_CODES_DOC = "docs/commands.md#exit-codes";

/** The exit codes of every command (docs/commands.md). */
export const EXIT = {
  /** The command did what it was asked and everything checked out. */
  ok: 0,
  /** A check failed: the flow refused the caller, a secret is about to expire... */
  failed: 1,
  /** Bad arguments, bad configuration or unusable input (e.g. a file that is not stack outputs). */
  usage: 2,
  /** The trigger is insecure: callable without a token. */
  insecure: 3,
  /** The tool itself failed (a bug): the message says what happened. */
  internal: 70,
  /** Interrupted by SIGINT (Ctrl-C): 128 + 2, as shells report it. */
  sigint: 130,
  /** Interrupted by SIGTERM (a CI job cancelled, `kill`): 128 + 15, as shells report it. */
  sigterm: 143,
} as const;

/** The exit code of an interrupt by `signal` (the reason of {@link Io.interrupted}). */
export function interruptExitCode(signal: unknown): number {
  return signal === "SIGTERM" ? EXIT.sigterm : EXIT.sigint;
}

/**
 * The exit code of each verdict of the smoke test (pass, fail, insecure, usage, error, interrupted)
 * and the audit (match, drift, fail, insecure, usage, error).
 */
export const VERDICT_EXIT = {
  pass: EXIT.ok,
  match: EXIT.ok,
  fail: EXIT.failed,
  drift: EXIT.failed,
  usage: EXIT.usage,
  insecure: EXIT.insecure,
  error: EXIT.internal,
  /** SIGINT's; SIGTERM's is 143 ({@link interruptExitCode}). */
  interrupted: EXIT.sigint,
} as const;
