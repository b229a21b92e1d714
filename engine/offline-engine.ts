/**
 * Evaluates the Pulumi program with the engine mocked: no cloud, no credentials, no Pulumi CLI.
 * Used by `npm run validate` (the plan a config would produce) and `npm run bench`.
 * Computed values are shown as placeholders such as `<clientId of erp>`, never invented IDs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { defineStack, type StackOutputs } from "../program";
import { InvokeError, runMocked, type FakeCloud, type ResourceAnswer } from "./mock-engine";

/** One resource the program would declare. */
export interface PlannedResource {
  type: string;
  name: string;
  /** True for cloud resources, false for this project's components. */
  custom: boolean;
  /** Inputs flattened to dotted paths, numbers and flags as they are; secrets shown as `[secret]`. */
  inputs: Record<string, InputValue>;
}

/** One flattened input: text, a number or a flag, as the program gave it (null when it gave null). */
export type InputValue = string | number | boolean | null;

/**
 * Flattens inputs to `a.b[0].c = value`. The engine marks a whole object secret when any field in it
 * is; inside such an object, text is shown as `[secret]` while numbers and flags (an expiry) stay readable.
 */
export function flattenInputs(
  value: unknown,
  prefix = "",
  out: Record<string, InputValue> = {},
  secret = false,
): Record<string, InputValue> {
  if (pulumi.runtime.isRpcSecret(value))
    flattenInputs(pulumi.runtime.unwrapRpcSecret(value), prefix, out, true);
  else if (Array.isArray(value)) value.forEach((v, i) => flattenInputs(v, `${prefix}[${i}]`, out, secret));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flattenInputs(v, prefix ? `${prefix}.${k}` : k, out, secret);
  } else if (value !== undefined)
    out[prefix] =
      secret && typeof value === "string"
        ? "[secret]"
        : typeof value === "number" || typeof value === "boolean" || value === null
          ? value
          : String(value);
  return out;
}

/** What only a deployment knows of a resource, by type: `of(what)` names a placeholder. */
const COMPUTED: Record<
  string,
  (of: (what: string) => string, inputs: Record<string, any>, name: string) => object
> = {
  "azuread:index/application:Application": (of) => ({ objectId: of("objectId"), clientId: of("clientId") }),
  "azuread:index/servicePrincipal:ServicePrincipal": (of) => ({ objectId: of("objectId") }),
  "azuread:index/applicationPassword:ApplicationPassword": (of) => ({
    keyId: of("keyId"),
    value: of("generated secret"),
  }),
  "random:index/randomString:RandomString": () => ({ result: "<random>" }),
  // Azure's name is `resourceGroupName` when given, else the resource name with a random suffix.
  "azure-native:resources:ResourceGroup": (_of, inputs, name) => ({
    name: inputs.resourceGroupName ?? `${name}<random>`,
  }),
  "azure-native:keyvault:Vault": (_of, inputs) => ({
    name: inputs.vaultName,
    properties: { ...inputs.properties, vaultUri: `https://${String(inputs.vaultName)}.vault.azure.net/` },
  }),
  "tls:index/privateKey:PrivateKey": (of) => ({
    privateKeyPem: of("private key"),
    privateKeyPemPkcs8: of("private key"),
    privateKeyOpenssh: of("private key"),
    publicKeyPem: of("public key"),
  }),
  // PEM-shaped, so that the program can take its thumbprint; the content is the placeholder.
  "tls:index/selfSignedCert:SelfSignedCert": (of) => ({
    certPem: `-----BEGIN CERTIFICATE-----${Buffer.from(of("certificate")).toString("base64")}-----END CERTIFICATE-----`,
    validityStartTime: of("validityStartTime"),
    validityEndTime: of("validityEndTime"),
  }),
  "azuread:index/applicationCertificate:ApplicationCertificate": (of) => ({
    keyId: of("keyId"),
    startDate: of("startDate"),
  }),
  "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": (of) => ({
    credentialId: of("credentialId"),
  }),
  "azure-native:managedidentity:UserAssignedIdentity": (of, inputs) => ({
    name: inputs.resourceName,
    principalId: of("principalId"),
    clientId: of("clientId"),
    tenantId: "<tenant of the Azure login>",
  }),
  "azure-native:keyvault:Secret": (_of, inputs) => {
    const uri = `https://${String(inputs.vaultName)}.vault.azure.net/secrets/${String(inputs.secretName)}`;
    return {
      name: inputs.secretName,
      properties: { secretUri: uri, secretUriWithVersion: `${uri}/<version>` },
    };
  },
};

/**
 * The cloud as `validate` shows it: the shapes Azure and Entra answer with, with placeholders such as
 * `<clientId of erp>` for what only a deployment knows. Offline there is no rotation state to read: the
 * plan is that of a first deployment.
 */
export class PlaceholderCloud implements FakeCloud {
  resource(type: string, name: string, inputs: Record<string, any>, custom: boolean): ResourceAnswer {
    // Offline there are no earlier outputs: the plan is that of a first deployment.
    if (type === "pulumi:pulumi:StackReference") {
      return { id: String(inputs.name), state: { name: inputs.name, outputs: {}, secretOutputNames: [] } };
    }
    const of = (what: string) => `<${what} of ${name}>`;
    return { id: custom ? of("id") : "", state: { ...inputs, ...COMPUTED[type]?.(of, inputs, name) } };
  }

  invoke(token: string, inputs: Record<string, any>): Record<string, any> {
    switch (token) {
      case "azuread:index/getClientConfig:getClientConfig":
        return {
          tenantId: "<tenant of the Azure login>",
          objectId: "<deploying identity>",
          clientId: "<deploying app>",
        };
      case "azure-native:authorization:getClientConfig":
        // Unknown offline: an empty subscription skips the "existing vault in another subscription"
        // check, which runs at deploy time.
        return {
          tenantId: "<tenant of the Azure login>",
          subscriptionId: "",
          objectId: "<deploying identity>",
        };
      case "azuread:index/getServicePrincipal:getServicePrincipal":
        if (inputs.objectId !== undefined) {
          // An existing managed identity of a caller: found at deploy time, or the run fails there.
          return {
            objectId: inputs.objectId,
            clientId: `<clientId of principal ${String(inputs.objectId)}>`,
            displayName: `<name of principal ${String(inputs.objectId)}>`,
            type: "ManagedIdentity",
          };
        }
        return {
          objectId: "<Microsoft Flow Service principal>",
          oauth2PermissionScopeIds: { User: "<User scope ID>" },
        };
      case "azure-native:keyvault:getVault":
        return {
          id: `<ID of vault ${String(inputs.vaultName)}>`,
          name: inputs.vaultName,
          location: "<region of the vault>",
          properties: { vaultUri: `https://${String(inputs.vaultName)}.vault.azure.net/` },
        };
      case "azure-native:keyvault:getSecret":
        throw new InvokeError(
          token,
          `offline: Status=404 Code="SecretNotFound" Message="no rotation state offline"`,
        );
      default:
        return {};
    }
  }
}

/** The program failed while evaluated offline; `message` holds each distinct cause. */
export class PlanError extends Error {
  override readonly name = "PlanError";
  constructor(causes: string[]) {
    super(causes.join("\n"));
  }
}

/**
 * The resources and outputs `config` yields at `nowMs`, with the engine mocked by `cloud` (default:
 * placeholders for what only a deployment knows); `evaluationMs` is the time from the start of the
 * program until the runtime drained.
 */
export async function planStack(
  config: StackConfig,
  nowMs: number,
  stackName: string,
  cloud: FakeCloud = new PlaceholderCloud(),
): Promise<{
  resources: PlannedResource[];
  outputs: StackOutputs;
  evaluationMs: number;
  warnings: string[];
}> {
  const start = performance.now();
  const run = await runMocked(cloud, () => defineStack(config, nowMs, stackName), {
    stack: stackName,
  });
  const evaluationMs = performance.now() - start;
  if (run.failures.length) throw new PlanError(run.failures);
  const resources = run.declared.map((d) => ({
    type: d.type,
    name: d.name,
    custom: d.custom,
    inputs: flattenInputs(d.rawInputs),
  }));
  const warnings = run.logs
    .filter((l) => l.severity === "warn" || l.severity === "error")
    .map((l) => l.message);
  return { resources, outputs: run.result, evaluationMs, warnings };
}
