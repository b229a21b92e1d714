/**
 * zod's issues as config problems: each at its key path, an unknown key with the keys allowed there,
 * a value that should be an object with the keys it takes; any other issue with the schema's own
 * message (the schemas write them for people: fields/config.ts).
 */
import { z } from "zod";
import { keyPath, type ConfigProblem } from "./keys";

/** Where the issues come from, and how to name what they are about. */
export interface IssueSource {
  /** The schema that was parsed. */
  schema: z.ZodType;
  /** What it was given. */
  input: unknown;
  /** Where that is in the config, e.g. `["callers", 1]`; empty for the whole config. */
  prefix?: readonly PropertyKey[];
  /** The keys allowed at the top, when not all of the schema's are the user's to set. */
  rootKeys?: readonly string[];
  /** The problems of an unknown key at the top, when they need more than "unknown key". */
  unknownAtRoot?(key: string): ConfigProblem[];
}

/** Every issue as a problem at its key path. */
export function problemsOf(issues: readonly z.core.$ZodIssue[], from: IssueSource): ConfigProblem[] {
  const prefix = from.prefix ?? [];
  return issues.flatMap((issue): ConfigProblem[] => {
    const at = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.flatMap((k) =>
        issue.path.length === 0 && from.unknownAtRoot
          ? from.unknownAtRoot(k)
          : [
              {
                path: keyPath([...at, k]),
                message: `unknown key; allowed keys: ${allowedKeysAt(from, issue.path).join(", ")}`,
              },
            ],
      );
    }
    // A missing object keeps its schema's message (e.g. "is required for credential: ...").
    if (
      issue.code === "invalid_type" &&
      issue.expected === "object" &&
      valueAt(from.input, issue.path) !== undefined
    ) {
      return [
        { path: keyPath(at), message: `must be an object { ${allowedKeysAt(from, issue.path).join(", ")} }` },
      ];
    }
    if (isMissing(from.input, issue.path)) return [{ path: keyPath(at), message: missing(issue.message) }];
    return [{ path: keyPath(at), message: issue.message }];
  });
}

/** True when `path` names a key its object does not have (not a value that is wrong). */
function isMissing(input: unknown, path: readonly PropertyKey[]): boolean {
  if (path.length === 0) return false;
  const parent = valueAt(input, path.slice(0, -1));
  return (
    parent !== null &&
    typeof parent === "object" &&
    !Array.isArray(parent) &&
    !Object.hasOwn(parent, path[path.length - 1])
  );
}

/**
 * A missing key's problem says it is missing, then what it must be: the schema's message speaks of
 * a value given (`undefined must be one of ...`, `must be a string: must be ...`), and there is none.
 */
function missing(message: string): string {
  if (/^is required\b/.test(message)) return message;
  const what = message.replace(/^undefined\s+/, "").replace(/^must be a string: /, "");
  return /^must\b/.test(what) ? `is missing; it ${what}` : `is missing: ${what}`;
}

/** The value at `path` in `input`, own properties only; undefined where there is none. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The keys the object at `path` takes. */
function allowedKeysAt(from: IssueSource, path: readonly PropertyKey[]): string[] {
  if (path.length === 0 && from.rootKeys) return [...from.rootKeys];
  let s = from.schema;
  for (const part of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = s.shape[part as string];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
  }
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** The schema a value is checked against inside defaults, optionals, refinements and transforms. */
function unwrap(s: z.ZodType): z.ZodType {
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional)
      s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = (s.in instanceof z.ZodTransform ? s.out : s.in) as z.ZodType;
    else return s;
  }
}
