/**
 * The stack, as a function of validated config and the time of the run: composes the components and
 * returns the stack outputs. `index.ts` calls it once; tests and `npm run validate` call it under mocks.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { CLOUDS, tokenEndpoint } from "../clouds";
import { SUBSCRIPTION_HOW, SUBSCRIPTION_KEY, type StackConfig } from "../config";
import { ExpiryAlerts } from "../components/expiry-alerts";
import { lookupFlowService } from "../components/flow-service";
import type { VaultRef } from "../components/published-credential";
import { requireKeyRotation } from "../components/rotating-certificate";
import { stackWitness } from "../components/rotation-state";
import { deployerPrincipalType, SecretVault } from "../components/secret-vault";
import { policyRefusalHook } from "../components/credential-policy";
import { SmokeCheck } from "../components/smoke-check";
import { actionGroupShortName, callerDisplayName } from "../naming";
import { allowedUsersOf, isVaulted, kindInfo, KINDS } from "../kinds/registry";
import { type CredentialKind } from "../kinds/names";
import { declareCaller, type CallerContext, type CallerOutputs, type DeclaredCaller } from "./callers";
import { flowFacts, type FlowOutputs as FlowShape, type StackOutputs as OutputsShape } from "../outputs";
import { checkTriggerUrl } from "../trigger-url";

/** Every stack output: {@link OutputsShape} (outputs.ts, the one definition readers parse), as Outputs. */
export interface StackOutputs {
  tenantId: pulumi.Output<string>;
  cloud: OutputsShape["cloud"];
  audience: string;
  scope: string;
  tokenEndpoint: pulumi.Output<string>;
  /** Absent when no caller keeps a credential in Key Vault. */
  keyVaultName?: pulumi.Output<string>;
  keyVaultUri?: pulumi.Output<string>;
  callers: Record<string, CallerOutputs>;
  allowedUsers: pulumi.Output<string[]>;
  /** Each flow of `flow-trigger-auth:flows`, by name; absent when the stack names none. */
  flows?: Record<string, FlowOutputs>;
  /**
   * Each rotating caller's state as written to Key Vault (`{ erp: "v1;pub=b;..." }`, not secret): the
   * second witness the next run reads back with a StackReference to this stack. Absent without one.
   */
  rotationState?: pulumi.Output<Record<string, string>>;
}

/**
 * Why the signed-in Azure identity must not deploy this stack, or undefined when it may: azure-native
 * deploys to the subscription it was configured with (`azure-native:subscriptionId`, else
 * ARM_SUBSCRIPTION_ID, else the Azure CLI's default), and `authorization.getClientConfig` reports it
 * with the tenant of its sign-in; Entra objects are created in azuread's tenant.
 */
export function signedInProblem(
  stackSubscription: string,
  signedIn: { subscriptionId: string; tenantId: string },
  entraTenant: string,
): string | undefined {
  // No subscription reported: nothing signed in to compare (an offline plan); a deployment always has one.
  if (signedIn.subscriptionId && signedIn.subscriptionId.toLowerCase() !== stackSubscription.toLowerCase()) {
    return (
      `${SUBSCRIPTION_KEY} is ${stackSubscription}, but azure-native is signed in to subscription ` +
      `${signedIn.subscriptionId || "(none)"}: nothing was read or written. Sign in to the stack's subscription ` +
      `(az account set --subscription ${stackSubscription}; in a pipeline, its login's subscription-id), or ${SUBSCRIPTION_HOW}`
    );
  }
  if (signedIn.tenantId && entraTenant && signedIn.tenantId.toLowerCase() !== entraTenant.toLowerCase()) {
    return (
      `azure-native is signed in to tenant ${signedIn.tenantId} and azuread to tenant ${entraTenant}: the vault and ` +
      "the apps would be in different tenants. Sign both in to the tenant of the stack's subscription (ARM_TENANT_ID)"
    );
  }
  return undefined;
}

/** One flow's outputs ({@link FlowShape}): its Allowed users are known once its callers exist. */
export type FlowOutputs = Omit<FlowShape, "allowedUsers"> & { allowedUsers: pulumi.Output<string[]> };

/** Compile-time checks: what the program exports unwraps to what readers parse, and names every output they read. */
type Assert<T extends true> = T;
export type OutputsMatchSchema = Assert<pulumi.Unwrap<StackOutputs> extends OutputsShape ? true : false>;
/** The keys of `T` without its index signature (the schema keeps outputs it does not know). */
type NamedKeys<T> = keyof { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };
export type ProgramWritesEveryOutput = Assert<
  Exclude<NamedKeys<OutputsShape>, keyof StackOutputs> extends never ? true : false
>;

/** Declares every resource of the stack for `config` at `nowMs` (ms since the Unix epoch). */
export function defineStack(
  config: StackConfig,
  nowMs: number,
  stackName: string = pulumi.getStack(),
): StackOutputs {
  const cloud = CLOUDS[config.cloud];
  const { rotationDays } = config.rotation;
  const vaulted = config.callers.some((c) => isVaulted(c.credential));
  const createsIdentity = config.callers.some((c) => KINDS[c.credential].createsIdentity?.(c));
  if (rotationDays <= 30 && vaulted) {
    void pulumi.log.warn(
      `rotationDays ${rotationDays} ≤ 30: a published secret always expires within 30 days, so run ` +
        `rotation-status with --warn-days below ${rotationDays}` +
        (config.alerts ? ", and expect a Key Vault near-expiry alert at every rotation" : ""),
    );
  }
  const entra = azuread.getClientConfigOutput();
  const flowService = lookupFlowService();
  if (config.callers.some((c) => "owners" in c && c.owners.length > 0)) {
    void pulumi.log.warn(
      "owners is set: adding owners needs Microsoft Graph Application.ReadWrite.All and Directory.Read.All for the " +
        "deploying identity (Application.ReadWrite.OwnedBy cannot add another owner); see docs/setup.md#microsoft-graph",
    );
  }
  const usesAzure = vaulted || createsIdentity;
  // The signed-in subscription and tenant are checked before anything in Azure is read or written.
  const arm = usesAzure ? authorization.getClientConfigOutput() : undefined;
  const signedIn = arm
    ? pulumi.all([arm, entra.tenantId]).apply(([c, entraTenant]) => {
        const problem = signedInProblem(config.subscriptionId ?? "", c, entraTenant);
        if (problem) throw new Error(problem);
        return c;
      })
    : undefined;

  // The vault exists for secrets and certificates; its resource group is also home to created identities.
  const vault = usesAzure
    ? new SecretVault("vault", {
        namePrefix: config.namePrefix,
        environment: config.environment,
        tenantId: entra.tenantId,
        location: config.location,
        existingVaultId: config.keyVault.existingVaultId,
        // A tenant without the Flow service principal, or a wrong subscription, gets its error and no vault.
        createAfter: pulumi.all([flowService.userScopeId, signedIn]),
        storesCredentials: vaulted,
        deployer: { objectId: arm!.objectId, type: deployerPrincipalType(arm!.objectId) },
      })
    : undefined;
  const vaultRef: VaultRef | undefined =
    vault?.vaultName && vaulted
      ? {
          name: vault.vaultName,
          resourceGroupName: vault.resourceGroupName,
          uri: vault.vaultUri,
          writeAccess: vault.writeAccess,
          subscriptionId: config.subscriptionId ?? "",
        }
      : undefined;
  // The stack's own last outputs: the second record of every rotating caller's state.
  const witness = vaultRef ? stackWitness() : undefined;

  // Key Vault raises expiry events only for versions written after the subscriptions exist.
  const alerts =
    config.alerts && vault?.vaultId && vaulted
      ? new ExpiryAlerts("alerts", {
          vaultId: vault.vaultId,
          vaultLocation: vault.location,
          resourceGroupName: vault.resourceGroupName,
          namePrefix: `${config.namePrefix}-${config.environment}`,
          shortName: actionGroupShortName(config.namePrefix, config.environment),
          emails: config.alerts.emails,
          webhookUrl:
            config.alerts.webhookUrl === undefined ? undefined : pulumi.secret(config.alerts.webhookUrl),
        })
      : undefined;

  const hooks = new Map<"secret" | "certificate", pulumi.ErrorHook[]>();
  let keyRotationCheck: Promise<void> | undefined;
  const context: Omit<CallerContext, "index" | "displayName"> = {
    environment: config.environment,
    // The deploying identity stays an owner, so that it can manage the app it created.
    // Waits for the sign-in check too: a wrong subscription or tenant creates nothing at all.
    owners: (configured) =>
      pulumi.all([entra.objectId, signedIn]).apply(([deployer]) => ownersOf(deployer, configured)),
    flowService,
    delegatedScope: cloud.delegatedScope,
    notes: (kind) => appNotes(pulumi.getProject(), stackName, kind),
    rotating: vaultRef && {
      policy: config.rotation,
      nowMs,
      vault: vaultRef,
      readers: config.keyVault.secretReaders,
      publishAfter: alerts ? [alerts] : [],
      witness,
    },
    hooks: (kind) => {
      // Made once per kind: a hook's name is registered with the engine.
      if (!hooks.has(kind)) hooks.set(kind, [policyRefusalHook(config.rotation, kind)]);
      return hooks.get(kind)!;
    },
    keyRotationCheck: () => {
      // Asked once: certificate callers need a CLI that replaces keys on their schedule.
      if (!keyRotationCheck) {
        keyRotationCheck = requireKeyRotation();
        keyRotationCheck.catch(() => undefined); // reported by each key that waits on it
      }
      return keyRotationCheck;
    },
    home: vault && { resourceGroupName: vault.resourceGroupName, location: vault.location },
  };
  const callers = config.callers.map((caller, index) => {
    const declared = declareCaller(caller, {
      ...context,
      index,
      displayName: callerDisplayName(config.namePrefix, config.environment, caller.name),
      ...(context.rotating && {
        rotating: { ...context.rotating, reset: config.rotationReset[caller.name] },
      }),
    });
    // What the caller puts into Allowed users, as its kind says (kinds/).
    return {
      name: caller.name,
      ...declared,
      allowed: allowedUsersOf(caller, declared.servicePrincipalObjectId),
    };
  });

  if (config.smokeTest) {
    const { triggerUrl, caller: callerName, body, expectStatus } = config.smokeTest;
    // The config's rules let the smoke test name only a caller whose credential is in Key Vault.
    const { rotating, smoke } = callers.find((c) => c.name === callerName)!;
    new SmokeCheck(`smoke-${callerName}`, {
      triggerUrl,
      tenantId: entra.tenantId,
      clientId: smoke!.clientId,
      credential: smoke!.credential,
      publishedVersion: rotating!.secretVersionUri,
      // A new caller cannot be in the flow's Allowed users yet: its hand-off comes first.
      skipReason: rotating!.plan.apply((p) =>
        p.fresh === "no-state"
          ? `${callerName} has no rotation state yet (first deployment): hand its object ID to the flow maker ` +
            "(flow-trigger-auth handoff), who adds it to Allowed users; the next pulumi up runs the smoke test"
          : undefined,
      ),
      cloud: config.cloud,
      body,
      expectStatus,
    });
  }

  // Each flow's Allowed users: what its callers put there, as their kinds say (program/callers.ts).
  const byName = new Map(callers.map((c) => [c.name, c]));
  const flows = config.flows.map((flow) => {
    const facts = flowFacts(flow, config.cloud);
    // What the smoke test would note about the URL (a legacy host, an internationalised one).
    const url = checkTriggerUrl(flow.triggerUrl, { cloud: config.cloud });
    for (const note of url.outcome === "ok" ? url.notes : [])
      void pulumi.log.warn(`flows ${flow.name}: ${note}`);
    if (!facts.environmentId) {
      void pulumi.log.warn(
        `flows ${flow.name}: the trigger URL's host names no environment (a legacy *.logic.azure.* URL names none): ` +
          "its outputs have no environmentId, and the hand-off sheet no link to the flow in Power Automate",
      );
    }
    const outputs: FlowOutputs = {
      ...facts,
      callers: [...flow.callers],
      allowedUsers: pulumi.all(flow.callers.flatMap((n) => byName.get(n)!.allowed)).apply(uniqueIds),
    };
    return [flow.name, outputs] as const;
  });

  return {
    tenantId: entra.tenantId,
    cloud: cloud.name,
    audience: cloud.audience,
    scope: cloud.scope,
    tokenEndpoint: entra.tenantId.apply((tid) => tokenEndpoint(cloud, tid)),
    ...(vaultRef && vault ? { keyVaultName: vault.vaultName!, keyVaultUri: vault.vaultUri! } : {}),
    callers: Object.fromEntries(callers.map((c) => [c.name, c.outputs])),
    allowedUsers: pulumi.all(callers.flatMap((c) => c.allowed)).apply(uniqueIds),
    ...(flows.length ? { flows: Object.fromEntries(flows) } : {}),
    ...(vaultRef ? { rotationState: rotationStates(callers) } : {}),
  };
}

/** `ids` without repeats (object IDs compare in any case), in their first order. */
function uniqueIds(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => !seen.has(id.toLowerCase()) && seen.add(id.toLowerCase()));
}

/** Each rotating caller's state as written to Key Vault, by caller name. */
function rotationStates(callers: { name: string; rotating?: DeclaredCaller["rotating"] }[]) {
  const entries = callers.flatMap((c) =>
    c.rotating ? [c.rotating.stateRecord.apply((s) => [c.name, s] as const)] : [],
  );
  return pulumi.all(entries).apply((e): Record<string, string> => Object.fromEntries(e));
}

/** The owners of a caller's app and enterprise app: the deploying identity first, then the configured ones. */
export function ownersOf(deployer: string, configured: readonly string[]): string[] {
  const seen = new Set<string>();
  return [deployer, ...configured].filter((id) => {
    const key = id.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The notes of each app and enterprise app: who manages it, and what happens to changes made by hand. */
export function appNotes(project: string, stack: string, kind: CredentialKind = "secret"): string {
  return (
    `Managed by Pulumi: project ${project}, stack ${stack}. Owners, permissions and ${kindInfo(kind).notes} are ` +
    "set by the stack; the scheduled pulumi up --refresh reverts changes made by hand within a day."
  );
}
