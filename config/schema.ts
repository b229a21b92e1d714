/**
 * The stack's own keys (docs/configuration.md), as one strict zod schema: defaults written once, each
 * message naming what is allowed. The callers are a list here; each is checked against its kind's
 * schema by config/callers.ts.
 */
import { z } from "zod";
import { CLOUD_NAMES } from "../clouds";
import { httpsUrl, intIn, patterned, secretReaders, show, visible, wholeNumber } from "../fields/config";
import { EMAIL_PATTERN, GUID_PATTERN, VAULT_ID_PATTERN } from "../fields/patterns";
import { isVaulted, type CallerConfig } from "../kinds/registry";
import { CREDENTIAL_KINDS } from "../kinds/names";
import {
  ENVIRONMENT_PATTERN,
  FLOW_NAME_PATTERN,
  MAX_CALLERS,
  MAX_FLOWS,
  NAME_PREFIX_PATTERN,
} from "../naming";
import { RESET_FOLLOWS, ROTATION_DEFAULTS } from "../rotation";
import { CALLER_KEYS } from "./callers";
import { SUBSCRIPTION_HOW } from "./keys";

/** The kinds that rotate, as messages list them, e.g. `secret or certificate`. */
export const ROTATING_KINDS = CREDENTIAL_KINDS.filter(isVaulted);

const rotationReset = z
  .array(
    z.strictObject({
      caller: z.string({
        error: `must name a ${ROTATING_KINDS.join(" or ")} caller of flow-trigger-auth:callers`,
      }),
      follow: z.enum(RESET_FOLLOWS, {
        error: (i) =>
          `${show(i.input)} must be one of ${RESET_FOLLOWS.join(", ")} (the Key Vault record, the stack's outputs, or a fresh start on the grid)`,
      }),
    }),
    { error: `must be a list of { caller, follow: ${RESET_FOLLOWS.join(" | ")} }` },
  )
  .max(MAX_CALLERS, `must list at most ${MAX_CALLERS} callers`)
  // Per caller, which record to follow while its records conflict.
  .transform((list) => Object.fromEntries(list.map((r) => [r.caller, r.follow])))
  .default({});

const rotation = z.strictObject({
  rotationDays: intIn(2, 365).default(ROTATION_DEFAULTS.rotationDays),
  maxLifetimeDays: intIn(1, 3650).default(ROTATION_DEFAULTS.maxLifetimeDays),
  offsetDays: wholeNumber((input) => `${show(input)} must be a whole number of days`).default(
    ROTATION_DEFAULTS.offsetDays,
  ),
});

const keyVault = z.strictObject({
  existingVaultId: patterned(
    VAULT_ID_PATTERN,
    "must be the ARM ID of a Key Vault: /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>",
  ).optional(),
  secretReaders,
});

const smokeTest = z.strictObject({
  // Host, scheme, credentials and "sig" are checked against the stack's cloud in config/rules.ts, with
  // the smoke test's own rules (trigger-url.ts).
  triggerUrl: z.string({ error: "must be the flow's HTTPS trigger URL" }),
  caller: z.string({ error: "must name one of flow-trigger-auth:callers" }),
  body: z.unknown().optional(),
  expectStatus: intIn(200, 299).optional(),
});

/** One flow the stack's callers may trigger (docs/configuration.md#flows). */
const flow = z.strictObject({
  name: patterned(
    FLOW_NAME_PATTERN,
    "must be lowercase letters, digits and hyphens, start with a letter, at most 40 characters",
  ),
  // Checked against the stack's cloud in config/rules.ts, by the smoke test's rules (trigger-url.ts).
  triggerUrl: z.string({ error: "must be the flow's HTTPS trigger URL, as its trigger shows it" }),
  // Each must be a caller of the stack, once: config/rules.ts.
  callers: z
    .array(z.string({ error: "must name one of flow-trigger-auth:callers" }), {
      error: `must be a list of 1 to ${MAX_CALLERS} names of flow-trigger-auth:callers`,
    })
    .min(1, "must list at least 1 caller: the callers that may trigger the flow")
    .max(MAX_CALLERS, `must list at most ${MAX_CALLERS} callers`),
  flowId: patterned(
    GUID_PATTERN,
    "must be the flow's ID, a GUID: the end of its address in Power Automate (.../flows/<flow ID>), or its solution's workflowid",
  ),
  // On the cloud's Dataverse domain: config/rules.ts.
  dataverseUrl: z.string({
    error: "must be the environment's Dataverse URL, e.g. https://contoso.crm4.dynamics.com",
  }),
});

const alerts = z.strictObject({
  emails: z
    .array(visible(patterned(EMAIL_PATTERN, "must be an e-mail address")), {
      error: "must be a list of e-mail addresses",
    })
    .default([]),
  webhookUrl: httpsUrl("an HTTPS URL").optional(),
});

/** The whole config; `location` and `subscriptionId` are azure-native's keys. */
export const stackSchema = z.strictObject({
  environment: patterned(ENVIRONMENT_PATTERN, "must be 1 to 16 lowercase letters, digits or hyphens"),
  cloud: z
    .enum(CLOUD_NAMES, { error: (i) => `${show(i.input)} must be one of ${CLOUD_NAMES.join(", ")}` })
    .default("public"),
  namePrefix: patterned(
    NAME_PREFIX_PATTERN,
    "must start with a lowercase letter, then lowercase letters, digits or hyphens, at most 12 characters",
  ).default("flow"),
  callers: z
    .array(z.unknown(), {
      error: (i) =>
        `${i.input === undefined ? "is required:" : "must be"} a list of 1 to ${MAX_CALLERS} callers, each { ${CALLER_KEYS.map((k) => (k === "name" ? k : `${k}?`)).join(", ")} }`,
    })
    .min(1, "must list at least 1 caller")
    .max(MAX_CALLERS, `must list at most ${MAX_CALLERS} callers`),
  rotation: rotation.prefault({}),
  keyVault: keyVault.prefault({}),
  smokeTest: smokeTest.optional(),
  flows: z
    .array(flow, {
      error: `must be a list of 0 to ${MAX_FLOWS} flows, each { ${Object.keys(flow.shape).join(", ")} }`,
    })
    .max(MAX_FLOWS, `must list at most ${MAX_FLOWS} flows`)
    .default([]),
  alerts: alerts.optional(),
  consent: z.boolean({ error: "must be true or false" }).default(true),
  rotationReset,
  location: z.string().min(1, "must name an Azure region, e.g. westeurope").optional(),
  subscriptionId: patterned(
    GUID_PATTERN,
    `must be a subscription ID (a GUID): ${SUBSCRIPTION_HOW}`,
  ).optional(),
});

/** The keys of the project namespace (all of the schema's but azure-native's). */
export const KNOWN_KEYS = Object.keys(stackSchema.shape).filter(
  (k) => k !== "location" && k !== "subscriptionId",
);

/** The validated stack configuration, defaults applied. */
export type StackConfig = Omit<z.output<typeof stackSchema>, "callers" | "consent"> & {
  /** Each caller, in the shape of its credential kind, `consent` settled with the stack's. */
  callers: CallerConfig[];
};
