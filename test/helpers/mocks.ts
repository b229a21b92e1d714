/**
 * Pulumi mocks that answer like Azure and Entra do: GUID object IDs, `/applications/<id>` resource IDs,
 * ARM IDs, vault URIs and random secret values, so wiring mistakes show up in assertions.
 */
import * as pulumi from "@pulumi/pulumi";
import { randomBytes, randomUUID } from "node:crypto";

/** One resource the program declared. */
export interface Declared {
  type: string;
  name: string;
  custom: boolean;
  /** Inputs with secret markers removed, for asserting values. */
  inputs: Record<string, any>;
  /** Inputs as the engine received them: secrets still wrapped, see {@link isSecretInput}. */
  rawInputs: Record<string, any>;
  id: string;
  state: Record<string, any>;
}

/** Facts the mocked tenant and subscription answer with. */
export const TENANT_ID = "5f6b3c2a-1d4e-4f80-9a7b-2c3d4e5f6a7b";
export const SUBSCRIPTION_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
export const DEPLOYER_OBJECT_ID = "9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
export const FLOW_SP_OBJECT_ID = "3e2d1c0b-9a8f-4e7d-8c6b-5a4f3e2d1c0b";
export const FLOW_USER_SCOPE_ID = "44d8c55c-9ffc-4546-883e-9041b5bb0b01";

export interface MockOptions {
  /** Simulate a tenant where the Flow service principal was never provisioned. */
  flowServiceMissing?: boolean;
  /** What `getVault` answers for an existing vault. */
  existingVault?: { location: string; enableRbacAuthorization?: boolean };
  stack?: string;
  /**
   * Leave out what a provider computes but the program already knows: `name` of Azure resources and a
   * vault secret's `secretUri` (as a minimal mock would), to show the program does not depend on them.
   */
  minimalAzureState?: boolean;
}

/** Installs the mocks; returns the live list of declared resources. */
export function installMocks(options: MockOptions = {}): Declared[] {
  const declared: Declared[] = [];
  const armRg = (rg: string) => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${rg}`;
  void pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        const rawInputs = args.inputs as Record<string, any>;
        const inputs = unwrapSecrets(rawInputs) as Record<string, any>;
        let id = `${args.name}-id`;
        let state: Record<string, any> = { ...inputs };
        switch (args.type) {
          case "azuread:index/application:Application": {
            const objectId = randomUUID();
            id = `/applications/${objectId}`;
            state = {
              ...inputs,
              objectId,
              clientId: randomUUID(),
              publisherDomain: "contoso.onmicrosoft.com",
            };
            break;
          }
          case "azuread:index/servicePrincipal:ServicePrincipal": {
            const objectId = randomUUID();
            id = `/servicePrincipals/${objectId}`;
            state = { ...inputs, objectId, applicationTenantId: TENANT_ID, type: "Application" };
            break;
          }
          case "azuread:index/applicationPassword:ApplicationPassword": {
            const keyId = randomUUID();
            id = `${inputs.applicationId}/password/${keyId}`;
            const value = `Qx8~${randomBytes(27).toString("base64url")}`;
            state = { ...inputs, keyId, value, startDate: "2026-11-22T00:00:00Z" };
            break;
          }
          case "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant":
            id = randomBytes(32).toString("base64url");
            break;
          case "random:index/randomString:RandomString":
            state = { ...inputs, result: randomBytes(16).toString("hex").slice(0, inputs.length) };
            id = state.result;
            break;
          case "azure-native:resources:ResourceGroup": {
            const name = inputs.resourceGroupName ?? `${args.name}${randomBytes(4).toString("hex")}`;
            id = armRg(name);
            state = { ...inputs, name };
            break;
          }
          case "azure-native:keyvault:Vault": {
            id = `${armRg(inputs.resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${inputs.vaultName}`;
            state = {
              ...inputs,
              name: inputs.vaultName,
              properties: { ...inputs.properties, vaultUri: `https://${inputs.vaultName}.vault.azure.net/` },
            };
            break;
          }
          case "azure-native:keyvault:Secret": {
            id = `${armRg(inputs.resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${inputs.vaultName}/secrets/${inputs.secretName}`;
            const uri = `https://${inputs.vaultName}.vault.azure.net/secrets/${inputs.secretName}`;
            // ARM never returns the value, but the provider keeps it in state as a secret: so, as in a real
            // deployment, the whole `properties` output of the resource is a Pulumi secret.
            state = {
              ...inputs,
              name: inputs.secretName,
              properties: {
                ...inputs.properties,
                value: { [SIG_KEY]: SECRET_SIG, value: inputs.properties?.value },
                secretUri: uri,
                secretUriWithVersion: `${uri}/${randomBytes(16).toString("hex")}`,
              },
            };
            break;
          }
          case "azure-native:eventgrid:SystemTopic":
            id = `${armRg(inputs.resourceGroupName)}/providers/Microsoft.EventGrid/systemTopics/${inputs.systemTopicName}`;
            state = {
              ...inputs,
              name: inputs.systemTopicName,
              metricResourceId: randomUUID(),
              provisioningState: "Succeeded",
            };
            break;
          case "azure-native:monitor:ActionGroup":
            id = `${armRg(inputs.resourceGroupName)}/providers/microsoft.insights/actionGroups/${inputs.actionGroupName}`;
            state = { ...inputs, name: inputs.actionGroupName };
            break;
          case "azure-native:eventgrid:SystemTopicEventSubscription": {
            id = `${armRg(inputs.resourceGroupName)}/providers/Microsoft.EventGrid/systemTopics/${inputs.systemTopicName}/eventSubscriptions/${inputs.eventSubscriptionName}`;
            const url: string | undefined = inputs.destination?.endpointUrl;
            state = {
              ...inputs,
              name: inputs.eventSubscriptionName,
              // ARM never returns a webhook's full URL, only its base.
              destination: url
                ? { endpointType: "WebHook", endpointBaseUrl: url.split("?")[0] }
                : inputs.destination,
              provisioningState: "Succeeded",
            };
            break;
          }
          case "azure-native:authorization:RoleAssignment":
            id = `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
            break;
        }
        if (options.minimalAzureState && args.type.startsWith("azure-native:")) {
          delete state.name;
          if (state.properties) delete state.properties.secretUri;
        }
        // Providers never answer with undefined properties: drop them as the engine would.
        state = JSON.parse(JSON.stringify(state));
        declared.push({
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs,
          rawInputs,
          id,
          state,
        });
        return { id, state };
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        switch (args.token) {
          case "azuread:index/getClientConfig:getClientConfig":
            return {
              tenantId: TENANT_ID,
              objectId: DEPLOYER_OBJECT_ID,
              clientId: randomUUID(),
              id: "clientConfigs/x",
            };
          case "azure-native:authorization:getClientConfig":
            return {
              tenantId: TENANT_ID,
              subscriptionId: SUBSCRIPTION_ID,
              objectId: DEPLOYER_OBJECT_ID,
              clientId: randomUUID(),
            };
          case "azuread:index/getServicePrincipal:getServicePrincipal":
            if (options.flowServiceMissing) {
              throw new Error(
                `ServicePrincipal not found: no service principal found with application ID "${args.inputs.clientId}"`,
              );
            }
            return {
              id: `/servicePrincipals/${FLOW_SP_OBJECT_ID}`,
              objectId: FLOW_SP_OBJECT_ID,
              clientId: args.inputs.clientId,
              displayName: "Microsoft Flow Service",
              oauth2PermissionScopeIds: { User: FLOW_USER_SCOPE_ID },
            };
          case "azure-native:keyvault:getVault": {
            const { resourceGroupName, vaultName } = args.inputs;
            return {
              id: `${armRg(resourceGroupName)}/providers/Microsoft.KeyVault/vaults/${vaultName}`,
              name: vaultName,
              location: options.existingVault?.location ?? "westeurope",
              properties: {
                vaultUri: `https://${vaultName}.vault.azure.net/`,
                enableRbacAuthorization: options.existingVault?.enableRbacAuthorization ?? true,
              },
            };
          }
          default:
            throw new Error(`unexpected call ${args.token}`);
        }
      },
    },
    "flow-trigger-auth",
    options.stack ?? "dev",
    false,
  );
  return declared;
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretMarker(v: unknown): v is { value: unknown } {
  return !!v && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

function unwrapSecrets(v: unknown): unknown {
  if (isSecretMarker(v)) return unwrapSecrets(v.value);
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
  return v;
}

/** `v` with every secret replaced by `[secret]`: what anyone reading state or logs would see. */
export function redacted(v: unknown): unknown {
  if (isSecretMarker(v)) return "[secret]";
  if (Array.isArray(v)) return v.map(redacted);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redacted(x)]));
  return v;
}

/** True when the engine received the input at `path` (or an object around it) as a Pulumi secret. */
export function isSecretInput(d: Declared, path: string[]): boolean {
  let v: unknown = d.rawInputs;
  for (const key of path) {
    if (isSecretMarker(v)) return true;
    v = (v as Record<string, unknown> | undefined)?.[key];
  }
  return isSecretMarker(v);
}

/** The value inside an Output (under mocks, always known). */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** Resolves every Output nested in `value`, returning plain data. */
export async function resolveDeep(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return resolveDeep(await valueOf(value as pulumi.Output<unknown>));
  if (Array.isArray(value)) return Promise.all(value.map(resolveDeep));
  if (value && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await resolveDeep(v)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** Waits until the program stops declaring resources (mocks answer at once, so a short quiet spell suffices). */
export async function settle(declared: Declared[]): Promise<void> {
  let last = -1;
  let quiet = 0;
  while (quiet < 5) {
    await new Promise((r) => setTimeout(r, 10));
    if (declared.length === last) quiet++;
    else {
      quiet = 0;
      last = declared.length;
    }
  }
}
