import { describe, expect, it } from "vitest";
import { FLOW_SERVICE_APP_ID } from "../clouds";
import { findFlowService, flowLookupFailure, lookupFlowService } from "./flow-service";
import { resolveDeep } from "../engine/mock-engine";
import { FakeAzure, FLOW_SP_OBJECT_ID, FLOW_USER_SCOPE_ID } from "../test/helpers/fake-azure";

describe("looking up the Flow service principal", () => {
  it("finds it by the Flow service's app ID and takes the User scope ID from it", async () => {
    const { result } = await new FakeAzure().run(() => lookupFlowService());
    expect(result.appId).toBe(FLOW_SERVICE_APP_ID);
    expect(await resolveDeep([result.objectId, result.userScopeId])).toEqual([
      FLOW_SP_OBJECT_ID,
      FLOW_USER_SCOPE_ID,
    ]);
  });

  it("fails with the command that provisions it when the tenant lacks it", async () => {
    const { result } = await new FakeAzure({ flowServiceMissing: true }).run(() => ({
      found: findFlowService().catch((e: Error) => e),
    }));
    const error = (await result.found) as Error;
    expect(error.message).toContain(`was not found in this tenant`);
    expect(error.message).toContain(`Provision it once with: az ad sp create --id ${FLOW_SERVICE_APP_ID}`);
    // The provider's own words are kept.
    expect(error.message).toContain("no service principal found with application ID");
  });
});

describe("a failed look-up", () => {
  it("tells an administrator to grant read access when the deploying identity may not read service principals", () => {
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
