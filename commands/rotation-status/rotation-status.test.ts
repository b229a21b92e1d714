import { describe, expect, it } from "vitest";
import { fakePulumi, fixture, runCli } from "../../test/helpers/cli";
import { devVault, fakeCredential, fakeVault, reachVault } from "../../standin/key-vault";

const DEV = fixture("outputs/dev.json"); // R=90: secrets expire 2027-03-03, next rotation 2026-12-03
const PROD = fixture("outputs/prod.json"); // R=60: secrets expire 2027-02-08, next rotation 2026-12-10
const TEST = fixture("outputs/test.json"); // erp and crm stuck since 2026-08-20, hr-sync current

describe("npm run rotation-status", () => {
  it("exits 0 and shows each caller's secret expiry and next rotation when the schedule is on time", async () => {
    const r = await runCli("rotation-status", ["--outputs", DEV, "--now", "2026-11-22T09:30:00Z"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    for (const caller of ["crm", "erp", "hr-sync"]) {
      expect(r.stdout).toMatch(
        new RegExp(
          `^  ${caller} +OK +expires 2027-03-03T00:00:00Z \\(in 101 day\\(s\\)\\); next rotation 2026-12-03T00:00:00Z \\(in 11 day\\(s\\)\\)$`,
          "m",
        ),
      );
    }
    expect(r.stdout).toContain("All 3 caller(s) with a secret or certificate OK.");
  });

  it("exits 1 naming every caller at risk, and only those", async () => {
    const r = await runCli("rotation-status", [
      "--outputs",
      DEV,
      "--outputs",
      TEST,
      "--now",
      "2026-11-22T09:30:00Z",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("rotation-status: at risk: test/crm, test/erp\n");
    expect(r.stdout).toContain("2 caller(s) AT RISK:");
    expect(r.stdout).toContain(
      "test/erp: published secret expires 2026-12-10T00:00:00Z, in 18 day(s) (within 30 days); " +
        "rotation overdue by 95 day(s) (was due 2026-08-20T00:00:00Z): the scheduled `pulumi up` has stopped or is failing",
    );
    expect(r.stdout).not.toMatch(/test\/hr-sync:|dev\/\w+:/);
  });

  it("flags a secret expiring within --warn-days, and not when the window is smaller", async () => {
    const now = "2026-12-10T12:00:00Z"; // prod's secrets expire in 59.5 days; rotation due today (within grace)
    const wide = await runCli("rotation-status", ["--outputs", PROD, "--now", now, "--warn-days", "60"]);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toBe("rotation-status: at risk: prod/billing, prod/erp\n");
    expect(wide.stdout).toContain(
      "prod/erp: published secret expires 2027-02-08T00:00:00Z, in 60 day(s) (within 60 days)",
    );

    const narrow = await runCli("rotation-status", ["--outputs", PROD, "--now", now]);
    expect(narrow.code).toBe(0);
    const zero = await runCli("rotation-status", ["--outputs", PROD, "--now", now, "--warn-days", "0"]);
    expect(zero.code).toBe(0);
  });

  it("flags a rotation late by more than a day (the schedule stopped), but not one within the day", async () => {
    const within = await runCli("rotation-status", ["--outputs", DEV, "--now", "2026-12-03T23:00:00Z"]);
    expect(within.code).toBe(0);
    const late = await runCli("rotation-status", ["--outputs", DEV, "--now", "2026-12-04T01:00:00Z"]);
    expect(late.code).toBe(1);
    expect(late.stderr).toBe("rotation-status: at risk: dev/crm, dev/erp, dev/hr-sync\n");
    expect(late.stdout).toMatch(/^ {2}erp +OVERDUE /m);
    expect(late.stdout).toContain("rotation overdue by 2 day(s) (was due 2026-12-03T00:00:00Z)");
  });

  it("reports an expired secret as expired", async () => {
    const r = await runCli("rotation-status", ["--outputs", DEV, "--now", "2027-03-05T00:00:00Z"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {2}crm +EXPIRED +expires 2027-03-03T00:00:00Z \(2 day\(s\) ago\)/m);
    expect(r.stdout).toContain("dev/crm: published secret expired 2027-03-03T00:00:00Z (2 day(s) ago)");
  });

  it("--json prints one JSON object with every caller's status and the callers at risk", async () => {
    const r = await runCli("rotation-status", ["--outputs", TEST, "--now", "2026-11-22T09:30:00Z", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ now: "2026-11-22T09:30:00Z", warnDays: 30, live: false, exitCode: 1 });
    expect(report.atRisk).toEqual(["test/crm", "test/erp"]);
    expect(
      report.callers.map((c: any) => [c.caller, c.status, c.daysUntilExpiry, c.daysRotationLate]),
    ).toEqual([
      ["crm", "expiring", 18, 95],
      ["erp", "expiring", 18, 95],
      ["hr-sync", "ok", 101, 0],
    ]);
    expect(report.callers[1]).toMatchObject({
      keyVaultSecretName: "erp-client-secret",
      keyVaultSecretUri: "https://flow-test-p8v4zn.vault.azure.net/secrets/erp-client-secret",
      expiresAt: "2026-12-10T00:00:00Z",
      expirySource: "outputs",
    });
  });

  it("--stack reads the outputs through the Pulumi CLI, one section per stack", async () => {
    const pulumi = await fakePulumi({ dev: DEV, test: TEST });
    const r = await runCli(
      "rotation-status",
      ["--stack", "dev", "--stack", "test", "--now", "2026-11-22T09:30:00Z"],
      {
        pulumi,
      },
    );
    expect(r.code).toBe(1);
    expect(await pulumi.calls()).toEqual([
      "stack output --json --stack dev",
      "stack output --json --stack test",
    ]);
    expect(r.stdout.indexOf("\ndev:\n")).toBeLessThan(r.stdout.indexOf("\ntest:\n"));
    expect(r.stderr).toBe(
      [
        "pulumi: asking for stack dev's outputs (pulumi stack output --json --stack dev)",
        "pulumi: asking for stack test's outputs (pulumi stack output --json --stack test)",
        "rotation-status: at risk: test/crm, test/erp",
        "",
      ].join("\n"),
    );
  });

  it("exits 2 naming the option when --warn-days is not a whole number of days, 0 or more", async () => {
    for (const bad of ["-1", "1.5", "thirty", ""]) {
      const r = await runCli("rotation-status", ["--outputs", DEV, "--warn-days", bad]);
      expect(r.code, `--warn-days ${JSON.stringify(bad)}`).toBe(2);
      expect(r.stderr).toContain("--warn-days: must be a whole number of days, 0 or more");
    }
  });

  it("exits 2 on a bad --now, input that is not stack outputs, or no input at all", async () => {
    const now = await runCli("rotation-status", ["--outputs", DEV, "--now", "next tuesday"]);
    expect(now.code).toBe(2);
    expect(now.stderr).toContain("--now: must be an ISO 8601 time");
    expect(now.stderr).not.toContain("next tuesday");

    const notOutputs = await runCli("rotation-status", ["--outputs", fixture("not-outputs.json")]);
    expect(notOutputs.code).toBe(2);
    expect(notOutputs.stdout).toBe("");
    expect(notOutputs.stderr).toContain("is not flow-trigger-auth stack outputs");

    const none = await runCli("rotation-status", ["--now", "2026-11-22T09:30:00Z"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("give --outputs FILE");
  });

  it("--live exits 2 naming the secret and the vault when Key Vault cannot be read, never guessing from the outputs", async () => {
    // Nothing answers at the vault's host: the read fails at once.
    const r = await runCli("rotation-status", ["--outputs", DEV, "--live", "--now", "2026-11-22T09:30:00Z"], {
      env: {},
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^rotation-status: cannot read secret [a-z-]+-client-secret in https:\/\/flow-dev-k3x9q2\.vault\.azure\.net\/: /m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("--live tells each Key Vault read and each wait as it begins, retrying a throttled vault on the command's clock", async () => {
    const vault = devVault();
    vault.failNext(1, { status: 429, code: "Throttled" });
    const r = await runCli("rotation-status", ["--outputs", DEV, "--live", "--now", "2026-11-22T09:30:00Z"], {
      setup: (io) => reachVault(io, vault),
    });
    expect(r.code, r.stderr).toBe(0);
    const origin = "https://flow-dev-k3x9q2.vault.azure.net";
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      `key vault: reading the versions of crm-client-secret in ${origin}/`,
      `key vault: 429 from ${origin}, retrying in 0.8 s (attempt 2, 120 s of budget left)`,
      `key vault: reading the versions of erp-client-secret in ${origin}/`,
      `key vault: reading the versions of hr-sync-client-secret in ${origin}/`,
    ]);
    expect(r.io.sleeps).toEqual([750]);
  });

  it("--live: a Key Vault that never answers ends at --max-wait-s, saying what timed out (exit 2)", async () => {
    const vault = fakeVault("https://flow-dev-k3x9q2.vault.azure.net");
    vault.failNext(1000, "hang");
    const r = await runCli(
      "rotation-status",
      ["--outputs", DEV, "--live", "--now", "2026-11-22T09:30:00Z", "--max-wait-s", "30"],
      {
        setup: (io) => {
          io.azureCredential = fakeCredential();
          io.routes.set("flow-dev-k3x9q2.vault.azure.net", (input, init) => {
            const answer = vault.fetch(input, init);
            // The request hangs: the fake clock moves to the earliest timeout, which fires.
            void Promise.resolve().then(() => io.expireEarliestTimer());
            return answer;
          });
        },
      },
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /reading [a-z-]+-client-secret in https:\/\/flow-dev-k3x9q2\.vault\.azure\.net\/ timed out \(--max-wait-s\)/,
    );
    expect(r.io.nowMs - Date.parse("2026-11-22T09:30:00Z")).toBeLessThanOrEqual(30_000);
  });

  it.each([
    // now, --warn-days, days until expiry, days late, status: dev's secrets expire 2027-03-03T00:00:00Z
    // and its rotation was due 2026-12-03T00:00:00Z.
    ["2026-12-02T00:00:00Z", 91, 91, 0, "expiring"], // 91 days exactly
    ["2026-12-01T23:00:00Z", 91, 92, 0, "ok"], // 91 days and 1 hour: the 92nd day has begun
    ["2026-12-02T01:00:00Z", 91, 91, 0, "expiring"], // 90 days and 23 hours
    ["2026-12-03T12:00:00Z", 30, 90, 1, "ok"], // late by half a day: not more than a day
    ["2026-12-04T01:00:00Z", 30, 89, 2, "overdue"], // late by a day and an hour
    ["2027-03-03T06:00:00Z", 30, -1, 91, "expired"], // expired 6 hours ago
  ] as const)(
    "at %s (--warn-days %i): %i days to expiry, %i late, %s; the same count in the table, the summary and --json",
    async (now, warn, days, late, status) => {
      const args = ["--outputs", DEV, "--now", now, "--warn-days", String(warn)];
      const text = await runCli("rotation-status", args);
      const erp = JSON.parse((await runCli("rotation-status", [...args, "--json"])).stdout).callers.find(
        (c: { caller: string }) => c.caller === "erp",
      );
      expect(erp).toMatchObject({ daysUntilExpiry: days, daysRotationLate: late, status });
      const expiry = days >= 0 ? `in ${days} day(s)` : `${-days} day(s) ago`;
      const line = text.stdout.split("\n").find((l) => l.startsWith("  erp "));
      expect(line).toContain(`expires 2027-03-03T00:00:00Z (${expiry})`);
      if (late > 0) expect(line).toContain(`(${late} day(s) late)`);
      const summary = text.stdout.split("\n").find((l) => l.startsWith("  dev/erp: ")) ?? "";
      if (status === "expiring") expect(summary).toContain(`, ${expiry} (within ${warn} days)`);
      if (status === "expired") expect(summary).toContain(`expired 2027-03-03T00:00:00Z (${expiry})`);
      if (status === "expired" || status === "overdue")
        expect(summary).toContain(`overdue by ${late} day(s)`);
      if (status === "ok") expect(summary).toBe("");
    },
  );

  it("uses the command's clock without --now", async () => {
    const r = await runCli("rotation-status", ["--outputs", DEV, "--json"], { now: "2026-12-01T06:00:00Z" });
    const report = JSON.parse(r.stdout);
    expect(report.now).toBe("2026-12-01T06:00:00Z");
    // 91 days and 18 hours: the 92nd day has begun.
    expect(report.callers[0].daysUntilExpiry).toBe(92);
  });
});
