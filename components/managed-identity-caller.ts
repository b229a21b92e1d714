import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { principalOutputs, type CallerPrincipal } from "./flow-caller";
import { givenName } from "./given-name";

/** A user-assigned identity for the stack to create. */
export interface CreatedIdentityArgs {
  /** Azure name of the identity, e.g. `flow-dev-func` (3 to 128 letters, digits, `-` and `_`). */
  resourceName: string;
  /** Resource group it lives in, e.g. the vault's `flow-dev-rg`. */
  resourceGroupName: pulumi.Input<string>;
  /** Its region, e.g. the vault's `westeurope`. */
  location: pulumi.Input<string>;
  /** Tags, e.g. `{ "managed-by": "flow-trigger-auth" }`. */
  tags?: Record<string, string>;
}

/** Arguments of {@link ManagedIdentityCaller}: an existing identity, or one to create. */
export type ManagedIdentityCallerArgs =
  | {
      /** Object (principal) ID of an existing managed identity, e.g. `3f2a1b0c-…`. */
      principalId: string;
      /**
       * Where the ID came from, named in errors, e.g. `flow-trigger-auth:callers[3].managedIdentity.principalId`.
       * Default `principalId`.
       */
      source?: string;
    }
  | { create: CreatedIdentityArgs };

/** What to tell the operator when the principal cannot be found; `detail` is the provider's error. */
export function principalLookupFailure(principalId: string, source: string, detail: string): string {
  const missing = /was not found|not found|does not exist|Request_ResourceNotFound|404/i.test(detail);
  return missing
    ? `${source}: no service principal with object ID ${principalId} in this tenant. Give the managed identity's ` +
        "object (principal) ID, not its client ID or resource ID (az identity show --name <identity> " +
        "--resource-group <group> --query principalId), in the tenant the stack deploys to"
    : `${source}: looking up the service principal ${principalId} failed: ${detail}. The deploying identity needs to ` +
        "read service principals (Microsoft Graph Application.Read.All or Directory.Read.All)";
}

/**
 * A managed identity allowed to call HTTP-triggered flows: no app registration, no secret, no consent;
 * its service principal's object ID is what flow makers paste into *Allowed users*. Either an existing
 * identity, looked up by object ID (a missing one fails the run, naming where the ID came from), or a
 * user-assigned identity created here.
 */
export class ManagedIdentityCaller extends pulumi.ComponentResource implements CallerPrincipal {
  /** Client ID of the identity: what its workload asks tokens for, e.g. `5b1e…`. */
  public readonly clientId: pulumi.Output<string>;
  /** Object ID of its service principal: the value for the trigger's *Allowed users*. */
  public readonly servicePrincipalObjectId: pulumi.Output<string>;
  /** Its name, e.g. `flow-dev-func` or an existing identity's `logic-app-prod`. */
  public readonly displayName: pulumi.Output<string>;
  /** ARM ID of the identity created here; undefined for an existing identity. */
  public readonly resourceId?: pulumi.Output<string>;
  /** The identity created here, if any. */
  public readonly identity?: managedidentity.UserAssignedIdentity;

  constructor(name: string, args: ManagedIdentityCallerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flow-trigger-auth:identity:ManagedIdentityCaller", name, {}, opts);

    if ("create" in args) {
      const c = args.create;
      this.identity = new managedidentity.UserAssignedIdentity(
        `${name}-identity`,
        {
          resourceGroupName: c.resourceGroupName,
          resourceName: c.resourceName,
          location: c.location,
          tags: c.tags,
        },
        { parent: this },
      );
      this.clientId = this.identity.clientId;
      this.servicePrincipalObjectId = this.identity.principalId;
      this.displayName = givenName(this.identity, c.resourceName);
      this.resourceId = this.identity.id;
    } else {
      const source = args.source ?? "principalId";
      const found = pulumi.output(
        azuread.getServicePrincipal({ objectId: args.principalId }, { parent: this }).then(
          (sp) => {
            if (sp.type && sp.type !== "ManagedIdentity") {
              void pulumi.log.warn(
                `${source}: ${args.principalId} is a service principal of type ${sp.type} (${sp.displayName}), ` +
                  "not a managed identity; it will be listed in Allowed users all the same",
                this,
              );
            }
            return sp;
          },
          (err: unknown) => {
            throw new Error(
              principalLookupFailure(
                args.principalId,
                source,
                err instanceof Error ? err.message : String(err),
              ),
            );
          },
        ),
      );
      this.clientId = found.clientId;
      this.servicePrincipalObjectId = found.objectId;
      this.displayName = found.displayName;
    }

    this.registerOutputs({ ...principalOutputs(this), resourceId: this.resourceId });
  }
}
