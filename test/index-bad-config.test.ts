import * as pulumi from "@pulumi/pulumi";
import { expect, it } from "vitest";
import { installMocks, settle } from "./helpers/mocks";

it("refuses a bad config before declaring any resource, naming every bad key", async () => {
  process.env.PULUMI_CONFIG = JSON.stringify({
    "flow-trigger-auth:callers": JSON.stringify([{ name: "ERP!" }, { name: "crm", owners: ["not-a-guid"] }]),
    "flow-trigger-auth:rotation": JSON.stringify({ rotationDays: 1 }),
  });
  const declared = installMocks();
  let error: unknown;
  try {
    await import("../index");
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(pulumi.RunError);
  const message = (error as Error).message;
  expect(message).toContain("flow-trigger-auth:callers[0].name");
  expect(message).toContain("flow-trigger-auth:callers[1].owners[0]");
  expect(message).toContain("flow-trigger-auth:rotation.rotationDays");
  expect(message).toContain("azure-native:location");
  await settle(declared);
  expect(declared).toEqual([]);
});
