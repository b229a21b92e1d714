import * as pulumi from "@pulumi/pulumi";
import { expect, it, vi } from "vitest";
import { resolveDeep } from "../engine/mock-engine";
import { stackOutputsSchema } from "../outputs";
import { FakeAzure, TENANT_ID } from "./helpers/fake-azure";

it("pulumi up's entry point reads stack config and exports the documented outputs", async () => {
  process.env.PULUMI_CONFIG = JSON.stringify({
    "azure-native:location": "westeurope",
    "azure-native:subscriptionId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "flow-trigger-auth:callers": JSON.stringify([{ name: "erp" }, { name: "crm" }]),
    "flow-trigger-auth:rotation": JSON.stringify({ rotationDays: 30, maxLifetimeDays: 45 }),
    "flow-trigger-auth:flows": JSON.stringify([
      {
        name: "invoice-intake",
        triggerUrl:
          "https://7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c.6d.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/5f0d1c2b3a4e4f60a1b2c3d4e5f60718/triggers/manual/paths/invoke?api-version=1",
        callers: ["crm"],
        flowId: "3b1f6a2e-8d4c-4f1a-9e2b-7c6d5e4f3a21",
        dataverseUrl: "https://contoso-dev.crm4.dynamics.com",
      },
    ]),
  });
  const before = Date.now();
  const run = await new FakeAzure().run(() => import("../index"), "test");
  const after = Date.now();
  expect(run.failures).toEqual([]);
  const outputs = (await resolveDeep({ ...run.result })) as any;
  expect(Object.keys(outputs).sort()).toEqual([
    "allowedUsers",
    "audience",
    "callers",
    "cloud",
    "flows",
    "keyVaultName",
    "keyVaultUri",
    "rotationState",
    "scope",
    "tenantId",
    "tokenEndpoint",
  ]);
  expect(outputs.tenantId).toBe(TENANT_ID);
  expect(outputs.scope).toBe("https://service.flow.microsoft.com//.default");
  expect(outputs.callers.erp.displayName).toBe("flow-test-erp");
  expect(outputs.allowedUsers).toHaveLength(2);
  expect(outputs.flows["invoice-intake"].allowedUsers).toEqual([
    outputs.callers.crm.servicePrincipalObjectId,
  ]);
  expect(stackOutputsSchema.safeParse(outputs).error?.issues ?? []).toEqual([]);
  // "now" is the system clock at the run: a first run publishes the slot whose 30-day grid period began
  // within the last 15 days, ending 45 days after that start.
  const expires = Date.parse(outputs.callers.crm.secretExpiresAt);
  expect(expires % (15 * 86_400_000)).toBe(0);
  expect(expires).toBeGreaterThan(before + 30 * 86_400_000 - 1000);
  expect(expires).toBeLessThanOrEqual(after + 45 * 86_400_000);
});

it("a stack without secrets or certificates exports no vault, and lists every caller's principal", async () => {
  const principal = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c";
  const run = await new FakeAzure({
    principals: {
      [principal]: { clientId: "5b1e0a2c-1111-4222-8333-444455556666", displayName: "logic-app" },
    },
  }).run(async () => {
    pulumi.runtime.setAllConfig({
      "flow-trigger-auth:callers": JSON.stringify([
        {
          name: "bot",
          credential: "federated",
          federatedCredentials: [{ github: { repository: "contoso/erp-sync", environment: "prod" } }],
        },
        { name: "logic-app", credential: "managedIdentity", managedIdentity: { principalId: principal } },
      ]),
    });
    vi.resetModules();
    return import("../index");
  }, "test");
  expect(run.failures).toEqual([]);
  const outputs = (await resolveDeep({ ...run.result })) as any;
  expect(outputs.keyVaultName).toBeUndefined();
  expect(outputs.keyVaultUri).toBeUndefined();
  expect(stackOutputsSchema.safeParse(outputs).error?.issues ?? []).toEqual([]);
  expect(outputs.callers.bot.credential).toBe("federated");
  expect(outputs.allowedUsers).toHaveLength(2);
  expect(outputs.allowedUsers).toContain(principal);
});
