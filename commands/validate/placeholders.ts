/**
 * Values that only stand in for what the user must fill in (the shipped Pulumi.dev.yaml marks each
 * with `# FILL IN:`): the zero GUID, and IDs or host labels made of zeros. They pass the schema, so
 * that a fresh clone validates, but Azure would refuse them; `validate` names each key holding one.
 */

/** A token (between separators) of eight or more zeros, or `org` followed by zeros (a Dataverse host). */
const ZEROS = /(?:^|[^0-9a-z])(?:org)?0{8,}(?=[^0-9a-z]|$)/i;

/** A key holding a placeholder: its path as config problems name it, and the value. */
export interface Placeholder {
  /** e.g. `flow-trigger-auth:callers[0].secretReaders[0].objectId`. */
  path: string;
  value: string;
}

function walk(value: unknown, at: string, found: Placeholder[]): void {
  if (typeof value === "string") {
    if (ZEROS.test(value)) found.push({ path: at, value });
  } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`, found));
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) walk(v, `${at}.${k}`, found);
}

/** The keys of a stack's raw config (one string per full key, JSON for lists and objects) holding a placeholder. */
export function placeholders(raw: Readonly<Record<string, string>>): Placeholder[] {
  const found: Placeholder[] = [];
  for (const [key, text] of Object.entries(raw)) {
    let value: unknown = text;
    if (/^\s*[[{]/.test(text)) {
      try {
        value = JSON.parse(text);
      } catch {
        // not JSON: judged as text
      }
    }
    walk(value, key, found);
  }
  return found;
}
