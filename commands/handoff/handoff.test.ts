import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import dev from "../../test/fixtures/outputs/dev.json";
import prod from "../../test/fixtures/outputs/prod.json";
import { main } from "../../cli/main";
import { fakePulumi, fixture, runCli } from "../../test/helpers/cli";
import { FakeIo } from "../../test/helpers/fake-io";

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
      credential: "secret",
      todo: expect.stringContaining("Read the client secret from the Key Vault secret above at run time"),
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
    const r = await runCli("handoff", ["--stack", "prod"], { pulumi });
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
      { pulumi },
    );
    expect(r.code).toBe(0);
    const sheet = JSON.parse(r.stdout);
    expect(sheet.environments.map((e: any) => e.name)).toEqual(["prod", "dev", "test"]);
    expect(sheet.environments[0].allowedUsers).toEqual(prod.allowedUsers);
    const md = await runCli("handoff", ["--outputs", fixture("outputs/dev.json"), "--stack", "prod"], {
      pulumi,
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
      const r = await runCli("handoff", args, { pulumi });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(
        "holds no stack outputs: the stack has not been deployed yet (run `pulumi up` first)",
      );
    }
  });

  it("exits 2 when the Pulumi CLI knows no such stack, passing on its message", async () => {
    const pulumi = await fakePulumi({ prod: fixture("outputs/prod.json") });
    const r = await runCli("handoff", ["--stack", "staging"], { pulumi });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      "--stack staging: pulumi stack output failed (exit 255): error: no stack named 'staging' found",
    );
  });

  it("exits 2 naming the option when arguments are wrong or missing", async () => {
    const none = await runCli("handoff", []);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("give --outputs FILE");

    const format = await runCli("handoff", ["--outputs", fixture("outputs/dev.json"), "--format", "yaml"]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("--format: Allowed choices are markdown, json.");

    const unknown = await runCli("handoff", ["--output", fixture("outputs/dev.json")]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown option --output");
  });

  it("--help explains the options and exits 0", async () => {
    const r = await runCli("handoff", ["--help"]);
    expect(r.code).toBe(0);
    for (const option of ["--outputs <file>", "--stack <name>", "--format <format>", "--out <file>"]) {
      expect(r.stdout).toContain(option);
    }
  });
});

describe("handoff --out: replaces a previous sheet only, never half-written", () => {
  const sheetArgs = (out: string, ...extra: string[]) => [
    "--outputs",
    fixture("outputs/dev.json"),
    "--out",
    out,
    ...extra,
  ];

  it("replaces a sheet it wrote before, Markdown or JSON, through a temporary file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "handoff-"));
    for (const format of ["markdown", "json"]) {
      const out = join(dir, `sheet.${format}`);
      expect((await runCli("handoff", sheetArgs(out, "--format", format))).code).toBe(0);
      expect((await runCli("handoff", sheetArgs(out, "--format", format))).code).toBe(0);
    }
    const { readdir } = await import("node:fs/promises");
    expect((await readdir(dir)).sort()).toEqual(["sheet.json", "sheet.markdown"]);
  });

  it("refuses to overwrite its own --outputs file, even with --force", async () => {
    const dir = await mkdtemp(join(tmpdir(), "handoff-"));
    const input = join(dir, "dev.json");
    await writeFile(input, await readFile(fixture("outputs/dev.json")));
    const r = await runCli("handoff", ["--outputs", input, "--out", input, "--force"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is an input of this command");
    expect(JSON.parse(await readFile(input, "utf8")).tenantId).toBe(dev.tenantId);
  });

  it("refuses to replace a file that is not a sheet (a stack's settings) unless --force", async () => {
    const dir = await mkdtemp(join(tmpdir(), "handoff-"));
    const settings = join(dir, "Pulumi.dev.yaml");
    await writeFile(
      settings,
      "config:\n  azure-native:location: westeurope\n  azure-native:subscriptionId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\n",
    );
    const r = await runCli("handoff", sheetArgs(settings));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not a hand-off sheet: refusing to replace it (add --force");
    expect(await readFile(settings, "utf8")).toContain("westeurope");
    expect((await runCli("handoff", sheetArgs(settings, "--force"))).code).toBe(0);
  });

  it("refuses a symbolic link, leaving its target alone", async () => {
    const { symlink } = await import("node:fs/promises");
    const dir = await mkdtemp(join(tmpdir(), "handoff-"));
    const target = join(dir, "precious.txt");
    await writeFile(target, "keep me");
    await symlink(target, join(dir, "sheet.md"));
    const r = await runCli("handoff", sheetArgs(join(dir, "sheet.md"), "--force"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is a symbolic link");
    expect(await readFile(target, "utf8")).toBe("keep me");
  });

  it("with --json, stdout is one JSON object saying what was written", async () => {
    const dir = await mkdtemp(join(tmpdir(), "handoff-"));
    const r = await runCli("handoff", [...sheetArgs(join(dir, "s.md")), "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      kind: "flow-trigger-auth/handoff",
      format: "markdown",
      environments: 1,
    });
  });
});

describe("handoff checks the outputs it is given before printing anything", () => {
  async function spoiled(spoil: (o: any) => void): Promise<string> {
    const outputs = structuredClone(dev) as any;
    spoil(outputs);
    const file = join(await mkdtemp(join(tmpdir(), "handoff-")), "spoiled.json");
    await writeFile(file, JSON.stringify(outputs), "utf8");
    return file;
  }

  it.each([
    [
      "a newline in an object ID (a heading and a link injected into the sheet)",
      (o: any) => (o.callers.erp.servicePrincipalObjectId += "\n## Pay here\n[click](https://evil.example)"),
      "callers.erp.servicePrincipalObjectId",
    ],
    ["a single-slash scope", (o: any) => (o.scope = "https://service.flow.microsoft.com/.default"), "scope"],
    [
      "an http:// token endpoint",
      (o: any) => (o.tokenEndpoint = o.tokenEndpoint.replace("https:", "http:")),
      "tokenEndpoint",
    ],
    [
      "a file:// secret URI",
      (o: any) => (o.callers.erp.keyVaultSecretUri = "file:///etc/shadow"),
      "callers.erp.keyVaultSecretUri",
    ],
    [
      "a secret URI on another host",
      (o: any) => (o.callers.erp.keyVaultSecretUri = "https://evil.example/secrets/erp-client-secret"),
      "callers.erp.keyVaultSecretUri",
    ],
    [
      "a token endpoint of another authority",
      (o: any) => (o.tokenEndpoint = `https://login.evil.example/${o.tenantId}/oauth2/v2.0/token`),
      "tokenEndpoint",
    ],
    ["a tenant ID that is not a GUID", (o: any) => (o.tenantId = "contoso"), "tenantId"],
  ])("refuses %s, naming the field (exit 2)", async (_, spoil, field) => {
    const r = await runCli("handoff", ["--outputs", await spoiled(spoil)]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${field}:`);
    expect(r.stderr).not.toContain("evil.example)");
  });

  it("escapes what it prints: a display name cannot add Markdown to the sheet", async () => {
    const r = await runCli("handoff", [
      "--outputs",
      await spoiled((o) => (o.callers.erp.displayName = "erp `| **bold** <b>x</b> [a](b)")),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("**bold**");
    expect(r.stdout).not.toContain("<b>");
    expect(r.stdout).not.toContain("[a](b)");
  });

  it("reads outputs saved by Windows PowerShell: UTF-8 with a byte order mark, and UTF-16", async () => {
    const dir = await mkdtemp(join(tmpdir(), "handoff-"));
    const text = await readFile(fixture("outputs/dev.json"), "utf8");
    await writeFile(
      join(dir, "bom.json"),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
    );
    await writeFile(
      join(dir, "utf16.json"),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]),
    );
    for (const file of ["bom.json", "utf16.json"]) {
      const r = await runCli("handoff", ["--outputs", join(dir, file)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(dev.allowedUsers.join(","));
    }
  });

  it("says what is wrong with 20,000 callers instead of overflowing", async () => {
    const file = await spoiled((o) => {
      for (let i = 0; i < 20_000; i++) o.callers[`c${i}`] = o.callers.erp;
    });
    const r = await runCli("handoff", ["--outputs", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("lists 20003 callers; a stack has at most 100");
  });

  it("a `pulumi` printing more than 16 MiB, or never answering, ends with what happened (exit 2)", async () => {
    for (const [answer, message] of [
      [{ code: null, failure: "too-much-output" }, "printed more than 16 MiB"],
      [{ code: null, failure: "timeout" }, "gave no answer within 120 s (--max-wait-s)"],
    ] as const) {
      const io = new FakeIo();
      io.pulumi.set("prod", answer);
      const code = await main(["handoff", "--stack", "prod"], io);
      expect(code).toBe(2);
      expect(io.stderrText).toContain(message);
    }
  });

  it("passes on what `pulumi` said when it failed, redacted", async () => {
    const io = new FakeIo();
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    io.pulumi.set("prod", { code: 255, stderr: `error: token ${jwt} rejected by the backend` });
    const code = await main(["handoff", "--stack", "prod"], io);
    expect(code).toBe(2);
    expect(io.stderrText).toContain("rejected by the backend");
    expect(io.stderrText).not.toContain(jwt);
  });
});

describe("the sheet tells flow makers which authentication mode to choose", () => {
  it("Specific users, not Any user in my tenant; an empty list admits the whole tenant; a new mode means a new URL", async () => {
    const r = await runCli("handoff", ["--outputs", fixture("outputs/dev.json")]);
    expect(r.stdout).toContain('"Specific users in my tenant"');
    expect(r.stdout).toContain(
      'Not "Any user in my tenant": that admits every app and managed identity of the tenant',
    );
    expect(r.stdout).toContain("An empty Allowed users list admits the whole tenant too");
    expect(r.stdout).toContain("gives the trigger a new URL");
  });
});
