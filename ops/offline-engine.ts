/**
 * Evaluates the Pulumi program with the engine mocked: no cloud, no credentials, no Pulumi CLI.
 * Used by `npm run validate` (the plan a config would produce) and `npm run bench`.
 * Computed values are shown as placeholders such as `<clientId of erp>`, never invented IDs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { defineStack, type StackOutputs } from "../program";

/** One resource the program would declare. */
export interface PlannedResource {
  type: string;
  name: string;
  /** True for cloud resources, false for this project's components. */
  custom: boolean;
  /** Inputs flattened to dotted paths; secrets shown as `[secret]`. */
  inputs: Record<string, string>;
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const isSecretMarker = (v: unknown): boolean =>
  !!v && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;

/**
 * Flattens inputs to `a.b[0].c = value`. The engine marks a whole object secret when any field in it
 * is; inside such an object, text is shown as `[secret]` while numbers and flags (an expiry) stay readable.
 */
export function flattenInputs(
  value: unknown,
  prefix = "",
  out: Record<string, string> = {},
  secret = false,
): Record<string, string> {
  if (isSecretMarker(value)) flattenInputs((value as { value: unknown }).value, prefix, out, true);
  else if (Array.isArray(value)) value.forEach((v, i) => flattenInputs(v, `${prefix}[${i}]`, out, secret));
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flattenInputs(v, prefix ? `${prefix}.${k}` : k, out, secret);
  } else if (value !== undefined)
    out[prefix] = secret && typeof value === "string" ? "[secret]" : String(value);
  return out;
}

/** Answers of the mocked engine: the shapes Azure and Entra return, with placeholders for what only a deployment knows. */
function placeholderMocks(planned: PlannedResource[], clock: { lastMs: number }): pulumi.runtime.Mocks {
  return {
    newResource(args) {
      const inputs = args.inputs as Record<string, unknown>;
      const props = (inputs.properties ?? {}) as Record<string, unknown>;
      const of = (what: string) => `<${what} of ${args.name}>`;
      const extra: Record<string, unknown> = {};
      switch (args.type) {
        case "azuread:index/application:Application":
          Object.assign(extra, { objectId: of("objectId"), clientId: of("clientId") });
          break;
        case "azuread:index/servicePrincipal:ServicePrincipal":
          Object.assign(extra, { objectId: of("objectId") });
          break;
        case "azuread:index/applicationPassword:ApplicationPassword":
          Object.assign(extra, { keyId: of("keyId"), value: of("generated secret") });
          break;
        case "random:index/randomString:RandomString":
          Object.assign(extra, { result: "<random>" });
          break;
        case "azure-native:resources:ResourceGroup":
          // Azure's name is `resourceGroupName` when given, else the resource name with a random suffix.
          Object.assign(extra, { name: inputs.resourceGroupName ?? `${args.name}<random>` });
          break;
        case "azure-native:keyvault:Vault":
          Object.assign(extra, {
            name: inputs.vaultName,
            properties: { ...props, vaultUri: `https://${String(inputs.vaultName)}.vault.azure.net/` },
          });
          break;
        case "azure-native:keyvault:Secret": {
          const uri = `https://${String(inputs.vaultName)}.vault.azure.net/secrets/${String(inputs.secretName)}`;
          Object.assign(extra, {
            name: inputs.secretName,
            properties: { secretUri: uri, secretUriWithVersion: `${uri}/<version>` },
          });
          break;
        }
      }
      planned.push({
        type: args.type,
        name: args.name,
        custom: args.custom ?? true,
        inputs: flattenInputs(inputs),
      });
      clock.lastMs = performance.now();
      const id = args.custom === false ? "" : of("id");
      return { id, state: JSON.parse(JSON.stringify({ ...inputs, ...extra })) };
    },
    call(args) {
      switch (args.token) {
        case "azuread:index/getClientConfig:getClientConfig":
          return {
            tenantId: "<tenant of the Azure login>",
            objectId: "<deploying identity>",
            clientId: "<deploying app>",
          };
        case "azure-native:authorization:getClientConfig":
          return {
            tenantId: "<tenant of the Azure login>",
            // Unknown offline: an empty answer skips the "existing vault in another subscription" check,
            // which runs at deploy time.
            subscriptionId: "",
          };
        case "azuread:index/getServicePrincipal:getServicePrincipal":
          return {
            objectId: "<Microsoft Flow Service principal>",
            oauth2PermissionScopeIds: { User: "<User scope ID>" },
          };
        case "azure-native:keyvault:getVault":
          return {
            id: `<ID of vault ${String(args.inputs.vaultName)}>`,
            location: "<region of the vault>",
            properties: { vaultUri: `https://${String(args.inputs.vaultName)}.vault.azure.net/` },
          };
        default:
          return {};
      }
    },
  };
}

/** The program failed while evaluated offline; `message` holds each distinct cause. */
export class PlanError extends Error {
  override readonly name = "PlanError";
  constructor(causes: unknown[]) {
    super([...new Set(causes.map(innermostMessage))].join("\n"));
  }
}

/** The cause without the engine's `error serializing property "x": ` wrappers. */
function innermostMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^(error serializing property "[^"]*": )+/, "");
}

/**
 * The resources and outputs `config` yields at `nowMs`, with the engine mocked; `evaluationMs` is the
 * time from the start of the program to its last resource declaration.
 */
export async function planStack(
  config: StackConfig,
  nowMs: number,
  stackName: string,
): Promise<{ resources: PlannedResource[]; outputs: StackOutputs; evaluationMs: number }> {
  const planned: PlannedResource[] = [];
  const clock = { lastMs: 0 };
  await pulumi.runtime.setMocks(placeholderMocks(planned, clock), "flow-trigger-auth", stackName, false);
  const start = performance.now();
  // A failure inside an Output (a look-up answer the program refuses) surfaces as an unhandled
  // rejection: collect those and report them as the plan's failure.
  const failures: unknown[] = [];
  const collect = (err: unknown) => failures.push(err);
  process.on("unhandledRejection", collect);
  let outputs: StackOutputs;
  try {
    outputs = defineStack(config, nowMs, stackName);
    await settle(planned);
  } finally {
    process.off("unhandledRejection", collect);
  }
  if (failures.length) throw new PlanError(failures);
  return { resources: planned, outputs, evaluationMs: clock.lastMs - start };
}

/** Waits until no resource has been declared for a few quiet ticks (mocked answers are immediate). */
async function settle(planned: PlannedResource[]): Promise<void> {
  let last = -1;
  for (let quiet = 0; quiet < 5;) {
    await new Promise((r) => setTimeout(r, 5));
    if (planned.length === last) quiet++;
    else [quiet, last] = [0, planned.length];
  }
}
