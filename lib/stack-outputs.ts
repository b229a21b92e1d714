/**
 * Reading stack outputs the way the post-deploy commands need them: from a file saved with
 * `pulumi stack output --json`, or from the Pulumi CLI, within the command's time budget, checked
 * with the one outputs schema (outputs.ts) before anything is used. No Pulumi SDK here.
 */
import path from "node:path";
import { SECRET_MARKER, SECRET_MESSAGE } from "../fields/outputs";
import { stackOutputsSchema, type StackOutputs } from "../outputs";
import { printable } from "../printable";
import type { Io } from "./io";
import { STACK_NAME_PATTERN as STACK_NAME } from "../naming";
import { FileReadError, readBoundedFile } from "./bounded-file";

/** Input that is not usable stack outputs (a usage error: exit 2). */
export class StackOutputsError extends Error {
  override readonly name = "StackOutputsError";
  /** The runner reports it as a usage error, about the stack outputs. */
  readonly kind = "usage";
  readonly subject = "outputs";
}

/** One environment's outputs, with the name it is reported under. */
export interface LoadedOutputs {
  /** `dev` for `--stack dev`; the file name without `.json` for `--outputs outputs/dev.json`. */
  label: string;
  /** Where they came from, for messages: `stack dev` or `outputs/dev.json`. */
  source: string;
  outputs: StackOutputs;
}

/** Largest outputs the tool reads (a stack of 100 callers prints well under 1 MiB). */
export const MAX_OUTPUTS_BYTES = 16 * 1024 * 1024;

/** How to get outputs into a file, for messages about `--outputs FILE`. */
const SAVE_HINT = "save them with `pulumi stack output --json > FILE`";

/** The value at `at` in decoded JSON, or undefined (own properties only). */
function valueAt(json: unknown, at: readonly PropertyKey[]): unknown {
  let value = json;
  for (const key of at) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Checks decoded JSON; `source` names where it came from and `hint` what to do, for the message.
 * @throws {StackOutputsError} naming up to five problems and where they are.
 */
export function parseStackOutputs(json: unknown, source: string, hint: string = SAVE_HINT): StackOutputs {
  // `pulumi stack output --json` prints `{}` for a stack that has never been deployed.
  if (json !== null && typeof json === "object" && !Array.isArray(json) && Object.keys(json).length === 0) {
    throw new StackOutputsError(
      `${source} holds no stack outputs: the stack has not been deployed yet (run \`pulumi up\` first)`,
    );
  }
  const callers = valueAt(json, ["callers"]);
  if (callers && typeof callers === "object" && Object.keys(callers).length > 100) {
    throw new StackOutputsError(
      `${source} lists ${Object.keys(callers).length} callers; a stack has at most 100: is this the right file? (${hint})`,
    );
  }
  const result = stackOutputsSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues
    .slice(0, 5)
    .map((i) => {
      // A whole object output shown as "[secret]" fails as "expected record": say why instead.
      const message = valueAt(json, i.path) === SECRET_MARKER ? SECRET_MESSAGE : i.message;
      // Keys come from the file: shown escaped, so a hostile key cannot write to the terminal.
      const at = i.path.map((key) => printable(String(key))).join(".");
      return `${at || "(top level)"}: ${message}`;
    })
    .join("; ");
  throw new StackOutputsError(`${source} is not flow-trigger-auth stack outputs (${hint}): ${problems}`);
}

/**
 * Text of an outputs file: UTF-8, with or without the byte order mark Windows PowerShell writes, or
 * UTF-16 as Windows PowerShell 5's `>` writes it. Anything else is refused, never guessed.
 */
export function decodeOutputsFile(bytes: Buffer, file: string): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe)
    return new TextDecoder("utf-16le", { fatal: true }).decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return new TextDecoder("utf-16be", { fatal: true }).decode(bytes.subarray(2));
  try {
    // TextDecoder drops a UTF-8 byte order mark by itself.
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new StackOutputsError(`${file} is not UTF-8 text; ${SAVE_HINT}`);
  }
}

/**
 * Reads outputs saved by `pulumi stack output --json > FILE` (relative to `cwd`): a regular file of
 * at most 16 MiB, read with that bound and given up when `signal` aborts (the command's budget).
 */
export async function readStackOutputsFile(
  file: string,
  cwd: string,
  signal?: AbortSignal,
): Promise<StackOutputs> {
  let bytes: Buffer;
  try {
    bytes = await readBoundedFile(path.resolve(cwd, file), {
      what: `--outputs ${file}`,
      maxBytes: MAX_OUTPUTS_BYTES,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    const why = err.reason === "too-large" ? `: it is not stack outputs (${SAVE_HINT})` : "";
    throw new StackOutputsError(`${err.message}${why}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(decodeOutputsFile(bytes, file));
  } catch (err) {
    if (err instanceof StackOutputsError) throw err;
    throw new StackOutputsError(`${file} is not JSON; ${SAVE_HINT}`);
  }
  return parseStackOutputs(json, file);
}

/**
 * Asks the Pulumi CLI (`pulumi stack output --json --stack NAME`) for a stack's outputs, giving up
 * after `timeoutMs`. What Pulumi prints on failure is passed on, cut to a readable length (the runner
 * redacts everything printed).
 */
export async function readStackOutputsFromPulumi(
  stack: string,
  io: Io,
  timeoutMs: number,
  pulumiBin = "pulumi",
): Promise<StackOutputs> {
  if (!STACK_NAME.test(stack)) {
    throw new StackOutputsError("--stack must be a stack name such as dev or org/project/dev");
  }
  const run = await io.exec(pulumiBin, ["stack", "output", "--json", "--stack", stack], {
    timeoutMs,
    maxBytes: MAX_OUTPUTS_BYTES,
  });
  const said = (run.stderr || "").replace(/\s+/g, " ").trim().slice(0, 600);
  switch (run.failure) {
    case "not-found":
      throw new StackOutputsError(
        `--stack ${stack}: the Pulumi CLI (${pulumiBin}) is not installed here; use --outputs FILE instead`,
      );
    case "timeout":
      throw new StackOutputsError(
        `--stack ${stack}: \`pulumi stack output\` gave no answer within ${Math.round(timeoutMs / 1000)} s (--max-wait-s); check the backend login (pulumi whoami) or use --outputs FILE`,
      );
    case "too-much-output":
      throw new StackOutputsError(
        `--stack ${stack}: \`pulumi stack output\` printed more than 16 MiB, which no flow-trigger-auth stack does: is it the right stack?`,
      );
    case "failed-to-start":
      throw new StackOutputsError(`--stack ${stack}: the Pulumi CLI (${pulumiBin}) could not be started`);
    case "interrupted":
      throw new StackOutputsError(`--stack ${stack}: interrupted; \`pulumi stack output\` was ended`);
  }
  if (run.code !== 0) {
    throw new StackOutputsError(
      `--stack ${stack}: pulumi stack output failed (exit ${run.code ?? "?"}): ${said || "no message"}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(run.stdout);
  } catch {
    throw new StackOutputsError(`--stack ${stack}: pulumi stack output did not print JSON`);
  }
  return parseStackOutputs(
    json,
    `stack ${stack}`,
    "is it a flow-trigger-auth stack, deployed with `pulumi up`?",
  );
}

/** Where one set of stack outputs comes from (`--outputs FILE` / `--stack NAME`, in command-line order). */
export type OutputsSource = { kind: "file"; file: string } | { kind: "stack"; stack: string };

/**
 * Reads every source, in order, each within what is left of the budget; `progress` is told before
 * each call of the Pulumi CLI (it can take seconds: it reads the state backend).
 */
export async function loadOutputs(
  sources: readonly OutputsSource[],
  io: Io,
  deadline: number,
  progress?: (line: string) => void,
): Promise<LoadedOutputs[]> {
  if (sources.length === 0) {
    throw new StackOutputsError(
      "give --outputs FILE (saved with `pulumi stack output --json`) or --stack NAME",
    );
  }
  const loaded: LoadedOutputs[] = [];
  for (const s of sources) {
    if (s.kind === "file") {
      const timer = io.timer(Math.max(1000, deadline - io.now()));
      try {
        loaded.push({
          label: path.basename(s.file).replace(/\.json$/i, ""),
          source: s.file,
          outputs: await readStackOutputsFile(s.file, io.cwd, timer.signal),
        });
      } finally {
        timer.cancel();
      }
    } else {
      const timeoutMs = Math.max(1000, deadline - io.now());
      progress?.(
        `pulumi: asking for stack ${s.stack}'s outputs (pulumi stack output --json --stack ${s.stack})`,
      );
      loaded.push({
        label: s.stack,
        source: `stack ${s.stack}`,
        outputs: await readStackOutputsFromPulumi(s.stack, io, timeoutMs),
      });
    }
  }
  return loaded;
}
