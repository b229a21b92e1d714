/**
 * The stack, as a function of validated config and the time of the run: composes the components and
 * returns the stack outputs. `index.ts` calls it once; tests and `npm run validate` call it under mocks.
 */
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { CLOUDS, tokenEndpoint } from "./clouds";
import type { StackConfig } from "./config";
import { ExpiryAlerts } from "./components/expiry-alerts";
import { FlowCaller } from "./components/flow-caller";
import { lookupFlowService } from "./components/flow-service";
import { SecretVault } from "./components/secret-vault";
import { policyRefusalHook } from "./components/credential-policy";
import { SmokeCheck } from "./components/smoke-check";
import { actionGroupShortName, callerDisplayName, vaultSecretName } from "./naming";
import type { StackOutputs as OutputsShape } from "./outputs";

/** One caller's outputs: {@link OutputsShape}'s caller, each value an Output. No secret values. */
export type CallerOutputs = {
  [K in keyof SecretCallerShape]: pulumi.Output<SecretCallerShape[K]> | SecretCallerShape[K];
};
type SecretCallerShape = Extract<OutputsShape["callers"][string], { credential: "secret" }>;

/** Every stack output: {@link OutputsShape} (outputs.ts, the one definition readers parse), as Outputs. */
export interface StackOutputs {
  tenantId: pulumi.Output<string>;
  cloud: OutputsShape["cloud"];
  audience: string;
  scope: string;
  tokenEndpoint: pulumi.Output<string>;
  keyVaultName: pulumi.Output<string>;
  keyVaultUri: pulumi.Output<string>;
  callers: Record<string, CallerOutputs>;
  allowedUsers: pulumi.Output<string[]>;
}

/** Compile-time check: what the program exports unwraps to what readers parse. */
type Assert<T extends true> = T;
export type OutputsMatchSchema = Assert<pulumi.Unwrap<StackOutputs> extends OutputsShape ? true : false>;

/** Declares every resource of the stack for `config` at `nowMs` (ms since the Unix epoch). */
export function defineStack(
  config: StackConfig,
  nowMs: number,
  stackName: string = pulumi.getStack(),
): StackOutputs {
  const cloud = CLOUDS[config.cloud];
  const { rotationDays } = config.rotation;
  if (rotationDays <= 30) {
    void pulumi.log.warn(
      `rotationDays ${rotationDays} ≤ 30: a published secret always expires within 30 days, so run ` +
        `rotation-status with --warn-days below ${rotationDays}` +
        (config.alerts ? ", and expect a Key Vault near-expiry alert at every rotation" : ""),
    );
  }
  const entra = azuread.getClientConfigOutput();
  const flowService = lookupFlowService();

  const vault = new SecretVault("vault", {
    namePrefix: config.namePrefix,
    environment: config.environment,
    tenantId: entra.tenantId,
    location: config.location,
    existingVaultId: config.keyVault.existingVaultId,
    // A tenant without the Flow service principal gets its error and no vault.
    createAfter: flowService.userScopeId,
  });

  // Key Vault raises expiry events only for versions written after the subscriptions exist.
  const alerts =
    config.alerts &&
    new ExpiryAlerts("alerts", {
      vaultId: vault.vaultId,
      vaultLocation: vault.location,
      resourceGroupName: vault.resourceGroupName,
      namePrefix: `${config.namePrefix}-${config.environment}`,
      shortName: actionGroupShortName(config.namePrefix, config.environment),
      emails: config.alerts.emails,
      webhookUrl:
        config.alerts.webhookUrl === undefined ? undefined : pulumi.secret(config.alerts.webhookUrl),
    });

  const policyHook = policyRefusalHook(config.rotation);
  const callers = config.callers.map(
    (caller) =>
      [
        caller.name,
        new FlowCaller(caller.name, {
          displayName: callerDisplayName(config.namePrefix, config.environment, caller.name),
          description: caller.description,
          // The deploying identity stays an owner, so that it can manage the app it created.
          owners: entra.objectId.apply((deployer) => ownersOf(deployer, caller.owners)),
          flowService,
          policy: config.rotation,
          nowMs,
          onError: [policyHook],
          vault: {
            name: vault.vaultName,
            resourceGroupName: vault.resourceGroupName,
            uri: vault.vaultUri,
            writeAccess: vault.writeAccess,
          },
          secretName: vaultSecretName(caller.name),
          secretReaders: [...caller.secretReaders, ...config.keyVault.secretReaders],
          publishAfter: alerts ? [alerts] : [],
          notes: appNotes(pulumi.getProject(), stackName),
        }),
      ] as const,
  );

  if (config.smokeTest) {
    const { triggerUrl, caller: callerName, body, expectStatus } = config.smokeTest;
    const caller = callers.find(([name]) => name === callerName)![1];
    new SmokeCheck(`smoke-${callerName}`, {
      triggerUrl,
      tenantId: entra.tenantId,
      clientId: caller.clientId,
      clientSecret: caller.secret.publishedValue,
      publishedVersion: caller.secret.secretVersionUri,
      // A new caller cannot be in the flow's Allowed users yet: its hand-off comes first.
      skipReason: caller.secret.plan.apply((p) =>
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
    keyVaultName: vault.vaultName,
    keyVaultUri: vault.vaultUri,
    callers: Object.fromEntries(
      callers.map(([name, c]) => [
        name,
        {
          credential: "secret" as const,
          displayName: c.displayName,
          clientId: c.clientId,
          applicationObjectId: c.applicationObjectId,
          servicePrincipalObjectId: c.servicePrincipalObjectId,
          keyVaultSecretName: c.secret.secretName,
          keyVaultSecretUri: c.secret.secretUri,
          secretExpiresAt: c.secret.expiresAt,
          nextRotationAt: c.secret.nextRotationAt,
        },
      ]),
    ),
    allowedUsers: pulumi.all(callers.map(([, c]) => c.servicePrincipalObjectId)),
  };
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
export function appNotes(project: string, stack: string): string {
  return (
    `Managed by Pulumi: project ${project}, stack ${stack}. Owners, permissions and client secrets are ` +
    "set by the stack; the scheduled pulumi up --refresh reverts changes made by hand within a day."
  );
}
