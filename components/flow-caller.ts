import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import type { SecretReader } from "../config";
import type { RotationPolicy } from "../rotation";
import type { FlowService } from "./flow-service";
import { RotatingClientSecret, type VaultRef } from "./rotating-secret";

/** Arguments of {@link FlowCaller}. */
export interface FlowCallerArgs {
  /** Display name of the app registration and enterprise app, e.g. `flow-dev-erp`. */
  displayName: string;
  /** What the calling system is, shown in the portal, e.g. `SAP ERP posting invoices`. */
  description?: string;
  /**
   * Object IDs of the owners of the app registration and enterprise app, e.g. the deploying identity
   * and a team's group of admins. Exactly these: the provider removes any other owner it finds.
   */
  owners: pulumi.Input<string[]>;
  /** The Flow service principal and its `User` scope, from `lookupFlowService()`. */
  flowService: FlowService;
  /** Rotation schedule of the client secret, e.g. `{ rotationDays: 90, offsetDays: 0, maxLifetimeDays: 730 }`. */
  policy: RotationPolicy;
  /** "Now" for this run, in ms since the Unix epoch. */
  nowMs: number;
  /** Error hooks of the client secrets, e.g. one that explains an app management policy refusal. */
  onError?: pulumi.ErrorHook[];
  /** Vault holding the published secret. */
  vault: VaultRef;
  /** Name of the vault secret, e.g. `erp-client-secret`. */
  secretName: string;
  /** Principals allowed to read this caller's secret (caller-level, then stack-level readers; repeats are merged). */
  secretReaders: SecretReader[];
  /** Resources that must exist before the vault secret is written, e.g. its expiry alerts. */
  publishAfter?: pulumi.Resource[];
  /** Text stored in the app's notes, e.g. which stack manages it. */
  notes?: string;
}

/**
 * An Entra app registration allowed to call HTTP-triggered flows: single tenant, no redirect URIs, the
 * Flow service's delegated `User` permission with admin consent, its enterprise application (the
 * object ID flow makers paste into *Allowed users*) and a rotating client secret in Key Vault.
 */
export class FlowCaller extends pulumi.ComponentResource {
  /** Client (application) ID the caller authenticates with, e.g. `0b8f3c1e-…`. */
  public readonly clientId: pulumi.Output<string>;
  /** Object ID of the app registration (not for *Allowed users*). */
  public readonly applicationObjectId: pulumi.Output<string>;
  /** Object ID of the enterprise application: the value for the trigger's *Allowed users*. */
  public readonly servicePrincipalObjectId: pulumi.Output<string>;
  /** Display name, e.g. `flow-dev-erp`. */
  public readonly displayName: pulumi.Output<string>;
  /** The rotating client secret and its vault entry. */
  public readonly secret: RotatingClientSecret;

  constructor(name: string, args: FlowCallerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flow-trigger-auth:entra:FlowCaller", name, {}, opts);

    const app = new azuread.Application(
      name,
      {
        displayName: args.displayName,
        description: args.description,
        notes: args.notes,
        owners: args.owners,
        signInAudience: "AzureADMyOrg",
        preventDuplicateNames: true,
        web: { implicitGrant: { accessTokenIssuanceEnabled: false, idTokenIssuanceEnabled: false } },
        requiredResourceAccesses: [
          {
            resourceAppId: args.flowService.appId,
            resourceAccesses: [{ id: args.flowService.userScopeId, type: "Scope" }],
          },
        ],
      },
      { parent: this },
    );

    const sp = new azuread.ServicePrincipal(
      `${name}-sp`,
      { clientId: app.clientId, owners: args.owners, description: args.description, notes: args.notes },
      { parent: this },
    );

    new azuread.ServicePrincipalDelegatedPermissionGrant(
      `${name}-consent`,
      {
        servicePrincipalObjectId: sp.objectId,
        resourceServicePrincipalObjectId: args.flowService.objectId,
        claimValues: ["User"],
      },
      { parent: this },
    );

    this.secret = new RotatingClientSecret(
      `${name}-secret`,
      {
        applicationId: app.id,
        clientId: app.clientId,
        policy: args.policy,
        nowMs: args.nowMs,
        onError: args.onError,
        vault: args.vault,
        secretName: args.secretName,
        readers: args.secretReaders,
        publishAfter: args.publishAfter,
      },
      { parent: this },
    );

    this.clientId = app.clientId;
    this.applicationObjectId = app.objectId;
    this.servicePrincipalObjectId = sp.objectId;
    this.displayName = app.displayName;

    this.registerOutputs({
      clientId: this.clientId,
      applicationObjectId: this.applicationObjectId,
      servicePrincipalObjectId: this.servicePrincipalObjectId,
      displayName: this.displayName,
    });
  }
}
