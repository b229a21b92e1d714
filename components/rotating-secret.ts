import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { isoTime, type RotationPlan, type SlotName } from "../rotation";
import {
  planFromVault,
  publishedOf,
  publishToVault,
  type RotatingCredentialArgs,
} from "./published-credential";

export {
  KEY_VAULT_SECRETS_USER_ROLE_ID,
  roleDefinitionIdIn,
  secretsUserRoleDefinitionId,
  secretUriIn,
  type VaultRef,
} from "./published-credential";

/** Content type stored with every published secret. */
export const SECRET_CONTENT_TYPE = "text/plain; charset=utf-8; kind=entra-client-secret";

/** Arguments of {@link RotatingClientSecret}. */
export type RotatingClientSecretArgs = RotatingCredentialArgs;

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
  /** The rotation state as written to Key Vault (encoded): what the stack's `rotationState` output keeps. */
  public readonly stateRecord: pulumi.Output<string>;

  constructor(name: string, args: RotatingClientSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flow-trigger-auth:entra:RotatingClientSecret", name, {}, opts);

    const plan = planFromVault(this, { ...args, what: "secret" });

    const passwords: Record<SlotName, azuread.ApplicationPassword> = {
      a: this.slotPassword(name, args, plan, "a"),
      b: this.slotPassword(name, args, plan, "b"),
    };
    const value = pulumi.secret(publishedOf(plan, passwords.a.value, passwords.b.value));

    const published = publishToVault(this, name, {
      vault: args.vault,
      secretName: args.secretName,
      clientId: args.clientId,
      plan,
      value,
      contentType: SECRET_CONTENT_TYPE,
      readers: args.readers,
      publishAfter: args.publishAfter,
    });

    this.secretName = published.secretName;
    this.secretUri = published.secretUri;
    this.secretVersionUri = published.secretVersionUri;
    this.secretId = published.secretId;
    this.stateRecord = published.stateRecord;
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
