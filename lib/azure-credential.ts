/**
 * The ambient Azure credential (`DefaultAzureCredential`) as every command that reads Azure with the
 * signed-in identity uses it (`smoke` reading Key Vault, `rotation-status --live`, `audit`): the files
 * the SDK reads itself are checked first, and its requests go only to the authority and the platform's
 * identity endpoints (lib/same-origin.ts). The SDK is loaded only when a credential is made.
 */
import type { TokenCredential } from "@azure/identity";
import type { ClientScope } from "./azure-http";
import { checkRegularFile } from "./bounded-file";
import type { HttpDeps } from "./http";

/** Files the Azure SDK reads itself for the ambient credential (whole-file reads), and their limits. */
const SDK_CREDENTIAL_FILES = [
  ["AZURE_FEDERATED_TOKEN_FILE", 64 * 1024],
  ["AZURE_CLIENT_CERTIFICATE_PATH", 1024 * 1024],
] as const;

/**
 * Checks the files the Azure SDK would read itself (AZURE_FEDERATED_TOKEN_FILE for workload identity,
 * AZURE_CLIENT_CERTIFICATE_PATH for a service principal's certificate): each a regular file within
 * its limit, so that a FIFO, a device or a huge file is refused instead of hanging the SDK's read.
 * @throws {FileReadError} naming the variable and the file.
 */
export async function checkSdkCredentialFiles(
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  for (const [name, maxBytes] of SDK_CREDENTIAL_FILES) {
    const file = env[name];
    if (file) await checkRegularFile(file, { what: `${name} (${file})`, maxBytes });
  }
}

/** What the ambient credential needs: the command's HTTP deps, its environment and where SDK log lines go. */
export interface AmbientDeps extends HttpDeps {
  env: Readonly<Record<string, string | undefined>>;
  log?: (line: string) => void;
}

/**
 * The ambient Azure credential (`DefaultAzureCredential`: environment, workload identity, managed
 * identity, Azure CLI...) signing in at `cloudAuthorityHost` (a sovereign cloud's; undefined: the
 * public cloud's, or AZURE_AUTHORITY_HOST), after checking the files the SDK reads. Its
 * requests go only to that authority (else AZURE_AUTHORITY_HOST or the public
 * one), MSAL's instance discovery host and the platform's identity endpoints: `scope.violation` says
 * when an answer pointed elsewhere.
 */
export async function ambientCredential(
  deps: AmbientDeps,
  cloudAuthorityHost: string | undefined,
): Promise<{ credential: TokenCredential; scope: ClientScope }> {
  const [{ DefaultAzureCredential }, http] = await Promise.all([
    import("@azure/identity"),
    import("./azure-http"),
  ]);
  await checkSdkCredentialFiles(deps.env);
  // A sovereign cloud's resources need a token from that cloud's authority.
  const authorityHost = cloudAuthorityHost;
  const authority = authorityHost ?? deps.env.AZURE_AUTHORITY_HOST ?? http.INSTANCE_DISCOVERY_ORIGIN;
  const scope: ClientScope = {
    origins: [
      ...new Set([
        ...(URL.canParse(authority)
          ? http.authorityOrigins(authority, true)
          : [http.INSTANCE_DISCOVERY_ORIGIN]),
        ...http.managedIdentityOrigins(deps.env),
      ]),
    ],
    what: "the ambient Azure credential's endpoints",
    arcChallenge: true,
  };
  const credential = new DefaultAzureCredential({
    ...(authorityHost ? { authorityHost } : {}),
    httpClient: http.boundedHttpClient(deps, scope),
  });
  return { credential, scope };
}
