/**
 * A fake of Azure and Entra for the mocked engine, answering the way the providers do: GUID object
 * IDs, `/applications/<id>` resource IDs, ARM IDs, vault URIs, random secret values. It remembers
 * what earlier runs deployed, like Pulumi's state does, so re-runs can be compared:
 * - a resource keeps its ID and computed values across runs unless an input that forces replacement
 *   changed (ApplicationPassword and ApplicationCertificate: any input, as in the azuread provider;
 *   federated identity credential: its app or display name, the rest is updated in place; RandomString,
 *   tls PrivateKey and SelfSignedCert: any input; Key Vault secret: its vault, group or name;
 *   user-assigned identity: its group, name or region), or its `replacementTrigger` changed, or (a
 *   SelfSignedCert) its validity has ended at the run's time, which the TLS provider plans as a
 *   replacement on its own;
 * - Entra refuses what Graph refuses: a certificate credential ending after its certificate or
 *   already ended, a federated credential with a name Entra does not take, a second one with the same
 *   issuer and subject, more than 20 per app; an app's redirect URI Entra does not take (on create and
 *   on update, {@link redirectUriRefusal});
 * - an app registration is never replaced by what the stack sets: redirect URIs, platforms, public
 *   client flows and permissions update in place (terraform-provider-azuread
 *   internal/services/applications/application_resource.go: only `template_id` is ForceNew);
 * - Key Vault secrets live in the cloud apart from Pulumi's state (`vaultSecrets`): each run is the
 *   pipeline's `pulumi up --refresh`, so a secret deleted, edited or restored by hand is written
 *   again as the program declares it; rolling the Pulumi state back (`checkpoint`, `rollBack`) leaves
 *   them, and the credentials in Entra, as they are;
 * - `keyvault.getVault` and `keyvault.getSecret` answer as ARM does through azure-native v3, whose
 *   invoke errors read `request failed <id>: Status=<code> Code="<ARM code>" Message="<ARM message>"`
 *   (pulumi-azure-native provider/pkg/azure/client_azcore.go, PulumiAzcoreResponseError): a missing
 *   secret of an existing vault is ARM's ResourceNotFound naming the secret; {@link ARM_ERRORS} has the
 *   vault, group, subscription, 401, 403 and 429 answers a test can inject;
 * - the stack's outputs are kept as the engine keeps them: a `StackReference` to the stack answers with
 *   those of the last run that succeeded; a failed run leaves them as they were (pulumi/pulumi
 *   pkg/resource/deploy/step_executor.go keeps old stack outputs on error);
 * - ARM refuses a role assignment whose `principalType` (default `User`) is not its principal's type
 *   (`UnmatchedPrincipalType`), on create and on update;
 * - `azuread.getServicePrincipal({ objectId })` answers for the principals the tenant has
 *   (`principals`, and the deploying identity when it is a service principal), else fails as the
 *   provider does (`Service Principal (...) was not found`);
 * - every client secret's life is kept in a ledger (`credentials`) with what Key Vault published when
 *   (`publications`), so that tests can check a published value outlived its promise.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import {
  InvokeError,
  resolveDeep,
  runMocked,
  type Declared,
  type FakeCloud,
  type MockRun,
  type ResourceAnswer,
} from "../../engine/mock-engine";

/** Facts the fake tenant and subscription answer with. */
export const TENANT_ID = "5f6b3c2a-1d4e-4f80-9a7b-2c3d4e5f6a7b";
export const SUBSCRIPTION_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
export const DEPLOYER_OBJECT_ID = "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
export const FLOW_SP_OBJECT_ID = "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b";
export const FLOW_USER_SCOPE_ID = "44d8c55c-9ffc-4546-883e-9041b5bb0b01";

/**
 * ARM's answers to a failed read, as the program sees them through azure-native v3 (after the provider's
 * own retries of 429 and 5xx): `Status=<HTTP status> Code="<ARM code>" Message="<ARM message>"`.
 * Codes and messages as ARM returns them (learn.microsoft.com/azure/azure-resource-manager/troubleshooting/
 * error-not-found, error-register-resource-provider, common-deployment-errors).
 */
export const ARM_ERRORS = {
  vaultNotFound: (rg: string, vault: string) =>
    `Status=404 Code="ResourceNotFound" Message="The Resource 'Microsoft.KeyVault/vaults/${vault}' under resource group '${rg}' was not found. For more details please visit https://aka.ms/ARMResourceNotFoundFix"`,
  secretNotFound: (rg: string, vault: string, secret: string) =>
    `Status=404 Code="ResourceNotFound" Message="The Resource 'Microsoft.KeyVault/vaults/${vault}/secrets/${secret}' under resource group '${rg}' was not found. For more details please visit https://aka.ms/ARMResourceNotFoundFix"`,
  resourceGroupNotFound: (rg: string) =>
    `Status=404 Code="ResourceGroupNotFound" Message="Resource group '${rg}' could not be found."`,
  subscriptionNotFound: (subscription: string) =>
    `Status=404 Code="SubscriptionNotFound" Message="The subscription '${subscription}' could not be found."`,
  authorizationFailed: (objectId: string, action: string, scope: string) =>
    `Status=403 Code="AuthorizationFailed" Message="The client '${objectId}' with object id '${objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."`,
  expiredToken: () =>
    `Status=401 Code="ExpiredAuthenticationToken" Message="The access token expiry UTC time '12/6/2026 6:00:00 PM' is earlier than current UTC time '12/6/2026 7:00:00 PM'."`,
  throttled: () =>
    `Status=429 Code="TooManyRequests" Message="The request is being throttled as the limit has been reached for operation type - Read. For more details please visit https://aka.ms/ARMThrottling"`,
} as const;

/** Resource type tokens, as the engine sees them. */
export const T = {
  app: "azuread:index/application:Application",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
  grant: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
  password: "azuread:index/applicationPassword:ApplicationPassword",
  rg: "azure-native:resources:ResourceGroup",
  vault: "azure-native:keyvault:Vault",
  secret: "azure-native:keyvault:Secret",
  role: "azure-native:authorization:RoleAssignment",
  random: "random:index/randomString:RandomString",
  command: "command:local:Command",
  key: "tls:index/privateKey:PrivateKey",
  cert: "tls:index/selfSignedCert:SelfSignedCert",
  appCert: "azuread:index/applicationCertificate:ApplicationCertificate",
  fic: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  stackReference: "pulumi:pulumi:StackReference",
} as const;

/** Inputs whose change makes the provider replace the resource (others update it in place). */
const REPLACED_ON: Record<string, "any" | string[]> = {
  [T.password]: "any",
  [T.random]: "any",
  [T.secret]: ["resourceGroupName", "vaultName", "secretName"],
  [T.vault]: ["resourceGroupName", "vaultName", "location"],
  [T.role]: ["principalId", "roleDefinitionId", "scope"],
  [T.grant]: ["servicePrincipalObjectId", "resourceServicePrincipalObjectId", "userObjectId"],
  [T.sp]: ["clientId"],
  [T.command]: ["triggers"],
  [T.key]: ["algorithm", "rsaBits", "ecdsaCurve"],
  [T.cert]: "any",
  [T.appCert]: "any",
  [T.fic]: ["applicationId", "displayName"],
  [T.identity]: ["resourceGroupName", "resourceName", "location"],
  [T.app]: ["templateId"],
};

/**
 * Why Entra (Graph `PATCH /applications`) or the azuread provider's validation before it refuses an
 * app's redirect URIs, or undefined. Learn "Redirect URI (reply URL) restrictions and limitations":
 * https only, but for `http://localhost`; at most 256 characters each and 256 per app (work and school
 * accounts); no wildcard for these apps. terraform-provider-azuread internal/helpers/tf/validation/uri.go
 * IsRedirectUriFunc: a host always; SPA (and web) URIs only http, https, ms-appx-web, brk-multihub, and
 * with a path (at least `/`); public client URIs of any scheme. RFC 6749 section 3.1.2: no fragment.
 */
export function redirectUriRefusal(inputs: Record<string, any>): string | undefined {
  const spa: string[] = inputs.singlePageApplication?.redirectUris ?? [];
  const pub: string[] = inputs.publicClient?.redirectUris ?? [];
  const web: string[] = inputs.web?.redirectUris ?? [];
  if (spa.length + pub.length + web.length > 256) return "Request_BadRequest: more than 256 redirect URIs";
  const bad = (uri: string, platform: "spa" | "publicClient" | "web"): string | undefined => {
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)(.*)$/i.exec(uri);
    if (!m) return "URI has no host";
    const scheme = m[1].toLowerCase();
    const host = m[2].replace(/:\d+$/, "").toLowerCase();
    if (uri.length > 256) return "URI must be 256 characters or less";
    if (uri.includes("*")) return "wildcard redirect URIs are not supported";
    if (uri.includes("#")) return "a redirect URI must not contain a fragment";
    if (scheme === "http" && host !== "localhost") return "http is allowed only for localhost";
    if (platform !== "publicClient") {
      if (!["http", "https", "ms-appx-web", "brk-multihub"].includes(scheme)) return "unexpected URI scheme";
      if (!m[3].startsWith("/")) return "URI must have a trailing slash when there is no path segment";
    }
    return undefined;
  };
  for (const [platform, uris] of [
    ["spa", spa],
    ["publicClient", pub],
    ["web", web],
  ] as const) {
    for (const uri of uris) {
      const why = bad(uri, platform);
      if (why) return `Request_BadRequest: ${platform} redirect URI ${JSON.stringify(uri)}: ${why}`;
    }
  }
  return undefined;
}

/** An existing service principal of the tenant, as `getServicePrincipal` answers for it. */
export interface FakePrincipal {
  clientId: string;
  displayName: string;
  /** `Application` or `ManagedIdentity` (default). */
  type?: string;
}

/** Options of {@link FakeAzure}. */
export interface FakeAzureOptions {
  /** A tenant where the Flow service principal was never provisioned. */
  flowServiceMissing?: boolean;
  /** What `getVault` answers for an existing vault. */
  existingVault?: { location: string; enableRbacAuthorization?: boolean };
  /**
   * Leave out what a provider computes but the program already knows: `name` of Azure resources and a
   * vault secret's `secretUri` (as a minimal mock would), to show the program does not depend on them.
   */
  minimalAzureState?: boolean;
  /** Fail `getSecret` with this (e.g. one of {@link ARM_ERRORS}) instead of answering. */
  getSecretError?: string;
  /** Fail `getVault` with this (e.g. one of {@link ARM_ERRORS}) instead of answering. */
  getVaultError?: string;
  /** What the deploying identity is: a person (`User`, default) or a pipeline's `ServicePrincipal`. */
  deployerType?: "User" | "ServicePrincipal";
  /** The subscription azure-native is signed in to (`authorization.getClientConfig`); default {@link SUBSCRIPTION_ID}. */
  signedInSubscription?: string;
  /** The tenant azure-native is signed in to; default {@link TENANT_ID}. */
  signedInTenant?: string;
  /** The real type of principals by object ID (e.g. secret readers), for ARM's principalType check. */
  principalTypes?: Record<string, "User" | "Group" | "ServicePrincipal">;
  /** DNS suffix of vaults in the subscription's Azure cloud, e.g. `vault.usgovcloudapi.net`. Default the public cloud's. */
  vaultDnsSuffix?: string;
  /** Service principals of the tenant by object ID, e.g. existing managed identities. */
  principals?: Record<string, FakePrincipal>;
}

interface Kept {
  inputs: Record<string, any>;
  id: string;
  state: Record<string, any>;
  /** The `replacementTrigger` it was registered with. */
  trigger?: string;
}

/**
 * What the program asked of the engine for one resource beyond its inputs: the mocks never see it, so
 * the fake reads it from the registration request itself.
 */
export interface Registration {
  /** URN of the parent (`urn:pulumi:<stack>::<project>::<parent type>::<parent name>`), "" for none. */
  parent: string;
  /** URNs of every resource this one depends on (inputs and `dependsOn`), sorted. */
  dependencies: string[];
  /** Outputs the engine must store encrypted whatever the provider says. */
  additionalSecretOutputs: string[];
  /** Input paths whose change replaces the resource (`replaceOnChanges`). */
  replaceOnChanges: string[];
  /** The `replacementTrigger` option as the engine received it (secrets still wrapped); undefined when unset. */
  replacementTrigger?: unknown;
  /** Alias specs (`aliases`), as the engine received them. */
  aliases: unknown[];
  deleteBeforeReplace: boolean;
}

/** One client secret in Entra, from creation to deletion (times of the runs, ms). */
export interface CredentialLife {
  value: string;
  createdMs: number;
  endMs: number;
  deletedMs?: number;
}

/** A Key Vault secret as Azure holds it: its versions' tags and expiry, newest last. */
interface VaultSecret {
  resourceGroupName: string;
  vaultName: string;
  id: string;
  versions: { tags: Record<string, string>; expires?: number; value: string }[];
  deleted: boolean;
}

/** What the engine keeps between runs; restoring it is rolling the Pulumi state back. */
export interface Checkpoint {
  kept: string;
  stackOutputs: string;
}

/** What changed in one run, compared with the runs before it. */
export interface RunChanges {
  created: string[];
  replaced: string[];
  updated: string[];
}

export class FakeAzure implements FakeCloud {
  /** Resources as the last run left them, by `type name`. */
  private readonly kept = new Map<string, Kept>();
  /** Key Vault secrets as Azure holds them, by secret name. */
  private readonly vaultSecrets = new Map<string, VaultSecret>();
  /** The stack's outputs as the engine saved them after the last run that succeeded. */
  private stackOutputs: Record<string, unknown> = {};
  /** Every client secret created in Entra, by resource ID. */
  readonly credentials = new Map<string, CredentialLife>();
  /** Each value Key Vault was given, with the vault secret's name and the time of the run that wrote it. */
  readonly publications: { t: number; secretName: string; value: string }[] = [];
  private changes: RunChanges = { created: [], replaced: [], updated: [] };
  /** What the last run registered, by `type name`: options the mocks do not see. */
  readonly registrations = new Map<string, Registration>();
  /** The time of the current run (ms), for what providers decide by the clock; undefined: not modelled. */
  private now?: number;

  constructor(readonly options: FakeAzureOptions = {}) {}

  private get vaultSuffix(): string {
    return this.options.vaultDnsSuffix ?? "vault.azure.net";
  }

  /**
   * Runs the program as one `pulumi up` of stack `stack`; `changes` says what it did. `nowMs` is the
   * time of the run as the providers see it (certificate validity); give the program the same.
   */
  async run<T>(
    program: () => T | Promise<T>,
    stack = "dev",
    nowMs?: number,
  ): Promise<MockRun<Awaited<T>> & { changes: RunChanges }> {
    this.changes = { created: [], replaced: [], updated: [] };
    this.registrations.clear();
    this.now = nowMs;
    const run = await runMocked(
      this,
      () => {
        this.watchRegistrations();
        return program();
      },
      { stack },
    );
    // The engine saves the outputs of a run that succeeded; a failed run leaves the old ones.
    const result = run.result as { rotationState?: unknown } | undefined;
    if (run.failures.length === 0 && result && typeof result === "object") {
      this.stackOutputs = { rotationState: await resolveDeep(result.rotationState) };
    }
    return { ...run, changes: this.changes };
  }

  /** The Pulumi state as it is now (resources and stack outputs), to roll back to later. */
  checkpoint(): Checkpoint {
    return { kept: JSON.stringify([...this.kept]), stackOutputs: JSON.stringify(this.stackOutputs) };
  }

  /**
   * Restores the Pulumi state of `checkpoint` (e.g. `pulumi stack import` of an older export): Azure
   * and Entra keep what later runs did to them.
   */
  rollBack(checkpoint: Checkpoint): void {
    this.kept.clear();
    for (const [k, v] of JSON.parse(checkpoint.kept) as [string, Kept][]) this.kept.set(k, v);
    this.stackOutputs = JSON.parse(checkpoint.stackOutputs) as Record<string, unknown>;
  }

  /** The stack's outputs as the engine kept them. */
  savedOutputs(): Record<string, unknown> {
    return JSON.parse(JSON.stringify(this.stackOutputs)) as Record<string, unknown>;
  }

  /**
   * Records each registration's options before the mocks answer it: the SDK's mock monitor passes
   * only type, name and inputs to the mocks, while parents, aliases and `replacementTrigger` decide a
   * resource's identity and when the engine replaces it.
   */
  private watchRegistrations(): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResource: (req: RegisterRequest, callback: unknown) => unknown;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
      const trigger = req.getReplacementTrigger?.();
      this.registrations.set(`${req.getType()} ${req.getName()}`, {
        parent: req.getParent(),
        dependencies: [...req.getDependenciesList()].sort(),
        additionalSecretOutputs: [...req.getAdditionalsecretoutputsList()],
        replaceOnChanges: [...req.getReplaceonchangesList()],
        replacementTrigger: trigger ? trigger.toJavaScript() : undefined,
        aliases: req.getAliasesList().map((a) => a.toObject()),
        deleteBeforeReplace: req.getDeletebeforereplace(),
      });
      return register(req, callback);
    };
  }

  /**
   * Changes what a resource is deployed with, as an older version of the program (or a person) would
   * have left it: `change` is applied to its recorded inputs and to its state.
   */
  edit(type: string, name: string, change: (values: Record<string, any>) => void): void {
    const kept = this.kept.get(`${type} ${name}`);
    if (!kept) throw new Error(`nothing deployed as ${type} ${name}`);
    change(kept.inputs);
    change(kept.state);
    const secret = type === T.secret ? this.vaultSecrets.get(kept.inputs.secretName) : undefined;
    if (secret) {
      // What an older version (or a person) left in Azure too.
      secret.versions.push({
        tags: { ...(kept.inputs.tags ?? {}) },
        expires: kept.inputs.properties?.attributes?.expires,
        value: secret.versions.at(-1)!.value,
      });
    }
  }

  /** Someone deletes a vault secret by hand (its tags and state go with it). */
  deleteSecretByHand(secretName: string): void {
    const found = this.vaultSecrets.get(secretName);
    if (found) found.deleted = true;
  }

  /** Someone edits the tags of a vault secret by hand (a new version, as `az keyvault secret set-attributes` would not: tags only). */
  editSecretTags(secretName: string, change: (tags: Record<string, string>) => void): void {
    const found = this.vaultSecrets.get(secretName);
    if (!found) throw new Error(`no vault secret ${secretName}`);
    const latest = found.versions.at(-1)!;
    const tags = { ...latest.tags };
    change(tags);
    found.versions[found.versions.length - 1] = { ...latest, tags };
  }

  /** Someone restores an older version of a vault secret (its value, tags and expiry become the newest). */
  restoreOlderVersion(secretName: string, versionsBack = 1): void {
    const found = this.vaultSecrets.get(secretName);
    const older = found?.versions.at(-1 - versionsBack);
    if (!found || !older) throw new Error(`vault secret ${secretName} has no version ${versionsBack} back`);
    found.versions.push(JSON.parse(JSON.stringify(older)) as VaultSecret["versions"][number]);
  }

  /** The tags of a vault secret as Azure holds them now; undefined when it does not exist. */
  vaultSecretTags(secretName: string): Record<string, string> | undefined {
    const found = this.vaultSecrets.get(secretName);
    return found && !found.deleted ? { ...found.versions.at(-1)!.tags } : undefined;
  }

  /** The real type of a principal, when the fake knows it. */
  private principalType(objectId: string): string | undefined {
    if (objectId === DEPLOYER_OBJECT_ID) return this.options.deployerType ?? "User";
    const known = this.options.principalTypes?.[objectId];
    if (known) return known;
    if (this.options.principals?.[objectId]) return "ServicePrincipal";
    const created = [...this.kept.entries()].some(
      ([k, v]) =>
        (k.startsWith(`${T.sp} `) || k.startsWith(`${T.identity} `)) &&
        (v.state.objectId === objectId || v.state.principalId === objectId),
    );
    return created ? "ServicePrincipal" : undefined;
  }

  resource(type: string, name: string, inputs: Record<string, any>, custom: boolean): ResourceAnswer {
    const key = `${type} ${name}`;
    if (type === T.stackReference) {
      return {
        id: inputs.name,
        state: { name: inputs.name, outputs: this.savedOutputs(), secretOutputNames: [] },
      };
    }
    if (!custom) return { id: "", state: {} };
    const before = this.kept.get(key);
    const registered = this.registrations.get(key)?.replacementTrigger;
    const trigger = registered === undefined ? undefined : JSON.stringify(registered);
    let answer: Kept;
    if (before && !this.replaces(type, before, inputs, trigger)) {
      const changed = JSON.stringify(before.inputs) !== JSON.stringify(inputs);
      if (changed && (type === T.role || type === T.app)) this.refuse(type, key, inputs);
      if (changed) this.changes.updated.push(key);
      answer = {
        inputs,
        id: before.id,
        state: changed ? this.updatedState(type, before, inputs) : before.state,
        trigger,
      };
    } else {
      this.refuse(type, key, inputs);
      (before ? this.changes.replaced : this.changes.created).push(key);
      answer = { inputs, ...this.created(type, name, inputs), trigger };
      if (before && this.credentials.has(before.id)) this.credentials.get(before.id)!.deletedMs ??= this.now;
      if (type === T.password) {
        this.credentials.set(answer.id, {
          value: answer.state.value,
          createdMs: this.now ?? Date.now(),
          endMs: Date.parse(inputs.endDate),
        });
      }
    }
    if (type === T.secret) this.writeVaultSecret(key, answer, inputs);
    this.kept.set(key, answer);
    let state = answer.state;
    if (this.options.minimalAzureState && type.startsWith("azure-native:")) {
      state = JSON.parse(JSON.stringify(state));
      delete state.name;
      if (state.properties) delete state.properties.secretUri;
    }
    return { id: answer.id, state };
  }

  /**
   * Azure's copy of a vault secret after a `pulumi up --refresh` wrote it: a new version when its value,
   * tags or expiry differ from Azure's newest (also when someone deleted, edited or restored it by hand).
   */
  private writeVaultSecret(key: string, answer: Kept, inputs: Record<string, any>): void {
    const value = String(inputs.properties?.value);
    const version = {
      tags: { ...(inputs.tags ?? {}) },
      expires: inputs.properties?.attributes?.expires,
      value,
    };
    const found = this.vaultSecrets.get(inputs.secretName);
    const drifted =
      !found || found.deleted || JSON.stringify(found.versions.at(-1)) !== JSON.stringify(version);
    if (found && drifted && !this.changes.updated.includes(key) && !this.changes.created.includes(key)) {
      this.changes.updated.push(key);
    }
    if (drifted) {
      this.vaultSecrets.set(inputs.secretName, {
        resourceGroupName: inputs.resourceGroupName,
        vaultName: inputs.vaultName,
        id: answer.id,
        versions: [...(found?.versions ?? []), version],
        deleted: false,
      });
      if (found?.versions.at(-1)?.value !== value || found.deleted) {
        this.publications.push({ t: this.now ?? Date.now(), secretName: inputs.secretName, value });
      }
    }
  }

  private replaces(type: string, before: Kept, after: Record<string, any>, trigger?: string): boolean {
    // The engine replaces a resource whose replacementTrigger changed, whatever its provider says.
    if (before.trigger !== undefined && trigger !== undefined && before.trigger !== trigger) return true;
    // The TLS provider plans a replacement once a certificate's validity has ended (readyForRenewal).
    if (type === T.cert && this.now !== undefined && Date.parse(before.state.validityEndTime) <= this.now) {
      return true;
    }
    const keys = REPLACED_ON[type];
    if (!keys) return false;
    const pick = (o: Record<string, any>) => JSON.stringify(keys === "any" ? o : keys.map((k) => o[k]));
    return pick(before.inputs) !== pick(after);
  }

  /** Refuses a create the way Entra does; the error fails that resource's registration. */
  private refuse(type: string, key: string, inputs: Record<string, any>): void {
    const now = this.now ?? Date.now();
    if (type === T.role) {
      // ARM checks the type it is told (User when none is sent) against the principal's.
      const real = this.principalType(inputs.principalId);
      const given = inputs.principalType ?? "User";
      if (real && real !== given) {
        throw new Error(
          `Status=400 Code="UnmatchedPrincipalType" Message="The PrincipalId '${inputs.principalId}' has type '${real}' , which is different from specified PrincipalType '${given}'."`,
        );
      }
    }
    if (type === T.app) {
      const problem = redirectUriRefusal(inputs);
      if (problem)
        throw new Error(
          `Updating application ${inputs.displayName}: unexpected status 400 with error: ${problem}`,
        );
    }
    if (type === T.appCert) {
      const cert = [...this.kept.values()].find((k) => k.state.certPem === inputs.value);
      const end = Date.parse(inputs.endDate);
      if (end <= now || (cert && end > Date.parse(cert.state.validityEndTime))) {
        throw new Error(
          `Adding certificate for ${inputs.applicationId}: unexpected status 400 (400 Bad Request) with error: ` +
            "KeyCredentialsInvalidEndDate: Key credential end date is invalid.",
        );
      }
    }
    if (type === T.fic) {
      const name: string = inputs.displayName;
      const siblings = [...this.kept.entries()].filter(
        ([k, v]) => k.startsWith(`${T.fic} `) && k !== key && v.inputs.applicationId === inputs.applicationId,
      );
      const problem = !/^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/.test(name)
        ? "Request_BadRequest: The name must be 3-120 URL friendly characters"
        : inputs.audiences?.length !== 1
          ? "Request_BadRequest: audiences must have exactly one value"
          : siblings.some(([, v]) => v.inputs.issuer === inputs.issuer && v.inputs.subject === inputs.subject)
            ? "Request_MultipleObjectsWithSameKeyValue: issuer and subject combination already exists"
            : siblings.length >= 20
              ? "Request_BadRequest: the maximum number of federated identity credentials (20) is reached"
              : undefined;
      if (problem) {
        throw new Error(
          `Adding federated identity credential for ${inputs.applicationId}: unexpected status 400 with error: ${problem}`,
        );
      }
    }
  }

  /** The state of an updated resource: its new inputs, its computed values kept. */
  private updatedState(type: string, before: Kept, inputs: Record<string, any>): Record<string, any> {
    const state = { ...before.state, ...inputs };
    if (type === T.secret) {
      // Every write of a Key Vault secret is a new version.
      const uri = before.state.properties.secretUri;
      state.properties = {
        ...before.state.properties,
        ...inputs.properties,
        secretUri: uri,
        secretUriWithVersion: `${uri}/${hex(16)}`,
      };
    }
    return state;
  }

  private created(
    type: string,
    name: string,
    inputs: Record<string, any>,
  ): { id: string; state: Record<string, any> } {
    const armRg = (rg: string) => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${rg}`;
    const now = this.now ?? Date.now();
    const objectIdOf = (applicationId: string) => applicationId.split("/").pop();
    switch (type) {
      case T.key: {
        // RSA 2048: PKCS#1 and PKCS#8 PEM, as the TLS provider writes them (secret outputs).
        const der = randomBytes(1190);
        return {
          id: createHash("sha1").update(der).digest("hex"),
          state: {
            ...inputs,
            ecdsaCurve: "P224",
            privateKeyPem: pem("RSA PRIVATE KEY", der),
            privateKeyPemPkcs8: pem("PRIVATE KEY", Buffer.concat([randomBytes(26), der])),
            privateKeyOpenssh: pem("OPENSSH PRIVATE KEY", randomBytes(1500)),
            publicKeyPem: pem("PUBLIC KEY", randomBytes(294)),
            publicKeyOpenssh: `ssh-rsa ${randomBytes(279).toString("base64")}\n`,
            publicKeyFingerprintSha256: `SHA256:${randomBytes(32).toString("base64").replace(/=+$/, "")}`,
          },
        };
      }
      case T.cert: {
        const start = Math.floor(now / 1000) * 1000;
        const end = start + inputs.validityPeriodHours * 3_600_000;
        return {
          id: BigInt(`0x${hex(16)}`).toString(),
          state: {
            ...inputs,
            certPem: pem("CERTIFICATE", randomBytes(760)),
            validityStartTime: isoSeconds(start),
            validityEndTime: isoSeconds(end),
            readyForRenewal: false,
            earlyRenewalHours: 0,
            isCaCertificate: false,
            keyAlgorithm: "RSA",
          },
        };
      }
      case T.appCert: {
        const keyId = randomUUID();
        return {
          id: `${objectIdOf(inputs.applicationId)}/certificate/${keyId}`,
          // Read echoes start and end from Graph; the start is the certificate's, or now.
          state: { ...inputs, keyId, startDate: isoSeconds(now) },
        };
      }
      case T.fic: {
        const credentialId = randomUUID();
        return {
          id: `${objectIdOf(inputs.applicationId)}/federatedIdentityCredential/${credentialId}`,
          state: { ...inputs, credentialId },
        };
      }
      case T.identity: {
        const resourceName = inputs.resourceName ?? `${name}${hex(4)}`;
        return {
          id: `${armRg(inputs.resourceGroupName)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${resourceName}`,
          state: {
            ...inputs,
            name: resourceName,
            principalId: randomUUID(),
            clientId: randomUUID(),
            tenantId: TENANT_ID,
            type: "Microsoft.ManagedIdentity/userAssignedIdentities",
          },
        };
      }
      case T.app: {
        const objectId = randomUUID();
        return {
          id: `/applications/${objectId}`,
          state: { ...inputs, objectId, clientId: randomUUID(), publisherDomain: "contoso.onmicrosoft.com" },
        };
      }
      case T.sp: {
        const objectId = randomUUID();
        return {
          id: `/servicePrincipals/${objectId}`,
          state: { ...inputs, objectId, applicationTenantId: TENANT_ID, type: "Application" },
        };
      }
      case T.password: {
        const keyId = randomUUID();
        return {
          id: `${inputs.applicationId}/password/${keyId}`,
          state: {
            ...inputs,
            keyId,
            value: `Qx8~${randomBytes(27).toString("base64url")}`,
            startDate: "2026-11-22T00:00:00Z",
          },
        };
      }
      case T.grant:
        return { id: randomBytes(32).toString("base64url"), state: inputs };
      case T.random: {
        const result = hex(16).slice(0, inputs.length);
        return { id: result, state: { ...inputs, result } };
      }
      case T.rg: {
        const rgName = inputs.resourceGroupName ?? `${name}${hex(4)}`;
        return { id: armRg(rgName), state: { ...inputs, name: rgName } };
      }
      case T.vault:
        return {
          id: `${armRg(inputs.resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${inputs.vaultName}`,
          state: {
            ...inputs,
            name: inputs.vaultName,
            properties: {
              ...inputs.properties,
              vaultUri: `https://${inputs.vaultName}.${this.vaultSuffix}/`,
            },
          },
        };
      case T.secret: {
        const uri = `https://${inputs.vaultName}.${this.vaultSuffix}/secrets/${inputs.secretName}`;
        return {
          id: `${armRg(inputs.resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${inputs.vaultName}/secrets/${inputs.secretName}`,
          state: {
            ...inputs,
            name: inputs.secretName,
            // ARM never returns the value, but the provider keeps it in state as a secret: the whole
            // `properties` output of the resource is then a Pulumi secret, as in a real deployment.
            properties: {
              ...inputs.properties,
              value: secretMarker(inputs.properties?.value),
              secretUri: uri,
              secretUriWithVersion: `${uri}/${hex(16)}`,
            },
          },
        };
      }
      case "azure-native:eventgrid:SystemTopic":
        return {
          id: `${armRg(inputs.resourceGroupName)}/providers/Microsoft.EventGrid/systemTopics/${inputs.systemTopicName}`,
          state: {
            ...inputs,
            name: inputs.systemTopicName,
            metricResourceId: randomUUID(),
            provisioningState: "Succeeded",
          },
        };
      case "azure-native:monitor:ActionGroup":
        return {
          id: `${armRg(inputs.resourceGroupName)}/providers/microsoft.insights/actionGroups/${inputs.actionGroupName}`,
          state: { ...inputs, name: inputs.actionGroupName },
        };
      case "azure-native:eventgrid:SystemTopicEventSubscription": {
        const url: string | undefined = inputs.destination?.endpointUrl;
        return {
          id: `${armRg(inputs.resourceGroupName)}/providers/Microsoft.EventGrid/systemTopics/${inputs.systemTopicName}/eventSubscriptions/${inputs.eventSubscriptionName}`,
          state: {
            ...inputs,
            name: inputs.eventSubscriptionName,
            // ARM never returns a webhook's full URL, only its base.
            destination: url
              ? { endpointType: "WebHook", endpointBaseUrl: url.split("?")[0] }
              : inputs.destination,
            provisioningState: "Succeeded",
          },
        };
      }
      case T.role:
        return {
          id: `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`,
          state: inputs,
        };
      default:
        return { id: `${name}-id`, state: inputs };
    }
  }

  invoke(token: string, inputs: Record<string, any>): Record<string, any> {
    const armRg = (rg: string) => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${rg}`;
    switch (token) {
      case "azuread:index/getClientConfig:getClientConfig":
        return {
          tenantId: TENANT_ID,
          objectId: DEPLOYER_OBJECT_ID,
          clientId: randomUUID(),
          id: "clientConfigs/x",
        };
      case "azure-native:authorization:getClientConfig":
        return {
          tenantId: this.options.signedInTenant ?? TENANT_ID,
          subscriptionId: this.options.signedInSubscription ?? SUBSCRIPTION_ID,
          objectId: DEPLOYER_OBJECT_ID,
          clientId: randomUUID(),
        };
      case "azuread:index/getServicePrincipal:getServicePrincipal":
        if (inputs.objectId === DEPLOYER_OBJECT_ID && this.options.deployerType === "ServicePrincipal") {
          return {
            id: `/servicePrincipals/${DEPLOYER_OBJECT_ID}`,
            objectId: DEPLOYER_OBJECT_ID,
            clientId: "7c4d2e1f-0a9b-4c8d-9e7f-6a5b4c3d2e1f",
            displayName: "github-flow-trigger-auth",
            type: "Application",
            oauth2PermissionScopeIds: {},
          };
        }
        if (inputs.objectId !== undefined) {
          const found = this.options.principals?.[inputs.objectId];
          if (!found) {
            throw new InvokeError(
              token,
              `Service Principal (Service Principal: "${inputs.objectId}") was not found`,
            );
          }
          return {
            id: `/servicePrincipals/${inputs.objectId}`,
            objectId: inputs.objectId,
            clientId: found.clientId,
            displayName: found.displayName,
            type: found.type ?? "ManagedIdentity",
            oauth2PermissionScopeIds: {},
          };
        }
        if (this.options.flowServiceMissing) {
          throw new InvokeError(
            token,
            `ServicePrincipal not found: no service principal found with application ID "${inputs.clientId}"`,
          );
        }
        return {
          id: `/servicePrincipals/${FLOW_SP_OBJECT_ID}`,
          objectId: FLOW_SP_OBJECT_ID,
          clientId: inputs.clientId,
          displayName: "Microsoft Flow Service",
          oauth2PermissionScopeIds: { User: FLOW_USER_SCOPE_ID },
        };
      case "azure-native:keyvault:getVault": {
        const { resourceGroupName, vaultName } = inputs;
        const id = `${armRg(resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${vaultName}`;
        if (this.options.getVaultError) {
          throw new InvokeError(token, `request failed ${id}: ${this.options.getVaultError}`);
        }
        return {
          id: `${armRg(resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${vaultName}`,
          name: vaultName,
          location: this.options.existingVault?.location ?? "westeurope",
          properties: {
            vaultUri: `https://${vaultName}.${this.vaultSuffix}/`,
            enableRbacAuthorization: this.options.existingVault?.enableRbacAuthorization ?? true,
          },
        };
      }
      case "azure-native:keyvault:getSecret": {
        const id = `${armRg(inputs.resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${inputs.vaultName}/secrets/${inputs.secretName}`;
        if (this.options.getSecretError)
          throw new InvokeError(token, `request failed ${id}: ${this.options.getSecretError}`);
        const found = this.vaultSecrets.get(inputs.secretName);
        if (
          !found ||
          found.deleted ||
          found.vaultName !== inputs.vaultName ||
          found.resourceGroupName !== inputs.resourceGroupName
        ) {
          throw new InvokeError(
            token,
            `request failed ${id}: ${ARM_ERRORS.secretNotFound(inputs.resourceGroupName, inputs.vaultName, inputs.secretName)}`,
          );
        }
        const latest = found.versions.at(-1)!;
        const uri = `https://${inputs.vaultName}.${this.vaultSuffix}/secrets/${inputs.secretName}`;
        return {
          id: found.id,
          name: inputs.secretName,
          tags: latest.tags,
          properties: { attributes: { enabled: true, expires: latest.expires }, secretUri: uri },
        };
      }
      default:
        throw new InvokeError(token, `the fake has no answer for ${token}`);
    }
  }
}

/** The parts of the engine's registration request the fake reads (see `proto/resource_pb.d.ts`). */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getReplaceonchangesList(): string[];
  getReplacementTrigger?(): { toJavaScript(): unknown } | undefined;
  getAliasesList(): { toObject(): unknown }[];
  getDeletebeforereplace(): boolean;
}

/** `der` as a PEM block of type `label`, 64 characters a line, as Go's encoding/pem writes it. */
function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g)!;
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** RFC 3339 in whole seconds, as Go writes it (`2026-11-22T09:30:00Z`). */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

function secretMarker(value: unknown): Record<string, unknown> {
  return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value };
}

/** Helpers over one run's declarations. */
export function declarations(declared: Declared[]) {
  // Cloud resources the stack manages; the StackReference only reads the stack's own outputs.
  const custom = () => declared.filter((d) => d.custom && d.type !== T.stackReference);
  const one = (type: string, name: string): Declared => {
    const found = declared.filter((d) => d.type === type && d.name === name);
    if (found.length !== 1) throw new Error(`expected exactly one ${type} ${name}, found ${found.length}`);
    return found[0];
  };
  return {
    custom,
    /** `<type> <name>` of every declared cloud resource, sorted. */
    customNames: () =>
      custom()
        .map((d) => `${d.type} ${d.name}`)
        .sort(),
    byType: (type: string) => declared.filter((d) => d.type === type),
    one,
  };
}
