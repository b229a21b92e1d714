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
  /**
   * The delegated scope a signed-in person's token is asked for: audience + `/User` (double slash too:
   * Entra cuts a v1 resource's scope at its last slash, learn.microsoft.com/entra/identity-platform/msal-v1-app-scopes).
   */
  delegatedScope: string;
  /** Entra authority host for token requests, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
}

const AUTHORITY = {
  global: "https://login.microsoftonline.com",
  usGov: "https://login.microsoftonline.us",
  china: "https://login.chinacloudapi.cn",
} as const;

function cloud(name: CloudName, audience: string, authorityHost: string): Cloud {
  return { name, audience, scope: `${audience}/.default`, delegatedScope: `${audience}/User`, authorityHost };
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

/**
 * DNS domain of Dataverse organisations (environments) in each cloud: an organisation URL is
 * `https://<org>.<domain>`, e.g. `https://contoso.crm4.dynamics.com`. Source: the clouds of Dataverse's
 * Global Discovery Service (learn.microsoft.com/power-apps/developer/data-platform/discovery-service:
 * `globaldisco.crm.dynamics.com`, `.crm9.dynamics.com` GCC, `.crm.microsoftdynamics.us` GCC High,
 * `.crm.appsplatform.us` DoD, `.crm.dynamics.cn` China).
 */
export const DATAVERSE_DOMAIN: Readonly<Record<CloudName, string>> = {
  public: "dynamics.com",
  gcc: "crm9.dynamics.com",
  gcchigh: "crm.microsoftdynamics.us",
  dod: "crm.appsplatform.us",
  china: "crm.dynamics.cn",
};

/**
 * Microsoft Graph in each cloud (learn.microsoft.com/graph/deployments): GCC uses the global service,
 * GCC High and DoD have their own, China is operated by 21Vianet.
 */
export const GRAPH_HOST: Readonly<Record<CloudName, string>> = {
  public: "https://graph.microsoft.com",
  gcc: "https://graph.microsoft.com",
  gcchigh: "https://graph.microsoft.us",
  dod: "https://dod-graph.microsoft.us",
  china: "https://microsoftgraph.chinacloudapi.cn",
};

/**
 * The Power Automate maker portal of each cloud, where a flow opens at
 * `<portal>/environments/<environment ID>/flows/<flow ID>` (the address form
 * learn.microsoft.com/dynamics365/business-central/dev-itpro/developer/properties/devenv-flowenvironmentid-property
 * shows). The US Government portals: learn.microsoft.com/power-automate/us-govt. Learn documents no
 * address for the portal operated by 21Vianet: none for China.
 */
export const MAKER_PORTAL: Readonly<Record<CloudName, string | undefined>> = {
  public: "https://make.powerautomate.com",
  gcc: "https://make.gov.powerautomate.us",
  gcchigh: "https://make.high.powerautomate.us",
  dod: "https://make.powerautomate.appsplatform.us",
  china: undefined,
};

/**
 * The address of a flow in the maker portal of `cloud`, from its environment and the flow ID the
 * portal shows; undefined where the portal's address is not documented.
 */
export function flowPortalUrl(cloud: CloudName, environmentId: string, flowId: string): string | undefined {
  const portal = MAKER_PORTAL[cloud];
  return (
    portal &&
    `${portal}/environments/${encodeURIComponent(environmentId)}/flows/${encodeURIComponent(flowId)}`
  );
}

/**
 * `url` when it is HTTPS on the default port, without user name, password or query, on a host
 * `<name>.<domain>` whose name matches `name`; else undefined.
 */
function serviceUrl(url: string, domain: string, name: RegExp): URL | undefined {
  if (!URL.canParse(url)) return undefined;
  const u = new URL(url);
  const suffix = `.${domain}`;
  const ok =
    u.protocol === "https:" &&
    u.hostname.endsWith(suffix) &&
    name.test(u.hostname.slice(0, -suffix.length)) &&
    !u.username &&
    !u.password &&
    !u.search &&
    (u.port === "" || u.port === "443");
  return ok ? u : undefined;
}

/**
 * The origin of a Dataverse organisation URL of `cloud` (`https://<org>.<domain>`, lower case, no path,
 * query, port or credentials; a trailing `/` is fine), or undefined when it is not one.
 */
export function dataverseOriginOf(url: string, cloud: CloudName): string | undefined {
  const u = serviceUrl(
    url,
    DATAVERSE_DOMAIN[cloud],
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
  );
  return u && !u.hash && (u.pathname === "/" || u.pathname === "") ? `https://${u.hostname}` : undefined;
}

/** The host of a vault URI when it is a Key Vault of `cloud`, else undefined. */
export function vaultHostOf(uri: string, cloud: CloudName): string | undefined {
  return serviceUrl(uri, VAULT_DNS_SUFFIX[cloud], /^[a-z][a-z0-9-]{1,22}[a-z0-9]$/i)?.host;
}

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
 * The authority host the ambient credential signs in at for resources of `cloud`: a sovereign
 * cloud's own, e.g. `https://login.microsoftonline.us`; undefined where the public authority serves
 * (the SDK's default, or `AZURE_AUTHORITY_HOST`, stays in charge).
 */
export function sovereignAuthorityHost(cloud: CloudName): string | undefined {
  const host = CLOUDS[cloud].authorityHost;
  return host === AUTHORITY.global ? undefined : host;
}

/**
 * The Entra authority host that issues tokens for a Key Vault, from the cloud its DNS suffix belongs
 * to, e.g. `https://login.microsoftonline.us` for `https://kv.vault.usgovcloudapi.net/`; undefined for
 * the public cloud (the SDK default, or `AZURE_AUTHORITY_HOST`).
 */
export function authorityHostForVault(vaultUri: string): string | undefined {
  const host = URL.canParse(vaultUri) ? new URL(vaultUri).hostname.toLowerCase() : "";
  const cloud = CLOUD_NAMES.find((c) => host.endsWith(`.${VAULT_DNS_SUFFIX[c]}`));
  return cloud && sovereignAuthorityHost(cloud);
}
