/**
 * The one schema of stack configuration (contract: "Stack configuration"), parsed and validated once,
 * before any resource is declared. Every problem is reported at once, each with its key path and what
 * is allowed; unknown keys are errors. Pure: takes the raw config map, never reads Pulumi state itself,
 * so `npm run validate` and the tests use exactly what `pulumi up` uses.
 */
import { z } from "zod";
import { CLOUD_NAMES, type CloudName } from "./clouds";

/** Config namespace of this project. */
export const NAMESPACE = "flow-trigger-auth";

/** Keys of the project namespace, each a JSON value (objects and lists) or a plain string. */
const KNOWN_KEYS = [
  "environment",
  "cloud",
  "namePrefix",
  "callers",
  "rotation",
  "keyVault",
  "smokeTest",
  "alerts",
] as const;

/** Non-project keys this program reads. */
export const LOCATION_KEY = "azure-native:location";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VAULT_ID =
  /^\/subscriptions\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/resourceGroups\/[-\w._()]{1,90}\/providers\/Microsoft\.KeyVault\/vaults\/[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/i;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** A string matching `pattern`; the message shows the offending value and what is allowed. */
const patterned = (pattern: RegExp, allowed: string) =>
  z.string({ error: `must be a string: ${allowed}` }).refine((s) => pattern.test(s), {
    error: (issue) => `${show(issue.input)} ${allowed}`,
  });

/**
 * `pulumi config set --path rotation.rotationDays 30` may store the number as text: whole numbers
 * written as text are taken as numbers; anything else is left for the schema to refuse.
 */
function asWholeNumber(v: unknown): unknown {
  return typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
}

const wholeNumber = (message: (input: unknown) => string) =>
  z.preprocess(
    asWholeNumber,
    z.number({ error: (i) => message(i.input) }).int({ error: (i) => message(i.input) }),
  );

const intIn = (min: number, max: number) => {
  const message = (input: unknown) => `${show(input)} must be a whole number from ${min} to ${max}`;
  return wholeNumber(message).pipe(
    z
      .number()
      .min(min, { error: (i) => message(i.input) })
      .max(max, { error: (i) => message(i.input) }),
  );
};

const objectId = patterned(
  GUID,
  "must be an object ID (a GUID such as 00000000-0000-0000-0000-000000000000)",
);

const httpsUrl = (what: string) =>
  z.string({ error: `must be ${what}` }).refine(
    (s) => {
      try {
        return new URL(s).protocol === "https:";
      } catch {
        return false;
      }
    },
    { error: `must be ${what}` },
  );

/** Principal types a secret reader may have; Key Vault role assignments need the right one. */
export const PRINCIPAL_TYPES = ["User", "Group", "ServicePrincipal"] as const;

const secretReader = z.strictObject({
  objectId,
  type: z.enum(PRINCIPAL_TYPES, {
    error: (i) => `${show(i.input)} must be one of User, Group, ServicePrincipal`,
  }),
});

const caller = z.strictObject({
  name: patterned(
    /^[a-z][a-z0-9-]{0,39}$/,
    "must be lowercase letters, digits and hyphens, start with a letter, at most 40 characters",
  ),
  description: z
    .string({ error: "must be a string" })
    .max(1024, "must be at most 1024 characters")
    .optional(),
  owners: z.array(objectId, { error: "must be a list of object IDs (GUIDs)" }).optional(),
  secretReaders: z.array(secretReader, { error: "must be a list of { objectId, type }" }).optional(),
});

const rotation = z.strictObject({
  rotationDays: intIn(2, 365).default(90),
  maxLifetimeDays: intIn(1, 3650).default(730),
  offsetDays: wholeNumber((input) => `${show(input)} must be a whole number of days`).default(0),
});

const keyVault = z.strictObject({
  existingVaultId: patterned(
    VAULT_ID,
    "must be the ARM ID of a Key Vault: /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>",
  ).optional(),
  secretReaders: z.array(secretReader, { error: "must be a list of { objectId, type }" }).optional(),
});

const smokeTest = z.strictObject({
  triggerUrl: httpsUrl("the flow's HTTPS trigger URL").refine(
    (s) => !URL.canParse(s) || !new URL(s).searchParams.has("sig"),
    {
      error:
        'carries a "sig" parameter: that is an "Anyone" trigger, callable by whoever has the URL; set "Who can trigger the flow" to "Any user in my tenant" or "Specific users in my tenant" and use the new URL',
    },
  ),
  caller: z.string({ error: "must name one of flow-trigger-auth:callers" }),
  body: z.unknown().optional(),
  expectStatus: intIn(200, 299).optional(),
});

const alerts = z.strictObject({
  emails: z
    .array(patterned(EMAIL, "must be an e-mail address"), { error: "must be a list of e-mail addresses" })
    .optional(),
  webhookUrl: httpsUrl("an HTTPS URL").optional(),
});

const schema = z.strictObject({
  environment: patterned(/^[a-z0-9-]{1,16}$/, "must be 1 to 16 lowercase letters, digits or hyphens"),
  cloud: z
    .enum(CLOUD_NAMES, { error: (i) => `${show(i.input)} must be one of ${CLOUD_NAMES.join(", ")}` })
    .default("public"),
  namePrefix: patterned(
    /^[a-z][a-z0-9-]{0,11}$/,
    "must start with a lowercase letter, then lowercase letters, digits or hyphens, at most 12 characters",
  ).default("flow"),
  callers: z
    .array(caller, {
      error: (i) =>
        `${i.input === undefined ? "is required:" : "must be"} a list of 1 to 100 callers, each { name, description?, owners?, secretReaders? }`,
    })
    .min(1, "must list at least 1 caller")
    .max(100, "must list at most 100 callers"),
  rotation: rotation.default({ rotationDays: 90, maxLifetimeDays: 730, offsetDays: 0 }),
  keyVault: keyVault.default({}),
  smokeTest: smokeTest.optional(),
  alerts: alerts.optional(),
  location: z.string().min(1, "must name an Azure region, e.g. westeurope").optional(),
});

type Parsed = z.infer<typeof schema>;
/** A reader granted *Key Vault Secrets User* on a secret. */
export type SecretReader = z.infer<typeof secretReader>;

/** One calling system: gets its own app registration, enterprise app and rotating secret. */
export interface CallerConfig {
  /** Short name, e.g. `erp`; goes into display names and the vault secret name. */
  name: string;
  description?: string;
  /** Extra owners of the app registration and enterprise app (object IDs). */
  owners: string[];
  /** Readers of this caller's secret only. */
  secretReaders: SecretReader[];
}

/** The validated stack configuration, defaults applied. */
export interface StackConfig {
  environment: string;
  cloud: CloudName;
  namePrefix: string;
  /** `azure-native:location`; required when the stack creates the vault. */
  location?: string;
  callers: CallerConfig[];
  rotation: { rotationDays: number; maxLifetimeDays: number; offsetDays: number };
  keyVault: { existingVaultId?: string; secretReaders: SecretReader[] };
  smokeTest?: { triggerUrl: string; caller: string; body?: unknown; expectStatus?: number };
  alerts?: { emails: string[]; webhookUrl?: string };
}

/** One problem: where (`flow-trigger-auth:callers[1].name`) and what is allowed. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** A config that must not be deployed; lists every problem. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  ${p.path}: ${p.message}`).join("\n"),
    );
  }
}

function keyPath(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path;
  if (head === "location") return LOCATION_KEY;
  let out = head === undefined ? NAMESPACE : `${NAMESPACE}:${String(head)}`;
  for (const part of rest) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A whole number of days from the raw input, its default when absent, undefined when malformed. */
function days(v: unknown, fallback: number): number | undefined {
  if (v === undefined) return fallback;
  const n = asWholeNumber(v);
  return Number.isInteger(n) ? (n as number) : undefined;
}

/**
 * Rules across keys. They run on the raw input, even when the schema found problems, so that one
 * run reports everything; each rule skips values the schema already refuses.
 */
function crossChecks(input: Record<string, unknown>, problems: ConfigProblem[]): void {
  const r = isRecord(input.rotation) ? input.rotation : {};
  const rotationDays = days(r.rotationDays, 90);
  const maxLifetimeDays = days(r.maxLifetimeDays, 730);
  const offsetDays = days(r.offsetDays, 0);
  if (rotationDays !== undefined && rotationDays >= 2 && rotationDays <= 365) {
    if (maxLifetimeDays !== undefined && 1.5 * rotationDays > maxLifetimeDays) {
      problems.push({
        path: `${NAMESPACE}:rotation.maxLifetimeDays`,
        message: `${maxLifetimeDays} is too short for rotationDays ${rotationDays}: each secret lives 1.5 × rotationDays = ${1.5 * rotationDays} days, so maxLifetimeDays must be at least that (or lower rotationDays)`,
      });
    }
    if (offsetDays !== undefined && (offsetDays < 0 || offsetDays >= rotationDays)) {
      problems.push({
        path: `${NAMESPACE}:rotation.offsetDays`,
        message: `${offsetDays} must be a whole number from 0 to ${rotationDays - 1} (less than rotationDays)`,
      });
    }
  } else if (offsetDays !== undefined && offsetDays < 0) {
    problems.push({
      path: `${NAMESPACE}:rotation.offsetDays`,
      message: `${offsetDays} must be a whole number from 0 to rotationDays − 1`,
    });
  }
  const seen = new Map<string, number>();
  (Array.isArray(input.callers) ? input.callers : []).forEach((caller: unknown, i) => {
    if (!isRecord(caller) || typeof caller.name !== "string") return;
    const first = seen.get(caller.name);
    if (first !== undefined) {
      problems.push({
        path: `${NAMESPACE}:callers[${i}].name`,
        message: `"${caller.name}" is already used by callers[${first}]; caller names must be unique`,
      });
    } else seen.set(caller.name, i);
  });
  const smoke = input.smokeTest;
  if (
    isRecord(smoke) &&
    typeof smoke.caller === "string" &&
    Array.isArray(input.callers) &&
    !seen.has(smoke.caller)
  ) {
    problems.push({
      path: `${NAMESPACE}:smokeTest.caller`,
      message: `${show(smoke.caller)} must name one of the callers: ${[...seen.keys()].join(", ") || "(none)"}`,
    });
  }
  const alerts = input.alerts;
  if (
    isRecord(alerts) &&
    !(Array.isArray(alerts.emails) && alerts.emails.length) &&
    alerts.webhookUrl === undefined
  ) {
    problems.push({
      path: `${NAMESPACE}:alerts`,
      message: "must set emails, webhookUrl or both (remove the key to turn alerts off)",
    });
  }
  const existingVaultId = isRecord(input.keyVault) ? input.keyVault.existingVaultId : undefined;
  // An empty location is refused by the schema already.
  if (existingVaultId === undefined && input.location === undefined) {
    problems.push({
      path: LOCATION_KEY,
      message:
        "is required when the stack creates the Key Vault (e.g. `pulumi config set azure-native:location westeurope`), or set flow-trigger-auth:keyVault.existingVaultId",
    });
  }
}

/**
 * Validates the raw config map (as `pulumi.runtime.allConfig()` returns it: full keys, string values,
 * JSON for lists and objects). `stackName` is the default `environment`.
 * @throws {ConfigError} listing every problem.
 */
export function parseStackConfig(raw: Record<string, string>, stackName: string): StackConfig {
  const problems: ConfigProblem[] = [];
  const input: Record<string, unknown> = {};
  const prefix = `${NAMESPACE}:`;
  for (const [fullKey, value] of Object.entries(raw)) {
    if (fullKey === LOCATION_KEY) {
      input.location = value;
      continue;
    }
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
      problems.push({ path: fullKey, message: `unknown key; allowed keys: ${KNOWN_KEYS.join(", ")}` });
      continue;
    }
    input[key] = decode(key, value, problems);
  }
  if (input.environment === undefined) {
    if (/^[a-z0-9-]{1,16}$/.test(stackName)) input.environment = stackName;
    else {
      problems.push({
        path: `${NAMESPACE}:environment`,
        message: `is not set and the stack name "${stackName}" does not fit [a-z0-9-]{1,16}; set it explicitly`,
      });
      input.environment = "invalid";
    }
  }

  const result = schema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const k of issue.keys) {
          problems.push({
            path: keyPath([...issue.path, k]),
            message: `unknown key; allowed keys: ${allowedKeysAt(issue.path).join(", ")}`,
          });
        }
      } else if (issue.code === "invalid_type" && issue.expected === "object") {
        problems.push({
          path: keyPath(issue.path),
          message: `must be an object { ${allowedKeysAt(issue.path).join(", ")} }`,
        });
      } else {
        problems.push({ path: keyPath(issue.path), message: issue.message });
      }
    }
  }
  crossChecks(input, problems);
  if (problems.length) throw new ConfigError(problems);

  const c = (result as { data: Parsed }).data;
  return {
    environment: c.environment,
    cloud: c.cloud,
    namePrefix: c.namePrefix,
    location: c.location,
    callers: c.callers.map((k) => ({
      name: k.name,
      description: k.description,
      owners: k.owners ?? [],
      secretReaders: k.secretReaders ?? [],
    })),
    rotation: c.rotation,
    keyVault: { existingVaultId: c.keyVault.existingVaultId, secretReaders: c.keyVault.secretReaders ?? [] },
    smokeTest: c.smokeTest,
    alerts: c.alerts ? { emails: c.alerts.emails ?? [], webhookUrl: c.alerts.webhookUrl } : undefined,
  };
}

const STRING_KEYS = new Set(["environment", "cloud", "namePrefix"]);

/** Plain strings stay strings; lists and objects arrive as JSON text. */
function decode(key: string, value: string, problems: ConfigProblem[]): unknown {
  if (STRING_KEYS.has(key)) return value;
  try {
    return JSON.parse(value);
  } catch {
    problems.push({
      path: `${NAMESPACE}:${key}`,
      message: "must be structured YAML in Pulumi.<stack>.yaml (a list or an object), not a plain string",
    });
    return undefined;
  }
}

function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  let s: z.ZodType = schema;
  for (const part of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = s.shape[part as string];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
  }
  s = unwrap(s);
  const keys = s instanceof z.ZodObject ? Object.keys(s.shape) : [];
  return path.length === 0 ? keys.filter((k) => k !== "location") : keys;
}

function unwrap(s: z.ZodType): z.ZodType {
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s;
}

/** Splits `existingVaultId` into what azure-native look-ups need. */
export function parseVaultId(id: string): {
  subscriptionId: string;
  resourceGroupName: string;
  vaultName: string;
} {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.KeyVault\/vaults\/([^/]+)$/i.exec(
      id,
    );
  if (!m) throw new Error(`not a Key Vault ARM ID: ${id}`);
  return { subscriptionId: m[1], resourceGroupName: m[2], vaultName: m[3] };
}
