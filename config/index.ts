/**
 * The one schema of stack configuration (docs/configuration.md), parsed and validated once,
 * before any resource is declared. Every problem is reported at once, each with its key path and what
 * is allowed; unknown keys are errors. Pure: takes the raw config map, never reads Pulumi state itself,
 * so `flow-trigger-auth validate` and the tests use exactly what `pulumi up` uses.
 */
import { z } from "zod";
import { CLOUD_NAMES, isCloudName, type CloudName } from "../clouds";
import { CREDENTIAL_KINDS, type CredentialKind } from "../kinds/registry";
import { CONTROL, INVISIBLE, printable } from "../printable";
import { RESET_FOLLOWS, type ResetFollow } from "../rotation";
import {
  EMAIL_PATTERN as EMAIL,
  GUID_EXAMPLE,
  GUID_PATTERN as GUID,
  isHttpsUrl,
  VAULT_ID_PATTERN as VAULT_ID,
} from "../fields/patterns";
import { checkTriggerUrl } from "../trigger-url";

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
  "consent",
  "rotationReset",
] as const;

/** Non-project keys this program reads. */
export const LOCATION_KEY = "azure-native:location";
/** The subscription azure-native deploys to; required whenever the stack creates or uses a vault or creates an identity. */
export const SUBSCRIPTION_KEY = "azure-native:subscriptionId";

/** How to find and set {@link SUBSCRIPTION_KEY}. */
export const SUBSCRIPTION_HOW =
  "find it with `az account show --query id -o tsv` (the subscription you are signed in to) and set it with " +
  "`pulumi config set azure-native:subscriptionId <id>`";

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

const objectId = patterned(GUID, `must be an object ID (a GUID such as ${GUID_EXAMPLE})`);

const httpsUrl = (what: string) =>
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
const visible = <T extends z.ZodType<string>>(schema: T, allow: readonly string[] = []) =>
  schema.superRefine((s, ctx) => {
    const problem = invisibleProblem(s, allow);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** Principal types a secret reader may have; Key Vault role assignments need the right one. */
export const PRINCIPAL_TYPES = ["User", "Group", "ServicePrincipal"] as const;

const secretReader = z.strictObject({
  objectId,
  type: z.enum(PRINCIPAL_TYPES, {
    error: (i) => `${show(i.input)} must be one of User, Group, ServicePrincipal`,
  }),
});

/** The issuer of GitHub Actions' OIDC tokens (GitHub Enterprise Cloud may add `/<enterprise>`). */
export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

/** The audience of a federated credential unless one is given (Entra's recommended value). */
export const DEFAULT_FEDERATED_AUDIENCE = "api://AzureADTokenExchange";

/** Most federated identity credentials Entra allows on one app. */
export const MAX_FEDERATED_CREDENTIALS = 20;

/** Entra's limit on an issuer, a subject or an audience. */
const FEDERATED_TEXT_MAX = 600;

/** `owner/repository` as GitHub names them, with the optional `@<id>` of immutable subjects. */
const GITHUB_REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:@\d+)?\/[A-Za-z0-9._-]{1,100}(?:@\d+)?$/;

/** Claims GitHub may put in a subject (the default template uses `repo` and the context; custom templates others). */
const GITHUB_SUBJECT_CLAIMS = new Set([
  "repo",
  "context",
  "environment",
  "ref",
  "ref_type",
  "ref_protected",
  "actor",
  "actor_id",
  "base_ref",
  "head_ref",
  "event_name",
  "job_workflow_ref",
  "job_workflow_sha",
  "repository",
  "repository_id",
  "repository_owner",
  "repository_owner_id",
  "repository_visibility",
  "runner_environment",
  "workflow",
  "workflow_ref",
  "workflow_sha",
  "enterprise",
  "enterprise_id",
  "sha",
  "run_id",
  "run_number",
  "run_attempt",
  "check_run_id",
]);

/** True when `issuer` is GitHub Actions' (GitHub Enterprise Cloud: with `/<enterprise>`). */
export function isGitHubIssuer(issuer: string): boolean {
  return issuer === GITHUB_ISSUER || issuer.startsWith(`${GITHUB_ISSUER}/`);
}

const GITHUB_SUBJECT_FORMS =
  "GitHub's subjects read repo:OWNER/REPO:environment:NAME, repo:OWNER/REPO:ref:refs/heads/BRANCH (or refs/tags/TAG) " +
  "or repo:OWNER/REPO:pull_request, unless the repository uses a custom subject template; Entra compares " +
  "subjects exactly and case-sensitively, so spell owner, repository and environment as GitHub does";

/**
 * Why GitHub Actions never issues `subject`, or undefined when it may: a sequence of `claim:value`
 * pairs (and the bare `pull_request` context), starting with a claim, with no empty part and no
 * wildcard (Entra matches subjects exactly, case-sensitively).
 */
export function githubSubjectProblem(subject: string): string | undefined {
  const reason = ((): string | undefined => {
    if (/[*?]/.test(subject)) return "Entra matches subjects exactly: wildcards match nothing";
    if (/\s/.test(subject)) return "it contains white space";
    const parts = subject.split(":");
    if (!GITHUB_SUBJECT_CLAIMS.has(parts[0])) return `it must start with a claim such as repo:OWNER/REPO`;
    for (let i = 0; i < parts.length; i += 2) {
      const claim = parts[i];
      if (claim === "pull_request") {
        i -= 1;
        continue;
      }
      if (!GITHUB_SUBJECT_CLAIMS.has(claim)) return `"${claim}" is not a claim GitHub puts in subjects`;
      const value = parts[i + 1];
      if (!value) return `${claim} has no value`;
      if (claim === "repo" && !GITHUB_REPOSITORY.test(value)) return `repo "${value}" is not OWNER/REPO`;
      if (claim === "ref" && !/^refs\/\S+\/\S+$/.test(value))
        return `ref "${value}" must be a full ref such as refs/heads/main or refs/tags/v1`;
    }
    return undefined;
  })();
  return reason && `${show(subject)} is not a subject GitHub issues: ${reason}. ${GITHUB_SUBJECT_FORMS}`;
}

/** `:` inside a subject value, as GitHub writes it. */
const subjectValue = (v: string) => v.replace(/:/g, "%3A");

/** The subject GitHub Actions issues for a job of `github`'s repository and environment, ref or pull request. */
export function githubSubject(github: GitHubFederation): string {
  const context =
    github.environment !== undefined
      ? `environment:${subjectValue(github.environment)}`
      : github.ref !== undefined
        ? `ref:${subjectValue(github.ref)}`
        : "pull_request";
  return `repo:${github.repository}:${context}`;
}

const federatedText = (what: string) =>
  visible(
    z
      .string({ error: `must be ${what}` })
      .min(1, `must be ${what}`)
      .max(FEDERATED_TEXT_MAX, `must be at most ${FEDERATED_TEXT_MAX} characters (Entra's limit)`),
  );

const github = z
  .strictObject({
    repository: patterned(
      GITHUB_REPOSITORY,
      "must be OWNER/REPOSITORY as GitHub spells it (Entra compares subjects case-sensitively), e.g. contoso/erp-sync",
    ),
    environment: visible(
      z
        .string({ error: "must be the name of a GitHub environment, e.g. prod" })
        .min(1, "must be the name of a GitHub environment, e.g. prod")
        .max(255, "must be at most 255 characters (GitHub's limit)")
        .refine((s) => !/[*?\s]/.test(s), {
          error: "must be the environment's exact name: no wildcard or white space (Entra matches exactly)",
        }),
    ).optional(),
    ref: visible(
      patterned(
        /^refs\/(heads|tags)\/[^\s*?]+$/,
        "must be a full ref without wildcards: refs/heads/<branch> or refs/tags/<tag>",
      ),
    ).optional(),
    pullRequest: z
      .literal(true, { error: "must be true (jobs of pull requests), or be left out" })
      .optional(),
  })
  .superRefine((g, ctx) => {
    const given = (["environment", "ref", "pullRequest"] as const).filter((k) => g[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message:
          `give exactly one of environment, ref or pullRequest: true (GitHub's subject names exactly one of them)` +
          (given.length ? `; got ${given.join(" and ")}` : ""),
      });
    }
  });

const federatedCredential = z
  .strictObject({
    issuer: visible(
      httpsUrl(`the identity provider's HTTPS issuer URL, e.g. ${GITHUB_ISSUER}`).max(
        FEDERATED_TEXT_MAX,
        `must be at most ${FEDERATED_TEXT_MAX} characters (Entra's limit)`,
      ),
    ).optional(),
    subject: federatedText(
      "the subject of the external tokens, e.g. repo:contoso/erp-sync:environment:prod",
    ).optional(),
    audiences: z
      .array(federatedText("an audience"), {
        error: `must be a list of one audience, e.g. ["${DEFAULT_FEDERATED_AUDIENCE}"]`,
      })
      .length(
        1,
        `must list exactly one audience (Entra takes one per credential), e.g. ["${DEFAULT_FEDERATED_AUDIENCE}"]`,
      )
      .optional(),
    github: github.optional(),
  })
  .superRefine((f, ctx) => {
    const plain = f.issuer !== undefined || f.subject !== undefined;
    if (f.github !== undefined && plain) {
      ctx.addIssue({ code: "custom", message: "give either { issuer, subject } or { github }, not both" });
      return;
    }
    if (f.github === undefined && !plain) {
      ctx.addIssue({
        code: "custom",
        message:
          "give { issuer, subject, audiences? } or { github: { repository, environment | ref | pullRequest } }",
      });
      return;
    }
    if (f.github !== undefined) return;
    if (f.subject === undefined)
      ctx.addIssue({ code: "custom", path: ["subject"], message: "is required with issuer" });
    if (f.issuer === undefined)
      ctx.addIssue({ code: "custom", path: ["issuer"], message: "is required with subject" });
    if (f.issuer === undefined || f.subject === undefined) return;
    if (f.issuer.replace(/\/+$/, "") === GITHUB_ISSUER && f.issuer !== GITHUB_ISSUER) {
      ctx.addIssue({
        code: "custom",
        path: ["issuer"],
        message: `must be exactly ${GITHUB_ISSUER}, without a trailing slash: Entra compares it with the token's iss claim`,
      });
    } else if (isGitHubIssuer(f.issuer)) {
      const problem = githubSubjectProblem(f.subject);
      if (problem) ctx.addIssue({ code: "custom", path: ["subject"], message: problem });
    }
  });

const managedIdentity = z
  .strictObject({
    principalId: patterned(
      GUID,
      "must be the object (principal) ID of an existing managed identity, a GUID (az identity show --query principalId)",
    ).optional(),
    create: z
      .literal(true, { error: "must be true (to use an existing identity, give principalId instead)" })
      .optional(),
  })
  .superRefine((m, ctx) => {
    if (m.principalId !== undefined && m.create !== undefined) {
      ctx.addIssue({ code: "custom", message: "give principalId or create: true, not both" });
    } else if (m.principalId === undefined && m.create === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "give principalId (the object ID of an existing managed identity) or create: true",
      });
    }
  });

const caller = z.strictObject({
  name: patterned(
    /^[a-z][a-z0-9-]{0,39}$/,
    "must be lowercase letters, digits and hyphens, start with a letter, at most 40 characters",
  ),
  // Shown in the portal next to the app: line breaks and tabs are fine, invisible characters are not.
  description: visible(z.string({ error: "must be a string" }).max(1024, "must be at most 1024 characters"), [
    "\n",
    "\t",
  ]).optional(),
  credential: z
    .enum(CREDENTIAL_KINDS, {
      error: (i) => `${show(i.input)} must be one of ${CREDENTIAL_KINDS.join(", ")}`,
    })
    .optional(),
  owners: z.array(objectId, { error: "must be a list of object IDs (GUIDs)" }).optional(),
  secretReaders: z.array(secretReader, { error: "must be a list of { objectId, type }" }).optional(),
  federatedCredentials: z
    .array(federatedCredential, {
      error: `must be a list of 1 to ${MAX_FEDERATED_CREDENTIALS} federated credentials`,
    })
    .min(1, "must list at least 1 federated credential")
    .max(
      MAX_FEDERATED_CREDENTIALS,
      `must list at most ${MAX_FEDERATED_CREDENTIALS} federated credentials (Entra's limit per app)`,
    )
    .optional(),
  managedIdentity: managedIdentity.optional(),
  consent: z.boolean({ error: "must be true or false" }).optional(),
});

const rotationReset = z
  .array(
    z.strictObject({
      caller: z.string({ error: "must name a secret or certificate caller of flow-trigger-auth:callers" }),
      follow: z.enum(RESET_FOLLOWS, {
        error: (i) =>
          `${show(i.input)} must be one of ${RESET_FOLLOWS.join(", ")} (the Key Vault record, the stack's outputs, or a fresh start on the grid)`,
      }),
    }),
    { error: "must be a list of { caller, follow: keyVault | stack | fresh }" },
  )
  .max(100, "must list at most 100 callers");

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
  // Host, scheme, credentials and "sig" are checked against the stack's cloud in crossChecks, with the
  // smoke test's own rules (trigger-url.ts).
  triggerUrl: z.string({ error: "must be the flow's HTTPS trigger URL" }),
  caller: z.string({ error: "must name one of flow-trigger-auth:callers" }),
  body: z.unknown().optional(),
  expectStatus: intIn(200, 299).optional(),
});

const alerts = z.strictObject({
  emails: z
    .array(visible(patterned(EMAIL, "must be an e-mail address")), {
      error: "must be a list of e-mail addresses",
    })
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
        `${i.input === undefined ? "is required:" : "must be"} a list of 1 to 100 callers, each { name, description?, credential?, owners?, secretReaders?, federatedCredentials?, managedIdentity? }`,
    })
    .min(1, "must list at least 1 caller")
    .max(100, "must list at most 100 callers"),
  rotation: rotation.default({ rotationDays: 90, maxLifetimeDays: 730, offsetDays: 0 }),
  keyVault: keyVault.default({}),
  smokeTest: smokeTest.optional(),
  alerts: alerts.optional(),
  consent: z.boolean({ error: "must be true or false" }).default(true),
  rotationReset: rotationReset.optional(),
  location: z.string().min(1, "must name an Azure region, e.g. westeurope").optional(),
  subscriptionId: patterned(GUID, `must be a subscription ID (a GUID): ${SUBSCRIPTION_HOW}`).optional(),
});

type Parsed = z.infer<typeof schema>;
/** A reader granted *Key Vault Secrets User* on a secret. */
export type SecretReader = z.infer<typeof secretReader>;

/** `{ github: ... }` in a federated credential: the subject GitHub Actions issues, spelled for people. */
export interface GitHubFederation {
  /** `owner/repository`, e.g. `contoso/erp-sync`. */
  repository: string;
  /** A GitHub environment, e.g. `prod`. */
  environment?: string;
  /** A full ref, e.g. `refs/heads/main` or `refs/tags/v1.2.0`. */
  ref?: string;
  /** Jobs triggered by pull requests. */
  pullRequest?: true;
}

/** One federated identity credential, GitHub's shorthand expanded. */
export interface FederatedCredentialConfig {
  /** Issuer of the external tokens, e.g. `https://token.actions.githubusercontent.com`. */
  issuer: string;
  /** Their subject, matched exactly and case-sensitively, e.g. `repo:contoso/erp-sync:environment:prod`. */
  subject: string;
  /** Their audience (one), by default {@link DEFAULT_FEDERATED_AUDIENCE}. */
  audiences: string[];
}

/** Which managed identity a caller is: an existing one by object ID, or one the stack creates. */
export type ManagedIdentityConfig = { principalId: string } | { create: true };

interface CallerBase {
  /** Short name, e.g. `erp`; goes into display names and the vault secret name. */
  name: string;
  description?: string;
  /** Admin consent to the Flow `User` scope for this caller's app (the stack's `consent` unless set); false for managed identities. */
  consent: boolean;
}

/**
 * One calling system, by credential kind: secret and certificate callers get an app registration and
 * two rotating credentials in Key Vault; federated callers an app registration that trusts external
 * tokens; managed identity callers no app registration at all.
 */
export type CallerConfig =
  | (CallerBase & {
      credential: "secret" | "certificate";
      /** Extra owners of the app registration and enterprise app (object IDs). */
      owners: string[];
      /** Readers of this caller's secret (or certificate) only. */
      secretReaders: SecretReader[];
    })
  | (CallerBase & {
      credential: "federated";
      owners: string[];
      /** 1 to 20 credentials, in the configured order. */
      federatedCredentials: FederatedCredentialConfig[];
    })
  | (CallerBase & { credential: "managedIdentity"; managedIdentity: ManagedIdentityConfig });

/** True for the credential kinds kept in Key Vault (and rotated): `secret` and `certificate`. */
export function isVaulted(kind: CredentialKind): kind is "secret" | "certificate" {
  return kind === "secret" || kind === "certificate";
}

/** The validated stack configuration, defaults applied. */
export interface StackConfig {
  environment: string;
  cloud: CloudName;
  namePrefix: string;
  /** `azure-native:location`; required when the stack creates the vault. */
  location?: string;
  /** `azure-native:subscriptionId`; required when the stack creates or uses a vault or creates an identity. */
  subscriptionId?: string;
  /** `flow-trigger-auth:rotationReset`: per caller, which record to follow while its records conflict. */
  rotationReset: Record<string, ResetFollow>;
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
  if (head === "subscriptionId") return SUBSCRIPTION_KEY;
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
  const smokeInput = input.smokeTest;
  if (isRecord(smokeInput) && typeof smokeInput.triggerUrl === "string") {
    // The same rules as the smoke test inside pulumi up, so validate refuses what it would refuse.
    const cloud = typeof input.cloud === "string" && isCloudName(input.cloud) ? input.cloud : "public";
    const checked = checkTriggerUrl(smokeInput.triggerUrl, { cloud });
    if (checked.outcome !== "ok")
      problems.push({ path: `${NAMESPACE}:smokeTest.triggerUrl`, message: checked.message });
  }
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
  const kinds = callerKinds(input.callers);
  checkCredentialKeys(input.callers, problems);
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
  } else if (isRecord(smoke) && typeof smoke.caller === "string" && seen.has(smoke.caller)) {
    const kind = kinds[seen.get(smoke.caller)!];
    if (kind && !isVaulted(kind)) {
      problems.push({
        path: `${NAMESPACE}:smokeTest.caller`,
        message:
          `${show(smoke.caller)} is a ${kind} caller: the in-stack smoke test signs in with the client secret or ` +
          `certificate the stack keeps in Key Vault, which a ${kind} caller does not have; name a secret or certificate caller`,
      });
    }
  }
  const known = kinds.filter((k): k is CredentialKind => k !== undefined);
  const vaulted = known.some(isVaulted);
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
  } else if (isRecord(alerts) && known.length > 0 && known.length === kinds.length && !vaulted) {
    problems.push({
      path: `${NAMESPACE}:alerts`,
      message:
        "watches the expiry of secrets and certificates in Key Vault, and no caller keeps one there (every caller is federated or a managed identity): remove alerts",
    });
  }
  const existingVaultId = isRecord(input.keyVault) ? input.keyVault.existingVaultId : undefined;
  checkSubscription(input, kinds, vaulted, existingVaultId, problems);
  checkRotationReset(input.rotationReset, input.callers, kinds, problems);
  // An empty location is refused by the schema already.
  if (existingVaultId === undefined && input.location === undefined) {
    const creates = createdIdentities(input.callers, kinds);
    // A stack without a list of callers is refused by the schema; it is assumed to need the vault.
    if (vaulted || !Array.isArray(input.callers)) {
      problems.push({
        path: LOCATION_KEY,
        message:
          "is required when the stack creates the Key Vault (e.g. `pulumi config set azure-native:location westeurope`), or set flow-trigger-auth:keyVault.existingVaultId",
      });
    } else if (creates.length) {
      problems.push({
        path: LOCATION_KEY,
        message:
          `is required when the stack creates a managed identity (${creates.join(", ")}), e.g. \`pulumi config set azure-native:location westeurope\`, ` +
          "or set flow-trigger-auth:keyVault.existingVaultId to create it beside that vault",
      });
    }
  }
}

/**
 * `azure-native:subscriptionId` names the subscription whenever the stack creates or uses a vault or
 * creates an identity (the rule azurerm 4.x adopted for `subscription_id`): azure-native would
 * otherwise take whichever subscription the Azure CLI or ARM_SUBSCRIPTION_ID points at. An existing
 * vault must be in it.
 */
function checkSubscription(
  input: Record<string, unknown>,
  kinds: (CredentialKind | undefined)[],
  vaulted: boolean,
  existingVaultId: unknown,
  problems: ConfigProblem[],
): void {
  const creates = createdIdentities(input.callers, kinds);
  const needs =
    vaulted || creates.length > 0 || existingVaultId !== undefined || !Array.isArray(input.callers);
  if (input.subscriptionId === undefined && needs) {
    const why =
      vaulted || !Array.isArray(input.callers)
        ? "the stack keeps credentials in Key Vault"
        : creates.length
          ? `the stack creates a managed identity (${creates.join(", ")})`
          : "the stack uses an existing vault";
    problems.push({ path: SUBSCRIPTION_KEY, message: `is required: ${why}. ${SUBSCRIPTION_HOW}` });
  }
  const sub = typeof input.subscriptionId === "string" ? input.subscriptionId : undefined;
  if (sub && GUID.test(sub) && typeof existingVaultId === "string" && VAULT_ID.test(existingVaultId)) {
    const vaultSub = parseVaultId(existingVaultId).subscriptionId;
    if (vaultSub.toLowerCase() !== sub.toLowerCase()) {
      problems.push({
        path: `${NAMESPACE}:keyVault.existingVaultId`,
        message: `is in subscription ${vaultSub}, but ${SUBSCRIPTION_KEY} is ${sub}: use a vault in ${sub}, or set ${SUBSCRIPTION_KEY} to ${vaultSub}`,
      });
    }
  }
}

/** Each reset names a caller that keeps a rotating credential, once. */
function checkRotationReset(
  resets: unknown,
  callers: unknown,
  kinds: (CredentialKind | undefined)[],
  problems: ConfigProblem[],
): void {
  if (!Array.isArray(resets) || !Array.isArray(callers)) return;
  const rotating = new Map<string, boolean>();
  callers.forEach((c: unknown, i) => {
    if (isRecord(c) && typeof c.name === "string")
      rotating.set(c.name, kinds[i] !== undefined && isVaulted(kinds[i]));
  });
  const seen = new Set<string>();
  resets.forEach((r: unknown, i) => {
    if (!isRecord(r) || typeof r.caller !== "string") return;
    const at = `${NAMESPACE}:rotationReset[${i}].caller`;
    const names = [...rotating].filter(([, v]) => v).map(([k]) => k);
    if (!rotating.has(r.caller)) {
      problems.push({
        path: at,
        message: `${show(r.caller)} must name one of the callers that rotate: ${names.join(", ") || "(none)"}`,
      });
    } else if (!rotating.get(r.caller)) {
      problems.push({
        path: at,
        message: `${show(r.caller)} keeps no rotating credential (only secret and certificate callers do): remove it`,
      });
    } else if (seen.has(r.caller)) {
      problems.push({ path: at, message: `${show(r.caller)} is already listed: one reset per caller` });
    }
    seen.add(r.caller);
  });
}

/** Each raw caller's credential kind (`secret` when left out); undefined where it is not one. */
function callerKinds(callers: unknown): (CredentialKind | undefined)[] {
  if (!Array.isArray(callers)) return [];
  return callers.map((c) => {
    const kind = isRecord(c) ? (c.credential ?? "secret") : undefined;
    return (CREDENTIAL_KINDS as readonly unknown[]).includes(kind) ? (kind as CredentialKind) : undefined;
  });
}

/** Key paths of the managed identities the stack would create. */
function createdIdentities(callers: unknown, kinds: (CredentialKind | undefined)[]): string[] {
  if (!Array.isArray(callers)) return [];
  return callers.flatMap((c, i) =>
    kinds[i] === "managedIdentity" &&
    isRecord(c) &&
    isRecord(c.managedIdentity) &&
    c.managedIdentity.create === true
      ? [`${NAMESPACE}:callers[${i}].managedIdentity.create`]
      : [],
  );
}

/** Keys each credential kind takes, beyond name and description. */
const KIND_KEYS: Record<CredentialKind, readonly string[]> = {
  secret: ["owners", "secretReaders"],
  certificate: ["owners", "secretReaders"],
  federated: ["owners", "federatedCredentials"],
  managedIdentity: ["managedIdentity"],
};

/** Keys any caller with an app registration takes; a managed identity has none. */
const APP_KEYS = ["consent"];

/** Why a key does not fit a caller of `kind`. */
function misplaced(key: string, kind: CredentialKind): string {
  switch (key) {
    case "federatedCredentials":
    case "managedIdentity":
      return `only a caller with credential: ${key === "managedIdentity" ? key : "federated"} takes ${key}; this caller's credential is ${kind}`;
    case "owners":
      return "a managed identity has no app registration to own: remove owners (the identity is managed through Azure RBAC)";
    default:
      return `a ${kind} caller keeps nothing in Key Vault, so there is nothing to read: remove secretReaders`;
  }
}

/**
 * Per caller: the keys its credential kind needs are there, and none that only another kind takes;
 * federated credentials are unique per issuer and subject (Entra refuses a second one, and matches
 * case-sensitively, so two that differ only in case cannot both be right).
 */
function checkCredentialKeys(callers: unknown, problems: ConfigProblem[]): void {
  const kinds = callerKinds(callers);
  (Array.isArray(callers) ? callers : []).forEach((c: unknown, i) => {
    const kind = kinds[i];
    if (!isRecord(c) || !kind) return;
    const at = `${NAMESPACE}:callers[${i}]`;
    for (const key of ["owners", "secretReaders", "federatedCredentials", "managedIdentity"]) {
      if (c[key] !== undefined && !KIND_KEYS[kind].includes(key)) {
        problems.push({ path: `${at}.${key}`, message: misplaced(key, kind) });
      }
    }
    for (const key of APP_KEYS) {
      if (c[key] !== undefined && kind === "managedIdentity") {
        problems.push({
          path: `${at}.${key}`,
          message: "a managed identity has no app registration and asks for no permission: remove consent",
        });
      }
    }
    if (kind === "federated" && c.federatedCredentials === undefined) {
      problems.push({
        path: `${at}.federatedCredentials`,
        message: `is required for credential: federated: a list of 1 to ${MAX_FEDERATED_CREDENTIALS} { issuer, subject, audiences? } or { github: { repository, environment | ref | pullRequest } }`,
      });
    }
    if (kind === "managedIdentity" && c.managedIdentity === undefined) {
      problems.push({
        path: `${at}.managedIdentity`,
        message:
          "is required for credential: managedIdentity: { principalId: <object ID of an existing identity> } or { create: true }",
      });
    }
    if (kind === "federated" && Array.isArray(c.federatedCredentials)) {
      const seen: { key: string; exact: string; index: number }[] = [];
      c.federatedCredentials.forEach((f: unknown, j) => {
        const found = federatedIdentity(f);
        if (!found) return;
        const exact = `${found.issuer}\n${found.subject}`;
        const key = exact.toLowerCase();
        const first = seen.find((s) => s.key === key);
        if (!first) {
          seen.push({ key, exact, index: j });
          return;
        }
        problems.push({
          path: `${at}.federatedCredentials[${j}]`,
          message:
            first.exact === exact
              ? `has the same issuer and subject as federatedCredentials[${first.index}] (${found.subject}); each must be unique`
              : `differs from federatedCredentials[${first.index}] only in letter case (${found.subject}): Entra compares subjects ` +
                "case-sensitively, so keep the one spelled exactly as the identity provider issues it",
        });
      });
    }
  });
}

/** Issuer and subject of a raw federated credential, GitHub's shorthand expanded; undefined when malformed. */
function federatedIdentity(f: unknown): { issuer: string; subject: string } | undefined {
  if (!isRecord(f)) return undefined;
  if (isRecord(f.github)) {
    const g = f.github;
    if (typeof g.repository !== "string") return undefined;
    const shorthand = { repository: g.repository } as GitHubFederation;
    if (typeof g.environment === "string") shorthand.environment = g.environment;
    else if (typeof g.ref === "string") shorthand.ref = g.ref;
    else if (g.pullRequest === true) shorthand.pullRequest = true;
    else return undefined;
    return { issuer: GITHUB_ISSUER, subject: githubSubject(shorthand) };
  }
  return typeof f.issuer === "string" && typeof f.subject === "string"
    ? { issuer: f.issuer, subject: f.subject }
    : undefined;
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
    if (fullKey === SUBSCRIPTION_KEY) {
      input.subscriptionId = value;
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
    subscriptionId: c.subscriptionId,
    callers: c.callers.map((k) => callerConfig(k, c.consent)),
    rotationReset: Object.fromEntries((c.rotationReset ?? []).map((r) => [r.caller, r.follow])),
    rotation: c.rotation,
    keyVault: { existingVaultId: c.keyVault.existingVaultId, secretReaders: c.keyVault.secretReaders ?? [] },
    smokeTest: c.smokeTest,
    alerts: c.alerts ? { emails: c.alerts.emails ?? [], webhookUrl: c.alerts.webhookUrl } : undefined,
  };
}

/** A parsed caller in the shape of its credential kind (the cross checks vouch for the keys each kind needs). */
function callerConfig(k: Parsed["callers"][number], stackConsent: boolean): CallerConfig {
  const kind = k.credential ?? "secret";
  const base = {
    name: k.name,
    description: k.description,
    consent: kind === "managedIdentity" ? false : (k.consent ?? stackConsent),
  };
  switch (kind) {
    case "secret":
    case "certificate":
      return { ...base, credential: kind, owners: k.owners ?? [], secretReaders: k.secretReaders ?? [] };
    case "federated":
      return {
        ...base,
        credential: kind,
        owners: k.owners ?? [],
        federatedCredentials: (k.federatedCredentials ?? []).map((f) => ({
          issuer: f.github ? GITHUB_ISSUER : f.issuer!,
          subject: f.github ? githubSubject(f.github as GitHubFederation) : f.subject!,
          audiences: f.audiences ?? [DEFAULT_FEDERATED_AUDIENCE],
        })),
      };
    case "managedIdentity": {
      const m = k.managedIdentity!;
      return {
        ...base,
        credential: kind,
        managedIdentity: m.principalId !== undefined ? { principalId: m.principalId } : { create: true },
      };
    }
  }
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
  return path.length === 0 ? keys.filter((k) => k !== "location" && k !== "subscriptionId") : keys;
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
