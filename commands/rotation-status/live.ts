/**
 * `rotation-status --live`: reads each caller's secret from Azure Key Vault with the ambient Azure
 * credential (`DefaultAzureCredential`: `az login`, workload identity, managed identity, `AZURE_*`),
 * through the command's bounded HTTP client and within its time budget. Only metadata is read (the
 * versions' attributes), never a secret value, so the Key Vault Reader role on the vault (or Key Vault
 * Secrets User on each secret) is enough. Loaded only with `--live`.
 */
import type { TokenCredential } from "@azure/identity";
import { SecretClient, type SecretProperties } from "@azure/keyvault-secrets";
import { isoTime } from "../../rotation";
import { boundedHttpClient, routeAzureLogs, type ClientScope } from "../../lib/azure-http";
import { FileReadError } from "../../lib/bounded-file";
import type { HttpDeps } from "../../lib/http";
import { withinTimer, withSdkRetries, type RetryDeps } from "../../lib/sdk-retry";
import { authorityHostForVault } from "../../clouds";
import { ambientCredential } from "../../lib/azure-credential";
import type { LiveSecretReader } from "./assess";

/** A Key Vault read that failed for a reason other than "no such secret" (exit 2). */
export class LiveReadError extends Error {
  override readonly name = "LiveReadError";
  /** The runner reports it as a usage error. */
  readonly kind = "usage";
}

/**
 * What the reader needs: the command's HTTP deps, clock, sleep and randomness (retries wait on it),
 * the end of its budget, and where progress lines go.
 */
export interface LiveDeps extends HttpDeps, RetryDeps {
  /** The environment: where the ambient credential's endpoints and files are named. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where the SDK's own log lines go (AZURE_LOG_LEVEL): the command's stderr. */
  log?: (line: string) => void;
}

/** A {@link LiveSecretReader} backed by Key Vault; one client per vault. `credential` defaults to the ambient one. */
export function keyVaultReader(deps: LiveDeps, credential?: TokenCredential): LiveSecretReader {
  routeAzureLogs(deps.log);
  const clients = new Map<string, { client: SecretClient; scopes: ClientScope[] }>();
  return async ({ vaultUri, secretName }) => {
    let entry = clients.get(vaultUri);
    if (!entry) {
      // Requests go only to this vault's origin: a paging link (nextLink) or a redirect elsewhere stops
      // the read (exit 2) before the vault's token goes anywhere else.
      const vault: ClientScope = { origins: [vaultUri], what: "Key Vault" };
      let ambient: Awaited<ReturnType<typeof ambientCredential>> | undefined;
      try {
        ambient = credential ? undefined : await ambientCredential(deps, authorityHostForVault(vaultUri));
      } catch (err) {
        if (err instanceof FileReadError) throw new LiveReadError(err.message);
        throw err;
      }
      // The SDK's own retries are off: they would wait on the real clock, unseen (withSdkRetries waits).
      const client = new SecretClient(vaultUri, credential ?? ambient!.credential, {
        httpClient: boundedHttpClient(deps, vault),
        retryOptions: { maxRetries: 0 },
      });
      entry = { client, scopes: [vault, ...(ambient ? [ambient.scope] : [])] };
      clients.set(vaultUri, entry);
    }
    const { client, scopes } = entry;
    const left = deps.deadline - deps.now();
    if (left <= 0)
      throw new LiveReadError(
        `reading ${secretName} in ${vaultUri}: the time budget (--max-wait-s) is spent`,
      );
    deps.progress?.(`key vault: reading the versions of ${secretName} in ${vaultUri}`);
    // The current version is the newest one; listing versions returns attributes without values.
    let current: SecretProperties | undefined;
    let timedOut = false;
    try {
      // One attempt lists every page; a throttled or failing page starts the listing again.
      await withSdkRetries(
        "key vault",
        new URL(vaultUri).origin,
        async () => {
          current = undefined;
          await withinTimer(
            deps.timer,
            Math.max(1, deps.deadline - deps.now()),
            async (abortSignal) => {
              for await (const version of client.listPropertiesOfSecretVersions(secretName, {
                abortSignal,
              })) {
                if (!current || (version.createdOn?.getTime() ?? 0) > (current.createdOn?.getTime() ?? 0))
                  current = version;
              }
            },
            () => (timedOut = true),
          );
        },
        deps,
      );
    } catch (err) {
      const violation = scopes.map((s) => s.violation ?? s.fileProblem).find(Boolean);
      if (violation) throw new LiveReadError(`reading ${secretName} in ${vaultUri}: ${violation.message}`);
      if (timedOut) {
        throw new LiveReadError(
          `reading ${secretName} in ${vaultUri} timed out (--max-wait-s): check the network path to the vault and your Azure login`,
        );
      }
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404) return undefined;
      throw new LiveReadError(explain(vaultUri, secretName, status, err));
    }
    if (!current) return undefined;
    const found: SecretProperties = current;
    return {
      expiresAt: found.expiresOn ? isoTime(found.expiresOn.getTime()) : undefined,
      enabled: found.enabled !== false,
      version: found.version,
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
  const name = (err as Error).name;
  if (name === "CredentialUnavailableError" || name === "AggregateAuthenticationError") {
    return `${what}: no Azure credential found; run \`az login\` (or set up workload identity) and retry`;
  }
  return `${what}: ${status ? `HTTP ${status}: ` : ""}${(err as Error).message ?? err}`;
}
