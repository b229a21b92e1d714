/**
 * Scrubbing of anything secret from text before it is printed: the client secret, access tokens
 * (anything shaped like a JWT), bearer credentials, and the `sig` of an "Anyone" trigger URL (that URL
 * is itself the secret). Everything the tool prints goes through {@link redact} (lib/runner.ts).
 */

/** What replaces a secret. */
export const REDACTED = "***";

/** Matches JWT-looking strings (`eyJ<header>.<payload>[.<signature>]`), whatever they came from. */
const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*)?/g;
/**
 * A bearer credential in a header dump or an error text: `Bearer` and a token in RFC 6750's b64token
 * characters, so that a placeholder such as `Bearer <token>` in advice stays readable.
 */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi;
/** A private key in PEM (a certificate caller's key), whatever its kind. */
const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[^-]*-----END [A-Z ]*PRIVATE KEY-----/g;
/** Credential-carrying form or query parameters: `client_secret=...`, `client_assertion=...`, `sig=...`. */
const PARAMS =
  /([?&\s"']|^)(client_secret|client_assertion|access_token|refresh_token|sig)(=|"\s*:\s*")[^&\s"']*/gi;

/**
 * `text` with everything token-shaped replaced by `***` first (JWTs, bearer credentials, credential
 * parameters), then every occurrence of the `secrets` (exact values, also URL- or JSON-encoded).
 * Token shapes go first so that a secret that happens to occur inside a token cannot leave the rest
 * of the token readable. Empty secrets are ignored.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text
    .replace(PEM_KEY, REDACTED)
    .replace(JWT, REDACTED)
    .replace(BEARER, `$1${REDACTED}`)
    .replace(PARAMS, `$1$2$3${REDACTED}`);
  const values = secrets
    .filter((s): s is string => typeof s === "string" && s.length > 0)
    .sort((a, b) => b.length - a.length);
  for (const value of values) {
    out = out.split(value).join(REDACTED);
    // A secret can also appear URL- or JSON-encoded inside a request body or an error text.
    for (const encoded of [encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]) {
      if (encoded !== value && encoded.length > 0) out = out.split(encoded).join(REDACTED);
    }
  }
  return out;
}
