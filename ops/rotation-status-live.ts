/**
 * `rotation-status --live`: reads each caller's secret from Azure Key Vault with the ambient Azure
 * credential (`DefaultAzureCredential`: `az login`, workload identity, managed identity, `AZURE_*`).
 * Only metadata is read (the versions' attributes), never a secret value, so the Key Vault Reader
 * role on the vault (or Key Vault Secrets User on each secret) is enough.
 */
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { SecretClient, type SecretClientOptions, type SecretProperties } from "@azure/keyvault-secrets";
import { authorityHostForVault } from "../clouds";
import { isoTime } from "../rotation";
import type { LiveSecretReader } from "./rotation-status";

/** A Key Vault read that failed for a reason other than "no such secret" (exit 2). */
export class LiveReadError extends Error {
  override readonly name = "LiveReadError";
}

/**
 * A {@link LiveSecretReader} backed by Key Vault; one client per vault. `credential` defaults to the
 * ambient one; `clientOptions` are passed to each `SecretClient` (tests give an `httpClient`).
 */
export function keyVaultReader(
  credential?: TokenCredential,
  clientOptions: SecretClientOptions = {},
): LiveSecretReader {
  const clients = new Map<string, SecretClient>();
  return async ({ vaultUri, secretName }) => {
    let client = clients.get(vaultUri);
    if (!client) {
      // A sovereign-cloud vault needs a token from that cloud's authority.
      const authorityHost = authorityHostForVault(vaultUri);
      client = new SecretClient(
        vaultUri,
        credential ?? new DefaultAzureCredential(authorityHost ? { authorityHost } : {}),
        clientOptions,
      );
      clients.set(vaultUri, client);
    }
    // The current version is the newest one; listing versions returns attributes without values.
    let current: SecretProperties | undefined;
    try {
      for await (const version of client.listPropertiesOfSecretVersions(secretName)) {
        if (!current || (version.createdOn?.getTime() ?? 0) > (current.createdOn?.getTime() ?? 0))
          current = version;
      }
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) return undefined;
      throw new LiveReadError(explain(vaultUri, secretName, status, err));
    }
    if (!current) return undefined;
    return {
      expiresAt: current.expiresOn ? isoTime(current.expiresOn.getTime()) : undefined,
      enabled: current.enabled !== false,
      version: current.version,
    };
  };
}

function explain(vaultUri: string, secretName: string, status: number | undefined, err: unknown): string {
  const what = `cannot read secret ${secretName} in ${vaultUri}`;
  if (status === 401 || status === 403) {
    return (
      `${what}: access denied (${status}). The signed-in identity needs the Key Vault Reader role on the vault ` +
      "(or Key Vault Secrets User on the secret), and the vault's firewall must let it in."
    );
  }
  if (
    (err as Error).name === "CredentialUnavailableError" ||
    (err as Error).name === "AggregateAuthenticationError"
  ) {
    return `${what}: no Azure credential found; run \`az login\` (or set up workload identity) and retry`;
  }
  return `${what}: ${status ? `HTTP ${status}: ` : ""}${(err as Error).message ?? err}`;
}
