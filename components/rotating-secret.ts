import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import type { SecretReader } from "../config";
import {
  encodeState,
  isoTime,
  planRotation,
  STATE_TAG,
  type RotationPlan,
  type RotationPolicy,
  type SlotName,
} from "../rotation";
import { givenName } from "./given-name";
import { CLIENT_ID_TAG, MANAGED_BY, MANAGED_BY_TAG, readRotationState } from "./rotation-state";

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
  /**
   * What gives the deploying identity data-plane rights on the vault (Key Vault deletes secrets through
   * the data plane): secrets depend on it, so it is created before them and removed after them.
   */
  writeAccess?: pulumi.Resource[];
}

/** Arguments of {@link RotatingClientSecret}. */
export interface RotatingClientSecretArgs {
  /** Resource ID of the app registration (`app.id`, `/applications/<objectId>`), owner of both passwords. */
  applicationId: pulumi.Input<string>;
  /** Client ID of that app, e.g. `0b8f3c1e-…`; tagged on the vault secret so readers know whose secret it is. */
  clientId: pulumi.Input<string>;
  /** The schedule (`flow-trigger-auth:rotation`), e.g. `{ rotationDays: 90, offsetDays: 0, maxLifetimeDays: 730 }`. */
  policy: RotationPolicy;
  /** "Now" for this run, in ms since the Unix epoch (read once per run by the program). */
  nowMs: number;
  /** Vault that receives the published slot's value. */
  vault: VaultRef;
  /** Name of the vault secret, e.g. `erp-client-secret`. */
  secretName: string;
  /** Principals granted *Key Vault Secrets User* on this secret only (duplicates by object ID are merged). */
  readers: SecretReader[];
  /** Resources that must exist before the vault secret is written, e.g. the Event Grid subscriptions of its expiry alerts. */
  publishAfter?: pulumi.Resource[];
  /** Error hooks of the passwords, e.g. one that explains an app management policy refusal. */
  onError?: pulumi.ErrorHook[];
}

/** Full ID of the built-in role `roleId` in the subscription of the resource `armId`. */
export function roleDefinitionIdIn(armId: string, roleId: string): string {
  const subscription = /^\/subscriptions\/[^/]+/i.exec(armId)?.[0] ?? "";
  return `${subscription}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

/** Full ID of *Key Vault Secrets User* in the subscription of the resource `armId`. */
export function secretsUserRoleDefinitionId(armId: string): string {
  return roleDefinitionIdIn(armId, KEY_VAULT_SECRETS_USER_ROLE_ID);
}

/** URI of the secret `name` in the vault at `vaultUri` (without version), or undefined without a vault URI. */
export function secretUriIn(vaultUri: string | undefined, name: string): string | undefined {
  return vaultUri ? `${vaultUri.replace(/\/*$/, "/")}secrets/${name}` : undefined;
}

/** Display name of a slot's password; with the end date in it, as every version has written it. */
export function passwordDisplayName(slot: SlotName, endMs: number): string {
  return `flow-trigger-auth slot ${slot}, until ${isoTime(endMs)}`;
}

/**
 * Two Entra client secrets ("slots") rotated on staggered schedules, and the Key Vault secret holding
 * the published one. The rotation state is read from that secret's tags at the start of the run and
 * written back with it, so a run replaces at most one slot (docs/rotation.md) and a run that replaces
 * nothing changes nothing.
 */
export class RotatingClientSecret extends pulumi.ComponentResource {
  /** Name of the vault secret, e.g. `erp-client-secret`. */
  public readonly secretName: pulumi.Output<string>;
  /** URI of the vault secret without version (always the current value), e.g. `https://v.vault.azure.net/secrets/erp-client-secret`. */
  public readonly secretUri: pulumi.Output<string>;
  /** URI of the current version; changes exactly when the published value (or its state) changes. */
  public readonly secretVersionUri: pulumi.Output<string>;
  /** ARM ID of the vault secret; scope of its role assignments. */
  public readonly secretId: pulumi.Output<string>;
  /** Expiry of the published secret (ISO 8601), e.g. `2027-05-21T05:17:43Z`. */
  public readonly expiresAt: pulumi.Output<string>;
  /** When the next slot is due to be replaced (ISO 8601). */
  public readonly nextRotationAt: pulumi.Output<string>;
  /** Which slot is published, `a` or `b`. */
  public readonly publishedSlot: pulumi.Output<string>;
  /** The published client secret: a Pulumi secret, never exported. */
  public readonly publishedValue: pulumi.Output<string>;
  /** This run's rotation plan: which slots it replaces, and whether it starts afresh. */
  public readonly plan: pulumi.Output<RotationPlan>;

  constructor(name: string, args: RotatingClientSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flow-trigger-auth:entra:RotatingClientSecret", name, {}, opts);

    const read = readRotationState(
      {
        resourceGroupName: args.vault.resourceGroupName,
        vaultName: args.vault.name,
        secretName: args.secretName,
        clientId: args.clientId,
      },
      args.policy,
      { parent: this },
    );
    const plan = read.apply((found) => {
      const p = planRotation(args.policy, args.nowMs, found.state);
      if (found.note) void pulumi.log.info(found.note, this);
      if (p.replaced.length > 0) {
        const what = p.replaced.map((s) => `slot ${s} (until ${isoTime(p[s].endMs)})`).join(" and ");
        void pulumi.log.info(
          `${args.secretName}: new secret in ${what}; slot ${p.published.slot} published`,
          this,
        );
      }
      return p;
    });

    const passwords: Record<SlotName, azuread.ApplicationPassword> = {
      a: this.slotPassword(name, args, plan, "a"),
      b: this.slotPassword(name, args, plan, "b"),
    };
    const value = pulumi.secret(
      pulumi
        .all([plan, passwords.a.value, passwords.b.value])
        .apply(([p, a, b]) => (p.published.slot === "a" ? a : b)),
    );

    const secret = new keyvault.Secret(
      `${name}-kv`,
      {
        resourceGroupName: args.vault.resourceGroupName,
        vaultName: args.vault.name,
        secretName: args.secretName,
        properties: {
          value,
          contentType: SECRET_CONTENT_TYPE,
          attributes: { enabled: true, expires: plan.apply((p) => Math.floor(p.published.endMs / 1000)) },
        },
        tags: pulumi.all([args.clientId, plan]).apply(([clientId, p]) => ({
          [CLIENT_ID_TAG]: clientId,
          slot: p.published.slot,
          period: String(p.published.period),
          [STATE_TAG]: encodeState(p.state),
          [MANAGED_BY_TAG]: MANAGED_BY,
        })),
      },
      { parent: this, dependsOn: [...(args.publishAfter ?? []), ...(args.vault.writeAccess ?? [])] },
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
    this.expiresAt = plan.apply((p) => isoTime(p.published.endMs));
    this.nextRotationAt = plan.apply((p) => isoTime(p.nextRotationMs));
    this.publishedSlot = plan.apply((p) => p.published.slot);
    this.publishedValue = value;
    this.plan = plan;

    this.registerOutputs({
      secretName: this.secretName,
      secretUri: this.secretUri,
      secretId: this.secretId,
      expiresAt: this.expiresAt,
      nextRotationAt: this.nextRotationAt,
      publishedSlot: this.publishedSlot,
    });
  }

  /** One slot's password: replaced exactly when the plan gives the slot another period or end. */
  private slotPassword(
    name: string,
    args: RotatingClientSecretArgs,
    plan: pulumi.Output<RotationPlan>,
    slot: SlotName,
  ): azuread.ApplicationPassword {
    return new azuread.ApplicationPassword(
      `${name}-${slot}`,
      {
        applicationId: args.applicationId,
        displayName: plan.apply((p) => passwordDisplayName(slot, p[slot].endMs)),
        endDate: plan.apply((p) => isoTime(p[slot].endMs)),
        rotateWhenChanged: { period: plan.apply((p) => String(p[slot].period)) },
      },
      {
        parent: this,
        additionalSecretOutputs: ["value"],
        ...(args.onError?.length ? { hooks: { onError: args.onError } } : {}),
      },
    );
  }
}
