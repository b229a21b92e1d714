/**
 * `smoke --credential managed-identity`: the token comes from the Azure resource's managed-identity
 * endpoint (App Service's, on the stand-in: IDENTITY_ENDPOINT and IDENTITY_HEADER, read by
 * @azure/identity from the process environment), for the user-assigned identity named by its client
 * ID. In a file of its own: @azure/identity remembers the identity source for the whole process.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { smoke } from "../cli/smoke";
import { FakeIo } from "./helpers/fake-io";
import { createStandin, MANAGED_IDENTITY_HEADER, type Standin } from "./standin/standin";

let standin: Standin;

beforeAll(async () => {
  standin = await createStandin("https://127.0.0.1:8443");
  vi.stubEnv("IDENTITY_ENDPOINT", standin.managedIdentityEndpoint);
  vi.stubEnv("IDENTITY_HEADER", MANAGED_IDENTITY_HEADER);
});
afterAll(() => {
  vi.unstubAllEnvs();
});

test("a user-assigned managed identity passes by its client ID, and its principal ID is the token's oid", async () => {
  const tenantId = randomUUID();
  const identity = { tenantId, clientId: randomUUID(), principalId: randomUUID() };
  standin.addManagedIdentity(identity);
  standin.addTenant({ tenantId, apps: [] });
  const flowId = randomUUID().replace(/-/g, "");
  const triggerUrl = standin.addFlow({
    flowId,
    tenantId,
    mode: "users",
    allowedOids: [identity.principalId],
  });
  const io = new FakeIo({ IDENTITY_HEADER: MANAGED_IDENTITY_HEADER });
  io.routes.set("127.0.0.1:8443", standin.fetch);
  const code = await smoke(
    [
      "--trigger-url",
      triggerUrl,
      "--tenant-id",
      tenantId,
      "--client-id",
      identity.clientId,
      "--credential",
      "managed-identity",
      "--json",
    ],
    io,
  );
  expect(code, io.allText).toBe(0);
  const report = io.json<{ checks: { name: string; message: string }[] }>();
  expect(report.checks.find((c) => c.name === "token")?.message).toContain(`oid ${identity.principalId}`);
  // The endpoint's header is a secret of the platform: never printed.
  expect(io.allText).not.toContain(MANAGED_IDENTITY_HEADER);
  const msi = standin.calls.filter((c) => c.path.startsWith("/msi/token"));
  expect(msi).toHaveLength(1);
  expect(msi[0].path).toContain(`client_id=${identity.clientId}`);
  expect(msi[0].path).toContain("resource=https%3A%2F%2Fservice.flow.microsoft.com%2F");
});
