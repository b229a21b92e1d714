/**
 * The values stack config is made of, as zod schemas whose messages name what is allowed and show the
 * value given: patterned strings, whole numbers (also written as text), object IDs, HTTPS URLs, text
 * without invisible characters, Key Vault readers. The stack's own keys (config/) and each kind's keys
 * (kinds/) are built from them.
 */
import { z } from "zod";
import { CONTROL, INVISIBLE, printable } from "../printable";
import { GUID_EXAMPLE, GUID_PATTERN, isHttpsUrl } from "./patterns";

/** A value as messages show it: JSON, so that a string keeps its quotes. */
export const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** A plain object (not null, not a list). */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A string matching `pattern`; the message shows the offending value and what is allowed. */
export const patterned = (pattern: RegExp, allowed: string) =>
  z.string({ error: `must be a string: ${allowed}` }).refine((s) => pattern.test(s), {
    error: (issue) => `${show(issue.input)} ${allowed}`,
  });

/**
 * `pulumi config set --path rotation.rotationDays 30` may store the number as text: whole numbers
 * written as text are taken as numbers; anything else is left for the schema to refuse.
 */
export function asWholeNumber(v: unknown): unknown {
  return typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
}

/** A whole number (or one written as text); `message` says what is allowed. */
export const wholeNumber = (message: (input: unknown) => string) =>
  z.preprocess(
    asWholeNumber,
    z.number({ error: (i) => message(i.input) }).int({ error: (i) => message(i.input) }),
  );

/** A whole number from `min` to `max`. */
export const intIn = (min: number, max: number) => {
  const message = (input: unknown) => `${show(input)} must be a whole number from ${min} to ${max}`;
  return wholeNumber(message).pipe(
    z
      .number()
      .min(min, { error: (i) => message(i.input) })
      .max(max, { error: (i) => message(i.input) }),
  );
};

/** The object ID of an Entra principal (a user, a group, a service principal). */
export const objectId = patterned(GUID_PATTERN, `must be an object ID (a GUID such as ${GUID_EXAMPLE})`);

/** An HTTPS URL; `what` says which, e.g. `an HTTPS URL`. */
export const httpsUrl = (what: string) =>
  z.string({ error: `must be ${what}` }).refine(isHttpsUrl, { error: `must be ${what}` });

/**
 * The first invisible character of `s` (a bidirectional control, a zero-width character, a line or
 * paragraph separator: printable.ts), or a control character other than those `allow`ed, as the
 * problem of a value that Entra compares exactly or people read: a subject ending in U+200B looks
 * right and can never match. Undefined when there is none.
 */
function invisibleProblem(s: string, allow: readonly string[] = []): string | undefined {
  const found = [...s].find((c) => INVISIBLE.test(c) || (CONTROL.test(c) && !allow.includes(c)));
  if (found === undefined) return undefined;
  const code = `U+${found.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  return `"${printable(s)}" contains ${code}, an invisible or control character: it cannot be seen, and Entra compares such values exactly; remove it`;
}

/** `schema` refusing invisible and control characters (those in `allow` excepted), with {@link invisibleProblem}. */
export const visible = <T extends z.ZodType<string>>(schema: T, allow: readonly string[] = []) =>
  schema.superRefine((s, ctx) => {
    const problem = invisibleProblem(s, allow);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** Principal types a secret reader may have; Key Vault role assignments need the right one. */
export const PRINCIPAL_TYPES = ["User", "Group", "ServicePrincipal"] as const;

/** One of {@link PRINCIPAL_TYPES}. */
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

const secretReader = z.strictObject({
  objectId,
  type: z.enum(PRINCIPAL_TYPES, {
    error: (i) => `${show(i.input)} must be one of ${PRINCIPAL_TYPES.join(", ")}`,
  }),
});

/** A reader granted *Key Vault Secrets User* on a secret. */
export type SecretReader = z.infer<typeof secretReader>;

/** Readers of secrets in Key Vault (a caller's `secretReaders`, the stack's `keyVault.secretReaders`); none by default. */
export const secretReaders = z
  .array(secretReader, { error: "must be a list of { objectId, type }" })
  .default([]);
