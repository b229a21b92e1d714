import * as authorization from "@pulumi/azure-native/authorization";
import * as azuread from "@pulumi/azuread";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { PrincipalType } from "../fields/config";
import { parseVaultId } from "../fields/patterns";
import { managedTags, VAULT_SUFFIX_LENGTH, vaultNameBase } from "../naming";
import { givenName } from "./given-name";
import { roleDefinitionIdIn } from "./published-credential";

/**
 * Role definition ID of the built-in role "Key Vault Secrets Officer": the data-plane rights the
 * deploying identity needs on the vault, because Key Vault deletes (and recovers) secrets through the
 * data plane only.
 */
export const KEY_VAULT_SECRETS_OFFICER_ROLE_ID = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";

/** Why an existing vault in another subscription cannot be used, or undefined when it can. */
export function vaultSubscriptionProblem(
  vaultName: string,
  vaultSubscription: string,
  current: string,
): string | undefined {
  if (!current || current.toLowerCase() === vaultSubscription.toLowerCase()) return undefined;
  return (
    `flow-trigger-auth:keyVault.existingVaultId: vault ${vaultName} is in subscription ${vaultSubscription}, ` +
    `but the stack deploys to ${current}; set azure-native:subscriptionId to ${vaultSubscription} or use a vault in ${current}`
  );
}

/** Why an existing vault using access policies cannot be used, or undefined when it uses Azure RBAC. */
export function vaultPermissionModelProblem(
  vaultName: string,
  enableRbacAuthorization?: boolean,
): string | undefined {
  if (enableRbacAuthorization !== false) return undefined;
  return (
    `flow-trigger-auth:keyVault.existingVaultId: vault ${vaultName} uses access policies; ` +
    "this stack grants readers per secret with Azure RBAC. Switch the vault to the Azure RBAC permission model " +
    `(az keyvault update --name ${vaultName} --enable-rbac-authorization true) or let the stack create a vault.`
  );
}

/**
 * Whether the deploying identity (`objectId`) is a service principal (a pipeline's app or a managed
 * identity) or a person: ARM refuses a role assignment whose `principalType` is not its principal's
 * (UnmatchedPrincipalType), and assumes `User` when none is sent. Found among service principals
 * (azuread `getServicePrincipal`, which fails with "... was not found" otherwise:
 * terraform-provider-azuread service_principal_data_source.go): ServicePrincipal; not found: User;
 * any other failure stops the run.
 */
export function deployerPrincipalType(
  objectId: pulumi.Input<string>,
  opts?: pulumi.InvokeOptions,
): pulumi.Output<PrincipalType> {
  return pulumi.output(objectId).apply(async (id): Promise<PrincipalType> => {
    try {
      await azuread.getServicePrincipal({ objectId: id }, opts);
      return "ServicePrincipal";
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      if (/was not found/i.test(text)) return "User";
      throw new Error(
        `cannot tell whether the deploying identity ${id} is a user or a service principal: ${text.slice(0, 300)}. ` +
          "It reads service principals through Microsoft Graph (Application.Read.All, which Application.ReadWrite.All " +
          "includes; a person needs no extra permission), see docs/setup.md",
      );
    }
  });
}

/** Arguments of {@link SecretVault}. */
export interface SecretVaultArgs {
  /** `flow-trigger-auth:namePrefix`, e.g. `flow`; starts the generated vault name. */
  namePrefix: string;
  /** `flow-trigger-auth:environment`, e.g. `dev`; follows the prefix in the generated vault name. */
  environment: string;
  /** Entra tenant the vault trusts, e.g. `72f988bf-86f1-41af-91ab-2d7cd011db47`. */
  tenantId: pulumi.Input<string>;
  /** Azure region of a created vault, e.g. `westeurope` (`azure-native:location`). */
  location?: string;
  /** ARM ID of a vault to use instead of creating one; it must use Azure RBAC authorization. */
  existingVaultId?: string;
  /** The deploying identity's object ID and principal type, for its role assignment on a created vault. */
  deployer: { objectId: pulumi.Input<string>; type: pulumi.Input<PrincipalType> };
  /**
   * Settles when the stack may create anything, e.g. once the Flow service principal was found; when
   * it fails, nothing is created (no purge-protected vault is left behind by a stack that cannot work).
   */
  createAfter?: pulumi.Output<unknown>;
  /**
   * Whether credentials are kept in the vault (default true). False when no caller keeps one there and
   * the stack only needs a home for the identities it creates: then no vault is
   * created (only its resource group), and an existing vault is only read for its group and region.
   */
  storesCredentials?: boolean;
}

/**
 * The Key Vault that holds every caller's published client secret or certificate, and its resource
 * group (where the stack's managed identities live too): created with RBAC authorization, soft delete
 * and purge protection and a generated globally unique name, or an existing vault by ID. A stack that
 * keeps no credential in Key Vault gets the resource group alone.
 */
export class SecretVault extends pulumi.ComponentResource {
  /** Vault name, e.g. `flow-dev-x7k2pq`; undefined when no vault was created (`storesCredentials: false`). */
  public readonly vaultName?: pulumi.Output<string>;
  /** Data-plane URI, e.g. `https://flow-dev-x7k2pq.vault.azure.net/`; undefined without a created vault. */
  public readonly vaultUri?: pulumi.Output<string>;
  /** ARM ID of the vault; scope prefix of every secret; undefined without a created vault. */
  public readonly vaultId?: pulumi.Output<string>;
  /** Resource group holding the vault. */
  public readonly resourceGroupName: pulumi.Output<string>;
  /** Region of the vault, e.g. `westeurope`; Event Grid topics on it must live there too. */
  public readonly location: pulumi.Output<string>;
  /**
   * The deploying identity's data-plane role on a created vault (Key Vault Secrets Officer), so that
   * removing a caller or the stack can delete its secret; empty for an existing vault, whose owner
   * grants it (docs/setup.md).
   */
  public readonly writeAccess: pulumi.Resource[];

  constructor(name: string, args: SecretVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flow-trigger-auth:keyvault:SecretVault", name, {}, opts);
    const storesCredentials = args.storesCredentials ?? true;

    if (args.existingVaultId) {
      const { subscriptionId, resourceGroupName, vaultName } = parseVaultId(args.existingVaultId);
      // The deploying subscription, asked only here: a created vault needs no look-up at all.
      const deploying = pulumi
        .all([authorization.getClientConfigOutput({ parent: this }).subscriptionId, args.createAfter])
        .apply(([subscription]) => subscription);
      const found = deploying.apply((current) => {
        const problem = vaultSubscriptionProblem(vaultName, subscriptionId, current);
        if (problem) throw new Error(problem);
        return keyvault.getVaultOutput({ resourceGroupName, vaultName }, { parent: this });
      });
      // Every name a write uses comes out of both checks: nothing is written to a vault that fails them.
      const checked = found.apply((v) => {
        const problem =
          storesCredentials && vaultPermissionModelProblem(vaultName, v.properties?.enableRbacAuthorization);
        if (problem) throw new Error(problem);
        return v;
      });
      this.vaultName = checked.apply(() => vaultName);
      this.resourceGroupName = checked.apply(() => resourceGroupName);
      this.vaultId = checked.apply((v) => v.id);
      this.location = checked.apply((v) => v.location ?? "");
      this.vaultUri = checked.apply((v) => v.properties?.vaultUri ?? "");
      this.writeAccess = [];
    } else {
      if (!args.location) throw new Error("SecretVault: location is required to create a vault");
      // An Output as dependsOn: each resource below is registered only once `createAfter` settles.
      const after = (args.createAfter ?? pulumi.output(undefined)).apply((): pulumi.Resource[] => []);
      const groupName = `${args.namePrefix}-${args.environment}-rg`;
      const group = new resources.ResourceGroup(
        `${name}-rg`,
        {
          resourceGroupName: groupName,
          location: args.location,
          tags: managedTags(args.environment),
        },
        { parent: this, dependsOn: after },
      );
      this.resourceGroupName = givenName(group, groupName);
      this.location = pulumi.output(args.location);
      this.writeAccess = [];
      if (storesCredentials) {
        const suffix = new random.RandomString(
          `${name}-suffix`,
          { length: VAULT_SUFFIX_LENGTH, upper: false, special: false, numeric: true, lower: true },
          { parent: this, dependsOn: after },
        );
        const vaultName = pulumi.interpolate`${vaultNameBase(args.namePrefix, args.environment)}-${suffix.result}`;
        const vault = new keyvault.Vault(
          name,
          {
            resourceGroupName: givenName(group, groupName),
            location: args.location,
            vaultName,
            properties: {
              tenantId: args.tenantId,
              sku: { family: "A", name: keyvault.SkuName.Standard },
              enableRbacAuthorization: true,
              // Ignored under RBAC, but ARM's create contract expects the list: send it empty, never a policy.
              accessPolicies: [],
              enableSoftDelete: true,
              softDeleteRetentionInDays: 90,
              enablePurgeProtection: true,
            },
            tags: managedTags(args.environment),
          },
          { parent: this, dependsOn: after },
        );
        // principalType is updated in place (azure-native replaces an assignment only for a new principalId
        // or scope: provider/pkg/gen/replacement.go), so stacks deployed without it upgrade with no 409.
        const officer = new authorization.RoleAssignment(
          `${name}-deployer`,
          {
            principalId: args.deployer.objectId,
            principalType: args.deployer.type,
            roleDefinitionId: vault.id.apply((id) =>
              roleDefinitionIdIn(id, KEY_VAULT_SECRETS_OFFICER_ROLE_ID),
            ),
            scope: vault.id,
            description: "Deploys flow-trigger-auth: deletes and recovers caller secrets (flow-trigger-auth)",
          },
          { parent: this },
        );
        this.vaultName = givenName(vault, vaultName);
        this.vaultId = vault.id;
        this.vaultUri = vault.properties.apply((p) => p.vaultUri ?? "");
        this.writeAccess = [officer];
      }
    }

    this.registerOutputs({
      vaultName: this.vaultName,
      vaultUri: this.vaultUri,
      vaultId: this.vaultId,
      resourceGroupName: this.resourceGroupName,
      location: this.location,
    });
  }
}
