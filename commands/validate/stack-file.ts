/**
 * Reading a stack's settings file (`Pulumi.<stack>.yaml`) the way the Pulumi CLI hands config to the
 * program: one string per full key, JSON for lists and objects. Secure values stay opaque: they are
 * replaced by a placeholder and any problem found under them is reported as "not checked offline".
 */
import path from "node:path";
import { parse } from "yaml";
import { ConfigError, type ConfigProblem, NAMESPACE, parseStackConfig, type StackConfig } from "../../config";
import { FileReadError, readBoundedText } from "../../lib/bounded-file";
import { flowFacts } from "../../outputs";

/** Largest stack settings file read (one with 100 callers and their encrypted values is far smaller). */
export const MAX_STACK_FILE_BYTES = 4 * 1024 * 1024;

/**
 * What stands in for a `secure:` value during offline validation. Secrets in this project's config are
 * URLs (a webhook with a key, a trigger URL), so the stand-in is an HTTPS URL that can never resolve.
 */
export const SECURE_PLACEHOLDER = "https://secure-value.invalid/";

/** A settings file that cannot be read or is not Pulumi stack settings (usage error: exit 2). */
export class StackFileError extends Error {
  override readonly name = "StackFileError";
  /** The runner reports it as a usage error. */
  readonly kind = "usage";
}

/** The raw config map, and the key paths whose values are secure (encrypted) in the file. */
export interface StackFileConfig {
  raw: Record<string, string>;
  securePaths: string[];
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

/** Converts the parsed YAML document of `Pulumi.<stack>.yaml` into the program's config input. */
export function stackFileToConfig(doc: unknown, file: string): StackFileConfig {
  if (doc === null || doc === undefined) return { raw: {}, securePaths: [] };
  if (typeof doc !== "object" || Array.isArray(doc))
    throw new StackFileError(`${file} is not Pulumi stack settings`);
  const config = (doc as Record<string, unknown>).config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new StackFileError(`${file}: "config" must be a map of keys to values`);
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
    throw new StackFileError(err.reason === "not-text" ? `${err.message}: save it as UTF-8` : err.message);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new StackFileError(`${file} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  return { file, ...stackFileToConfig(doc, file) };
}

/** Result of validating a stack file: the config, or the problems (secure-value ones set apart). */
export interface Validation {
  config?: StackConfig;
  problems: ConfigProblem[];
  /** Problems found under secure values: cannot be judged offline. */
  unchecked: ConfigProblem[];
}

const under = (p: string, secure: string) =>
  p === secure || p.startsWith(`${secure}.`) || p.startsWith(`${secure}[`);

/** Validates with the program's own schema; problems under secure values are set apart. */
export function validateStackConfig(input: StackFileConfig, stack: string): Validation {
  const short = stack.split("/").pop() ?? stack;
  try {
    return { config: parseStackConfig(input.raw, short), problems: [], unchecked: [] };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const unchecked = err.problems.filter((p) => input.securePaths.some((s) => under(p.path, s)));
    return { problems: err.problems.filter((p) => !unchecked.includes(p)), unchecked };
  }
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
