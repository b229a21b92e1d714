/**
 * The stack outputs, defined once: `program/` builds them (its return type is checked against this
 * schema) and every reader (`handoff`, `rotation-status`, `smoke --stack`) parses them with it, so a
 * file that claims to be outputs is checked before anything is printed or called: GUIDs are GUIDs,
 * URIs are HTTPS on the cloud's own hosts, the scope is the audience plus `/.default`, each flow's
 * callers exist and its Allowed users are exactly theirs.
 * No Pulumi here: readers run outside the engine. No output ever holds a secret value.
 */
import { z } from "zod";
import {
  CLOUD_NAMES,
  CLOUDS,
  DATAVERSE_DOMAIN,
  dataverseOriginOf,
  vaultHostOf,
  tokenEndpoint,
  VAULT_DNS_SUFFIX,
  type CloudName,
} from "./clouds";
import { guid, httpsUrl, text } from "./fields/outputs";
import { ENVIRONMENT_ID_PATTERN } from "./fields/patterns";
import { isVaultedCaller, kindInfo, KINDS, type CallerOutputs } from "./kinds/registry";
import { CREDENTIAL_KINDS } from "./kinds/names";
import { CALLER_NAME_PATTERN, FLOW_NAME_PATTERN, MAX_FLOWS } from "./naming";
import { checkTriggerUrl, environmentIdOfTriggerUrl } from "./trigger-url";

/**
 * One caller's outputs, in the names this version writes. Outputs written before credential kinds
 * existed have no `credential`: they are secret callers; older certificate outputs call the SHA-256
 * thumbprint `certificateThumbprint`.
 */
function currentNames(v: unknown): unknown {
  if (!v || typeof v !== "object" || Array.isArray(v)) return v;
  const { certificateThumbprint, ...rest } = v as Record<string, unknown>;
  const out: Record<string, unknown> = "credential" in rest ? rest : { credential: "secret", ...rest };
  if (certificateThumbprint !== undefined && out.certificateThumbprintSha256 === undefined) {
    out.certificateThumbprintSha256 = certificateThumbprint;
  } else if (certificateThumbprint !== undefined) {
    out.certificateThumbprint = certificateThumbprint;
  }
  return out;
}

/** One caller's outputs: the outputs of its kind (kinds/), told apart by `credential`. */
export const callerOutputsSchema = z.preprocess(
  currentNames,
  z.discriminatedUnion(
    "credential",
    Object.values(KINDS).map((k) => k.outputs) as unknown as [z.ZodObject, ...z.ZodObject[]],
    { error: `must have a credential: one of ${CREDENTIAL_KINDS.join(", ")}` },
  ) as unknown as z.ZodType<CallerOutputs>,
);

/** The callers, by name. Names are own properties checked against the config's rule. */
const callers = z
  .record(z.string().regex(CALLER_NAME_PATTERN, "is not a caller name"), callerOutputsSchema)
  .refine((c) => Object.keys(c).length > 0, "lists no caller (a stack has 1 to 100)");

/** One flow the stack's callers may trigger, and what its trigger's Allowed users must hold. */
const flowOutputsSchema = z.strictObject({
  /** The trigger's URL, never with `sig`. Checked against the stack's cloud below. */
  triggerUrl: httpsUrl,
  /**
   * The Power Platform environment of the flow, from the trigger URL's host; absent for a legacy
   * `*.logic.azure.*` URL, whose host names no environment.
   */
  environmentId: text
    .refine(
      (s) => ENVIRONMENT_ID_PATTERN.test(s),
      "must be an environment ID: a GUID, or Default-<tenant ID>",
    )
    .optional(),
  /** The flow's ID as the portal shows it (Dataverse `resourceid`) or its `workflowid`. */
  flowId: guid,
  /** Origin of the environment's Dataverse organisation, e.g. `https://contoso.crm4.dynamics.com`. */
  dataverseUrl: httpsUrl,
  /** Names of this stack's callers that may trigger the flow. */
  callers: z.array(z.string().regex(CALLER_NAME_PATTERN, "is not a caller name")).min(1).max(100),
  /** The object IDs of those callers: exactly what the trigger's Allowed users must hold. */
  allowedUsers: z.array(guid),
});

/** The flows, by name (absent when the stack names none). */
const flows = z
  .record(z.string(), flowOutputsSchema)
  .refine((f) => Object.keys(f).length <= MAX_FLOWS, `lists more than ${MAX_FLOWS} flows`);

/** The whole set of stack outputs. Outputs this version does not know are kept, not refused. */
export const stackOutputsSchema = z
  .looseObject({
    tenantId: guid,
    cloud: z.enum(CLOUD_NAMES, { error: `must be one of ${CLOUD_NAMES.join(", ")}` }),
    audience: httpsUrl,
    scope: text,
    tokenEndpoint: httpsUrl,
    /** Absent when no caller keeps a credential in Key Vault. */
    keyVaultName: text.optional(),
    keyVaultUri: httpsUrl.optional(),
    callers,
    allowedUsers: z.array(guid),
    flows: flows.optional(),
  })
  .superRefine((o, ctx) => {
    const cloud = CLOUDS[o.cloud];
    if (o.audience !== cloud.audience) {
      ctx.addIssue({
        code: "custom",
        path: ["audience"],
        message: `must be ${cloud.audience} for cloud ${o.cloud}`,
      });
    }
    if (o.scope !== cloud.scope) {
      ctx.addIssue({
        code: "custom",
        path: ["scope"],
        message: `must be the audience + "/.default": ${cloud.scope}`,
      });
    }
    if (o.tokenEndpoint !== tokenEndpoint(cloud, o.tenantId)) {
      ctx.addIssue({
        code: "custom",
        path: ["tokenEndpoint"],
        message: `must be ${tokenEndpoint(cloud, o.tenantId)} (the cloud's authority and the tenant)`,
      });
    }
    const vaultHost = o.keyVaultUri ? vaultHostOf(o.keyVaultUri, o.cloud) : undefined;
    if (o.keyVaultUri && !vaultHost) {
      ctx.addIssue({
        code: "custom",
        path: ["keyVaultUri"],
        message: `must be a Key Vault URI of cloud ${o.cloud}: https://<vault>.${VAULT_DNS_SUFFIX[o.cloud]}/`,
      });
    }
    for (const [name, c] of Object.entries(o.callers)) {
      if (!isVaultedCaller(c)) continue;
      const uri = URL.canParse(c.keyVaultSecretUri) ? new URL(c.keyVaultSecretUri) : undefined;
      if (
        !vaultHost ||
        uri?.host !== vaultHost ||
        uri.pathname.replace(/\/+$/, "") !== `/secrets/${c.keyVaultSecretName}`
      ) {
        ctx.addIssue({
          code: "custom",
          path: ["callers", name, "keyVaultSecretUri"],
          message: `must be the stack's vault (keyVaultUri) + secrets/${c.keyVaultSecretName}`,
        });
      }
    }
    for (const [name, c] of Object.entries(o.callers)) {
      for (const p of kindInfo(c.credential).outputsProblems?.(c, o.cloud) ?? []) {
        ctx.addIssue({ code: "custom", path: ["callers", name, ...p.path], message: p.message });
      }
    }
    const expected = [...new Set(Object.values(o.callers).flatMap(allowedOf))].sort();
    const listed = [...new Set(o.allowedUsers.map((u) => u.toLowerCase()))].sort();
    if (expected.join() !== listed.join()) {
      ctx.addIssue({
        code: "custom",
        path: ["allowedUsers"],
        message: `must list exactly the object IDs the callers put into Allowed users (${ALLOWED_BY_KIND})`,
      });
    }
    for (const [name, flow] of Object.entries(o.flows ?? {})) {
      if (!FLOW_NAME_PATTERN.test(name)) {
        ctx.addIssue({
          code: "custom",
          path: ["flows", name],
          message:
            "is not a flow name: a lowercase letter, then up to 39 lowercase letters, digits and hyphens",
        });
      }
      for (const issue of flowProblems(flow, o.cloud, o.callers)) {
        ctx.addIssue({ code: "custom", path: ["flows", name, ...issue.path], message: issue.message });
      }
    }
  });

/** Which object IDs a caller puts into Allowed users, as messages say it. */
const ALLOWED_BY_KIND = "each caller's servicePrincipalObjectId; for a user caller, its users";

/** The object IDs `c` puts into Allowed users, as its kind says (kinds/), lower-case. */
function allowedOf(c: CallerOutputs): string[] {
  return kindInfo(c.credential)
    .allowedUsers(c, c.servicePrincipalObjectId)
    .map((id) => id.toLowerCase());
}

/** What is wrong with one flow's outputs in a stack of `cloud` with `callers`, by key path under the flow. */
function flowProblems(
  flow: z.infer<typeof flowOutputsSchema>,
  cloud: CloudName,
  callers: Record<string, CallerOutputs>,
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const url = checkTriggerUrl(flow.triggerUrl, { cloud });
  if (url.outcome !== "ok") problems.push({ path: ["triggerUrl"], message: url.message });
  const derived = url.outcome === "ok" ? environmentIdOfTriggerUrl(flow.triggerUrl, cloud) : undefined;
  if (derived && derived.toLowerCase() !== flow.environmentId?.toLowerCase()) {
    problems.push({
      path: ["environmentId"],
      message: `must be ${derived}, the environment of the trigger URL's host`,
    });
  }
  if (!dataverseOriginOf(flow.dataverseUrl, cloud)) {
    problems.push({
      path: ["dataverseUrl"],
      message: `must be a Dataverse organisation URL of cloud ${cloud}: https://<org>.${DATAVERSE_DOMAIN[cloud]}`,
    });
  }
  const seen = new Set<string>();
  const objectIds: string[] = [];
  flow.callers.forEach((caller, i) => {
    if (seen.has(caller)) problems.push({ path: ["callers", i], message: `names ${caller} twice` });
    seen.add(caller);
    if (!Object.hasOwn(callers, caller)) {
      problems.push({
        path: ["callers", i],
        message: `${caller} is not a caller of this stack (callers: ${Object.keys(callers).join(", ")})`,
      });
    } else objectIds.push(...allowedOf(callers[caller]));
  });
  const listed = flow.allowedUsers.map((u) => u.toLowerCase()).sort();
  const known = flow.callers.every((caller) => Object.hasOwn(callers, caller));
  if (known && [...new Set(objectIds)].sort().join() !== [...new Set(listed)].sort().join()) {
    problems.push({
      path: ["allowedUsers"],
      message: `must list exactly the object IDs the flow's callers put into Allowed users (${ALLOWED_BY_KIND})`,
    });
  }
  return problems;
}

/** The stack outputs. */
export type StackOutputs = z.infer<typeof stackOutputsSchema>;

/** One flow's outputs. */
export type FlowOutputs = z.infer<typeof flowOutputsSchema>;

/**
 * A configured flow's outputs but its callers and their object IDs: the trigger URL as configured,
 * the environment its host names (none for a legacy host), the flow ID, and the Dataverse URL as an
 * origin (`https://contoso.crm4.dynamics.com`).
 */
export function flowFacts(
  flow: { triggerUrl: string; flowId: string; dataverseUrl: string },
  cloud: CloudName,
): Omit<FlowOutputs, "callers" | "allowedUsers"> {
  const environmentId = environmentIdOfTriggerUrl(flow.triggerUrl, cloud);
  return {
    triggerUrl: flow.triggerUrl,
    ...(environmentId ? { environmentId } : {}),
    flowId: flow.flowId,
    dataverseUrl: dataverseOriginOf(flow.dataverseUrl, cloud) ?? flow.dataverseUrl,
  };
}

/** The caller named `name`, looked up as an own property (never `constructor` or `__proto__`). */
export function callerNamed(outputs: StackOutputs, name: string): CallerOutputs | undefined {
  return Object.hasOwn(outputs.callers, name) ? outputs.callers[name] : undefined;
}
