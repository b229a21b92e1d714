/**
 * What a credential kind is (`flow-trigger-auth:callers[].credential`), and the keys and outputs
 * that callers of every kind share. Each kind has a file beside this one (its strict config schema,
 * its outputs schema, its wording) and an entry in registry.ts; nothing else in the repository lists
 * the kinds. Zod only: the stack, the CLI and the tests all import it.
 */
import type { z } from "zod";
import { guid, httpsUrl, isoTime, text } from "../fields/outputs";

/** Everything that differs from one credential kind to another, but for the Pulumi components and the smoke test's token sources. */
export interface KindInfo<
  K extends string = string,
  O extends z.ZodObject = z.ZodObject,
  V extends boolean = boolean,
> {
  /** Its one spelling: `credential:` in the config, `credential` in the outputs, `smoke --credential`. */
  name: K;
  /** Other spellings `smoke --credential` accepts, e.g. `managed-identity`. */
  aliases?: readonly string[];
  /** The caller's outputs (`credential` and the facts that apply to it; nothing else). */
  outputs: O;
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
    /** What the calling system's owner does with this kind of credential. */
    todo(caller: z.infer<O>): string;
  };
  /** The environment variable `smoke` reads this kind's credential from, if any, e.g. `FLOW_CLIENT_SECRET`. */
  env?: string;
}

/** A kind's entry, its types kept (registry.ts lists them). */
export function defineKind<const K extends string, O extends z.ZodObject, const V extends boolean>(
  info: KindInfo<K, O, V>,
): KindInfo<K, O, V> {
  return info;
}

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
