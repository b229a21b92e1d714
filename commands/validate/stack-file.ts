/**
 * Reading a stack's settings file (`Pulumi.<stack>.yaml`) the way the Pulumi CLI hands config to the
 * program: one string per full key, JSON for lists and objects. Secure values stay opaque: they are
 * replaced by a placeholder, listed as not checked offline, and any problem found under them is set
 * apart. Whatever is wrong inside the file (its encoding, its YAML, its keys) is a problem of the file,
 * with its place; only a file that cannot be read at all is an error of the command.
 */
import path from "node:path";
import { parseDocument } from "yaml";
import { ConfigError, type ConfigProblem, NAMESPACE, parseStackConfig, type StackConfig } from "../../config";
import { isVaulted } from "../../kinds/registry";
import { FileReadError, readBoundedText } from "../../lib/bounded-file";
import { flowFacts } from "../../outputs";

/** Largest stack settings file read (one with 100 callers and their encrypted values is far smaller). */
export const MAX_STACK_FILE_BYTES = 4 * 1024 * 1024;

/**
 * What stands in for a `secure:` value during offline validation. Secrets in this project's config are
 * URLs (a webhook with a key, a trigger URL), so the stand-in is an HTTPS URL that can never resolve.
 */
export const SECURE_PLACEHOLDER = "https://secure-value.invalid/";

/** A settings file that cannot be read at all: missing, not a regular file, too large (usage error: exit 2). */
export class StackFileError extends Error {
  override readonly name = "StackFileError";
  /** The runner reports it as a usage error. */
  readonly kind = "usage";
}

/** A problem of the file itself (its encoding, its YAML, its shape), with its place when known. */
export interface FileProblem extends ConfigProblem {
  /** Line and column of a YAML error, from 1. */
  line?: number;
  column?: number;
  /** The lines around it, with a caret under the column (the `yaml` package's code frame). */
  excerpt?: string;
}

/** The raw config map, and the key paths whose values are secure (encrypted) in the file. */
export interface StackFileConfig {
  raw: Record<string, string>;
  securePaths: string[];
  /** What is wrong with the file itself: then `raw` is empty and nothing else is checked. */
  fileProblems?: FileProblem[];
}

const isSecure = (v: unknown): boolean =>
  !!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;

function replaceSecure(value: unknown, at: string, securePaths: string[]): unknown {
  if (isSecure(value)) {
    securePaths.push(at);
    return SECURE_PLACEHOLDER;
  }
  if (Array.isArray(value)) return value.map((v, i) => replaceSecure(v, `${at}[${i}]`, securePaths));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, replaceSecure(v, `${at}.${k}`, securePaths)]),
    );
  }
  return value;
}

/** A file whose content is wrong as a whole: its problem, at the top of the file. */
const fileProblem = (message: string): StackFileConfig => ({
  raw: {},
  securePaths: [],
  fileProblems: [{ path: "(file)", message }],
});

/** Converts the parsed YAML document of `Pulumi.<stack>.yaml` into the program's config input. */
export function stackFileToConfig(doc: unknown): StackFileConfig {
  if (doc === null || doc === undefined) return { raw: {}, securePaths: [] };
  if (typeof doc !== "object" || Array.isArray(doc))
    return fileProblem("is not Pulumi stack settings: a map with a `config` key is expected");
  const config = (doc as Record<string, unknown>).config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    return {
      raw: {},
      securePaths: [],
      fileProblems: [{ path: "config", message: "must be a map of keys to values" }],
    };
  }
  const raw: Record<string, string> = {};
  const securePaths: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    const fullKey = key.includes(":") ? key : `${NAMESPACE}:${key}`;
    const plain = replaceSecure(value, fullKey, securePaths);
    // A key left empty in YAML (`namePrefix:`) is null: pass it as empty text so the schema names it.
    if (plain === null) raw[fullKey] = "";
    else
      raw[fullKey] =
        typeof plain === "string" ? plain : typeof plain === "object" ? JSON.stringify(plain) : String(plain);
  }
  return { raw, securePaths };
}

/** Reads `Pulumi.<stack>.yaml` from `dir` as strict UTF-8; `stack` may be fully qualified (`org/project/dev`). */
export async function readStackFile(dir: string, stack: string): Promise<StackFileConfig & { file: string }> {
  const short = stack.split("/").pop() ?? stack;
  const file = path.join(dir, `Pulumi.${short}.yaml`);
  let text: string;
  try {
    // A regular file, read with a bound; invalid bytes are an error, not a replacement character
    // quietly put into a value.
    text = await readBoundedText(file, { what: file, maxBytes: MAX_STACK_FILE_BYTES });
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    if (err.reason === "missing") {
      throw new StackFileError(
        `--stack ${stack}: ${file} not found; create it with \`pulumi stack init ${short}\` and \`pulumi config set ...\``,
      );
    }
    if (err.reason === "not-text") return { file, ...fileProblem(`${err.message}: save it as UTF-8`) };
    throw new StackFileError(err.message);
  }
  const doc = parseDocument(text);
  if (doc.errors.length) return { file, raw: {}, securePaths: [], fileProblems: doc.errors.map(yamlProblem) };
  return { file, ...stackFileToConfig(doc.toJS()) };
}

/**
 * A YAML error with its place: the `yaml` package's message is `<what> at line L, column C:` followed
 * by a code frame of the lines around it, a caret under the column.
 */
function yamlProblem(err: {
  message: string;
  linePos?: [{ line: number; col: number }, ...unknown[]];
}): FileProblem {
  const [head, ...frame] = err.message.split("\n");
  const what = head.replace(/ at line \d+, column \d+:?$/, "");
  const at = err.linePos?.[0];
  const excerpt = frame.join("\n").replace(/^\n+|\n+$/g, "");
  return {
    path: at ? `line ${at.line}, column ${at.col}` : "(file)",
    message: `YAML: ${what}`,
    ...(at ? { line: at.line, column: at.col } : {}),
    ...(excerpt ? { excerpt } : {}),
  };
}

/** Result of validating a stack file: the config, or the problems (secure-value ones set apart). */
export interface Validation {
  config?: StackConfig;
  problems: FileProblem[];
  /** Problems found under secure values: they are about the placeholder, and cannot be judged offline. */
  unchecked: ConfigProblem[];
}

const under = (p: string, secure: string) =>
  p === secure || p.startsWith(`${secure}.`) || p.startsWith(`${secure}[`);

/** Validates with the program's own schema; problems under secure values are set apart. */
export function validateStackConfig(input: StackFileConfig, stack: string): Validation {
  if (input.fileProblems?.length) return { problems: input.fileProblems, unchecked: [] };
  const short = stack.split("/").pop() ?? stack;
  try {
    return { config: parseStackConfig(input.raw, short), problems: [], unchecked: [] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const unchecked = err.problems.filter((p) => input.securePaths.some((s) => under(p.path, s)));
    return { problems: err.problems.filter((p) => !unchecked.includes(p)), unchecked };
  }
}

/**
 * Callers whose credential is kept in Key Vault with nobody granted to read it: no `secretReaders` on
 * the caller nor the stack's `keyVault.secretReaders`. Valid, but the calling system could not fetch
 * its secret or certificate, unless it has a role on the vault from outside the stack.
 */
export function readerWarnings(config: StackConfig): string[] {
  if (config.keyVault.secretReaders.length > 0) return [];
  return config.callers.flatMap((c, i) =>
    isVaulted(c.credential) && "secretReaders" in c && c.secretReaders.length === 0
      ? [
          `${NAMESPACE}:callers[${i}] (${c.name}): no secretReaders, neither on the caller nor in ${NAMESPACE}:keyVault.secretReaders: ` +
            `nobody is granted Key Vault Secrets User on its ${c.credential === "certificate" ? "certificate" : "client secret"}, so the calling system could not read it ` +
            "(unless it has a role on the vault from outside this stack)",
        ]
      : [],
  );
}

/** A flow the stack would output, as `validate` shows it. */
export interface PlannedFlow {
  name: string;
  /** Absent for a legacy trigger URL, whose host names no environment. */
  environmentId?: string;
  callers: string[];
}

/** The flows `config` would output: name, environment (from the trigger URL) and callers. */
export function plannedFlows(config: StackConfig): PlannedFlow[] {
  return config.flows.map((f) => {
    const { environmentId } = flowFacts(f, config.cloud);
    return { name: f.name, ...(environmentId ? { environmentId } : {}), callers: [...f.callers] };
  });
}
