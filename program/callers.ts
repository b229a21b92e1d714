/**
 * How a caller of each credential kind is declared: the component that provisions it, with what its
 * kind needs, and its outputs as the outputs schema defines them for that kind. The one table keyed by
 * kind on the Pulumi side (everything else that differs per kind is in kinds/registry.ts); defineStack
 * (program/index.ts) is the same for every kind. Config keys become component arguments here.
 */
import * as pulumi from "@pulumi/pulumi";
import { FlowCaller, type CallerCredentialArgs } from "../components/flow-caller";
import type { FlowService } from "../components/flow-service";
import { ManagedIdentityCaller } from "../components/managed-identity-caller";
import type { RotatingCredentialArgs } from "../components/published-credential";
import { certificateSecretName, type RotatingCertificate } from "../components/rotating-certificate";
import type { RotatingClientSecret } from "../components/rotating-secret";
import type { SmokeCredential } from "../components/smoke-check";
import { NAMESPACE } from "../config";
import {
  type CallerConfig,
  type CallerConfigOf,
  type CallerOutputsOf,
  type VaultedKind,
} from "../kinds/registry";
import { type CredentialKind } from "../kinds/names";
import { managedTags, vaultSecretName } from "../naming";

/** Each value of `T` as an Output (or plain); optional keys stay optional (absent, never undefined). */
type AsOutputs<T> = { [P in keyof T]: pulumi.Output<T[P]> | T[P] };

/** One caller's outputs: the outputs schema's caller of its kind, each value an Output. No secret values. */
export type CallerOutputs = { [K in CredentialKind]: AsOutputs<CallerOutputsOf<K>> }[CredentialKind];

/** What a caller's declaration may take from the stack. */
export interface CallerContext {
  /** Where the caller is in `flow-trigger-auth:callers`, e.g. `3`: errors name its keys. */
  index: number;
  /** Display name of its app registration or created identity, e.g. `flow-dev-erp`. */
  displayName: string;
  /** `flow-trigger-auth:environment`, e.g. `dev`: tagged on what is created in Azure. */
  environment: string;
  /** The owners of an app registration, the deploying identity first, then the `configured` ones. */
  owners(configured: readonly string[]): pulumi.Input<string[]>;
  /** The Flow service principal and its `User` scope. */
  flowService: FlowService;
  /** The Flow service's delegated scope on the stack's cloud, e.g. `https://service.flow.microsoft.com//User`. */
  delegatedScope: string;
  /** The notes of an app registration of `kind`: who manages it, and what it sets. */
  notes(kind: CredentialKind): string;
  /**
   * What a credential kept in Key Vault takes besides its name and its own error hooks: undefined when
   * the stack keeps nothing in Key Vault (the config's rules make that so exactly when no caller does).
   */
  rotating?: Omit<RotatingCredentialArgs, "applicationId" | "clientId" | "caller" | "secretName" | "onError">;
  /** Error hooks of the Entra credentials of a kind (made once per kind, when a caller needs them). */
  hooks(kind: "secret" | "certificate"): pulumi.ErrorHook[];
  /** Settles when certificate keys may be made (asked once per run). */
  keyRotationCheck(): Promise<void>;
  /** Where the stack creates identities: the vault's resource group and region. */
  home?: { resourceGroupName: pulumi.Output<string>; location: pulumi.Output<string> };
}

/** A caller as declared. */
export interface DeclaredCaller {
  /** The principal's object ID: what its flows' Allowed users hold. */
  servicePrincipalObjectId: pulumi.Output<string>;
  outputs: CallerOutputs;
  /** Its rotating credential (kinds kept in Key Vault): its state is one of the stack's outputs. */
  rotating?: RotatingClientSecret | RotatingCertificate;
  /** What the in-stack smoke test signs in as (kinds kept in Key Vault). */
  smoke?: { clientId: pulumi.Output<string>; credential: SmokeCredential };
}

/** Declares a caller of kind `K`. */
type Declare<K extends CredentialKind> = (caller: CallerConfigOf<K>, ctx: CallerContext) => DeclaredCaller;

/** The app registration of a caller with one, with its credential. */
function appCaller(
  caller: Extract<CallerConfig, { owners: string[] }>,
  ctx: CallerContext,
  credential: CallerCredentialArgs,
): FlowCaller {
  return new FlowCaller(caller.name, {
    displayName: ctx.displayName,
    description: caller.description,
    owners: ctx.owners(caller.owners),
    flowService: ctx.flowService,
    credential,
    notes: ctx.notes(caller.credential),
    consent: caller.consent,
  });
}

/** The outputs every caller with an app registration has. */
function appOutputs(c: FlowCaller) {
  return {
    displayName: c.displayName,
    clientId: c.clientId,
    servicePrincipalObjectId: c.servicePrincipalObjectId,
    applicationObjectId: c.applicationObjectId,
  };
}

/**
 * A caller whose credential the stack keeps in Key Vault, with its rotating credential: its readers
 * (its own, then the stack's), its kind's error hooks, and what the smoke test signs in with.
 */
function vaultedCaller(
  caller: CallerConfigOf<VaultedKind>,
  ctx: CallerContext,
  credential: { kind: VaultedKind; secretName: string; keyRotationCheck?: Promise<void> },
) {
  const rotating = ctx.rotating!;
  const component = appCaller(caller, ctx, {
    ...rotating,
    readers: [...caller.secretReaders, ...rotating.readers],
    onError: ctx.hooks(credential.kind),
    ...credential,
  });
  const published = (component.secret ?? component.certificate)!;
  return {
    published,
    declared: {
      servicePrincipalObjectId: component.servicePrincipalObjectId,
      rotating: published,
      smoke: {
        clientId: component.clientId,
        credential: { kind: credential.kind, value: published.publishedValue },
      },
    },
    outputs: {
      ...appOutputs(component),
      keyVaultSecretName: published.secretName,
      keyVaultSecretUri: published.secretUri,
      secretExpiresAt: published.expiresAt,
      nextRotationAt: published.nextRotationAt,
    },
  };
}

/** How each credential kind's caller is declared. */
export const DECLARE: { [K in CredentialKind]: Declare<K> } = {
  secret(caller, ctx) {
    const { declared, outputs } = vaultedCaller(caller, ctx, {
      kind: "secret",
      secretName: vaultSecretName(caller.name),
    });
    return { ...declared, outputs: { credential: "secret", ...outputs } };
  },
  certificate(caller, ctx) {
    const { published, declared, outputs } = vaultedCaller(caller, ctx, {
      kind: "certificate",
      secretName: certificateSecretName(caller.name),
      keyRotationCheck: ctx.keyRotationCheck(),
    });
    const { thumbprint, thumbprintSha1 } = published as RotatingCertificate;
    return {
      ...declared,
      outputs: {
        credential: "certificate",
        ...outputs,
        certificateThumbprintSha256: thumbprint,
        certificateThumbprintSha1: thumbprintSha1,
      },
    };
  },
  federated(caller, ctx) {
    const component = appCaller(caller, ctx, {
      kind: "federated",
      federatedCredentials: caller.federatedCredentials,
    });
    return {
      servicePrincipalObjectId: component.servicePrincipalObjectId,
      outputs: {
        credential: "federated",
        ...appOutputs(component),
        federatedCredentials: pulumi.all(
          component.federatedCredentials.map((fic) =>
            pulumi
              .all([fic.issuer, fic.subject, fic.audiences])
              .apply(([issuer, subject, audiences]) => ({ issuer, subject, audiences })),
          ),
        ),
      },
    };
  },
  user(caller, ctx) {
    const component = appCaller(caller, ctx, {
      kind: "user",
      platform: caller.platform,
      redirectUris: caller.redirectUris,
    });
    return {
      servicePrincipalObjectId: component.servicePrincipalObjectId,
      outputs: {
        credential: "user",
        ...appOutputs(component),
        platform: caller.platform,
        redirectUris: caller.redirectUris,
        scope: ctx.delegatedScope,
        users: caller.users,
      },
    };
  },
  managedIdentity(caller, ctx) {
    const m = caller.managedIdentity;
    const component = new ManagedIdentityCaller(
      caller.name,
      "principalId" in m
        ? {
            principalId: m.principalId,
            source: `${NAMESPACE}:callers[${ctx.index}].managedIdentity.principalId`,
          }
        : {
            create: {
              resourceName: ctx.displayName,
              resourceGroupName: ctx.home!.resourceGroupName,
              location: ctx.home!.location,
              tags: managedTags(ctx.environment),
            },
          },
    );
    return {
      servicePrincipalObjectId: component.servicePrincipalObjectId,
      outputs: {
        credential: "managedIdentity",
        displayName: component.displayName,
        clientId: component.clientId,
        servicePrincipalObjectId: component.servicePrincipalObjectId,
        ...(component.resourceId ? { managedIdentityResourceId: component.resourceId } : {}),
      },
    };
  },
};

/** Declares `caller` with its kind's entry of {@link DECLARE}. */
export function declareCaller(caller: CallerConfig, ctx: CallerContext): DeclaredCaller {
  return (DECLARE[caller.credential] as Declare<CredentialKind>)(caller as never, ctx);
}
