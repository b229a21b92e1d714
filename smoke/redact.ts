/**
 * Scrubbing of anything secret from text before it is printed: the client secret, access tokens
 * (anything shaped like a JWT), bearer credentials, and the `sig` of an "Anyone" trigger URL (that URL
 * is itself the secret). Every message of the smoke test goes through {@link redact} before output.
 */

/** What replaces a secret. */
export const REDACTED = "***";

/** Matches JWT-looking strings (`eyJ<header>.<payload>[.<signature>]`), whatever they came from. */
const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*)?/g;
/** `Bearer <anything>` in a header dump or an error text. */
const BEARER = /\b(Bearer\s+)[^\s"',;]+/gi;
/** Credential-carrying form or query parameters: `client_secret=...`, `client_assertion=...`, `sig=...`. */
const PARAMS =
  /([?&\s"']|^)(client_secret|client_assertion|access_token|refresh_token|sig)(=|"\s*:\s*")[^&\s"']*/gi;

/**
 * `text` with every occurrence of the `secrets` (exact values, e.g. the client secret) and every
 * token-looking string replaced by `***`. Secrets shorter than 4 characters are still scrubbed;
 * empty ones are ignored.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
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
  return out.replace(JWT, REDACTED).replace(BEARER, `$1${REDACTED}`).replace(PARAMS, `$1$2$3${REDACTED}`);
}

/** The writes {@link guardProcessOutput} replaced, by stream: what {@link writeUnguarded} uses. */
const unguarded = new Map<NodeJS.WriteStream, (chunk: string) => boolean>();

/**
 * Makes every later write to stdout and stderr go through {@link redact} with the secrets `secrets()`
 * returns at that moment: a last line of defence for output the smoke test does not format itself
 * (SDK logs with AZURE_LOG_LEVEL, warnings). Returns a function that undoes it.
 */
export function guardProcessOutput(secrets: () => readonly (string | undefined)[]): () => void {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write.bind(s));
  streams.forEach((stream, i) => {
    const original = originals[i];
    unguarded.set(stream, (chunk) => (original as (c: string) => boolean)(chunk));
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text =
        typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : String(chunk);
      return (original as (c: string, ...r: unknown[]) => boolean)(redact(text, secrets()), ...rest);
    }) as typeof stream.write;
  });
  return () => {
    streams.forEach((stream, i) => {
      stream.write = originals[i] as typeof stream.write;
      unguarded.delete(stream);
    });
  };
}

/**
 * Writes `text` past the guard of {@link guardProcessOutput}. Only for output already redacted
 * structurally, where the text guard would do harm: the `--json` report, whose keys and check names
 * (`"ok"`, `"token"`) a short or common-word secret would otherwise turn into `"***"`, `"t***en"`.
 */
export function writeUnguarded(stream: NodeJS.WriteStream, text: string): boolean {
  const write = unguarded.get(stream);
  return write ? write(text) : stream.write(text);
}
