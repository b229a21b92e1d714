/**
 * Where a caller's rotation state lives between runs: in the tags of its published Key Vault secret,
 * read back through ARM (`keyvault.getSecret`, metadata only, never the value) at the start of a run.
 * A secret that does not exist means "no state"; any other failure stops the run: guessing wrong
 * would replace both of the caller's secrets at once.
 */
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as pulumi from "@pulumi/pulumi";
import {
  decodeState,
  legacyState,
  RotationStateError,
  STATE_TAG,
  type RotationPolicy,
  type RotationState,
  type SlotName,
} from "../rotation";

/** Tag that marks the secrets this project writes. */
export const MANAGED_BY_TAG = "managed-by";
/** Its value. */
export const MANAGED_BY = "flow-trigger-auth";
/** Tag naming the client ID whose secret this is. */
export const CLIENT_ID_TAG = "clientId";

/** What the state read found, and why, for the run's log. */
export interface StateRead {
  state?: RotationState;
  /** Why there is no state (or where it came from), in a sentence; undefined when the tag was read. */
  note?: string;
}

/** What `keyvault.getSecret` answers that the state depends on. */
export interface SecretMetadata {
  tags?: Record<string, string>;
  /** `properties.attributes.expires`, seconds since the Unix epoch. */
  expires?: number;
}

/**
 * The state held by an existing secret. `clientId` is the caller's current app: a secret left by an
 * app of the same name that was deleted (or moved to another tenant) is not this app's state.
 * @throws an Error naming the secret when its tags cannot be trusted.
 */
export function stateFromSecret(
  secret: SecretMetadata,
  where: string,
  clientId: string,
  policy: RotationPolicy,
): StateRead {
  const tags = secret.tags ?? {};
  if (tags[MANAGED_BY_TAG] !== MANAGED_BY) {
    throw new Error(
      `${where} exists and is not managed by flow-trigger-auth (no tag ${MANAGED_BY_TAG}=${MANAGED_BY}): ` +
        "it would be overwritten. Rename or delete it, or use another vault (flow-trigger-auth:keyVault.existingVaultId)",
    );
  }
  if (tags[CLIENT_ID_TAG]?.toLowerCase() !== clientId.toLowerCase()) {
    return {
      note: `${where} belongs to another app (client ID ${tags[CLIENT_ID_TAG] ?? "none"}): starting afresh`,
    };
  }
  const text = tags[STATE_TAG];
  if (text !== undefined) {
    try {
      return { state: decodeState(text) };
    } catch (err) {
      if (!(err instanceof RotationStateError)) throw err;
      throw new Error(
        `${where}: tag ${STATE_TAG} cannot be read (${err.message}). Restore it, or delete the tag to start ` +
          "afresh (the next run then replaces both of this caller's secrets)",
      );
    }
  }
  // Written by a version without rotation state: tags slot and period, and the expiry.
  const slot = tags.slot;
  const period = Number(tags.period);
  if ((slot === "a" || slot === "b") && Number.isInteger(period) && secret.expires !== undefined) {
    const state = legacyState({ slot: slot as SlotName, period, expiresMs: secret.expires * 1000 }, policy);
    if (state) return { state, note: `${where}: state rebuilt from tags slot=${slot}, period=${period}` };
  }
  return { note: `${where} carries no rotation state: starting afresh` };
}

/** An invoke failure that means "no such secret, vault or resource group" (ARM answered 404). */
export function isNotFound(err: unknown): boolean {
  const text = err instanceof Error ? err.message : String(err);
  return /\bStatus=404\b|\b404 Not Found\b|RESPONSE 404/.test(text);
}

/** The message when the state cannot be read for another reason. */
export function stateReadFailure(where: string, err: unknown): string {
  const detail = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").slice(0, 400);
  return (
    `cannot read the rotation state of ${where}: ${detail}. The deploying identity needs to read Key Vault ` +
    "secret metadata through ARM (Microsoft.KeyVault/vaults/secrets/read, e.g. Reader or Contributor on the vault). " +
    "The run stops rather than guess: a wrong guess would replace both of the caller's secrets"
  );
}

/** Which secret to read. */
export interface StateLocation {
  resourceGroupName: pulumi.Input<string>;
  vaultName: pulumi.Input<string>;
  secretName: string;
  /** The caller's client ID (the state must be this app's). */
  clientId: pulumi.Input<string>;
}

/** Reads the state at the start of the run; logs where it came from when that is worth knowing. */
export function readRotationState(
  at: StateLocation,
  policy: RotationPolicy,
  opts: pulumi.InvokeOptions,
): pulumi.Output<StateRead> {
  return pulumi
    .all([at.resourceGroupName, at.vaultName, at.clientId])
    .apply(async ([resourceGroupName, vaultName, clientId]) => {
      const where = `Key Vault secret ${at.secretName} in vault ${vaultName}`;
      let secret: keyvault.GetSecretResult;
      try {
        secret = await keyvault.getSecret({ resourceGroupName, vaultName, secretName: at.secretName }, opts);
      } catch (err) {
        if (isNotFound(err)) return { note: `${where} does not exist yet: first deployment of this caller` };
        throw new Error(stateReadFailure(where, err));
      }
      return stateFromSecret(
        { tags: secret.tags ?? undefined, expires: secret.properties?.attributes?.expires ?? undefined },
        where,
        clientId,
        policy,
      );
    });
}
