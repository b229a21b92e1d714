/**
 * The credential kinds, in one table: everything that differs from one kind to another is in its
 * entry (kinds/<kind>.ts), and the callers' config and outputs unions are built from them. The
 * Pulumi side (program/callers.ts) and the smoke test's token sources (commands/smoke/) each keep one
 * table keyed by these kinds, which the compiler holds complete.
 */
import type { z } from "zod";
import { certificate } from "./certificate";
import { federated } from "./federated";
import type { KindInfo } from "./kind";
import { managedIdentity } from "./managed-identity";
import type { CredentialKind } from "./names";
import { secret } from "./secret";
import { user } from "./user";

/** Every credential kind's entry, by name (names.ts lists the names and their order). */
export const KINDS = { secret, certificate, federated, managedIdentity, user } satisfies {
  [K in CredentialKind]: KindInfo<K>;
};

/**
 * One caller's config of kind `K`, as the program gets it: defaults applied, shorthands expanded, and
 * `consent` settled (the caller's, else the stack's; false for a kind without an app registration).
 */
export type CallerConfigOf<K extends CredentialKind> = z.output<(typeof KINDS)[K]["config"]> & {
  consent: boolean;
};

/** One caller's config, whatever its kind. */
export type CallerConfig = { [K in CredentialKind]: CallerConfigOf<K> }[CredentialKind];

/** True when a caller of `kind` has an app registration, and so takes `consent`. */
export function hasAppRegistration(kind: CredentialKind): boolean {
  return "consent" in KINDS[kind].config.shape;
}

/** One caller's outputs, of kind `K`. */
export type CallerOutputsOf<K extends CredentialKind> = z.infer<(typeof KINDS)[K]["outputs"]>;

/** One caller's outputs, whatever its kind. */
export type CallerOutputs = { [K in CredentialKind]: CallerOutputsOf<K> }[CredentialKind];

/** The entry of `kind`, as one type: its functions take any caller's outputs (give them one of this kind). */
export function kindInfo(kind: CredentialKind): KindInfo {
  return KINDS[kind];
}

/**
 * The object IDs `caller` puts into the *Allowed users* of its flows (and the stack's `allowedUsers`),
 * as its kind says: `principal` is its principal's object ID (plain, or the program's Output).
 */
export function allowedUsersOf<P>(caller: CallerConfig, principal: P): (P | string)[] {
  return (KINDS[caller.credential] as KindInfo).allowedUsers(caller, principal);
}

/** The kinds the stack keeps in Key Vault and rotates. */
export type VaultedKind = {
  [K in CredentialKind]: (typeof KINDS)[K]["vaulted"] extends true ? K : never;
}[CredentialKind];

/** True for the kinds the stack keeps in Key Vault and rotates (`secret`, `certificate`). */
export function isVaulted(kind: CredentialKind): kind is VaultedKind {
  return KINDS[kind].vaulted;
}

/** True for a caller whose credential the stack keeps in Key Vault: its outputs say where. */
export function isVaultedCaller(c: CallerOutputs): c is CallerOutputsOf<VaultedKind> {
  return isVaulted(c.credential);
}
