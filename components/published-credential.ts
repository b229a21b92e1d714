/**
 * What a rotating credential (client secret or certificate) does around its two slots, whatever they
 * hold: read the rotation state from the published Key Vault secret, plan this run, and write the
 * published slot's value back with the new state, readable by its readers only. Plain functions that
 * declare their resources under the component that calls them (pulumi-eks style), and the base class
 * of both components with the outputs they share; each keeps its own name and type token.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as pulumi from "@pulumi/pulumi";
import type { SecretReader } from "../fields/config";
import {
  describeState,
  encodeState,
  isoTime,
  planRotation,
  reconcileRecords,
  RotationConflictError,
  STATE_TAG,
  type Reconciled,
  type ResetFollow,
  type RotationPlan,
  type RotationPolicy,
} from "../rotation";
import { givenName } from "./given-name";
import { MANAGED_BY, MANAGED_BY_TAG } from "../naming";
import { CLIENT_ID_TAG, readRotationState, witnessState, type RecordRead } from "./rotation-state";

/** Role definition ID of the built-in role "Key Vault Secrets User" (read secret values). */
export const KEY_VAULT_SECRETS_USER_ROLE_ID = "4633458b-17de-408a-b874-0445c86b69e6";

/** The vault a published credential goes to. */
export interface VaultRef {
  /** Vault name, e.g. `flow-dev-x7k2pq`. */
  name: pulumi.Input<string>;
  /** Resource group holding the vault. */
  resourceGroupName: pulumi.Input<string>;
  /** Subscription of the vault (`azure-native:subscriptionId`), named in errors. */
  subscriptionId: string;
  /** Data-plane URI, e.g. `https://flow-dev-x7k2pq.vault.azure.net/`: the secret URI when ARM gives none. */
  uri?: pulumi.Input<string>;
  /**
   * What gives the deploying identity data-plane rights on the vault (Key Vault deletes secrets through
   * the data plane): secrets depend on it, so it is created before them and removed after them.
   */
  writeAccess?: pulumi.Resource[];
}

/** Full ID of the built-in role `roleId` in the subscription of the resource `armId`. */
export function roleDefinitionIdIn(armId: string, roleId: string): string {
  const subscription = /^\/subscriptions\/[^/]+/i.exec(armId)?.[0] ?? "";
  return `${subscription}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

/** Full ID of *Key Vault Secrets User* in the subscription of the resource `armId`. */
export function secretsUserRoleDefinitionId(armId: string): string {
  return roleDefinitionIdIn(armId, KEY_VAULT_SECRETS_USER_ROLE_ID);
}

/** URI of the secret `name` in the vault at `vaultUri` (without version), or undefined without a vault URI. */
export function secretUriIn(vaultUri: string | undefined, name: string): string | undefined {
  return vaultUri ? `${vaultUri.replace(/\/*$/, "/")}secrets/${name}` : undefined;
}

/** What every rotating credential (client secret or certificate) of a caller takes. */
export interface RotatingCredentialArgs {
  /** Resource ID of the app registration (`app.id`, `/applications/<objectId>`), owner of both slots. */
  applicationId: pulumi.Input<string>;
  /** Client ID of that app, e.g. `0b8f3c1e-…`; tagged on the vault secret so readers know whose it is. */
  clientId: pulumi.Input<string>;
  /** The schedule (`flow-trigger-auth:rotation`), e.g. `{ rotationDays: 90, offsetDays: 0, maxLifetimeDays: 730 }`. */
  policy: RotationPolicy;
  /** "Now" for this run, in ms since the Unix epoch (read once per run by the program). */
  nowMs: number;
  /** Vault that receives the published slot's value, and holds the rotation state in its tags. */
  vault: VaultRef;
  /** Name of the vault secret, e.g. `erp-client-secret` or `sap-client-certificate`. */
  secretName: string;
  /** Principals granted *Key Vault Secrets User* on this secret only (duplicates by object ID are merged). */
  readers: SecretReader[];
  /** Resources that must exist before the vault secret is written, e.g. the Event Grid subscriptions of its expiry alerts. */
  publishAfter?: pulumi.Resource[];
  /** Error hooks of the slots' Entra credentials, e.g. one that explains an app management policy refusal. */
  onError?: pulumi.ErrorHook[];
  /** The caller's name, e.g. `erp`: its key in the stack's `rotationState` output. */
  caller: string;
  /** The stack's last `rotationState` output (the second witness), by caller; undefined: not read. */
  witness?: pulumi.Output<Record<string, string>>;
  /** `flow-trigger-auth:rotationReset`'s choice for this caller, if any: applied only while its records conflict. */
  reset?: ResetFollow;
}

/** Where a caller's rotation state lives and what it schedules. */
export type RotationSource = Pick<
  RotatingCredentialArgs,
  "vault" | "secretName" | "clientId" | "policy" | "nowMs" | "caller" | "witness" | "reset"
> & {
  /** What a slot holds, for the run's log, e.g. `secret` or `certificate`. */
  what: string;
};

/** Whichever of the two slots' values `plan` publishes. */
export function publishedOf<T>(
  plan: pulumi.Output<RotationPlan>,
  a: pulumi.Input<T>,
  b: pulumi.Input<T>,
): pulumi.Output<T> {
  return pulumi
    .all([plan, a, b])
    .apply(([p, valueA, valueB]) => (p.published.slot === "a" ? valueA : valueB) as T);
}

/** The way out of a conflict, as the error and docs/rotation.md give it. */
function resetAdvice(caller: string): string {
  return (
    `set flow-trigger-auth:rotationReset to [{ caller: ${caller}, follow: keyVault | stack | fresh }] for one run ` +
    "(docs/rotation.md#when-the-records-disagree says which to choose; after a Pulumi state rolled back, keyVault " +
    "keeps the published secret), then remove it"
  );
}

/** Which slots this run declares anew and why, against what is deployed (the state it follows). */
function planMessage(secretName: string, what: string, p: RotationPlan, followed: Reconciled): string {
  const slot = (s: "a" | "b") => `slot ${s} (period ${p[s].period}, until ${isoTime(p[s].endMs)})`;
  if (p.fresh === "no-state") {
    return (
      `${secretName}: no record of what is deployed; both slots declared on the schedule's grid, ${slot("a")} and ` +
      `${slot("b")}, slot ${p.published.slot} published: Pulumi replaces only a slot whose period or end differs from ` +
      "what it deployed (none, on an unchanged schedule)"
    );
  }
  if (p.fresh === "published-expired") {
    return `${secretName}: the published ${what} had expired: new ${what}s in ${slot("a")} and ${slot("b")}`;
  }
  const against = followed.followed === "stack" ? "the stack's outputs" : "the Key Vault record";
  if (p.replaced.length === 0) {
    return `${secretName}: nothing replaced (against ${against}); next rotation due ${isoTime(p.nextRotationMs)}`;
  }
  return (
    `${secretName}: new ${what} in ${p.replaced.map(slot).join(" and ")}, its next boundary having come ` +
    `(against ${against}); slot ${p.published.slot} published`
  );
}

/**
 * This run's rotation plan: the Key Vault record and the stack's outputs reconciled, planned at
 * `nowMs`; logs which record it followed and which slots are replaced, and stops (before anything is
 * replaced) when the records disagree in a way only a reset can settle.
 */
function planFromVault(owner: pulumi.Resource, source: RotationSource): pulumi.Output<RotationPlan> {
  const read = readRotationState(
    {
      resourceGroupName: source.vault.resourceGroupName,
      vaultName: source.vault.name,
      subscriptionId: source.vault.subscriptionId,
      secretName: source.secretName,
      clientId: source.clientId,
    },
    source.policy,
    { parent: owner },
  );
  const witness = source.witness ?? pulumi.output<Record<string, string>>({});
  return pulumi.all([read, witness]).apply(([found, outputs]: [RecordRead, Record<string, string>]) => {
    const fromStack = Object.hasOwn(outputs, source.caller)
      ? witnessState(outputs[source.caller])
      : undefined;
    let followed: Reconciled;
    try {
      followed = reconcileRecords(found.state, fromStack, source.reset, found.note);
    } catch (err) {
      if (!(err instanceof RotationConflictError)) throw err;
      throw new Error(
        `caller ${source.caller} (${source.secretName}): ${err.message}. Key Vault record: ${describeState(err.record)}. ` +
          `Stack outputs: ${describeState(err.witness)}. Nothing was replaced. To go on, ${resetAdvice(source.caller)}`,
      );
    }
    if (source.reset && !followed.resetApplied) {
      void pulumi.log.warn(
        `flow-trigger-auth:rotationReset names ${source.caller}, whose records do not conflict: it does nothing; remove it`,
        owner,
      );
    } else if (followed.resetApplied) {
      void pulumi.log.warn(
        `${source.secretName}: records in conflict, following ${source.reset} as flow-trigger-auth:rotationReset says; ` +
          "remove the setting after this run",
        owner,
      );
    }
    if (followed.note) void pulumi.log.info(`${source.secretName}: ${followed.note}`, owner);
    const p = planRotation(source.policy, source.nowMs, followed.state);
    void pulumi.log.info(planMessage(source.secretName, source.what, p, followed), owner);
    return p;
  });
}

/** What {@link publishToVault} writes. */
interface Publication {
  vault: VaultRef;
  secretName: string;
  clientId: pulumi.Input<string>;
  plan: pulumi.Output<RotationPlan>;
  /** The published slot's value: a Pulumi secret. */
  value: pulumi.Output<string>;
  /** Content type of the vault secret, e.g. `application/x-pem-file`. */
  contentType: string;
  /** Principals granted *Key Vault Secrets User* on this secret only (duplicates by object ID are merged). */
  readers: SecretReader[];
  /** Resources that must exist before the vault secret is written, e.g. its expiry alerts' subscriptions. */
  publishAfter?: pulumi.Resource[];
}

/** The vault secret as published, and what callers and other resources need of it. */
interface Published {
  secret: keyvault.Secret;
  /** Name of the vault secret, once it exists. */
  secretName: pulumi.Output<string>;
  /** URI without version (always the current value), e.g. `https://v.vault.azure.net/secrets/erp-client-secret`. */
  secretUri: pulumi.Output<string>;
  /** URI of the current version; changes exactly when the published value (or its state) changes. */
  secretVersionUri: pulumi.Output<string>;
  /** ARM ID of the vault secret; scope of its role assignments. */
  secretId: pulumi.Output<string>;
  /** The rotation state as the vault secret was written (its tag): known only once the write succeeded. */
  stateRecord: pulumi.Output<string>;
}

/**
 * The Key Vault secret `${name}-kv` holding the published slot's value, expiring with it, with the
 * rotation state in its tags, and a *Key Vault Secrets User* assignment `${name}-reader-<objectId>`
 * on it per reader; all children of `owner`.
 */
function publishToVault(owner: pulumi.Resource, name: string, args: Publication): Published {
  const { plan } = args;
  const secret = new keyvault.Secret(
    `${name}-kv`,
    {
      resourceGroupName: args.vault.resourceGroupName,
      vaultName: args.vault.name,
      secretName: args.secretName,
      properties: {
        value: args.value,
        contentType: args.contentType,
        attributes: { enabled: true, expires: plan.apply((p) => Math.floor(p.published.endMs / 1000)) },
      },
      tags: pulumi.all([args.clientId, plan]).apply(([clientId, p]) => ({
        [CLIENT_ID_TAG]: clientId,
        slot: p.published.slot,
        period: String(p.published.period),
        [STATE_TAG]: encodeState(p.state),
        [MANAGED_BY_TAG]: MANAGED_BY,
      })),
    },
    { parent: owner, dependsOn: [...(args.publishAfter ?? []), ...(args.vault.writeAccess ?? [])] },
  );

  const roleDefinitionId = secret.id.apply(secretsUserRoleDefinitionId);
  // One assignment per principal: the first entry for an object ID wins (caller-level before stack-wide).
  const readers = new Map<string, SecretReader>();
  for (const r of args.readers)
    if (!readers.has(r.objectId.toLowerCase())) readers.set(r.objectId.toLowerCase(), r);
  for (const [objectId, reader] of readers) {
    new authorization.RoleAssignment(
      `${name}-reader-${objectId}`,
      {
        principalId: reader.objectId,
        principalType: reader.type,
        roleDefinitionId,
        scope: secret.id,
        description: `Reads ${args.secretName} (flow-trigger-auth)`,
      },
      { parent: owner },
    );
  }

  return {
    secret,
    secretName: givenName(secret, args.secretName),
    // `properties` is a secret as a whole because it carries the value; its URIs are not secret.
    // The URI is the vault's plus `secrets/<name>`, which is also what ARM answers with.
    secretUri: pulumi.unsecret(
      pulumi
        .all([secret.properties, args.vault.uri])
        .apply(([p, uri]) => p?.secretUri ?? secretUriIn(uri, args.secretName)),
    ) as pulumi.Output<string>,
    secretVersionUri: pulumi.unsecret(secret.properties.apply((p) => p.secretUriWithVersion)),
    secretId: secret.id,
    stateRecord: pulumi
      .all([secret.tags, plan])
      .apply(([tags, p]) => tags?.[STATE_TAG] ?? encodeState(p.state)),
  };
}

/** What a kind of rotating credential puts in its slots, and how it is published. */
export interface SlotKind {
  /** What a slot holds, for the run's log, e.g. `secret` or `certificate`. */
  what: string;
  /** Content type of the vault secret, e.g. `application/x-pem-file`. */
  contentType: string;
  /** Declares both slots under `owner` for `plan`; resolves to the published slot's value. */
  slots(owner: pulumi.Resource, plan: pulumi.Output<RotationPlan>): pulumi.Output<string>;
}

/**
 * Two slots of a credential rotated on staggered schedules, and the Key Vault secret holding the
 * published one, with the rotation state read from that secret's tags at the start of the run and
 * written back with it: a run replaces at most one slot (docs/rotation.md), and a run that replaces
 * nothing changes nothing. The base of {@link RotatingClientSecret} and {@link RotatingCertificate}.
 */
export abstract class RotatingCredential extends pulumi.ComponentResource {
  /** Name of the vault secret, e.g. `erp-client-secret`. */
  public readonly secretName: pulumi.Output<string>;
  /** URI of the vault secret without version (always the current value), e.g. `https://v.vault.azure.net/secrets/erp-client-secret`. */
  public readonly secretUri: pulumi.Output<string>;
  /** URI of the current version; changes exactly when the published value (or its state) changes. */
  public readonly secretVersionUri: pulumi.Output<string>;
  /** ARM ID of the vault secret; scope of its role assignments. */
  public readonly secretId: pulumi.Output<string>;
  /** When Entra stops accepting the published credential (ISO 8601), e.g. `2027-05-21T05:17:43Z`. */
  public readonly expiresAt: pulumi.Output<string>;
  /** When the next slot is due to be replaced (ISO 8601). */
  public readonly nextRotationAt: pulumi.Output<string>;
  /** Which slot is published, `a` or `b`. */
  public readonly publishedSlot: pulumi.Output<string>;
  /** The published value as in Key Vault (a client secret, or a private key and certificate): a Pulumi secret, never exported. */
  public readonly publishedValue: pulumi.Output<string>;
  /** This run's rotation plan: which slots it replaces, and whether it starts afresh. */
  public readonly plan: pulumi.Output<RotationPlan>;
  /** The rotation state as written to Key Vault (encoded): what the stack's `rotationState` output keeps. */
  public readonly stateRecord: pulumi.Output<string>;

  protected constructor(
    type: string,
    name: string,
    args: RotatingCredentialArgs,
    kind: SlotKind,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(type, name, {}, opts);
    const plan = planFromVault(this, { ...args, what: kind.what });
    const value = pulumi.secret(kind.slots(this, plan));
    const published = publishToVault(this, name, {
      vault: args.vault,
      secretName: args.secretName,
      clientId: args.clientId,
      plan,
      value,
      contentType: kind.contentType,
      readers: args.readers,
      publishAfter: args.publishAfter,
    });
    this.secretName = published.secretName;
    this.secretUri = published.secretUri;
    this.secretVersionUri = published.secretVersionUri;
    this.secretId = published.secretId;
    this.stateRecord = published.stateRecord;
    this.expiresAt = plan.apply((p) => isoTime(p.published.endMs));
    this.nextRotationAt = plan.apply((p) => isoTime(p.nextRotationMs));
    this.publishedSlot = plan.apply((p) => p.published.slot);
    this.publishedValue = value;
    this.plan = plan;
  }

  /** The outputs every rotating credential registers (each adds its own, then registers them once). */
  protected rotationOutputs(): pulumi.Inputs {
    return {
      secretName: this.secretName,
      secretUri: this.secretUri,
      secretId: this.secretId,
      expiresAt: this.expiresAt,
      nextRotationAt: this.nextRotationAt,
      publishedSlot: this.publishedSlot,
    };
  }
}
