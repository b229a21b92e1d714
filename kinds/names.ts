/**
 * The credential kinds by name, with what the command line and the in-stack smoke test read of them:
 * the other spellings `smoke --credential` accepts, and the variable `smoke` takes a kind's credential
 * from. Nothing here loads a schema library: `--help` and a plain `smoke` run read it without zod (which
 * costs a command about 25 ms to load); everything else about a kind is in registry.ts.
 */

/** Each credential kind, in the order messages list them (the first is the default). */
export const KIND_NAMES = {
  secret: { env: "FLOW_CLIENT_SECRET" },
  certificate: { env: "FLOW_CLIENT_CERTIFICATE" },
  federated: {},
  managedIdentity: { aliases: ["managed-identity"] },
  user: {},
} satisfies Record<string, KindName>;

/** What the command line and the in-stack smoke test read of a kind. */
export interface KindName {
  /** Other spellings `smoke --credential` accepts, e.g. `managed-identity`. */
  aliases?: readonly string[];
  /**
   * The environment variable `smoke` reads the kind's credential from, e.g. `FLOW_CLIENT_SECRET`; the
   * in-stack smoke test hands a kind kept in Key Vault its published credential in it.
   */
  env?: string;
}

/** How a caller authenticates (`flow-trigger-auth:callers[].credential`). */
export type CredentialKind = keyof typeof KIND_NAMES;

/** Every {@link CredentialKind}, in the order messages list them. */
export const CREDENTIAL_KINDS = Object.keys(KIND_NAMES) as CredentialKind[];

/** The kind of a caller that names none. */
export const DEFAULT_KIND: CredentialKind = "secret";

/** The kind `--credential` names: its one spelling or one of its aliases; undefined when none. */
export function kindNamed(spelling: string): CredentialKind | undefined {
  return CREDENTIAL_KINDS.find(
    (k) => k === spelling || (KIND_NAMES[k] as KindName).aliases?.includes(spelling),
  );
}

/** `--credential`'s spellings, e.g. `managedIdentity (or managed-identity)`. */
export function kindSpellings(): string[] {
  return CREDENTIAL_KINDS.map((k) => {
    const aliases = (KIND_NAMES[k] as KindName).aliases;
    return aliases?.length ? `${k} (or ${aliases.join(", ")})` : k;
  });
}
