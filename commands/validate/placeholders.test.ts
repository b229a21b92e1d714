import { describe, expect, it } from "vitest";
import { placeholders } from "./placeholders";

const ZERO = "00000000-0000-0000-0000-000000000000";

describe("placeholders in a stack's config", () => {
  it("names each key holding the zero GUID or an ID or host label of zeros, nested keys by their path", () => {
    const raw = {
      "azure-native:subscriptionId": ZERO,
      "azure-native:location": "westeurope",
      "flow-trigger-auth:callers": JSON.stringify([
        { name: "erp", secretReaders: [{ objectId: ZERO, type: "ServicePrincipal" }] },
        { name: "crm", owners: ["3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"] },
      ]),
      "flow-trigger-auth:flows": JSON.stringify([
        {
          name: "approvals",
          triggerUrl:
            "https://000000000000000000000000000000.00.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/00000000000000000000000000000000/triggers/manual/paths/invoke?api-version=1",
          dataverseUrl: "https://org00000000.crm.dynamics.com",
        },
      ]),
    };
    expect(placeholders(raw).map((p) => p.path)).toEqual([
      "azure-native:subscriptionId",
      "flow-trigger-auth:callers[0].secretReaders[0].objectId",
      "flow-trigger-auth:flows[0].triggerUrl",
      "flow-trigger-auth:flows[0].dataverseUrl",
    ]);
  });

  it("leaves real values alone, zeros inside an ID or a name included", () => {
    const raw = {
      "azure-native:subscriptionId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      "flow-trigger-auth:rotation": JSON.stringify({ rotationDays: 90, maxLifetimeDays: 1000 }),
      "flow-trigger-auth:callers": JSON.stringify([
        { name: "erp-100000000", owners: ["a0000000-0000-4000-8000-000000000001"] },
      ]),
      "flow-trigger-auth:flows": JSON.stringify([{ dataverseUrl: "https://org1a2b3c4d.crm4.dynamics.com" }]),
    };
    expect(placeholders(raw)).toEqual([]);
  });
});
