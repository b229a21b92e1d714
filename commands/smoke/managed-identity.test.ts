/**
 * `smoke --credential managed-identity`: the token comes from the Azure resource's managed-identity
 * endpoint (App Service's, on the stand-in: IDENTITY_ENDPOINT and IDENTITY_HEADER, read by
 * @azure/identity from the process environment), for the user-assigned identity named by its client
 * ID. What the endpoint answers is read, not retried blindly: an identity it does not know ends the run
 * at once, only 429 and 5xx are retried, and the report names the endpoint as the token source.
 * In a file of its own: @azure/identity remembers the identity source for the whole process.
 */
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { smoke } from "./smoke";
import { FakeIo } from "../../test/helpers/fake-io";
import { managedIdentityScenario } from "../../standin/scenario";
import { createStandin, MANAGED_IDENTITY_HEADER, type Standin } from "../../standin/standin";

let standin: Standin;

beforeAll(async () => {
  standin = await createStandin("https://127.0.0.1:8443");
  vi.stubEnv("IDENTITY_ENDPOINT", standin.managedIdentityEndpoint);
  vi.stubEnv("IDENTITY_HEADER", MANAGED_IDENTITY_HEADER);
});
afterAll(() => {
  vi.unstubAllEnvs();
});

interface Report {
  verdict: string;
  checks: { name: string; ok: boolean; status?: number; code?: string; message: string }[];
}

const world = (assigned = true) => managedIdentityScenario(standin, assigned);

/** Runs the smoke test; `reachable: false`: nothing listens at the identity endpoint (connection refused). */
async function run(w: ReturnType<typeof world>, reachable = true) {
  const io = new FakeIo({
    IDENTITY_ENDPOINT: standin.managedIdentityEndpoint,
    IDENTITY_HEADER: MANAGED_IDENTITY_HEADER,
  });
  io.routes.set("127.0.0.1:8443", (input, init) => {
    if (
      !reachable &&
      new URL(String(input instanceof Request ? input.url : input)).pathname.startsWith("/msi/")
    ) {
      const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8443"), {
        code: "ECONNREFUSED",
      });
      return Promise.reject(new TypeError("fetch failed", { cause: refused }));
    }
    return standin.fetch(input, init);
  });
  const before = msiCalls().length;
  const code = await smoke(
    [
      "--trigger-url",
      w.triggerUrl,
      "--tenant-id",
      w.tenantId,
      "--client-id",
      w.identity.clientId,
      "--credential",
      "managed-identity",
      "--json",
    ],
    io,
  );
  const report = io.json<Report>();
  return {
    code,
    io,
    report,
    token: report.checks.find((c) => c.name === "token")!,
    calls: msiCalls().length - before,
  };
}

const msiCalls = () => standin.calls.filter((c) => c.path.startsWith("/msi/token"));

test("a user-assigned managed identity passes by its client ID; its principal ID is the token's oid and the endpoint is the token source", async () => {
  const w = world();
  const r = await run(w);
  expect(r.code, r.io.allText).toBe(0);
  expect(r.token.message).toContain(`oid ${w.identity.principalId}`);
  expect(r.token.message).toContain(`from ${standin.managedIdentityEndpoint} `);
  expect(r.token.message).not.toContain("login.microsoftonline.com");
  // The endpoint's header is a secret of the platform: never printed.
  expect(r.io.allText).not.toContain(MANAGED_IDENTITY_HEADER);
  const msi = msiCalls().at(-1)!;
  expect(msi.path).toContain(`client_id=${w.identity.clientId}`);
  expect(msi.path).toContain("resource=https%3A%2F%2Fservice.flow.microsoft.com%2F");
});

test("an identity the endpoint does not know ends the run at once (exit 1): not assigned here, or a wrong client ID", async () => {
  const w = world(false);
  const r = await run(w);
  expect(r.code).toBe(1);
  expect(r.calls).toBe(1);
  expect(r.token).toMatchObject({ ok: false, status: 400, code: "ManagedIdentityRefused" });
  expect(r.token.message).toContain(
    `${standin.managedIdentityEndpoint}: 400 ManagedIdentityRefused: No User Assigned or Delegated Managed Identity found`,
  );
  expect(r.token.message).toContain(
    "the identity is not assigned to this Azure resource, or the client ID is wrong",
  );
  expect(r.token.message).not.toContain("login.microsoftonline.com");
  expect(r.token.message).not.toContain("Entra ID refused");
});

test("5xx and 429 from the endpoint are retried within the budget", async () => {
  const w = world();
  standin.failNext({ managedIdentity: true }, 1, { status: 503 });
  standin.failNext({ managedIdentity: true }, 1, { status: 429, retryAfter: "1" });
  const r = await run(w);
  expect(r.code, r.io.allText).toBe(0);
  expect(r.calls).toBe(3);
});

test("no identity endpoint answering (not an Azure resource) ends the run at once, naming the endpoint", async () => {
  const w = world();
  const r = await run(w, false);
  expect(r.code).toBe(1);
  expect(r.token).toMatchObject({ ok: false, code: "ManagedIdentityUnreachable" });
  expect(r.token.message).toContain(`no answer from ${standin.managedIdentityEndpoint} (ECONNREFUSED)`);
  expect(r.report.checks.find((c) => c.name === "token")!.message).not.toContain("attempts");
  expect(r.token.message).toContain("no managed-identity endpoint answers here");
});
