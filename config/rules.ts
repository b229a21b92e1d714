/**
 * Rules across keys. They run on the raw input, even when the schemas found problems, so that one run
 * reports everything; each rule skips values the schemas already refuse. The callers' kinds come from
 * config/callers.ts, which read each caller's `credential` once.
 */
import { DATAVERSE_DOMAIN, dataverseOriginOf, isCloudName, type CloudName } from "../clouds";
import { asWholeNumber, isRecord, show } from "../fields/config";
import { GUID_PATTERN, parseVaultId, VAULT_ID_PATTERN } from "../fields/patterns";
import { isVaulted, KINDS } from "../kinds/registry";
import { type CredentialKind } from "../kinds/names";
import { checkTriggerUrl, environmentIdOfTriggerUrl } from "../trigger-url";
import { LOCATION_KEY, NAMESPACE, SUBSCRIPTION_HOW, SUBSCRIPTION_KEY, type ConfigProblem } from "./keys";
import { ROTATION_DEFAULTS } from "../rotation";
import { ROTATING_KINDS } from "./schema";

/** The raw input and what the callers' check learnt of it. */
interface Facts {
  input: Record<string, unknown>;
  /** Each caller's kind, where its `credential` names one. */
  kinds: (CredentialKind | undefined)[];
  /** Callers by name: the index of the first with each name. */
  names: Map<string, number>;
  /** Some caller keeps its credential in Key Vault (or the callers are not a list: assumed so). */
  vaulted: boolean;
  /** Key paths of the identities the stack would create. */
  creates: string[];
}

/** Every problem across keys of the raw `input`, whose callers have `kinds`. */
export function crossChecks(
  input: Record<string, unknown>,
  kinds: (CredentialKind | undefined)[],
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const callers = Array.isArray(input.callers) ? input.callers : [];
  const names = new Map<string, number>();
  callers.forEach((caller: unknown, i) => {
    if (!isRecord(caller) || typeof caller.name !== "string") return;
    const first = names.get(caller.name);
    if (first === undefined) names.set(caller.name, i);
    else
      problems.push({
        path: `${NAMESPACE}:callers[${i}].name`,
        message: `"${caller.name}" is already used by callers[${first}]; caller names must be unique`,
      });
  });
  const facts: Facts = {
    input,
    kinds,
    names,
    // A stack without a list of callers is refused by the schema; it is assumed to need the vault.
    vaulted: !Array.isArray(input.callers) || kinds.some((k) => k !== undefined && isVaulted(k)),
    creates: callers.flatMap((c: unknown, i) => {
      const kind = kinds[i];
      const at = kind && isRecord(c) ? KINDS[kind].createsIdentity?.(c) : undefined;
      return at ? [`${NAMESPACE}:callers[${i}].${at}`] : [];
    }),
  };
  for (const rule of [
    checkTriggerUrlOf,
    checkFlows,
    checkRotation,
    checkSmokeCaller,
    checkAlerts,
    checkSubscription,
    checkRotationReset,
    checkLocation,
  ])
    problems.push(...rule(facts));
  return problems;
}

/** The stack's cloud as the raw input names it (the schema refuses any other value). */
function cloudOf(input: Record<string, unknown>): CloudName {
  return typeof input.cloud === "string" && isCloudName(input.cloud) ? input.cloud : "public";
}

/** The smoke test's trigger URL, by the same rules as the smoke test inside pulumi up. */
function checkTriggerUrlOf({ input }: Facts): ConfigProblem[] {
  const smoke = input.smokeTest;
  if (!isRecord(smoke) || typeof smoke.triggerUrl !== "string") return [];
  const cloud = cloudOf(input);
  const checked = checkTriggerUrl(smoke.triggerUrl, { cloud });
  return checked.outcome === "ok"
    ? []
    : [{ path: `${NAMESPACE}:smokeTest.triggerUrl`, message: checked.message }];
}

/**
 * Each flow: a name no other flow has, a trigger URL by the smoke test's rules, callers of the stack
 * (each once), a Dataverse URL on the cloud's Dataverse domain, and no flow listed twice. A Dataverse
 * organisation belongs to one environment: flows that share one cannot have trigger URLs of two.
 */
function checkFlows({ input, names }: Facts): ConfigProblem[] {
  if (!Array.isArray(input.flows)) return [];
  const cloud = cloudOf(input);
  const problems: ConfigProblem[] = [];
  const at = (i: number, key: string) => `${NAMESPACE}:flows[${i}].${key}`;
  const flowNames = new Map<string, number>();
  const listed = new Map<string, number>();
  const environments = new Map<string, { environmentId: string; index: number }>();
  input.flows.forEach((flow: unknown, i) => {
    if (!isRecord(flow)) return;
    if (typeof flow.name === "string") {
      const first = flowNames.get(flow.name);
      if (first === undefined) flowNames.set(flow.name, i);
      else
        problems.push({
          path: at(i, "name"),
          message: `"${flow.name}" is already used by flows[${first}]; flow names must be unique`,
        });
    }
    const url = typeof flow.triggerUrl === "string" ? flow.triggerUrl : undefined;
    const checked = url === undefined ? undefined : checkTriggerUrl(url, { cloud });
    if (checked && checked.outcome !== "ok")
      problems.push({ path: at(i, "triggerUrl"), message: checked.message });
    if (Array.isArray(flow.callers) && Array.isArray(input.callers)) {
      const seen = new Set<string>();
      flow.callers.forEach((caller: unknown, k) => {
        if (typeof caller !== "string") return;
        const path = `${at(i, "callers")}[${k}]`;
        if (!names.has(caller))
          problems.push({
            path,
            message: `${show(caller)} must name one of the callers: ${[...names.keys()].join(", ") || "(none)"}`,
          });
        else if (seen.has(caller))
          problems.push({ path, message: `${show(caller)} is listed twice: list each caller once` });
        seen.add(caller);
      });
    }
    if (typeof flow.dataverseUrl !== "string") return;
    const origin = dataverseOriginOf(flow.dataverseUrl, cloud);
    if (!origin) {
      problems.push({
        path: at(i, "dataverseUrl"),
        message:
          `${show(flow.dataverseUrl)} must be the URL of the environment's Dataverse organisation in cloud ${cloud}: ` +
          `https://<organisation>.${DATAVERSE_DOMAIN[cloud]}, nothing after the host (Power Platform admin center > ` +
          "Environments > the environment > Environment URL)",
      });
      return;
    }
    if (typeof flow.flowId === "string" && GUID_PATTERN.test(flow.flowId)) {
      const key = `${origin} ${flow.flowId.toLowerCase()}`;
      const first = listed.get(key);
      if (first === undefined) listed.set(key, i);
      else
        problems.push({
          path: at(i, "flowId"),
          message: `is the flow of flows[${first}] (same flow ID and Dataverse URL): list each flow once, with all its callers`,
        });
    }
    const environmentId = checked?.outcome === "ok" ? environmentIdOfTriggerUrl(url!, cloud) : undefined;
    if (!environmentId) return;
    const other = environments.get(origin);
    if (!other) environments.set(origin, { environmentId, index: i });
    else if (other.environmentId.toLowerCase() !== environmentId.toLowerCase())
      problems.push({
        path: at(i, "dataverseUrl"),
        message:
          `is also the Dataverse URL of flows[${other.index}], whose trigger URL is in environment ${other.environmentId}; ` +
          `this flow's trigger URL is in environment ${environmentId}, and an environment has one Dataverse organisation: check both`,
      });
  });
  return problems;
}

/** A whole number of days from the raw input, its default when absent, undefined when malformed. */
function days(v: unknown, fallback: number): number | undefined {
  if (v === undefined) return fallback;
  const n = asWholeNumber(v);
  return Number.isInteger(n) ? (n as number) : undefined;
}

/** Each secret lives 1.5 × rotationDays within maxLifetimeDays; the offset is less than a period. */
function checkRotation({ input }: Facts): ConfigProblem[] {
  const r = isRecord(input.rotation) ? input.rotation : {};
  const rotationDays = days(r.rotationDays, ROTATION_DEFAULTS.rotationDays);
  const maxLifetimeDays = days(r.maxLifetimeDays, ROTATION_DEFAULTS.maxLifetimeDays);
  const offsetDays = days(r.offsetDays, ROTATION_DEFAULTS.offsetDays);
  const problems: ConfigProblem[] = [];
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
  return problems;
}

/** The smoke test's caller exists, and signs in with what the stack keeps in Key Vault. */
function checkSmokeCaller({ input, kinds, names }: Facts): ConfigProblem[] {
  const smoke = input.smokeTest;
  if (!isRecord(smoke) || typeof smoke.caller !== "string" || !Array.isArray(input.callers)) return [];
  const at = `${NAMESPACE}:smokeTest.caller`;
  const index = names.get(smoke.caller);
  if (index === undefined) {
    return [
      {
        path: at,
        message: `${show(smoke.caller)} must name one of the callers: ${[...names.keys()].join(", ") || "(none)"}`,
      },
    ];
  }
  const kind = kinds[index];
  if (!kind || isVaulted(kind)) return [];
  return [
    {
      path: at,
      message:
        `${show(smoke.caller)} is a ${kind} caller: the in-stack smoke test signs in with the client secret or ` +
        `certificate the stack keeps in Key Vault, which a ${kind} caller does not have; name a ${ROTATING_KINDS.join(" or ")} caller`,
    },
  ];
}

/** Alerts go somewhere, and there is something in Key Vault to watch. */
function checkAlerts({ input, kinds, vaulted }: Facts): ConfigProblem[] {
  const alerts = input.alerts;
  if (!isRecord(alerts)) return [];
  if (!(Array.isArray(alerts.emails) && alerts.emails.length) && alerts.webhookUrl === undefined) {
    return [
      {
        path: `${NAMESPACE}:alerts`,
        message: "must set emails, webhookUrl or both (remove the key to turn alerts off)",
      },
    ];
  }
  if (kinds.length === 0 || kinds.includes(undefined) || vaulted) return [];
  return [
    {
      path: `${NAMESPACE}:alerts`,
      message:
        "watches the expiry of secrets and certificates in Key Vault, and no caller keeps one there " +
        `(only ${ROTATING_KINDS.join(" and ")} callers do): remove alerts`,
    },
  ];
}

/**
 * `azure-native:subscriptionId` names the subscription whenever the stack creates or uses a vault or
 * creates an identity (the rule azurerm 4.x adopted for `subscription_id`): azure-native would
 * otherwise take whichever subscription the Azure CLI or ARM_SUBSCRIPTION_ID points at. An existing
 * vault must be in it.
 */
function checkSubscription({ input, vaulted, creates }: Facts): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const existingVaultId = isRecord(input.keyVault) ? input.keyVault.existingVaultId : undefined;
  if (
    input.subscriptionId === undefined &&
    (vaulted || creates.length > 0 || existingVaultId !== undefined)
  ) {
    const why = vaulted
      ? "the stack keeps credentials in Key Vault"
      : creates.length
        ? `the stack creates a managed identity (${creates.join(", ")})`
        : "the stack uses an existing vault";
    problems.push({ path: SUBSCRIPTION_KEY, message: `is required: ${why}. ${SUBSCRIPTION_HOW}` });
  }
  const sub = typeof input.subscriptionId === "string" ? input.subscriptionId : undefined;
  if (
    sub &&
    GUID_PATTERN.test(sub) &&
    typeof existingVaultId === "string" &&
    VAULT_ID_PATTERN.test(existingVaultId)
  ) {
    const vaultSub = parseVaultId(existingVaultId).subscriptionId;
    if (vaultSub.toLowerCase() !== sub.toLowerCase()) {
      problems.push({
        path: `${NAMESPACE}:keyVault.existingVaultId`,
        message: `is in subscription ${vaultSub}, but ${SUBSCRIPTION_KEY} is ${sub}: use a vault in ${sub}, or set ${SUBSCRIPTION_KEY} to ${vaultSub}`,
      });
    }
  }
  return problems;
}

/** Each reset names a caller that keeps a rotating credential, once. */
function checkRotationReset({ input, kinds, names }: Facts): ConfigProblem[] {
  if (!Array.isArray(input.rotationReset) || !Array.isArray(input.callers)) return [];
  const rotating = [...names]
    .filter(([, i]) => kinds[i] !== undefined && isVaulted(kinds[i]))
    .map(([n]) => n);
  const seen = new Set<string>();
  return input.rotationReset.flatMap((r: unknown, i): ConfigProblem[] => {
    if (!isRecord(r) || typeof r.caller !== "string") return [];
    const path = `${NAMESPACE}:rotationReset[${i}].caller`;
    const first = !seen.has(r.caller);
    seen.add(r.caller);
    if (!names.has(r.caller))
      return [
        {
          path,
          message: `${show(r.caller)} must name one of the callers that rotate: ${rotating.join(", ") || "(none)"}`,
        },
      ];
    if (!rotating.includes(r.caller)) {
      return [
        {
          path,
          message: `${show(r.caller)} keeps no rotating credential (only ${ROTATING_KINDS.join(" and ")} callers do): remove it`,
        },
      ];
    }
    return first ? [] : [{ path, message: `${show(r.caller)} is already listed: one reset per caller` }];
  });
}

/** `azure-native:location` names the region of a vault or identity the stack creates. */
function checkLocation({ input, vaulted, creates }: Facts): ConfigProblem[] {
  // An empty location is refused by the schema already.
  const existingVaultId = isRecord(input.keyVault) ? input.keyVault.existingVaultId : undefined;
  if (existingVaultId !== undefined || input.location !== undefined) return [];
  if (vaulted) {
    return [
      {
        path: LOCATION_KEY,
        message:
          "is required when the stack creates the Key Vault (e.g. `pulumi config set azure-native:location westeurope`), or set flow-trigger-auth:keyVault.existingVaultId",
      },
    ];
  }
  if (!creates.length) return [];
  return [
    {
      path: LOCATION_KEY,
      message:
        `is required when the stack creates a managed identity (${creates.join(", ")}), e.g. \`pulumi config set azure-native:location westeurope\`, ` +
        "or set flow-trigger-auth:keyVault.existingVaultId to create it beside that vault",
    },
  ];
}
