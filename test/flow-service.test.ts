import { describe, expect, it } from "vitest";
import { FLOW_SERVICE_APP_ID } from "../clouds";
import { findFlowService, lookupFlowService } from "../components/flow-service";
import { FLOW_SP_OBJECT_ID, FLOW_USER_SCOPE_ID, installMocks, valueOf } from "./helpers/mocks";

describe("looking up the Flow service principal", () => {
  it("finds it by the Flow service's app ID and takes the User scope ID from it", async () => {
    installMocks();
    const flow = lookupFlowService();
    expect(flow.appId).toBe(FLOW_SERVICE_APP_ID);
    expect(await valueOf(flow.objectId)).toBe(FLOW_SP_OBJECT_ID);
    expect(await valueOf(flow.userScopeId)).toBe(FLOW_USER_SCOPE_ID);
  });

  it("fails with the command that provisions it when the tenant lacks it", async () => {
    installMocks({ flowServiceMissing: true });
    await expect(findFlowService()).rejects.toThrow(
      `was not found in this tenant. Provision it once with: az ad sp create --id ${FLOW_SERVICE_APP_ID}`,
    );
  });
});

describe("a failed look-up", () => {
  it("tells an administrator to grant read access when the deploying identity may not read service principals", async () => {
    const { flowLookupFailure } = await import("../components/flow-service");
    const message = flowLookupFailure(
      "Authorization_RequestDenied: Insufficient privileges to complete the operation.",
    );
    expect(message).toContain("Insufficient privileges");
    expect(message).toContain("Application.Read.All or Directory.Read.All");
    expect(flowLookupFailure('No service principal found for application ID "7df0"')).toContain(
      "was not found in this tenant",
    );
  });
});
