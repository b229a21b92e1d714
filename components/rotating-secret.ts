import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import type { SecretReader } from "../config";
import { isoTime, type RotationPlan, type SlotPlan } from "../rotation";
import { givenName } from "./given-name";

/** Role definition ID of the built-in role "Key Vault Secrets User" (read secret values). */
export const KEY_VAULT_SECRETS_USER_ROLE_ID = "4633458b-17de-408a-b874-0445c86b69e6";

/** Content type stored with every published secret. */
export const SECRET_CONTENT_TYPE = "text/plain; charset=utf-8; kind=entra-client-secret";

/** The vault a published secret goes to. */
export interface VaultRef {
  /** Vault name, e.g. `flow-dev-x7k2pq`. */
  name: pulumi.Input<string>;
  /** Resource group holding the vault. */
  resourceGroupName: pulumi.Input<string>;
  /** Data-plane URI, e.g. `https://flow-dev-x7k2pq.vault.azure.net/`: the secret URI when ARM gives none. */
  uri?: pulumi.Input<string>;
}

/** Arguments of {@link RotatingClientSecret}. */
export interface RotatingClientSecretArgs {
  /** Resource ID of the app registration (`app.id`, `/applications/<objectId>`), owner of both passwords. */
  applicationId: pulumi.Input<string>;
  /** Client ID of that app, e.g. `0b8f3c1e-…`; tagged on the vault secret so readers know whose secret it is. */
  clientId: pulumi.Input<string>;
  /** Both slots' periods and lifetimes at the time of this run, from `planRotation`. */
  plan: RotationPlan;
  /** Vault that receives the newest slot's value. */
  vault: VaultRef;
  /** Name of the vault secret, e.g. `erp-client-secret`. */
  secretName: string;
  /** Principals granted *Key Vault Secrets User* on this secret only (duplicates by object ID are merged). */
  readers: SecretReader[];
  /** Resources that must exist before the vault secret is written, e.g. the Event Grid subscriptions of its expiry alerts. */
  publishAfter?: pulumi.Resource[];
}

/** Full ID of *Key Vault Secrets User* in the subscription of the resource `armId`. */
export function secretsUserRoleDefinitionId(armId: string): string {
  const subscription = /^\/subscriptions\/[^/]+/i.exec(armId)?.[0] ?? "";
  return `${subscription}/providers/Microsoft.Authorization/roleDefinitions/${KEY_VAULT_SECRETS_USER_ROLE_ID}`;
}

/** URI of the secret `name` in the vault at `vaultUri` (without version), or undefined without a vault URI. */
export function secretUriIn(vaultUri: string | undefined, name: string): string | undefined {
  return vaultUri ? `${vaultUri.replace(/\/*$/, "/")}secrets/${name}` : undefined;
}

/**
 * Two Entra client secrets ("slots") rotated on staggered schedules, and the Key Vault secret holding
 * the newer one. A slot is replaced only when its period changes, so re-running `pulumi up` within a
 * period changes nothing, and callers always have a published secret valid for at least R more days.
 */
export class RotatingClientSecret extends pulumi.ComponentResource {
  /** Name of the vault secret, e.g. `erp-client-secret`. */
  public readonly secretName: pulumi.Output<string>;
  /** URI of the vault secret without version (always the current value), e.g. `https://v.vault.azure.net/secrets/erp-client-secret`. */
  public readonly secretUri: pulumi.Output<string>;
  /** URI of the current version; changes exactly when the published value changes. */
  public readonly secretVersionUri: pulumi.Output<string>;
  /** ARM ID of the vault secret; scope of its role assignments. */
  public readonly secretId: pulumi.Output<string>;
  /** Expiry of the published secret (ISO 8601), e.g. `2027-05-21T00:00:00Z`. */
  public readonly expiresAt: pulumi.Output<string>;
  /** When the next slot is replaced (ISO 8601). */
  public readonly nextRotationAt: pulumi.Output<string>;
  /** Which slot is published, `a` or `b`. */
  public readonly publishedSlot: pulumi.Output<string>;
  /** The published client secret: a Pulumi secret, never exported. */
  public readonly publishedValue: pulumi.Output<string>;

  constructor(name: string, args: RotatingClientSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flow-trigger-auth:entra:RotatingClientSecret", name, {}, opts);

    const passwords = {
      a: this.slotPassword(name, args, args.plan.a),
      b: this.slotPassword(name, args, args.plan.b),
    };
    const published = args.plan.published;
    const value = pulumi.secret(passwords[published.slot].value);

    const secret = new keyvault.Secret(
      `${name}-kv`,
      {
        resourceGroupName: args.vault.resourceGroupName,
        vaultName: args.vault.name,
        secretName: args.secretName,
        properties: {
          value,
          contentType: SECRET_CONTENT_TYPE,
          attributes: { enabled: true, expires: Math.floor(published.endMs / 1000) },
        },
        tags: {
          clientId: args.clientId,
          slot: published.slot,
          period: String(published.period),
          "managed-by": "flow-trigger-auth",
        },
      },
      { parent: this, dependsOn: args.publishAfter },
    );

    const roleDefinitionId = secret.id.apply(secretsUserRoleDefinitionId);
    // One assignment per principal: the first entry for an object ID wins (caller-level before stack-wide).
    const readers = new Map<string, SecretReader>();
    for (const r of args.readers)
      if (!readers.has(r.objectId.toLowerCase())) readers.set(r.objectId.toLowerCase(), r);
    for (const [objectId, reader] of readers) {
      new authorization.RoleAssignment(
        `${name}-reader-${objectId}`,
        {
          principalId: reader.objectId,
          principalType: reader.type,
          roleDefinitionId,
          scope: secret.id,
          description: `Reads ${args.secretName} (flow-trigger-auth)`,
        },
        { parent: this },
      );
    }

    this.secretName = givenName(secret, args.secretName);
    // `properties` is a secret as a whole because it carries the value; its URIs are not secret.
    // The URI is the vault's plus `secrets/<name>`, which is also what ARM answers with.
    this.secretUri = pulumi.unsecret(
      pulumi
        .all([secret.properties, args.vault.uri])
        .apply(([p, uri]) => p?.secretUri ?? secretUriIn(uri, args.secretName)),
    );
    this.secretVersionUri = pulumi.unsecret(secret.properties.apply((p) => p.secretUriWithVersion));
    this.secretId = secret.id;
    this.expiresAt = pulumi.output(isoTime(published.endMs));
    this.nextRotationAt = pulumi.output(isoTime(args.plan.nextRotationMs));
    this.publishedSlot = pulumi.output(published.slot);
    this.publishedValue = value;

    this.registerOutputs({
      secretName: this.secretName,
      secretUri: this.secretUri,
      secretId: this.secretId,
      expiresAt: this.expiresAt,
      nextRotationAt: this.nextRotationAt,
      publishedSlot: this.publishedSlot,
    });
  }

  /** One slot's password: replaced exactly when the slot's period (hence its end date) changes. */
  private slotPassword(
    name: string,
    args: RotatingClientSecretArgs,
    slot: SlotPlan,
  ): azuread.ApplicationPassword {
    return new azuread.ApplicationPassword(
      `${name}-${slot.slot}`,
      {
        applicationId: args.applicationId,
        displayName: `flow-trigger-auth slot ${slot.slot}, until ${isoTime(slot.endMs)}`,
        endDate: isoTime(slot.endMs),
        rotateWhenChanged: { period: String(slot.period) },
      },
      { parent: this, additionalSecretOutputs: ["value"] },
    );
  }
}
