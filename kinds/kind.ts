/**
 * What a credential kind is (`flow-trigger-auth:callers[].credential`), and the keys and outputs
 * that callers of several kinds share. Each kind has a file beside this one (its strict config schema,
 * its outputs schema, its wording), an entry in registry.ts and its name in names.ts; nothing else in
 * the repository lists the kinds. Zod only: the stack, the CLI and the tests all import it.
 */
import { z } from "zod";
import { objectId, patterned, visible } from "../fields/config";
import { guid, httpsUrl, isoTime, text } from "../fields/outputs";
import type { CloudName } from "../clouds";
import { CALLER_NAME_PATTERN } from "../naming";

/** Everything that differs from one credential kind to another, but for the Pulumi components and the smoke test's token sources. */
export interface KindInfo<
  K extends string = string,
  C extends z.ZodObject = z.ZodObject,
  O extends z.ZodObject = z.ZodObject,
  V extends boolean = boolean,
> {
  /** Its one spelling: `credential:` in the config, `credential` in the outputs, `smoke --credential`. */
  name: K;
  /**
   * A caller's config: a strict object of {@link callerKeys}, the kind's own keys (with its messages
   * for a missing one) and, for a kind with an app registration, {@link appKeys}. Its output is what
   * the program gets: defaults applied, shorthands expanded.
   */
  config: C;
  /** Why a key another kind takes does not fit this one, by key; default {@link ELSEWHERE}, then "only a caller with credential: ... takes ...". */
  refuses?: Readonly<Record<string, string>>;
  /**
   * The key path, under the caller, of an identity the stack creates in Azure for a caller of this
   * kind as configured (raw, possibly invalid), e.g. `managedIdentity.create`; creating one needs a
   * location and a subscription.
   */
  createsIdentity?(raw: Record<string, unknown>): string | undefined;
  /** A caller's outputs (`credential` and the facts that apply to it; nothing else). */
  outputs: O;
  /** What is wrong with a caller's outputs in a stack of `cloud` (key paths under the caller); none by default. */
  outputsProblems?(caller: z.infer<O>, cloud: CloudName): { path: string[]; message: string }[];
  /**
   * The object IDs a caller of this kind puts into the *Allowed users* of the flows that list it (and
   * into the stack's `allowedUsers`): the `oid` its tokens carry. `principal` is the object ID of its
   * principal (enterprise application or managed identity), plain or as the program's Output; a kind
   * whose tokens are app-only gives {@link itsPrincipal}. `caller` is its config (the program) or its
   * outputs (readers of the outputs), so a kind reads only keys both have.
   */
  allowedUsers<P>(caller: z.output<C> | z.infer<O>, principal: P): (P | string)[];
  /** The stack keeps the credential in Key Vault and rotates it (secret, certificate). */
  vaulted: V;
  /**
   * How messages name the published credential (`secret`, `certificate`), or, for a kind with nothing
   * in Key Vault, rotation-status's note (`federated credential: no secret to rotate`).
   */
  rotation: V extends true ? { published: string } : { nothingToRotate: string };
  /**
   * The app registration's notes name what the stack sets on it, e.g. `client secrets`; absent for a
   * kind without an app registration.
   */
  notes?: string;
  /** The flow makers' hand-off sheet. */
  handoff: {
    /** The kind in a caller's heading, e.g. `client secret`. */
    label: string;
    /** What the object ID for Allowed users belongs to; default an enterprise application. */
    principal?: string;
    /** What the calling system's owner does with this kind of credential, in a stack of that tenant and cloud. */
    todo(caller: z.infer<O>, stack: { tenantId: string; cloud: CloudName }): string;
  };
}

/** A kind's entry, its types kept (registry.ts lists them). */
export function defineKind<
  const K extends string,
  C extends z.ZodObject,
  O extends z.ZodObject,
  const V extends boolean,
>(info: KindInfo<K, C, O, V>): KindInfo<K, C, O, V> {
  return info;
}

/** The keys every caller has, for a caller of kind `kind`: first in messages. */
export function callerKeys<const K extends string>(kind: K) {
  return {
    name: patterned(
      CALLER_NAME_PATTERN,
      "must be lowercase letters, digits and hyphens, start with a letter, at most 40 characters",
    ),
    // Shown in the portal next to the app: line breaks and tabs are fine, invisible characters are not.
    description: visible(
      z.string({ error: "must be a string" }).max(1024, "must be at most 1024 characters"),
      ["\n", "\t"],
    ).optional(),
    credential: z.literal(kind),
  };
}

/** The `allowedUsers` of a kind whose tokens are app-only: its principal's object ID, nothing else. */
export const itsPrincipal = <P>(_caller: unknown, principal: P): P[] => [principal];

/** Extra owners of a caller's app registration and enterprise app (object IDs); none by default. */
export const owners = z.array(objectId, { error: "must be a list of object IDs (GUIDs)" }).default([]);

/**
 * The keys of a caller with an app registration, last in messages: `consent`, admin consent to the
 * Flow service's `User` scope (the stack's `consent` unless set).
 */
export const appKeys = { consent: z.boolean({ error: "must be true or false" }).optional() };

/** Why a key some kinds take does not fit a caller of `kind`, unless that kind says it its own way. */
export const ELSEWHERE: Readonly<Record<string, (kind: string) => string>> = {
  secretReaders: (kind) =>
    `a ${kind} caller keeps nothing in Key Vault, so there is nothing to read: remove secretReaders`,
};

/** The outputs every caller has, whatever its kind. */
export const callerOutputs = {
  displayName: text,
  /** Client (application) ID the caller authenticates with; NOT for Allowed users. */
  clientId: guid,
  /** The principal (enterprise application or managed identity) object ID: the value for Allowed users. */
  servicePrincipalObjectId: guid,
};

/** The outputs of a caller whose credential the stack keeps in Key Vault (a client secret, or a certificate as PEM). */
export const vaultedOutputs = {
  applicationObjectId: guid,
  keyVaultSecretName: text,
  keyVaultSecretUri: httpsUrl,
  secretExpiresAt: isoTime,
  nextRotationAt: isoTime,
};
