/**
 * Where a caller's rotation state lives between runs: in the tags of its published Key Vault secret
 * (the record), read back through ARM (`keyvault.getVault`, then `keyvault.getSecret`: metadata only,
 * never the value) at the start of a run, and in the stack's own outputs (the witness), read with a
 * `StackReference` to the stack itself. Only a secret missing from a vault that answered means "no
 * record"; any other failure stops the run. rotation.ts's `reconcileRecords` decides which to follow.
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
import { MANAGED_BY, MANAGED_BY_TAG } from "../naming";

/** Tag naming the client ID whose secret this is. */
export const CLIENT_ID_TAG = "clientId";

/** The record's tag is there but cannot be read: the run follows the stack's outputs, or stops without them. */
export class UnreadableRecordError extends Error {
  override readonly name = "UnreadableRecordError";
}

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
      note: `the Key Vault record (${where}) belongs to another app (client ID ${tags[CLIENT_ID_TAG] ?? "none"})`,
    };
  }
  const text = tags[STATE_TAG];
  if (text !== undefined) {
    try {
      return { state: decodeState(text) };
    } catch (err) {
      if (!(err instanceof RotationStateError)) throw err;
      throw new UnreadableRecordError(
        `the Key Vault record (${where}, tag ${STATE_TAG}) cannot be read: ${err.message}`,
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
  return { note: `the Key Vault record (${where}) carries no rotation state` };
}

/** An ARM error as azure-native v3 hands it to the program: `Status=404 Code="..." Message="..."`. */
export interface ArmError {
  status?: number;
  code?: string;
  message: string;
}

/**
 * The status, code and message of an invoke's error. azure-native v3 formats ARM's answers as
 * `Status=<status> Code="<code>" Message="<message>"` (provider/pkg/azure/client_azcore.go,
 * PulumiAzcoreResponseError); anything else (a network failure) keeps its text alone.
 */
export function armErrorOf(err: unknown): ArmError {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ");
  const m = /Status=(\d{3})(?: Code="([^"]*)")?(?: Message="(.*)")?/.exec(text);
  if (!m) return { message: text.slice(0, 400) };
  return {
    status: Number(m[1]),
    code: m[2] || undefined,
    message: (m[3] ?? text).replace(/"\s*$/, "").slice(0, 400),
  };
}

/**
 * True only for the secret-level not-found of a vault that answered: a 404 whose code is not about
 * the resource group or subscription and whose message does not name the vault itself as missing.
 * The vault is read first, so a missing vault, group or subscription has stopped the run already.
 */
export function isSecretNotFound(err: unknown, vaultName: string): boolean {
  const e = armErrorOf(err);
  if (e.status !== 404) return false;
  if (
    e.code === "ResourceGroupNotFound" ||
    e.code === "SubscriptionNotFound" ||
    e.code === "ParentResourceNotFound"
  )
    return false;
  return !new RegExp(`Microsoft\\.KeyVault/vaults/${vaultName}'`, "i").test(e.message);
}

/** Where a caller's state is read: the vault's place in Azure, for messages that say what to check. */
export interface VaultPlace {
  vaultName: string;
  resourceGroupName: string;
  /** `azure-native:subscriptionId`, e.g. `0a1b2c3d-…`. */
  subscriptionId: string;
}

/** What to check for an ARM error, by its code or status. */
function whatToCheck(e: ArmError, at: VaultPlace, action: string): string {
  switch (e.code) {
    case "ResourceNotFound":
      return (
        `vault ${at.vaultName} does not exist in resource group ${at.resourceGroupName} of subscription ${at.subscriptionId}: ` +
        "check azure-native:subscriptionId and flow-trigger-auth:keyVault.existingVaultId, and whether the vault was " +
        "deleted (az keyvault list-deleted; az keyvault recover --name <vault>)"
      );
    case "ResourceGroupNotFound":
      return (
        `resource group ${at.resourceGroupName} does not exist in subscription ${at.subscriptionId}: check ` +
        "azure-native:subscriptionId (az account show --query id -o tsv) and that the group was not deleted"
      );
    case "SubscriptionNotFound":
      return (
        `subscription ${at.subscriptionId} is not visible to the deploying identity: check azure-native:subscriptionId ` +
        "and that the identity signed in to the subscription's tenant (az account show)"
      );
  }
  if (e.status === 403)
    return (
      `the deploying identity may not ${action} in subscription ${at.subscriptionId}: grant it Reader on the vault ` +
      "(Microsoft.KeyVault/vaults/read and vaults/secrets/read), see docs/setup.md"
    );
  if (e.status === 401)
    return "Azure refused the sign-in (expired or invalid token): sign in again (az login, or the pipeline's OIDC login)";
  if (e.status === 429)
    return "ARM throttled the reads beyond azure-native's own retries: run again in a few minutes";
  return `check that ${at.vaultName} in resource group ${at.resourceGroupName} of subscription ${at.subscriptionId} is reachable`;
}

/** The message when the vault, or the state in it, cannot be read (anything but a missing secret). */
export function stateReadFailure(where: string, at: VaultPlace, err: unknown, action: string): string {
  const e = armErrorOf(err);
  const detail = e.status ? `ARM answered ${e.status}${e.code ? ` ${e.code}` : ""}: ${e.message}` : e.message;
  return (
    `cannot read the rotation state of ${where} (vault ${at.vaultName}, resource group ${at.resourceGroupName}, ` +
    `subscription ${at.subscriptionId}): ${detail}. ${whatToCheck(e, at, action)}. The run stops before anything is ` +
    "replaced rather than guess: a wrong guess would replace the caller's published secret"
  );
}

/** Which secret to read. */
export interface StateLocation {
  resourceGroupName: pulumi.Input<string>;
  vaultName: pulumi.Input<string>;
  /** `azure-native:subscriptionId`, for messages. */
  subscriptionId: string;
  secretName: string;
  /** The caller's client ID (the state must be this app's). */
  clientId: pulumi.Input<string>;
}

/** What the Key Vault record of a caller says: its state, or why there is none. */
export interface RecordRead {
  state?: RotationState;
  /** Why there is no usable record ("the Key Vault record is missing", ...), or where it came from. */
  note?: string;
}

/**
 * Reads the Key Vault record at the start of the run: the vault first (only a vault that answered
 * makes a missing secret mean "no record"), then the secret's metadata through ARM, never its value.
 * Any failure but the secret-level not-found stops the run, naming the vault, group and subscription.
 */
export function readRotationState(
  at: StateLocation,
  policy: RotationPolicy,
  opts: pulumi.InvokeOptions,
): pulumi.Output<RecordRead> {
  return pulumi
    .all([at.resourceGroupName, at.vaultName, at.clientId])
    .apply(async ([resourceGroupName, vaultName, clientId]) => {
      const place: VaultPlace = { vaultName, resourceGroupName, subscriptionId: at.subscriptionId };
      const where = `Key Vault secret ${at.secretName}`;
      try {
        await keyvault.getVault({ resourceGroupName, vaultName }, opts);
      } catch (err) {
        throw new Error(
          stateReadFailure(where, place, err, "read the vault (Microsoft.KeyVault/vaults/read)"),
        );
      }
      let secret: keyvault.GetSecretResult;
      try {
        secret = await keyvault.getSecret({ resourceGroupName, vaultName, secretName: at.secretName }, opts);
      } catch (err) {
        if (isSecretNotFound(err, vaultName)) {
          return { note: `${where} in vault ${vaultName} does not exist (a first deployment, or deleted)` };
        }
        throw new Error(
          stateReadFailure(
            where,
            place,
            err,
            "read secret metadata (Microsoft.KeyVault/vaults/secrets/read)",
          ),
        );
      }
      try {
        return stateFromSecret(
          { tags: secret.tags ?? undefined, expires: secret.properties?.attributes?.expires ?? undefined },
          `${where} in vault ${vaultName}`,
          clientId,
          policy,
        );
      } catch (err) {
        if (err instanceof UnreadableRecordError) return { note: err.message };
        throw err;
      }
    });
}

/** Name of the stack output that keeps each rotating caller's state: `{ <caller>: "<encoded state>" }`. */
export const STATE_OUTPUT = "rotationState";

/**
 * The stack's own last outputs (the second witness of each caller's state), read with a
 * `StackReference` to the stack itself: `<organization>/<project>/<stack>` (a DIY backend's
 * organization is `organization`). The engine answers with the outputs of its last checkpoint: none on
 * a first deployment; after a failed update, those of the last one whose outputs were saved.
 */
export function stackWitness(opts?: pulumi.CustomResourceOptions): pulumi.Output<Record<string, string>> {
  const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
  const ref = new pulumi.StackReference("rotation-witness", { name: self }, opts);
  return ref.getOutput(STATE_OUTPUT).apply((v): Record<string, string> => {
    if (!v || typeof v !== "object" || Array.isArray(v)) return {};
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).filter(
        (e): e is [string, string] => typeof e[1] === "string",
      ),
    );
  });
}

/** The witness's state of one caller: undefined when it has none, or none this version can read. */
export function witnessState(text: string | undefined): RotationState | undefined {
  if (text === undefined) return undefined;
  try {
    return decodeState(text);
  } catch (err) {
    if (err instanceof RotationStateError) return undefined;
    throw err;
  }
}
