/**
 * The one rule for URLs a server hands back (paging links such as Key Vault's `nextLink`, redirects'
 * `Location`, endpoints in OpenID metadata): such a URL must keep the origin (scheme, host and port)
 * the request was issued for. Anything else stops the command with a usage error (exit 2) naming the
 * URL's host, and nothing (no token, no secret, no request at all) is sent there. Every outside call
 * of the tool goes through a client that applies it (lib/http.ts, lib/azure-http.ts).
 */

/** A server pointed the tool to another origin; nothing was sent there. */
export class OffOriginError extends Error {
  override readonly name = "OffOriginError";
  /** The runner reports it as a usage error (exit 2). */
  readonly kind = "usage";
  /** The host the server pointed to, e.g. `evil.example:8443`. */
  readonly host: string;
  constructor(message: string, host: string) {
    super(message);
    this.host = host;
  }
}

/** `https://host[:port]` of a URL (the default port left out), or undefined when it is not a URL. */
export function originOf(url: string | URL, base?: string): string | undefined {
  if (typeof url === "string" && !URL.canParse(url, base)) return undefined;
  return new URL(url, base).origin;
}

/** True when `url` (absolute, or relative to `base`) has one of the `issued` origins. */
export function keepsOrigin(url: string, issued: readonly string[], base?: string): boolean {
  const origin = originOf(url, base);
  return origin !== undefined && origin !== "null" && issued.some((i) => originOf(i) === origin);
}

/**
 * Checks a URL taken from a server's answer (absolute, or relative to `base`, the URL of the request
 * that got the answer) against the origins the request was issued for: undefined when it keeps one of
 * them, else the error to stop with, naming the URL's host (never its path or query, which may carry
 * secrets).
 * @param what what handed the URL out, for the message, e.g. `Key Vault's paging link (nextLink)`.
 */
export function offOriginError(
  url: string,
  issued: readonly string[],
  what: string,
  base?: string,
): OffOriginError | undefined {
  if (keepsOrigin(url, issued, base)) return undefined;
  const host = URL.canParse(url, base) ? new URL(url, base).host || "(no host)" : "(not a URL)";
  return new OffOriginError(offOriginMessage(what, host, issued), host);
}

/** The message of an {@link OffOriginError}. */
function offOriginMessage(what: string, host: string, issued: readonly string[]): string {
  const hosts = [...new Set(issued.map((i) => (URL.canParse(i) ? new URL(i).host : i)))].join(", ");
  return (
    `${what} pointed to ${host}, not to ${hosts} where the request went: stopped, and nothing was sent to ${host} ` +
    "(a token or secret only ever goes to the origin it was issued for); check the URL you gave and any proxy in the way"
  );
}
