/**
 * Where a caller's credential comes from when it is not in the environment: a Key Vault secret, read
 * with the ambient Azure credential through the command's bounded HTTP client and within its budget.
 * Never from a command-line argument: arguments show up in process lists, shell history and CI logs.
 * The Key Vault client talks only to the vault's origin and the credential only to the authority and
 * the platform's identity endpoints (lib/same-origin.ts).
 */
import type { TokenCredential } from "@azure/identity";
import { authorityHostForVault, VAULT_DNS_SUFFIX } from "../../clouds";
import type { ClientScope } from "../../lib/azure-http";
import { ambientCredential, type AmbientDeps } from "../../lib/azure-credential";
import { FileReadError } from "../../lib/bounded-file";
import { UsageError } from "../../lib/runner";
import { withinTimer, withSdkRetries, type RetryDeps } from "../../lib/sdk-retry";

/** A Key Vault secret URI, taken apart. */
export interface KeyVaultSecretRef {
  /** e.g. `https://flow-dev-1a2b.vault.azure.net`. */
  vaultUrl: string;
  /** e.g. `erp-client-secret`. */
  name: string;
  /** A specific version, or the latest when absent. */
  version?: string;
}

const VAULT_HOSTS = [...new Set(Object.values(VAULT_DNS_SUFFIX))];

/**
 * Why a vault cannot be on an IP address or `localhost`: the Key Vault SDK sends its first request
 * without a token and accepts the 401 challenge only when the vault's host is under the domain of the
 * resource the challenge names (`vault.azure.net`...). Turning that check off would let whatever
 * answers there ask for a token of the signed-in identity, so the tool refuses such a vault up front.
 */
export const VAULT_HOST_REASON =
  "the Key Vault SDK accepts a vault only on a host under its cloud's Key Vault domain (it checks the challenge's resource against the host), so a vault on an IP address or localhost cannot work: use the vault's DNS name (with a private endpoint it resolves to the private address)";

/**
 * Parses `https://<vault>.vault.azure.net/secrets/<name>[/<version>]` (any cloud's vault domain), or
 * says what is wrong without repeating the value.
 */
export function parseKeyVaultSecretUri(
  uri: string,
  option = "--key-vault-secret-uri",
): KeyVaultSecretRef | { error: string } {
  const shape = `${option} must look like https://<vault>.vault.azure.net/secrets/<name>[/<version>]`;
  if (!URL.canParse(uri))
    return { error: `${option} is not a URL; ${shape.replace(`${option} must look`, "it must look")}` };
  const url = new URL(uri);
  const host = url.hostname.toLowerCase();
  if (isLoopbackOrIp(host))
    return { error: `${option}: ${host} is an IP address or localhost; ${VAULT_HOST_REASON}` };
  const vaultHost = VAULT_HOSTS.some((suffix) => host.endsWith(`.${suffix}`));
  const m = /^\/secrets\/([0-9A-Za-z-]{1,127})(?:\/([0-9A-Za-z]{1,64}))?\/?$/.exec(url.pathname);
  if (
    url.protocol !== "https:" ||
    !vaultHost ||
    !m ||
    url.username ||
    url.password ||
    url.search ||
    url.hash
  ) {
    return { error: `${shape} (a Key Vault host of Azure: ${VAULT_HOSTS.join(", ")})` };
  }
  return { vaultUrl: url.origin, name: m[1], ...(m[2] ? { version: m[2] } : {}) };
}

/** `localhost` (or a name under it), or an IPv4 or IPv6 address, as `URL.hostname` spells them. */
function isLoopbackOrIp(host: string): boolean {
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^\[[0-9a-f:.]+\]$/i.test(host) ||
    /^\d{1,3}(\.\d{1,3}){3}$/.test(host)
  );
}

/** A secret read from Key Vault: its value, and when that version was created (ms since the epoch), if said. */
export interface ReadSecret {
  value: string;
  createdAtMs?: number;
}

/**
 * Reads a secret value with `DefaultAzureCredential` (environment, workload or managed identity,
 * Azure CLI login...) within the budget (`deadline`), retrying throttled, failing or unanswered
 * attempts on the command's clock (lib/sdk-retry.ts). The identity needs "Key Vault Secrets User" on
 * the secret. Requests go only to the vault's origin (a redirect or link elsewhere stops the read,
 * exit 2). The version's `created` attribute comes back with the value (Key Vault REST, Get Secret:
 * `attributes.created`, which the SDK gives as `properties.createdOn`). A failed read throws a
 * {@link UsageError} about the `secret` check, saying what to do and holding no secret.
 */
export async function readKeyVaultSecret(
  ref: KeyVaultSecretRef,
  deps: AmbientDeps & RetryDeps & { credential?: TokenCredential },
): Promise<ReadSecret> {
  const [{ SecretClient }, { boundedHttpClient, routeAzureLogs }] = await Promise.all([
    import("@azure/keyvault-secrets"),
    import("../../lib/azure-http"),
  ]);
  routeAzureLogs(deps.log);
  let ambient: { credential: TokenCredential; scope: ClientScope } | undefined;
  try {
    ambient = deps.credential
      ? undefined
      : await ambientCredential(deps, authorityHostForVault(ref.vaultUrl));
  } catch (err) {
    if (err instanceof FileReadError) throw new UsageError(err.message, "secret");
    throw err;
  }
  const vault: ClientScope = { origins: [ref.vaultUrl], what: "Key Vault" };
  // The SDK's own retries are off: they would wait on the real clock, unseen (withSdkRetries waits).
  const client = new SecretClient(ref.vaultUrl, deps.credential ?? ambient!.credential, {
    httpClient: boundedHttpClient(deps, vault),
    retryOptions: { maxRetries: 0 },
  });
  const budgetMs = () => Math.max(1000, deps.deadline - deps.now());
  const budgetS = Math.round(budgetMs() / 1000);
  let timedOut = false;
  let secret: Awaited<ReturnType<typeof client.getSecret>>;
  try {
    secret = await withSdkRetries(
      "key vault",
      ref.vaultUrl,
      () =>
        withinTimer(
          deps.timer,
          budgetMs(),
          (abortSignal) =>
            client.getSecret(ref.name, { ...(ref.version ? { version: ref.version } : {}), abortSignal }),
          () => (timedOut = true),
        ),
      deps,
    );
  } catch (err) {
    const violation = vault.violation ?? ambient?.scope.violation ?? ambient?.scope.fileProblem;
    if (violation) throw new UsageError(violation.message, "secret");
    const e = err as { statusCode?: number; code?: string; name?: string };
    if (timedOut || e.name === "TimeoutError") {
      throw new UsageError(
        `reading secret ${ref.name} from ${ref.vaultUrl} timed out after ${budgetS} s (--max-wait-s): check the network path to the vault and your Azure login`,
        "secret",
      );
    }
    const status = e.statusCode ? ` (${e.statusCode}${e.code ? ` ${e.code}` : ""})` : "";
    const what =
      e.name === "CredentialUnavailableError" || e.name === "AggregateAuthenticationError"
        ? "no Azure credential is available here: log in (`az login`) or provide a workload/managed identity"
        : e.statusCode === 403
          ? 'the identity running this lacks "Key Vault Secrets User" on this secret'
          : e.statusCode === 404
            ? "no such secret (or version) in that vault"
            : "check the URI, the network path to the vault and your Azure login";
    throw new UsageError(`cannot read secret ${ref.name} from ${ref.vaultUrl}${status}: ${what}`, "secret");
  }
  if (!secret.value) throw new UsageError(`secret ${ref.name} in ${ref.vaultUrl} is empty`, "secret");
  const created = secret.properties.createdOn?.getTime();
  return {
    value: secret.value,
    ...(created !== undefined && !Number.isNaN(created) ? { createdAtMs: created } : {}),
  };
}
