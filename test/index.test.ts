import { expect, it } from "vitest";
import { installMocks, resolveDeep, settle, TENANT_ID } from "./helpers/mocks";

it("pulumi up's entry point reads stack config and exports the contract's outputs", async () => {
  process.env.PULUMI_CONFIG = JSON.stringify({
    "azure-native:location": "westeurope",
    "flow-trigger-auth:callers": JSON.stringify([{ name: "erp" }, { name: "crm" }]),
    "flow-trigger-auth:rotation": JSON.stringify({ rotationDays: 30, maxLifetimeDays: 45 }),
  });
  const declared = installMocks({ stack: "test" });
  const program = await import("../index");
  const outputs = (await resolveDeep({ ...program })) as any;
  await settle(declared);
  expect(Object.keys(outputs).sort()).toEqual([
    "allowedUsers",
    "audience",
    "callers",
    "cloud",
    "keyVaultName",
    "keyVaultUri",
    "scope",
    "tenantId",
    "tokenEndpoint",
  ]);
  expect(outputs.tenantId).toBe(TENANT_ID);
  expect(outputs.scope).toBe("https://service.flow.microsoft.com//.default");
  expect(outputs.callers.erp.displayName).toBe("flow-test-erp");
  expect(outputs.allowedUsers).toHaveLength(2);
  // "now" is the system clock at the run: the published secret expires 1 to 1.5 rotation periods ahead.
  const left = Date.parse(outputs.callers.crm.secretExpiresAt) - Date.now();
  expect(left).toBeGreaterThan(30 * 86_400_000 - 60_000);
  expect(left).toBeLessThanOrEqual(45 * 86_400_000);
});
