/**
 * The patterns of values the tool checks, each written once: the stack config, the stack outputs,
 * the command-line options and the audit take them from here. No zod: a command's options are checked
 * without loading a schema library.
 */

/** A GUID in text, unanchored: what the patterns of values that hold one are built from. */
const GUID_TEXT = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

/** A GUID, in any case: an object, client, tenant or subscription ID. */
export const GUID_PATTERN = new RegExp(`^${GUID_TEXT}$`, "i");

/** A GUID as messages show one. */
export const GUID_EXAMPLE = "00000000-0000-0000-0000-000000000000";

/** A Power Platform environment ID: a GUID, or `Default-<tenant ID>` for a tenant's default environment. */
export const ENVIRONMENT_ID_PATTERN = new RegExp(`^(Default-)?${GUID_TEXT}$`, "i");

/** The ARM ID of a Key Vault: `/subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>`. */
export const VAULT_ID_PATTERN = new RegExp(
  `^/subscriptions/${GUID_TEXT}/resourceGroups/[-\\w._()]{1,90}/providers/Microsoft\\.KeyVault/vaults/[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`,
  "i",
);

/** An e-mail address, or a user principal name as people type them: `something@domain.tld`. */
export const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** True when `s` is an absolute `https:` URL. */
export function isHttpsUrl(s: string): boolean {
  return URL.canParse(s) && new URL(s).protocol === "https:";
}

/** Splits the ARM ID of a Key Vault ({@link VAULT_ID_PATTERN}) into what azure-native look-ups need. */
export function parseVaultId(id: string): {
  subscriptionId: string;
  resourceGroupName: string;
  vaultName: string;
} {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.KeyVault\/vaults\/([^/]+)$/i.exec(
      id,
    );
  if (!m) throw new Error(`not a Key Vault ARM ID: ${id}`);
  return { subscriptionId: m[1], resourceGroupName: m[2], vaultName: m[3] };
}
