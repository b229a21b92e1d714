/**
 * What can be known about a caller's credential without asking Entra ID: a PEM that holds no
 * certificate, a private key that is encrypted, malformed, not RSA or not the certificate's, an empty
 * or malformed federated token. Each is a local problem (exit 2, naming where the credential came
 * from) found before any request, not "Entra ID refused the token request". Messages never repeat the
 * credential.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const PRIVATE_KEY_BLOCK = /-----BEGIN ((?:[A-Z]+ )*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;

/**
 * Why `pem` cannot be a certificate caller's credential, or undefined when it can: it must hold a
 * certificate (the first one is the credential, as @azure/identity takes its thumbprint from it) and
 * that certificate's private key, unencrypted (the smoke test takes no password), RSA (MSAL Node signs
 * client assertions with PS256 or RS256).
 * @param where where the PEM came from, e.g. `--certificate-file caller.pem` or `FLOW_CLIENT_CERTIFICATE`.
 */
export function certificateProblem(pem: string, where: string): string | undefined {
  const certificates = pem.match(CERTIFICATE_BLOCK) ?? [];
  const keys = pem.match(PRIVATE_KEY_BLOCK) ?? [];
  const both = "it must hold the certificate and its private key, PEM";
  if (certificates.length === 0)
    return `${where} holds no certificate (-----BEGIN CERTIFICATE-----): ${both}`;
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem) || /Proc-Type:\s*4,ENCRYPTED/.test(pem)) {
    return (
      `${where}: the private key is encrypted (password-protected), and the smoke test takes no password: ` +
      "decrypt it into the PEM first, e.g. `openssl pkey -in key.pem -out plain-key.pem`, and keep that file private"
    );
  }
  if (keys.length === 0) return `${where} holds no private key (-----BEGIN PRIVATE KEY-----): ${both}`;
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: keys[0] as string, format: "pem" });
  } catch {
    return `${where}: the private key is not readable PEM (damaged or cut short): export it again`;
  }
  if (key.asymmetricKeyType !== "rsa") {
    return `${where}: the private key is ${key.asymmetricKeyType?.toUpperCase() ?? "not RSA"}; an Entra client certificate needs an RSA key (client assertions are signed with PS256 or RS256)`;
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificates[0] as string);
  } catch {
    return `${where}: the certificate is not readable PEM (damaged or cut short): export it again`;
  }
  if (!certificate.checkPrivateKey(key)) {
    return (
      `${where}: the private key does not belong to the certificate (the first one in the PEM): ` +
      "put the certificate and its own key together, e.g. from the same Key Vault secret version"
    );
  }
  return undefined;
}

/**
 * Why `token` (as read from a federated token file, trimmed) cannot be the platform's OIDC token, or
 * undefined when it can: it must not be empty and must be a JWT (three base64url parts, the first two
 * JSON). Its claims are left to Entra ID, which says which one it refuses.
 * @param where where it came from, e.g. `the federated token file token.jwt (--federated-token-file)`.
 */
export function federatedTokenProblem(token: string, where: string): string | undefined {
  if (token.length === 0) {
    return (
      `${where} is empty: the platform writes its OIDC token there (GitHub Actions: a job with ` +
      "`permissions: id-token: write`; AKS: workload identity on the pod)"
    );
  }
  const parts = token.split(".");
  const json = (part: string) => {
    try {
      const value = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as unknown;
      return value !== null && typeof value === "object";
    } catch {
      return false;
    }
  };
  if (
    parts.length !== 3 ||
    !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p)) ||
    !json(parts[0]) ||
    !json(parts[1])
  ) {
    return `${where} does not hold a JWT (three base64url parts separated by dots, the first two JSON): it is not an OIDC token`;
  }
  return undefined;
}

/**
 * Why `token` (as read from an access token file, trimmed) cannot be a person's delegated token for
 * the trigger, or undefined when it can: not empty, a JWT, not expired at `nowMs` (its `exp`), for
 * `audience` (its `aud`, trailing slash included) and delegated (it carries `scp`; an app-only token
 * has `roles` or nothing). The token itself is never repeated.
 * @param where where it came from, e.g. `the access token file token.txt (--access-token-file)`.
 */
export function accessTokenProblem(
  token: string,
  where: string,
  nowMs: number,
  audience: string,
  scope: string,
): string | undefined {
  if (token.length === 0)
    return `${where} is empty: save the access token the person obtained for ${scope} there`;
  if (federatedTokenProblem(token, where)) {
    return `${where} does not hold a JWT (three base64url parts separated by dots, the first two JSON): it is not an access token`;
  }
  const claims = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
  if (typeof claims.exp !== "number" || claims.exp * 1000 <= nowMs) {
    const when =
      typeof claims.exp === "number" ? ` (it expired at ${new Date(claims.exp * 1000).toISOString()})` : "";
    return `${where} holds an expired token${when}: get a new one for ${scope} and save it again`;
  }
  if ([claims.aud].flat().every((a) => a !== audience)) {
    return `${where} holds a token for ${String(claims.aud)}, not for the trigger's audience ${audience}: ask for the scope ${scope} exactly (double slash included)`;
  }
  if (typeof claims.scp !== "string") {
    return `${where} holds an app-only token (no scp claim): a user caller's token is a person's, asked for ${scope}`;
  }
  return undefined;
}
