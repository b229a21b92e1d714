import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { isoTime, type RotationPlan, type SlotName } from "../rotation";
import { publishedOf, RotatingCredential, type RotatingCredentialArgs } from "./published-credential";

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
 * the published one (see {@link RotatingCredential}).
 */
export class RotatingClientSecret extends RotatingCredential {
  constructor(name: string, args: RotatingClientSecretArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "flow-trigger-auth:entra:RotatingClientSecret",
      name,
      args,
      {
        what: "secret",
        contentType: SECRET_CONTENT_TYPE,
        slots: (owner, plan) =>
          publishedOf(
            plan,
            slotPassword(owner, name, args, plan, "a").value,
            slotPassword(owner, name, args, plan, "b").value,
          ),
      },
      opts,
    );
    this.registerOutputs(this.rotationOutputs());
  }
}

/** One slot's password: replaced exactly when the plan gives the slot another period or end. */
function slotPassword(
  owner: pulumi.Resource,
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
      parent: owner,
      additionalSecretOutputs: ["value"],
      ...(args.onError?.length ? { hooks: { onError: args.onError } } : {}),
    },
  );
}
