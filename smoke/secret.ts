/**
 * Where the caller's client secret comes from: the environment (`FLOW_CLIENT_SECRET`) or a Key Vault
 * secret read with the ambient Azure credential. Never from a command-line argument: arguments show
 * up in process lists, shell history and CI logs.
 */
import { DefaultAzureCredential } from "@azure/identity";
import { authorityHostForVault } from "../clouds";
import { parseKeyVaultSecretIdentifier, SecretClient } from "@azure/keyvault-secrets";

/** The environment variable holding the client secret. */
export const SECRET_ENV = "FLOW_CLIENT_SECRET";

/** A Key Vault secret URI, taken apart. */
export interface KeyVaultSecretRef {
  /** e.g. `https://flow-dev-1a2b.vault.azure.net`. */
  vaultUrl: string;
  /** e.g. `erp-client-secret`. */
  name: string;
  /** A specific version, or the latest when absent. */
  version?: string;
}

/**
 * Parses `https://<vault>.vault.azure.net/secrets/<name>[/<version>]` (any cloud's vault domain),
 * or returns a message saying what is wrong.
 */
export function parseKeyVaultSecretUri(uri: string): KeyVaultSecretRef | { error: string } {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return {
      error: `--key-vault-secret-uri is not a URL; expected https://<vault>.vault.azure.net/secrets/<name>`,
    };
  }
  if (url.protocol !== "https:") {
    return { error: "--key-vault-secret-uri must be an https:// URL" };
  }
  try {
    const parsed = parseKeyVaultSecretIdentifier(uri);
    if (!/^\/secrets\/[^/]+(\/[^/]+)?\/?$/.test(url.pathname)) throw new Error("not a secret URI");
    return {
      vaultUrl: parsed.vaultUrl,
      name: parsed.name,
      ...(parsed.version ? { version: parsed.version } : {}),
    };
  } catch {
    return {
      error:
        "--key-vault-secret-uri must look like https://<vault>.vault.azure.net/secrets/<name>[/<version>]",
    };
  }
}

/** Reading the secret from Key Vault failed; the message says what to do and holds no secret. */
export class SecretSourceError extends Error {
  override readonly name = "SecretSourceError";
}

/**
 * Reads the secret value with `DefaultAzureCredential` (environment, workload or managed identity,
 * Azure CLI login...). The identity needs "Key Vault Secrets User" on the secret.
 */
export async function readKeyVaultSecret(ref: KeyVaultSecretRef): Promise<string> {
  // A sovereign-cloud vault needs a token from that cloud's authority.
  const authorityHost = authorityHostForVault(ref.vaultUrl);
  const client = new SecretClient(
    ref.vaultUrl,
    new DefaultAzureCredential(authorityHost ? { authorityHost } : {}),
  );
  let value: string | undefined;
  try {
    const secret = await client.getSecret(ref.name, ref.version ? { version: ref.version } : {});
    value = secret.value;
  } catch (err) {
    const e = err as { statusCode?: number; code?: string; name?: string };
    const status = e.statusCode ? ` (${e.statusCode}${e.code ? ` ${e.code}` : ""})` : "";
    const what =
      e.name === "CredentialUnavailableError" || e.name === "AggregateAuthenticationError"
        ? "no Azure credential is available here: log in (`az login`) or provide a workload/managed identity"
        : e.statusCode === 403
          ? 'the identity running the smoke test lacks "Key Vault Secrets User" on this secret'
          : e.statusCode === 404
            ? "no such secret (or version) in that vault"
            : "check the URI, the network path to the vault and your Azure login";
    throw new SecretSourceError(`cannot read secret ${ref.name} from ${ref.vaultUrl}${status}: ${what}`);
  }
  if (!value) throw new SecretSourceError(`secret ${ref.name} in ${ref.vaultUrl} is empty`);
  return value;
}
