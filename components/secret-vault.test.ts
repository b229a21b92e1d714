import { describe, expect, it } from "vitest";
import { vaultPermissionModelProblem, vaultSubscriptionProblem } from "./secret-vault";
import { VAULT_NAME_MAX, vaultNameBase, VAULT_SUFFIX_LENGTH } from "../naming";

describe("an existing vault", () => {
  it("is refused when it uses access policies, with the command that switches it to Azure RBAC", () => {
    expect(vaultPermissionModelProblem("kv-shared", false)).toContain(
      "az keyvault update --name kv-shared --enable-rbac-authorization true",
    );
    expect(vaultPermissionModelProblem("kv-shared", true)).toBeUndefined();
  });

  it("is refused when it lives in another subscription than the stack deploys to", () => {
    const sub = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    expect(vaultSubscriptionProblem("kv", sub, "ffffffff-4e5f-4a6b-8c7d-9e0f1a2b3c4d")).toMatch(
      /flow-trigger-auth:keyVault\.existingVaultId: vault kv is in subscription 0a1b2c3d.*set azure-native:subscriptionId/,
    );
    expect(vaultSubscriptionProblem("kv", sub, sub.toUpperCase())).toBeUndefined();
  });
});

describe("generated vault names", () => {
  it.each([
    ["flow", "dev", "flow-dev"],
    ["contoso-flow", "production-west", "contoso-flow-prod"],
    ["a-", "-b", "a-b"],
    ["abcdefghijkl", "mnopqrstuvwxyz12", "abcdefghijkl-mnop"],
    ["flow-", "x", "flow-x"],
  ])("%s + %s gives a base %s that leaves room for the suffix", (prefix, env, base) => {
    expect(vaultNameBase(prefix, env)).toBe(base);
    const full = `${base}-${"x".repeat(VAULT_SUFFIX_LENGTH)}`;
    expect(full.length).toBeLessThanOrEqual(VAULT_NAME_MAX);
    expect(full).toMatch(/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/);
    expect(full).not.toContain("--");
  });
});

describe("the Key Vault Secrets User role definition", () => {
  it("is taken in the subscription of the secret it is assigned on", async () => {
    const { secretsUserRoleDefinitionId } = await import("./rotating-secret");
    const secretId =
      "/subscriptions/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/secrets/erp-client-secret";
    expect(secretsUserRoleDefinitionId(secretId)).toBe(
      "/subscriptions/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
    );
  });
});

describe("a vault secret's URI", () => {
  it("is the vault's URI plus secrets/<name>, whether or not the vault URI ends with a slash", async () => {
    const { secretUriIn } = await import("./rotating-secret");
    expect(secretUriIn("https://kv.vault.azure.net/", "erp-client-secret")).toBe(
      "https://kv.vault.azure.net/secrets/erp-client-secret",
    );
    expect(secretUriIn("https://kv.vault.usgovcloudapi.net", "erp-client-secret")).toBe(
      "https://kv.vault.usgovcloudapi.net/secrets/erp-client-secret",
    );
    expect(secretUriIn(undefined, "erp-client-secret")).toBeUndefined();
  });
});

describe("the alerts' action group short name", () => {
  it.each([
    ["flow", "dev", "flow-dev"],
    ["contoso-flow", "test", "contoso-test"],
    ["contoso", "production", "c-production"],
    ["a", "production-west", "production-w"],
    ["flow-", "prod", "flow-prod"],
  ])(
    "%s + %s gives %s: at most 12 characters, environment kept whole when it fits",
    async (prefix, env, short) => {
      const { actionGroupShortName } = await import("../naming");
      expect(actionGroupShortName(prefix, env)).toBe(short);
      expect(short.length).toBeLessThanOrEqual(12);
    },
  );
});
