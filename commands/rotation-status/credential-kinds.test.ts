import { describe, expect, it } from "vitest";
import { fixture, runCli } from "../../test/helpers/cli";

// One caller of each kind: erp (secret), billing (certificate, expiring and overdue on 2026-11-22),
// deploy-bot (federated), reports-app (managed identity).
const MIXED = fixture("outputs/mixed.json");
const NOW = "2026-11-22T09:30:00Z";

describe("rotation-status: a stack with every kind of credential", () => {
  it("judges secrets and certificates, says federated and managed-identity callers have nothing to rotate", async () => {
    const r = await runCli("rotation-status", ["--outputs", MIXED, "--now", NOW]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {2}deploy-bot +- +nothing to rotate \(federated\)$/m);
    expect(r.stdout).toMatch(/^ {2}reports-app +- +nothing to rotate \(managedIdentity\)$/m);
    expect(r.stdout).toMatch(/^ {2}erp +OK +expires 2027-03-03T00:00:00Z/m);
    expect(r.stdout).toMatch(/^ {2}billing +EXPIRING +expires 2026-11-30T00:00:00Z/m);
    // Only the certificate is at risk, and it is called a certificate.
    expect(r.stdout).toContain("1 caller(s) AT RISK:");
    expect(r.stdout).toMatch(
      /mixed\/billing: published certificate expires 2026-11-30T00:00:00Z, in 8 day\(s\)/,
    );
    expect(r.stdout).toMatch(/rotation overdue by 3 day\(s\)/);
    expect(r.stderr).toContain("at risk: mixed/billing");
  });

  it("--json gives every caller a status, nothing-to-rotate included, and lists only the certificate at risk", async () => {
    const r = await runCli("rotation-status", ["--outputs", MIXED, "--now", NOW, "--json"]);
    const report = JSON.parse(r.stdout) as {
      callers: { caller: string; status: string; credential: string }[];
      atRisk: string[];
    };
    const status = Object.fromEntries(report.callers.map((c) => [c.caller, [c.credential, c.status]]));
    expect(status).toEqual({
      billing: ["certificate", "expiring"],
      "deploy-bot": ["federated", "nothing-to-rotate"],
      erp: ["secret", "ok"],
      "reports-app": ["managedIdentity", "nothing-to-rotate"],
    });
    expect(report.atRisk).toEqual(["mixed/billing"]);
  });
});
