/**
 * Per-cloud facts about Power Automate's HTTP trigger and Entra ID, as data.
 * Sources: learn.microsoft.com/power-automate/oauth-authentication (audiences) and
 * learn.microsoft.com/entra/identity-platform/authentication-national-cloud (authority hosts).
 */

/** The clouds a stack can target (`flow-trigger-auth:cloud`). */
export const CLOUD_NAMES = ["public", "gcc", "gcchigh", "dod", "china"] as const;

/** One of {@link CLOUD_NAMES}. */
export type CloudName = (typeof CLOUD_NAMES)[number];

/** What a caller needs to know about one cloud. */
export interface Cloud {
  /** Name used in config and outputs, e.g. `public`. */
  name: CloudName;
  /** The `aud` claim the trigger demands, trailing slash included, e.g. `https://service.flow.microsoft.com/`. */
  audience: string;
  /** Client-credentials scope: audience + `/.default`, hence the double slash. */
  scope: string;
  /** Entra authority host for token requests, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
}

const AUTHORITY = {
  global: "https://login.microsoftonline.com",
  usGov: "https://login.microsoftonline.us",
  china: "https://login.chinacloudapi.cn",
} as const;

function cloud(name: CloudName, audience: string, authorityHost: string): Cloud {
  return { name, audience, scope: `${audience}/.default`, authorityHost };
}

/** Every supported cloud, by name. */
export const CLOUDS: Readonly<Record<CloudName, Cloud>> = {
  public: cloud("public", "https://service.flow.microsoft.com/", AUTHORITY.global),
  gcc: cloud("gcc", "https://gov.service.flow.microsoft.us/", AUTHORITY.global),
  gcchigh: cloud("gcchigh", "https://high.service.flow.microsoft.us/", AUTHORITY.usGov),
  dod: cloud("dod", "https://service.flow.appsplatform.us/", AUTHORITY.usGov),
  china: cloud("china", "https://service.powerautomate.cn/", AUTHORITY.china),
};

/**
 * DNS suffix of Key Vault in each cloud (GCC runs in Azure's commercial cloud; GCC High and DoD in
 * Azure Government).
 */
export const VAULT_DNS_SUFFIX: Readonly<Record<CloudName, string>> = {
  public: "vault.azure.net",
  gcc: "vault.azure.net",
  gcchigh: "vault.usgovcloudapi.net",
  dod: "vault.usgovcloudapi.net",
  china: "vault.azure.cn",
};

/** True when `value` names a supported cloud. */
export function isCloudName(value: string): value is CloudName {
  return (CLOUD_NAMES as readonly string[]).includes(value);
}

/** The v2.0 token endpoint of `tenantId` in `cloud`, e.g. `https://login.microsoftonline.com/<tid>/oauth2/v2.0/token`. */
export function tokenEndpoint(
  cloud: Cloud,
  tenantId: string,
  authorityHost: string = cloud.authorityHost,
): string {
  return `${authorityHost.replace(/\/+$/, "")}/${tenantId}/oauth2/v2.0/token`;
}

/** Application (client) ID of Microsoft's "Microsoft Flow Service" first-party app (same in every tenant). */
export const FLOW_SERVICE_APP_ID = "7df0a125-d3be-4c96-aa54-591f83ff541c";

/** Name of the Flow service's delegated scope that callers are granted. */
export const FLOW_USER_SCOPE = "User";

/**
 * The Entra authority host that issues tokens for a Key Vault, from the vault's DNS suffix, e.g.
 * `https://login.microsoftonline.us` for `https://kv.vault.usgovcloudapi.net/`; undefined for the
 * public cloud (the SDK default, or `AZURE_AUTHORITY_HOST`).
 */
export function authorityHostForVault(vaultUri: string): string | undefined {
  const host = URL.canParse(vaultUri) ? new URL(vaultUri).hostname.toLowerCase() : "";
  if (host.endsWith(".vault.usgovcloudapi.net")) return AUTHORITY.usGov;
  if (host.endsWith(".vault.azure.cn")) return AUTHORITY.china;
  return undefined;
}
