/**
 * Stack config as tests write it: a valid config with changes, and the problems a refused one has.
 */
import { expect } from "vitest";
import { ConfigError, parseStackConfig } from "../../config";

export const NS = "flow-trigger-auth";
export const FLOW_HOST = "0a1b2c3d.environment.api.powerplatform.com";
export const GUID = "0f1e2d3c-4b5a-4968-8776-655443322110";
export const VAULT_ID = `/subscriptions/${GUID}/resourceGroups/rg-flow/providers/Microsoft.KeyVault/vaults/kv-flow-dev`;

/** A valid config, then `changes` applied (undefined removes a key). */
export function raw(changes: Record<string, unknown> = {}): Record<string, string> {
  const base: Record<string, unknown> = {
    "azure-native:location": "westeurope",
    "azure-native:subscriptionId": GUID,
    [`${NS}:callers`]: [{ name: "erp" }, { name: "crm" }],
  };
  const merged = { ...base, ...changes };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) {
    if (v !== undefined) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

/** The problems of a config with `changes`, which must be refused. */
export function problems(
  changes: Record<string, unknown>,
  stack = "dev",
): { path: string; message: string }[] {
  try {
    parseStackConfig(raw(changes), stack);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

/** A secret caller named `name` as the config gives it when nothing but the name is set. */
export function plainSecretCaller(name: string) {
  return { name, description: undefined, credential: "secret", owners: [], secretReaders: [], consent: true };
}
