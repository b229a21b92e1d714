/**
 * The stack, as a function of validated config and the time of the run: composes the components and
 * returns the stack outputs. `index.ts` calls it once; tests and `npm run validate` call it under mocks.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { CLOUDS, tokenEndpoint } from "../clouds";
import { NAMESPACE, SUBSCRIPTION_HOW, SUBSCRIPTION_KEY, type StackConfig } from "../config";
import { ExpiryAlerts } from "../components/expiry-alerts";
import { FlowCaller, type CallerCredentialArgs } from "../components/flow-caller";
import { lookupFlowService } from "../components/flow-service";
import { ManagedIdentityCaller } from "../components/managed-identity-caller";
import type { VaultRef } from "../components/published-credential";
import { certificateSecretName, requireKeyRotation } from "../components/rotating-certificate";
import { stackWitness } from "../components/rotation-state";
import { deployerPrincipalType, SecretVault } from "../components/secret-vault";
import { policyRefusalHook } from "../components/credential-policy";
import { SmokeCheck, type SmokeCredential } from "../components/smoke-check";
import { actionGroupShortName, callerDisplayName, vaultSecretName } from "../naming";
import { isVaulted, type CallerConfig, type CredentialKind } from "../kinds/registry";
import type { StackOutputs as OutputsShape } from "../outputs";

/** The outputs schema's caller of credential kind `K`. */
type CallerShape<K extends CredentialKind> = Extract<OutputsShape["callers"][string], { credential: K }>;

/** Each value of `T` as an Output (or plain); optional keys stay optional (absent, never undefined). */
type AsOutputs<T> = { [P in keyof T]: pulumi.Output<T[P]> | T[P] };

/** One caller's outputs: {@link OutputsShape}'s caller of its kind, each value an Output. No secret values. */
export type CallerOutputs = { [K in CredentialKind]: AsOutputs<CallerShape<K>> }[CredentialKind];

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

/** Compile-time check: what the program exports unwraps to what readers parse. */
type Assert<T extends true> = T;
export type OutputsMatchSchema = Assert<pulumi.Unwrap<StackOutputs> extends OutputsShape ? true : false>;

/** A caller as declared: its kind and the component that provisions it. */
type Declared =
  | { kind: "secret" | "certificate" | "federated"; config: CallerConfig; component: FlowCaller }
  | { kind: "managedIdentity"; config: CallerConfig; component: ManagedIdentityCaller };

/** Declares every resource of the stack for `config` at `nowMs` (ms since the Unix epoch). */
export function defineStack(
  config: StackConfig,
  nowMs: number,
  stackName: string = pulumi.getStack(),
): StackOutputs {
  const cloud = CLOUDS[config.cloud];
  const { rotationDays } = config.rotation;
  const vaulted = config.callers.some((c) => isVaulted(c.credential));
  const createsIdentity = config.callers.some(
    (c) => c.credential === "managedIdentity" && "create" in c.managedIdentity,
  );
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
        "deploying identity (Application.ReadWrite.OwnedBy cannot add another owner); see docs/setup.md#permissions",
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
  const vault =
    vaulted || createsIdentity
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

  const uses = (kind: "secret" | "certificate") => config.callers.some((c) => c.credential === kind);
  const hooks = {
    secret: uses("secret") ? [policyRefusalHook(config.rotation)] : [],
    certificate: uses("certificate") ? [policyRefusalHook(config.rotation, "certificate")] : [],
  };
  // Asked once: certificate callers need a CLI that replaces keys on their schedule.
  const keyRotationCheck = hooks.certificate.length ? requireKeyRotation() : undefined;
  keyRotationCheck?.catch(() => undefined); // reported by each key that waits on it

  const callers = config.callers.map((caller, index): Declared => {
    const displayName = callerDisplayName(config.namePrefix, config.environment, caller.name);
    if (caller.credential === "managedIdentity") {
      const m = caller.managedIdentity;
      const component = new ManagedIdentityCaller(
        caller.name,
        "principalId" in m
          ? {
              principalId: m.principalId,
              source: `${NAMESPACE}:callers[${index}].managedIdentity.principalId`,
            }
          : {
              create: {
                resourceName: displayName,
                resourceGroupName: vault!.resourceGroupName,
                location: vault!.location,
                tags: { "managed-by": "flow-trigger-auth", environment: config.environment },
              },
            },
      );
      return { kind: caller.credential, config: caller, component };
    }
    let credential: CallerCredentialArgs;
    if (caller.credential === "federated") {
      credential = { kind: "federated", federatedCredentials: caller.federatedCredentials };
    } else {
      const rotating = {
        policy: config.rotation,
        nowMs,
        onError: hooks[caller.credential],
        vault: vaultRef!,
        secretReaders: [...caller.secretReaders, ...config.keyVault.secretReaders],
        publishAfter: alerts ? [alerts] : [],
        witness,
        reset: config.rotationReset[caller.name],
      };
      credential =
        caller.credential === "secret"
          ? { kind: "secret", ...rotating, secretName: vaultSecretName(caller.name) }
          : {
              kind: "certificate",
              ...rotating,
              secretName: certificateSecretName(caller.name),
              keyRotationCheck,
            };
    }
    const component = new FlowCaller(caller.name, {
      displayName,
      description: caller.description,
      // The deploying identity stays an owner, so that it can manage the app it created.
      // Waits for the sign-in check too: a wrong subscription or tenant creates nothing at all.
      owners: pulumi.all([entra.objectId, signedIn]).apply(([deployer]) => ownersOf(deployer, caller.owners)),
      flowService,
      credential,
      notes: appNotes(pulumi.getProject(), stackName, caller.credential),
      consent: caller.consent,
    });
    return { kind: caller.credential, config: caller, component };
  });

  if (config.smokeTest) {
    const { triggerUrl, caller: callerName, body, expectStatus } = config.smokeTest;
    const found = callers.find((c) => c.config.name === callerName)!;
    const caller = found.component as FlowCaller;
    const rotating = caller.secret ?? caller.certificate!;
    const credential: SmokeCredential = caller.secret
      ? { kind: "secret", value: caller.secret.publishedValue }
      : { kind: "certificate", pem: caller.certificate!.publishedPem };
    new SmokeCheck(`smoke-${callerName}`, {
      triggerUrl,
      tenantId: entra.tenantId,
      clientId: caller.clientId,
      credential,
      publishedVersion: rotating.secretVersionUri,
      // A new caller cannot be in the flow's Allowed users yet: its hand-off comes first.
      skipReason: rotating.plan.apply((p) =>
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

  return {
    tenantId: entra.tenantId,
    cloud: cloud.name,
    audience: cloud.audience,
    scope: cloud.scope,
    tokenEndpoint: entra.tenantId.apply((tid) => tokenEndpoint(cloud, tid)),
    ...(vaultRef && vault ? { keyVaultName: vault.vaultName!, keyVaultUri: vault.vaultUri! } : {}),
    callers: Object.fromEntries(callers.map((c) => [c.config.name, callerOutputs(c)])),
    allowedUsers: pulumi.all(callers.map((c) => c.component.servicePrincipalObjectId)),
    ...(vaultRef ? { rotationState: rotationStates(callers) } : {}),
  };
}

/** Each rotating caller's state as written to Key Vault, by caller name. */
function rotationStates(callers: Declared[]): pulumi.Output<Record<string, string>> {
  const entries = callers.flatMap((c) => {
    if (c.kind !== "secret" && c.kind !== "certificate") return [];
    const rotating = c.component.secret ?? c.component.certificate!;
    return [rotating.stateRecord.apply((s) => [c.config.name, s] as const)];
  });
  return pulumi.all(entries).apply((e) => Object.fromEntries(e));
}

/** One caller's outputs, as the outputs schema defines them for its kind: nothing that does not apply. */
function callerOutputs(declared: Declared): CallerOutputs {
  const c = declared.component;
  const common = {
    displayName: c.displayName,
    clientId: c.clientId,
    servicePrincipalObjectId: c.servicePrincipalObjectId,
  };
  if (declared.kind === "managedIdentity") {
    const m = declared.component;
    return {
      credential: "managedIdentity",
      ...common,
      ...(m.resourceId ? { managedIdentityResourceId: m.resourceId } : {}),
    };
  }
  const f = declared.component;
  const app = { ...common, applicationObjectId: f.applicationObjectId };
  if (declared.kind === "federated") {
    return {
      credential: "federated",
      ...app,
      federatedCredentials: pulumi.all(
        f.federatedCredentials.map((fic) =>
          pulumi
            .all([fic.issuer, fic.subject, fic.audiences])
            .apply(([issuer, subject, audiences]) => ({ issuer, subject, audiences })),
        ),
      ),
    };
  }
  const rotating = f.secret ?? f.certificate!;
  const vaulted = {
    keyVaultSecretName: rotating.secretName,
    keyVaultSecretUri: rotating.secretUri,
    secretExpiresAt: rotating.expiresAt,
    nextRotationAt: rotating.nextRotationAt,
  };
  if (declared.kind === "certificate") {
    return {
      credential: "certificate",
      ...app,
      ...vaulted,
      certificateThumbprintSha256: f.certificate!.thumbprint,
      certificateThumbprintSha1: f.certificate!.thumbprintSha1,
    };
  }
  return { credential: "secret", ...app, ...vaulted };
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

/** What the stack sets on an app of each credential kind, as the notes say it. */
const MANAGED_CREDENTIALS: Record<Exclude<CredentialKind, "managedIdentity">, string> = {
  secret: "client secrets",
  certificate: "certificates",
  federated: "federated credentials",
};

/** The notes of each app and enterprise app: who manages it, and what happens to changes made by hand. */
export function appNotes(
  project: string,
  stack: string,
  kind: Exclude<CredentialKind, "managedIdentity"> = "secret",
): string {
  return (
    `Managed by Pulumi: project ${project}, stack ${stack}. Owners, permissions and ${MANAGED_CREDENTIALS[kind]} are ` +
    "set by the stack; the scheduled pulumi up --refresh reverts changes made by hand within a day."
  );
}
