/**
 * A whole stack under the fake Azure, as the program tests run it: its config, one `pulumi up`, the
 * vault every stack with a secret or certificate caller declares, and callers of every kind.
 */
import { parseStackConfig, type StackConfig } from "../../config";
import { resolveDeep } from "../../engine/mock-engine";
import { defineStack } from "../../program";
import { declarations, type FakeAzure, SUBSCRIPTION_ID, T } from "./fake-azure";

/** The principal of an existing managed identity (`logic-app` below); give it to the fake as a principal. */
export const LOGIC_APP_PRINCIPAL = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c";

/** A managed-identity caller brought by the principal ID of an existing identity. */
export const LOGIC_APP_CALLER = {
  name: "logic-app",
  credential: "managedIdentity",
  managedIdentity: { principalId: LOGIC_APP_PRINCIPAL },
};

/** One caller of each credential kind but `user`, the managed identity brought by principal ID. */
export const EVERY_KIND_CALLERS = [
  { name: "erp" },
  { name: "sap", credential: "certificate" },
  {
    name: "deploy-bot",
    credential: "federated",
    federatedCredentials: [{ github: { repository: "contoso/erp-sync", environment: "prod" } }],
  },
  LOGIC_APP_CALLER,
];

/** A managed-identity caller whose identity the stack creates. */
export const CREATED_IDENTITY_CALLER = {
  name: "func",
  credential: "managedIdentity",
  managedIdentity: { create: true },
};

/** `<type> <name>` of the vault's resources. */
export const VAULT_NAMES = [
  `${T.rg} vault-rg`,
  `${T.random} vault-suffix`,
  `${T.vault} vault`,
  `${T.role} vault-deployer`,
];

/** Stack `dev`'s config: `callers`, then each `flow-trigger-auth:<key>` of `extra` (JSON unless a string). */
export function stackConfig(
  callers: unknown[],
  extra: Record<string, unknown> = {},
  { location = true } = {},
): StackConfig {
  const raw: Record<string, string> = { "flow-trigger-auth:callers": JSON.stringify(callers) };
  if (location) raw["azure-native:location"] = "westeurope";
  raw["azure-native:subscriptionId"] = SUBSCRIPTION_ID;
  for (const [k, v] of Object.entries(extra))
    raw[`flow-trigger-auth:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  return parseStackConfig(raw, "dev");
}

/** One `pulumi up` of `cfg` at `now` against `fake`, outputs resolved when it succeeded. */
export async function up(fake: FakeAzure, cfg: StackConfig, now: number) {
  const run = await fake.run(() => defineStack(cfg, now, "dev"), "dev", now);
  const resolved = run.failures.length ? undefined : ((await resolveDeep(run.result)) as any);
  return { ...run, resolved, ...declarations(run.declared) };
}
