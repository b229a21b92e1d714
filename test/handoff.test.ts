import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import dev from "./fixtures/outputs/dev.json";
import prod from "./fixtures/outputs/prod.json";
import { fakePulumi, fixture, ROOT, runCli } from "./helpers/cli";

describe("npm run handoff: the flow makers' sheet", () => {
  it("gives the tenant, cloud, token endpoint and the scope with its double slash, saying to copy it exactly and why", async () => {
    const r = await runCli("handoff", ["--outputs", fixture("outputs/dev.json")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("## Environment `dev`");
    expect(r.stdout).toContain(`| Tenant ID | \`${dev.tenantId}\` |`);
    expect(r.stdout).toContain("| Cloud | `public` |");
    expect(r.stdout).toContain(
      `| Token endpoint | \`https://login.microsoftonline.com/${dev.tenantId}/oauth2/v2.0/token\` |`,
    );
    expect(r.stdout).toContain("`https://service.flow.microsoft.com//.default`");
    expect(r.stdout).toContain("Copy the scope exactly, double slash included.");
    expect(r.stdout).toMatch(/single slash the trigger refuses the token \(MisMatchingOAuthClaims\)/);
  });

  it("tells where to paste the enterprise application object IDs, as one comma-separated line, and which ID they are not", async () => {
    const r = await runCli("handoff", ["--outputs", fixture("outputs/dev.json")]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain(dev.allowedUsers.join(","));
    expect(r.stdout).toContain('"When a HTTP request is received"');
    expect(r.stdout).toContain('"Specific users in my tenant" → "Allowed users"');
    expect(r.stdout).toContain("ENTERPRISE APPLICATIONS (service principals)");
    expect(r.stdout).toMatch(/Not the client \(application\) ID, and not the app registration's object ID/);
    for (const c of Object.values(dev.callers)) {
      expect(r.stdout).toContain(
        `| **Object ID for Allowed users** (enterprise application = service principal) | \`${c.servicePrincipalObjectId}\` |`,
      );
      // The app registration's object ID is the classic wrong answer: it is not on the sheet at all.
      expect(r.stdout).not.toContain(c.applicationObjectId);
    }
  });

  it("lists per caller the client ID, display name, Key Vault secret name and URI, expiry and next rotation", async () => {
    const r = await runCli("handoff", ["--outputs", fixture("outputs/dev.json")]);
    const erp = dev.callers.erp;
    const section = r.stdout.slice(r.stdout.indexOf("#### `erp`"), r.stdout.indexOf("#### `hr-sync`"));
    expect(section).toContain(
      `| Client ID (the caller's \`client_id\`; NOT for Allowed users) | \`${erp.clientId}\` |`,
    );
    expect(section).toContain("| Display name | flow-dev-erp |");
    expect(section).toContain("| Key Vault secret name | `erp-client-secret` |");
    expect(section).toContain(
      `| Key Vault secret URI | \`https://flow-dev-k3x9q2.vault.azure.net/secrets/erp-client-secret\` |`,
    );
    expect(section).toContain("| Secret expires | `2027-03-03T00:00:00Z` |");
    expect(section).toContain("| Next rotation | `2026-12-03T00:00:00Z` |");
    // Callers appear by name, each once.
    expect([...r.stdout.matchAll(/^#### `([a-z-]+)`/gm)].map((m) => m[1])).toEqual(["crm", "erp", "hr-sync"]);
  });

  it("--format json gives the same facts as data for tools", async () => {
    const r = await runCli("handoff", ["--outputs", fixture("outputs/dev.json"), "--format", "json"]);
    expect(r.code).toBe(0);
    const sheet = JSON.parse(r.stdout);
    expect(sheet.environments).toHaveLength(1);
    const env = sheet.environments[0];
    expect(env).toMatchObject({
      name: "dev",
      tenantId: dev.tenantId,
      cloud: "public",
      tokenEndpoint: dev.tokenEndpoint,
      scope: "https://service.flow.microsoft.com//.default",
      keyVaultUri: dev.keyVaultUri,
      allowedUsers: dev.allowedUsers,
      allowedUsersLine: dev.allowedUsers.join(","),
    });
    expect(env.scopeNote).toContain("double slash");
    expect(env.allowedUsersWhere).toContain("Allowed users");
    expect(env.callers.map((c: any) => c.name)).toEqual(["crm", "erp", "hr-sync"]);
    expect(env.callers[1]).toEqual({
      name: "erp",
      displayName: dev.callers.erp.displayName,
      servicePrincipalObjectId: dev.callers.erp.servicePrincipalObjectId,
      clientId: dev.callers.erp.clientId,
      keyVaultSecretName: dev.callers.erp.keyVaultSecretName,
      keyVaultSecretUri: dev.callers.erp.keyVaultSecretUri,
      secretExpiresAt: dev.callers.erp.secretExpiresAt,
      nextRotationAt: dev.callers.erp.nextRotationAt,
    });
  });

  it("--stack asks the Pulumi CLI for that stack's outputs", async () => {
    const pulumi = await fakePulumi({ prod: fixture("outputs/prod.json") });
    const r = await runCli("handoff", ["--stack", "prod"], { pathPrepend: pulumi.dir });
    expect(r.code).toBe(0);
    expect(await pulumi.calls()).toEqual(["stack output --json --stack prod"]);
    expect(r.stdout).toContain("## Environment `prod`");
    expect(r.stdout).toContain("Source: stack prod");
    expect(r.stdout.split("\n")).toContain(prod.allowedUsers.join(","));
  });

  it("covers several environments in one sheet, in the order given, --outputs and --stack mixed", async () => {
    const pulumi = await fakePulumi({
      prod: fixture("outputs/prod.json"),
      test: fixture("outputs/test.json"),
    });
    const r = await runCli(
      "handoff",
      ["--stack", "prod", "--outputs", fixture("outputs/dev.json"), "--stack", "test", "--format", "json"],
      { pathPrepend: pulumi.dir },
    );
    expect(r.code).toBe(0);
    const sheet = JSON.parse(r.stdout);
    expect(sheet.environments.map((e: any) => e.name)).toEqual(["prod", "dev", "test"]);
    expect(sheet.environments[0].allowedUsers).toEqual(prod.allowedUsers);
    const md = await runCli("handoff", ["--outputs", fixture("outputs/dev.json"), "--stack", "prod"], {
      pathPrepend: pulumi.dir,
    });
    expect([...md.stdout.matchAll(/^## Environment `(\w+)`/gm)].map((m) => m[1])).toEqual(["dev", "prod"]);
  });

  it("--out writes the sheet to a file and leaves stdout empty", async () => {
    const dir = await mkdtemp(join(tmpdir(), "handoff-"));
    const out = join(dir, "sheet.md");
    const r = await runCli("handoff", ["--outputs", fixture("outputs/dev.json"), "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`wrote ${out}`);
    expect(await readFile(out, "utf8")).toContain("## Environment `dev`");
  });

  it("exits 2 with a clear message when the file is not stack outputs", async () => {
    const notOutputs = await runCli("handoff", ["--outputs", fixture("not-outputs.json")]);
    expect(notOutputs.code).toBe(2);
    expect(notOutputs.stdout).toBe("");
    expect(notOutputs.stderr).toContain("is not flow-trigger-auth stack outputs");
    expect(notOutputs.stderr).toContain("pulumi stack output --json > FILE");
    expect(notOutputs.stderr).toContain("tenantId");

    const notJson = await runCli("handoff", ["--outputs", fixture("not-json.txt")]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain("is not JSON");

    const missing = await runCli("handoff", ["--outputs", fixture("no-such-file.json")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read --outputs");
    expect(missing.stderr).toContain("ENOENT");
  });

  it.each([
    [
      "a secret output shown as [secret]",
      (o: any) => (o.callers.erp.keyVaultSecretUri = "[secret]"),
      "callers.erp.keyVaultSecretUri",
      '"[secret]"',
    ],
    [
      "the whole callers output shown as [secret]",
      (o: any) => (o.callers = "[secret]"),
      "callers",
      'is shown as "[secret]": it is a secret output',
    ],
    ["no caller at all", (o: any) => ((o.callers = {}), (o.allowedUsers = [])), "callers", "lists no caller"],
    [
      "a time that is not ISO 8601",
      (o: any) => (o.callers.crm.nextRotationAt = "March 7"),
      "callers.crm.nextRotationAt",
      "ISO 8601",
    ],
    [
      "allowedUsers that are not the callers' object IDs",
      (o: any) => o.allowedUsers.pop(),
      "allowedUsers",
      "servicePrincipalObjectId",
    ],
  ])("exits 2 on outputs with %s, naming the field", async (_what, spoil, field, message) => {
    const outputs = structuredClone(dev) as any;
    spoil(outputs);
    const dir = await mkdtemp(join(tmpdir(), "handoff-"));
    const file = join(dir, "spoiled.json");
    await writeFile(file, JSON.stringify(outputs), "utf8");
    const r = await runCli("handoff", ["--outputs", file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${field}:`);
    expect(r.stderr).toContain(message);
  });

  it("exits 2 saying the stack was never deployed when it has no outputs at all", async () => {
    const dir = await mkdtemp(join(tmpdir(), "handoff-"));
    const empty = join(dir, "empty.json");
    await writeFile(empty, "{}\n", "utf8");
    const pulumi = await fakePulumi({ fresh: empty });
    for (const args of [
      ["--outputs", empty],
      ["--stack", "fresh"],
    ]) {
      const r = await runCli("handoff", args, { pathPrepend: pulumi.dir });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(
        "holds no stack outputs: the stack has not been deployed yet (run `pulumi up` first)",
      );
    }
  });

  it("exits 2 when the Pulumi CLI knows no such stack, passing on its message", async () => {
    const pulumi = await fakePulumi({ prod: fixture("outputs/prod.json") });
    const r = await runCli("handoff", ["--stack", "staging"], { pathPrepend: pulumi.dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "--stack staging: pulumi stack output failed: error: no stack named 'staging' found",
    );
  });

  it("exits 2 naming the option when arguments are wrong or missing", async () => {
    const none = await runCli("handoff", []);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("give --outputs FILE");

    const format = await runCli("handoff", ["--outputs", fixture("outputs/dev.json"), "--format", "yaml"]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain(
      "option '--format <format>' argument 'yaml' is invalid. Allowed choices are markdown, json.",
    );

    const unknown = await runCli("handoff", ["--output", fixture("outputs/dev.json")]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--output'");
  });

  it("--help explains the options and exits 0", async () => {
    const r = await runCli("handoff", ["--help"]);
    expect(r.code).toBe(0);
    for (const option of ["--outputs <file>", "--stack <name>", "--format <format>", "--out <file>"]) {
      expect(r.stdout).toContain(option);
    }
  });
});

describe("paths given to npm run", () => {
  it("are resolved from the directory the command was typed in, not the package root", async () => {
    const { execFile } = await import("node:child_process");
    const here = join(ROOT, "test", "fixtures");
    const r = await new Promise<{ code: number | null; stdout: string }>((done) =>
      execFile(
        "npm",
        ["run", "handoff", "--", "--outputs", "outputs/dev.json"],
        { cwd: here, timeout: 60_000 },
        (err, stdout) => done({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout }),
      ),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(dev.allowedUsers.join(","));
  });
});
