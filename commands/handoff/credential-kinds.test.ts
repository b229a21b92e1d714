import { describe, expect, it } from "vitest";
import mixed from "../../test/fixtures/outputs/mixed.json";
import { fixture, runCli } from "../../test/helpers/cli";

// One caller of each kind: erp (secret), billing (certificate, expiring and overdue on 2026-11-22),
// deploy-bot (federated), reports-app (managed identity).
const MIXED = fixture("outputs/mixed.json");

/** The sheet's section of one caller, from its heading to the next. */
function section(sheet: string, caller: string): string {
  const start = sheet.indexOf(`#### \`${caller}\``);
  expect(start, `no section for ${caller}`).toBeGreaterThanOrEqual(0);
  const next = sheet.indexOf("\n#### ", start + 1);
  return sheet.slice(start, next < 0 ? undefined : next);
}

describe("handoff: a stack with every kind of credential", () => {
  it("lists every principal in Allowed users, a managed identity's object ID included", async () => {
    const r = await runCli("handoff", ["--outputs", MIXED]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toContain(mixed.allowedUsers.join(","));
    const mi = section(r.stdout, "reports-app");
    expect(mi).toContain(
      `| **Object ID for Allowed users** (managed identity) | \`${mixed.callers["reports-app"].servicePrincipalObjectId}\` |`,
    );
  });

  it("tells each calling system what to do with its kind of credential, placeholders intact", async () => {
    const r = await runCli("handoff", ["--outputs", MIXED]);
    const secret = section(r.stdout, "erp");
    expect(secret).toContain("#### `erp` (flow-dev-erp): client secret");
    expect(secret).toContain("| Secret expires | `2027-03-03T00:00:00Z` |");
    expect(secret).toContain("send it as `Authorization: Bearer <token>`.");

    const cert = section(r.stdout, "billing");
    expect(cert).toContain("#### `billing` (flow-dev-billing): certificate");
    expect(cert).toContain("| Certificate expires | `2026-11-30T00:00:00Z` |");
    expect(cert).toContain(
      `| Certificate thumbprint (SHA-256) | \`${mixed.callers.billing.certificateThumbprint}\` |`,
    );
    expect(cert).toContain("| Key Vault secret name | `billing-client-certificate` |");
    expect(cert).toMatch(/certificate and its private key \(PEM\)/);

    const fed = section(r.stdout, "deploy-bot");
    expect(fed).toContain("federated credential (no secret)");
    expect(fed).toContain(
      "| Federated credential | issuer `https://token.actions.githubusercontent.com`, subject `repo:contoso/deploy-bot:environment:dev`, audience `api://AzureADTokenExchange` |",
    );
    expect(fed).toMatch(/issuer and subject exactly, case included/);
    expect(fed).not.toMatch(/Key Vault|expires|Next rotation/);

    const mi = section(r.stdout, "reports-app");
    expect(mi).toContain(
      `| Managed identity resource ID | \`${mixed.callers["reports-app"].managedIdentityResourceId}\` |`,
    );
    expect(mi).toMatch(/assign the managed identity to the Azure resource that calls the flow/);
    expect(mi).not.toMatch(/Key Vault|expires|Next rotation/);
  });

  it("--format json keeps each kind's own facts and nothing of the others", async () => {
    const r = await runCli("handoff", ["--outputs", MIXED, "--format", "json"]);
    expect(r.code).toBe(0);
    const sheet = JSON.parse(r.stdout) as {
      environments: { callers: Record<string, unknown>[] }[];
    };
    const byName = Object.fromEntries(sheet.environments[0].callers.map((c) => [c.name, c]));
    expect(byName.billing).toMatchObject({
      credential: "certificate",
      // An outputs file written before the thumbprints were named by their hash is still read.
      certificateThumbprintSha256: mixed.callers.billing.certificateThumbprint,
      keyVaultSecretName: "billing-client-certificate",
    });
    expect(byName["deploy-bot"]).toMatchObject({
      credential: "federated",
      federatedCredentials: mixed.callers["deploy-bot"].federatedCredentials,
    });
    expect(byName["deploy-bot"]).not.toHaveProperty("keyVaultSecretName");
    expect(byName["reports-app"]).toMatchObject({
      credential: "managedIdentity",
      managedIdentityResourceId: mixed.callers["reports-app"].managedIdentityResourceId,
    });
    expect(byName["reports-app"]).not.toHaveProperty("secretExpiresAt");
  });
});
