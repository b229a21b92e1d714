/**
 * `smoke --credential managed-identity` on a VM: the token comes from IMDS (on the stand-in through
 * AZURE_POD_IDENTITY_AUTHORITY_HOST, which MSAL uses instead of http://169.254.169.254). IMDS's
 * "Identity not found" ends the run at once; its 410 (updating, Learn: how-to-use-vm-token) is retried.
 * In a file of its own: MSAL keeps the identity source it picks for the whole process.
 */
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { smoke } from "./smoke";
import { FakeIo } from "../../test/helpers/fake-io";
import { managedIdentityScenario } from "../../standin/scenario";
import { createStandin, type Standin } from "../../standin/standin";

let standin: Standin;

beforeAll(async () => {
  standin = await createStandin("https://127.0.0.1:8443");
  for (const name of ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "IMDS_ENDPOINT"])
    vi.stubEnv(name, undefined);
  vi.stubEnv("AZURE_POD_IDENTITY_AUTHORITY_HOST", standin.imdsHost);
});
afterAll(() => {
  vi.unstubAllEnvs();
});

const IMDS_TOKEN = () => `${standin.imdsHost}/metadata/identity/oauth2/token/`;
const imdsCalls = () => standin.calls.filter((c) => c.path.startsWith("/metadata/identity/"));

async function run(assigned: boolean) {
  const { tenantId, identity, triggerUrl } = managedIdentityScenario(standin, assigned);
  const io = new FakeIo({ AZURE_POD_IDENTITY_AUTHORITY_HOST: standin.imdsHost });
  io.routes.set("127.0.0.1:8443", standin.fetch);
  const before = imdsCalls().length;
  const argv = ["--trigger-url", triggerUrl, "--tenant-id", tenantId, "--client-id", identity.clientId];
  const code = await smoke([...argv, "--credential", "managed-identity", "--json"], io);
  const report = io.json<{ checks: { name: string; ok: boolean; code?: string; message: string }[] }>();
  return {
    code,
    io,
    token: report.checks.find((c) => c.name === "token")!,
    calls: imdsCalls().length - before,
  };
}

test("IMDS's 'Identity not found' (400) ends the run at once, naming IMDS as the token source", async () => {
  const r = await run(false);
  expect(r.code).toBe(1);
  expect(r.calls).toBe(1);
  expect(r.token).toMatchObject({ ok: false, code: "ManagedIdentityRefused" });
  expect(r.token.message).toContain(`${IMDS_TOKEN()}: 400 ManagedIdentityRefused: Identity not found`);
  expect(r.token.message).not.toContain("login.microsoftonline.com");
});

test("IMDS updating (410) is retried, then the token comes from IMDS", async () => {
  standin.failNext({ managedIdentity: true }, 1, { status: 410 as 400 });
  const r = await run(true);
  expect(r.code, r.io.allText).toBe(0);
  expect(r.calls).toBe(2);
  expect(r.token.message).toContain(`from ${IMDS_TOKEN()} `);
});
