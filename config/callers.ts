/**
 * `flow-trigger-auth:callers`: each caller checked against the strict schema of its credential kind
 * (kinds/), every problem of every caller at once, each at its key path. A key that another kind
 * takes is refused in the words of the kinds (and its value is still checked, so that one run says
 * everything); any other unknown key lists every key a caller may have.
 */
import { z } from "zod";
import { isRecord, show } from "../fields/config";
import { appKeys, callerKeys, ELSEWHERE, type KindInfo } from "../kinds/kind";
import { hasAppRegistration, KINDS, type CallerConfig } from "../kinds/registry";
import { CREDENTIAL_KINDS, DEFAULT_KIND, type CredentialKind } from "../kinds/names";
import { problemsOf } from "./issues";
import { keyPath, type ConfigProblem } from "./keys";

const COMMON_KEYS = Object.keys(callerKeys(DEFAULT_KIND));
const APP_KEYS = Object.keys(appKeys);

/** Each key a caller may have: the kinds that take it, and the schema of its value (the first such kind's). */
const FIELDS = new Map<string, { kinds: CredentialKind[]; schema: z.ZodType }>();
for (const kind of CREDENTIAL_KINDS) {
  for (const [key, schema] of Object.entries(KINDS[kind].config.shape)) {
    const field = FIELDS.get(key) ?? { kinds: [], schema: schema as z.ZodType };
    field.kinds.push(kind);
    FIELDS.set(key, field);
  }
}

/** Every key a caller may have, in the order messages list them: the common ones, each kind's own, the app registration's. */
export const CALLER_KEYS = [
  ...COMMON_KEYS,
  ...[...FIELDS.keys()].filter((k) => !COMMON_KEYS.includes(k) && !APP_KEYS.includes(k)),
  ...APP_KEYS,
];

/** A caller whose credential is no kind: each key it has is checked as the kinds that take it check it. */
const ANY_KIND = z.strictObject(
  Object.fromEntries(
    CALLER_KEYS.map((key) => {
      if (key === "credential") {
        return [
          key,
          z.enum(CREDENTIAL_KINDS, {
            error: (i) => `${show(i.input)} must be one of ${CREDENTIAL_KINDS.join(", ")}`,
          }),
        ];
      }
      const { schema } = FIELDS.get(key)!;
      return [key, COMMON_KEYS.includes(key) ? schema : schema.optional()];
    }),
  ),
);

/** Why `key`, which other kinds take, does not fit a caller of `kind`. */
function misplaced(key: string, kind: CredentialKind): string {
  const info: KindInfo = KINDS[kind];
  return (
    info.refuses?.[key] ??
    ELSEWHERE[key]?.(kind) ??
    `only a caller with credential: ${FIELDS.get(key)!.kinds.join(" or ")} takes ${key}; this caller's credential is ${kind}`
  );
}

/** One caller as its kind's schema gives it, before `consent` is settled. */
type Parsed = Omit<CallerConfig, "consent"> & { consent?: boolean };

/** One caller: its kind (when `credential` names one), its config when valid, and its problems. */
function parseCaller(raw: unknown, at: readonly PropertyKey[]) {
  if (!isRecord(raw)) {
    return {
      kind: undefined,
      problems: [{ path: keyPath(at), message: `must be an object { ${CALLER_KEYS.join(", ")} }` }],
    };
  }
  const given = raw.credential ?? DEFAULT_KIND;
  const kind = CREDENTIAL_KINDS.find((k) => k === given);
  const schema: z.ZodType = kind ? KINDS[kind].config : ANY_KIND;
  const input = kind ? { ...raw, credential: kind } : raw;
  const result = schema.safeParse(input);
  const problems = result.success
    ? []
    : problemsOf(result.error.issues, {
        schema,
        input,
        prefix: at,
        unknownAtRoot: (key) => {
          const field = FIELDS.get(key);
          if (!kind || !field) {
            return [
              {
                path: keyPath([...at, key]),
                message: `unknown key; allowed keys: ${CALLER_KEYS.join(", ")}`,
              },
            ];
          }
          const value = field.schema.safeParse(raw[key]);
          return [
            { path: keyPath([...at, key]), message: misplaced(key, kind) },
            ...(value.success
              ? []
              : problemsOf(value.error.issues, {
                  schema: field.schema,
                  input: raw[key],
                  prefix: [...at, key],
                })),
          ];
        },
      });
  return { kind, config: result.success ? (result.data as Parsed) : undefined, problems };
}

/**
 * A caller that leaves `consent` to the stack, when the stack's is false but its kind's schema refuses
 * false (a kind that cannot work without admin consent): the kind's own words, and what to do.
 */
function consentProblems(
  p: ReturnType<typeof parseCaller>,
  stackConsent: boolean,
  i: number,
): ConfigProblem[] {
  if (stackConsent || !p.config || p.config.consent !== undefined || !hasAppRegistration(p.kind!)) return [];
  const refused = (KINDS[p.kind!].config.shape as Record<string, z.ZodType>).consent.safeParse(false);
  if (refused.success) return [];
  return [
    {
      path: keyPath(["callers", i, "consent"]),
      message:
        `the stack's ${keyPath(["consent"])} is false, and this caller's consent ${refused.error.issues[0].message}. ` +
        "Set consent: true on this caller (or the stack's consent to true)",
    },
  ];
}

/** What {@link parseCallers} found. */
export interface ParsedCallers {
  /** Each caller's kind, where its `credential` names one (also when something else is wrong with it). */
  kinds: (CredentialKind | undefined)[];
  /** The callers, when every one is valid; `consent` settled with the stack's. */
  callers: CallerConfig[];
  problems: ConfigProblem[];
}

/** Checks the raw list of callers (a list is the stack schema's to require) against each caller's kind. */
export function parseCallers(raw: unknown, stackConsent: boolean): ParsedCallers {
  const parsed = (Array.isArray(raw) ? raw : []).map((c, i) => {
    const p = parseCaller(c, ["callers", i]);
    return { ...p, problems: [...p.problems, ...consentProblems(p, stackConsent, i)] };
  });
  const valid = parsed.every((p) => p.config !== undefined && p.problems.length === 0);
  return {
    kinds: parsed.map((p) => p.kind),
    callers: valid
      ? parsed.map(
          (p) =>
            ({
              ...p.config!,
              consent: hasAppRegistration(p.kind!) ? (p.config!.consent ?? stackConsent) : false,
            }) as CallerConfig,
        )
      : [],
    problems: parsed.flatMap((p) => p.problems),
  };
}
