import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "../../test/helpers/cli";

async function stackDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "validate-"));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, "utf8");
  return dir;
}

/** A folder holding Pulumi.<stack>.yaml with `text` alone, and `validate --stack <stack>` run on it with more options. */
async function stackFile(stack: string, text: string) {
  const dir = await stackDir({ [`Pulumi.${stack}.yaml`]: text });
  return (...args: string[]) => runCli("validate", ["--stack", stack, "--dir", dir, ...args]);
}

/** validate refused the file (exit 1): its error output names each of `problems`, and no resource is planned. */
function expectRefused(r: { code: number | null; stdout: string; stderr: string }, problems: string[]): void {
  expect(r.code).toBe(1);
  for (const problem of problems) expect(r.stderr).toContain(problem);
  expect(r.stdout).not.toContain("+ ");
}

describe("npm run validate", () => {
  it("accepts the repository's dev stack and prints the planned resources, offline", async () => {
    const r = await runCli("validate", ["--stack", "dev", "--now", "2026-11-22T06:00:00Z"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${join(ROOT, "Pulumi.dev.yaml")} is valid`);
    expect(r.stdout).toContain("+ azuread:index/application:Application  erp");
    expect(r.stdout).toContain("displayName = flow-dev-erp");
    expect(r.stdout).toContain(
      "+ azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant  crm-consent",
    );
    // Planned as a first deployment (offline, no rotation state): each slot on the grid, ending
    // 1.5 × 90 days after its period began (2026-09-04 and 2026-10-19).
    expect(r.stdout).toContain("endDate = 2027-01-17T00:00:00Z");
    expect(r.stdout).toContain("endDate = 2027-03-03T00:00:00Z");
    expect(r.stdout).toContain("properties.enablePurgeProtection = true");
    expect(r.stdout).toContain("properties.value = [secret]");
  });

  it("the shipped dev stack is valid as it is, and each value left to fill in is named by its key", async () => {
    const r = await runCli("validate", ["--stack", "dev"]);
    expect(r.code).toBe(0);
    const named = [...r.stderr.matchAll(/^warning: (\S+) is a placeholder \(/gm)].map((m) => m[1]);
    expect(named).toEqual([
      "azure-native:subscriptionId",
      "flow-trigger-auth:callers[0].secretReaders[0].objectId",
      "flow-trigger-auth:callers[1].secretReaders[0].objectId",
      "flow-trigger-auth:flows[0].triggerUrl",
      "flow-trigger-auth:flows[0].flowId",
      "flow-trigger-auth:flows[0].dataverseUrl",
    ]);
    // Each is marked in the file, with what it is.
    const text = await readFile(join(ROOT, "Pulumi.dev.yaml"), "utf8");
    const lines = text.split("\n");
    const marked = lines.flatMap((line, i) =>
      /^\s*# FILL IN: /.test(line)
        ? [
            lines
              .slice(i + 1)
              .find((l) => !/^\s*#/.test(l))!
              .trim(),
          ]
        : [],
    );
    expect(marked.map((l) => l.replace(/^- /, "").split(":")[0])).toEqual([
      "azure-native",
      "objectId",
      "objectId",
      "triggerUrl",
      "flowId",
      "dataverseUrl",
    ]);
  });

  it("warns that owners need Application.ReadWrite.All and Directory.Read.All, which OwnedBy does not give", async () => {
    const validate = await stackFile(
      "own",
      [
        "config:",
        "  azure-native:location: westeurope",
        "  azure-native:subscriptionId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "  flow-trigger-auth:callers:",
        "    - name: erp",
        "      owners: [aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee]",
      ].join("\n"),
    );
    const r = await validate();
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: owners is set: adding owners needs Microsoft Graph Application\.ReadWrite\.All and Directory\.Read\.All .*Application\.ReadWrite\.OwnedBy cannot add another owner/,
    );
  });

  it("prints the plan as one JSON object with --json", async () => {
    const r = await runCli("validate", ["--stack", "dev", "--json"]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.valid).toBe(true);
    const names = plan.resources.map((x: { type: string; name: string }) => `${x.type} ${x.name}`);
    expect(names).toContain("azure-native:keyvault:Secret erp-secret-kv");
    // 18 resources (each caller's secret with one reader) and the StackReference that reads the
    // stack's own outputs.
    expect(plan.resources).toHaveLength(19);
  });

  it("names every bad key and exits 1, declaring nothing", async () => {
    const validate = await stackFile(
      "bad",
      [
        "config:",
        "  flow-trigger-auth:callers:",
        "    - name: ERP Connector!",
        "    - name: crm",
        "      owners: [not-a-guid]",
        "  flow-trigger-auth:rotation:",
        "    rotationDays: 400",
        "  flow-trigger-auth:cloud: mars",
        "  flow-trigger-auth:colud: public",
      ].join("\n"),
    );
    const r = await validate();
    expectRefused(r, [
      "flow-trigger-auth:callers[0].name",
      "flow-trigger-auth:callers[1].owners[0]",
      "flow-trigger-auth:rotation.rotationDays",
      "flow-trigger-auth:cloud",
      "flow-trigger-auth:colud: unknown key",
      "azure-native:location",
    ]);
  });

  it("plans a stack that uses an existing vault, creating no vault", async () => {
    const vaultId =
      "/subscriptions/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shared-01";
    const validate = await stackFile(
      "shared",
      [
        "config:",
        "  azure-native:subscriptionId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "  flow-trigger-auth:callers:",
        "    - name: erp",
        "  flow-trigger-auth:keyVault:",
        `    existingVaultId: ${vaultId}`,
        "  flow-trigger-auth:alerts:",
        "    emails: [ops@contoso.com]",
      ].join("\n"),
    );
    const r = await validate("--json");
    // Its one warning: nobody in the stack is granted to read erp's secret.
    expect(r.stderr).toMatch(/^warning: flow-trigger-auth:callers\[0\] \(erp\): no secretReaders[^\n]*\n$/);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    const types = plan.resources.map((x: { type: string }) => x.type);
    expect(types).not.toContain("azure-native:keyvault:Vault");
    expect(types).not.toContain("azure-native:resources:ResourceGroup");
    const secret = plan.resources.find((x: { type: string }) => x.type === "azure-native:keyvault:Secret");
    expect(secret.inputs).toMatchObject({ vaultName: "kv-shared-01", resourceGroupName: "rg-shared" });
  });

  it("treats secure values as opaque and never prints them", async () => {
    const validate = await stackFile(
      "sec",
      [
        "config:",
        "  azure-native:location: westeurope",
        "  azure-native:subscriptionId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "  flow-trigger-auth:callers:",
        "    - name: erp",
        "  flow-trigger-auth:alerts:",
        "    webhookUrl:",
        "      secure: v1:c2VjcmV0LWNpcGhlcnRleHQ=",
      ].join("\n"),
    );
    const r = await validate();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("alerts-to-webhook");
    expect(r.stdout + r.stderr).not.toContain("c2VjcmV0LWNpcGhlcnRleHQ=");
  });

  it("plans the expiry alerts in the stack's resource group, on the vault, in its region", async () => {
    const validate = await stackFile(
      "prod",
      [
        "config:",
        "  azure-native:location: northeurope",
        "  azure-native:subscriptionId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "  flow-trigger-auth:callers:",
        "    - name: erp",
        "  flow-trigger-auth:alerts:",
        "    emails: [platform-team@contoso.com]",
      ].join("\n"),
    );
    const r = await validate("--json");
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    const find = (type: string) => plan.resources.find((x: { type: string }) => x.type === type);
    expect(find("azure-native:resources:ResourceGroup").inputs.resourceGroupName).toBe("flow-prod-rg");
    expect(find("azure-native:eventgrid:SystemTopic").inputs).toEqual({
      resourceGroupName: "flow-prod-rg",
      systemTopicName: "flow-prod-secret-expiry",
      location: "northeurope",
      source: "<id of vault>",
      topicType: "Microsoft.KeyVault.vaults",
    });
    expect(find("azure-native:monitor:ActionGroup").inputs).toMatchObject({
      resourceGroupName: "flow-prod-rg",
      location: "Global",
      "emailReceivers[0].emailAddress": "platform-team@contoso.com",
    });
    expect(find("azure-native:eventgrid:SystemTopicEventSubscription").inputs).toMatchObject({
      resourceGroupName: "flow-prod-rg",
      "destination.endpointType": "MonitorAlert",
      "destination.actionGroups[0]": "<id of alerts-action-group>",
    });
  });

  it("accepts keys without the project namespace, as Pulumi does", async () => {
    const validate = await stackFile(
      "short",
      "config:\n  azure-native:location: westeurope\n  azure-native:subscriptionId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\n  callers:\n    - name: erp\n",
    );
    const r = await validate();
    expect(r.code).toBe(0);
  });

  it("refuses a stack file that is not UTF-8 (a Latin-1 location) instead of planning a mangled value (exit 1, a problem of the file)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "validate-"));
    const yaml =
      "config:\n  azure-native:location: westeurope\n  azure-native:subscriptionId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\n  flow-trigger-auth:callers:\n    - name: erp\n      description: Gro\xdfhandel\n";
    await writeFile(join(dir, "Pulumi.latin1.yaml"), Buffer.from(yaml, "latin1"));
    const r = await runCli("validate", ["--stack", "latin1", "--dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Pulumi.latin1.yaml is not UTF-8 text: save it as UTF-8");
    expect(r.stdout).toBe("");
  });

  it("refuses a federated subject ending in a zero-width space (it could never match), naming the key (exit 1)", async () => {
    const validate = await stackFile(
      "zw",
      "config:\n  azure-native:location: westeurope\n  flow-trigger-auth:callers:\n    - name: erp\n" +
        "      credential: federated\n      federatedCredentials:\n        - issuer: https://issuer.example\n" +
        '          subject: "system:serviceaccount:erp:sync\u200b"\n',
    );
    const r = await validate();
    expectRefused(r, [
      'flow-trigger-auth:callers[0].federatedCredentials[0].subject: "system:serviceaccount:erp:sync\\u200b" contains U+200B',
    ]);
  });

  it("refuses a user caller's consent: false and its http redirect URI by key path (exit 1), as pulumi up does", async () => {
    const validate = await stackFile(
      "user",
      "config:\n  flow-trigger-auth:callers:\n    - name: portal\n      credential: user\n      platform: spa\n" +
        "      redirectUris:\n        - http://portal.contoso.com/\n      consent: false\n",
    );
    const r = await validate();
    expectRefused(r, [
      'flow-trigger-auth:callers[0].redirectUris[0]: "http://portal.contoso.com/" uses http: Entra takes http only for localhost',
      "flow-trigger-auth:callers[0].consent: must be true for credential: user",
    ]);
  });

  it("exits 2 when the stack file is missing or --stack is not given", async () => {
    const missing = await runCli("validate", ["--stack", "nope"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Pulumi.nope.yaml not found");
    const usage = await runCli("validate", []);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--stack");
  });

  const FLOW_STACK = [
    "config:",
    "  azure-native:location: westeurope",
    "  azure-native:subscriptionId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "  flow-trigger-auth:callers:",
    "    - name: erp",
    "    - name: crm",
    "  flow-trigger-auth:flows:",
    "    - name: invoice-intake",
    "      triggerUrl: https://7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c.6d.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/5f0d1c2b3a4e4f60a1b2c3d4e5f60718/triggers/manual/paths/invoke?api-version=1",
    "      callers: [erp, crm]",
    "      flowId: 3b1f6a2e-8d4c-4f1a-9e2b-7c6d5e4f3a21",
    "      dataverseUrl: https://contoso-dev.crm4.dynamics.com",
    "    - name: hr-import",
    "      triggerUrl: https://prod-27.westeurope.logic.azure.com:443/workflows/0e1d2c3b4a5f46e7a8b9c0d1e2f3a4b5/triggers/manual/paths/invoke?api-version=2016-06-01",
    "      callers: [crm]",
    "      flowId: e8f7a6b5-c4d3-4e2f-9a1b-2c3d4e5f6a7b",
    "      dataverseUrl: https://contoso-hr.crm4.dynamics.com",
  ];

  it("prints the flows it would output with the plan: name, environment, callers", async () => {
    const validate = await stackFile("flows", FLOW_STACK.join("\n"));
    const r = await validate();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      [
        "Flows in the outputs (2), each with its callers' object IDs as Allowed users:",
        "  invoice-intake  environment 7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d  callers erp, crm",
        "  hr-import       environment (none in the trigger URL)  callers crm",
      ].join("\n"),
    );
    // The legacy URL is worth a warning, and a flow adds no resource.
    expect(r.stderr).toContain("warning: flows hr-import: the trigger URL's host names no environment");
    const json = JSON.parse((await validate("--json")).stdout);
    expect(json.flows).toEqual([
      {
        name: "invoice-intake",
        environmentId: "7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d",
        callers: ["erp", "crm"],
      },
      { name: "hr-import", callers: ["crm"] },
    ]);
    const bare = await stackFile("flows", FLOW_STACK.slice(0, 6).join("\n"));
    const without = JSON.parse((await bare("--json")).stdout);
    expect(without.flows).toEqual([]);
    expect(json.resources).toEqual(without.resources);
  });

  it("with flows, still tells the whole truth: flows, secure values not checked and warnings, in text and --json", async () => {
    const file = [
      ...FLOW_STACK,
      "  flow-trigger-auth:alerts:",
      "    webhookUrl:",
      "      secure: v1:c2VjcmV0",
    ];
    const validate = await stackFile("flows", file.join("\n"));
    const r = await validate();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /\n {2}hr-import {7}environment \(none in the trigger URL\) {2}callers crm\nNot checked offline \(secure values, encrypted in the file\):\n {2}flow-trigger-auth:alerts\.webhookUrl\n$/,
    );
    const json = JSON.parse((await validate("--json")).stdout);
    expect(json.flows.map((f: { name: string }) => f.name)).toEqual(["invoice-intake", "hr-import"]);
    expect(json.unchecked).toEqual([
      { path: "flow-trigger-auth:alerts.webhookUrl", message: "secure values, encrypted in the file" },
    ]);
    // Neither caller has a reader: both are named; the legacy trigger URL is warned about too (twice).
    expect(json.warnings).toEqual([
      expect.stringMatching(/^flow-trigger-auth:callers\[0\] \(erp\): no secretReaders/),
      expect.stringMatching(/^flow-trigger-auth:callers\[1\] \(crm\): no secretReaders/),
      expect.stringMatching(/^flows hr-import: a \*\.logic\.azure\.com trigger URL/),
      expect.stringMatching(/^flows hr-import: the trigger URL's host names no environment/),
    ]);
  });

  it("refuses bad flows by key path (exit 1), as pulumi up does", async () => {
    const bad = FLOW_STACK.join("\n")
      .replace("callers: [erp, crm]", "callers: [erp, billing]")
      .replace("name: hr-import", "name: invoice-intake")
      .replace("api-version=1", "api-version=1&sig=abc")
      .replace("flowId: e8f7a6b5-c4d3-4e2f-9a1b-2c3d4e5f6a7b", "flowId: hr-import")
      .replace("https://contoso-hr.crm4.dynamics.com", "https://contoso-hr.crm4.dynamics.com.example.net");
    const validate = await stackFile("badflows", bad);
    const r = await validate();
    expectRefused(r, [
      'flow-trigger-auth:flows[0].callers[1]: "billing" must name one of the callers: erp, crm',
      'flow-trigger-auth:flows[1].name: "invoice-intake" is already used by flows[0]; flow names must be unique',
      'flow-trigger-auth:flows[0].triggerUrl: carries a "sig" parameter',
      'flow-trigger-auth:flows[1].flowId: "hr-import" must be the flow\'s ID, a GUID',
      'flow-trigger-auth:flows[1].dataverseUrl: "https://contoso-hr.crm4.dynamics.com.example.net" must be the URL of the environment\'s Dataverse organisation in cloud public',
    ]);
    expect(r.stderr).not.toContain("sig=abc");
  });
});

describe("validate tells the whole truth", () => {
  const HEAD = [
    "config:",
    "  azure-native:location: westeurope",
    "  azure-native:subscriptionId: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
  ];

  it("a YAML error keeps its line, column and the lines around it, and exits 1 like any problem of the file", async () => {
    const validate = await stackFile(
      "yml",
      [...HEAD, "  flow-trigger-auth:callers:", "    - name: erp", "     description: x"].join("\n"),
    );
    const text = await validate();
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(
      [
        "  line 6, column 1: YAML: Sequence item without - indicator",
        "          - name: erp",
        "           description: x",
        "      ^",
      ].join("\n"),
    );
    const json = await validate("--json");
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).problems).toEqual([
      {
        path: "line 6, column 1",
        message: "YAML: Sequence item without - indicator",
        line: 6,
        column: 1,
        excerpt: "    - name: erp\n     description: x\n^",
      },
    ]);
    // A schema problem is the same code.
    const schema = await stackFile("s", [...HEAD, "  flow-trigger-auth:cloud: mars"].join("\n"));
    expect((await schema()).code).toBe(1);
  });

  it("a missing field says it is missing, and what it must be", async () => {
    const validate = await stackFile(
      "miss",
      [
        ...HEAD,
        "  flow-trigger-auth:callers:",
        "    - name: erp",
        "      secretReaders:",
        "        - objectId: 11111111-1111-4111-8111-111111111111",
        "    - description: no name",
        "  flow-trigger-auth:smokeTest:",
        "    caller: erp",
      ].join("\n"),
    );
    const r = await validate();
    expectRefused(r, [
      "flow-trigger-auth:callers[0].secretReaders[0].type: is missing; it must be one of User, Group, ServicePrincipal",
      "flow-trigger-auth:callers[1].name: is missing; it must be lowercase letters",
      "flow-trigger-auth:smokeTest.triggerUrl: is missing; it must be the flow's HTTPS trigger URL",
    ]);
    expect(r.stderr).not.toContain("undefined");
  });

  it("lists encrypted (secure) values as not checked offline, in text and in --json, also when the file is valid", async () => {
    const validate = await stackFile(
      "sec",
      [
        ...HEAD,
        "  flow-trigger-auth:callers:",
        "    - name: erp",
        "      secretReaders: [{ objectId: 11111111-1111-4111-8111-111111111111, type: Group }]",
        "  flow-trigger-auth:alerts:",
        "    webhookUrl:",
        "      secure: v1:c2VjcmV0LWNpcGhlcnRleHQ=",
      ].join("\n"),
    );
    const text = await validate();
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /\nNot checked offline \(secure values, encrypted in the file\):\n {2}flow-trigger-auth:alerts\.webhookUrl\n$/,
    );
    const json = await validate("--json");
    expect(JSON.parse(json.stdout)).toMatchObject({
      valid: true,
      unchecked: [
        { path: "flow-trigger-auth:alerts.webhookUrl", message: "secure values, encrypted in the file" },
      ],
      warnings: [],
    });
    expect(json.stdout + json.stderr).not.toContain("c2VjcmV0LWNpcGhlcnRleHQ=");
  });

  it("--json keeps numbers and booleans typed", async () => {
    const r = await runCli("validate", ["--stack", "dev", "--json", "--now", "2026-11-22T09:30:00Z"]);
    const plan = JSON.parse(r.stdout);
    const find = (name: string) => plan.resources.find((x: { name: string }) => x.name === name);
    expect(find("vault-suffix").inputs).toMatchObject({ length: 6, lower: true, special: false });
    expect(find("vault").inputs).toMatchObject({ "properties.enablePurgeProtection": true });
    expect(find("erp-secret-kv").inputs["properties.attributes.expires"]).toBe(1804032000);
    // Text stays text: azuread's rotateWhenChanged is a map of strings.
    expect(find("erp-secret-a").inputs["rotateWhenChanged.period"]).toBe("230");
  });

  it("warns when a secret or certificate caller has no secretReaders anywhere: nobody could read its credential", async () => {
    const callers = [
      "  flow-trigger-auth:callers:",
      "    - name: erp",
      "    - name: billing",
      "      credential: certificate",
      "    - name: crm",
      "      secretReaders: [{ objectId: 11111111-1111-4111-8111-111111111111, type: User }]",
      "    - name: deploy-bot",
      "      credential: federated",
      "      federatedCredentials: [{ github: { repository: contoso/erp-sync, environment: prod } }]",
    ];
    const dir = await stackDir({
      "Pulumi.none.yaml": [...HEAD, ...callers].join("\n"),
      "Pulumi.stack.yaml": [
        ...HEAD,
        ...callers,
        "  flow-trigger-auth:keyVault:",
        "    secretReaders: [{ objectId: 22222222-2222-4222-8222-222222222222, type: Group }]",
      ].join("\n"),
    });
    const none = await runCli("validate", ["--stack", "none", "--dir", dir, "--json"]);
    expect(none.code).toBe(0);
    const warnings: string[] = JSON.parse(none.stdout).warnings;
    expect(warnings.filter((w) => w.includes("no secretReaders"))).toEqual([
      expect.stringMatching(
        /^flow-trigger-auth:callers\[0\] \(erp\): no secretReaders, .* on its client secret, so the calling system could not read it/,
      ),
      expect.stringMatching(
        /^flow-trigger-auth:callers\[1\] \(billing\): no secretReaders, .* on its certificate/,
      ),
    ]);
    expect(none.stderr).toContain("warning: flow-trigger-auth:callers[0] (erp): no secretReaders");
    // Readers at the stack level read every secret.
    const stack = await runCli("validate", ["--stack", "stack", "--dir", dir, "--json"]);
    expect(JSON.parse(stack.stdout).warnings.filter((w: string) => w.includes("secretReaders"))).toEqual([]);
  });

  it.each([
    ["a time without a zone", "2026-11-22T09:30:00"],
    ["a bare date", "2026-11-22"],
  ])("--now with %s is refused, as the help says (exit 2)", async (_, now) => {
    for (const [command, args] of [
      ["validate", ["--stack", "dev"]],
      ["rotation-status", ["--outputs", join(ROOT, "test/fixtures/outputs/dev.json")]],
    ] as const) {
      const r = await runCli(command, [...args, "--now", now]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `${command}: --now: must be an ISO 8601 time with Z or an offset, on a day that exists, e.g. 2026-11-22T09:30:00Z\n`,
      );
      const help = await runCli(command, ["--help"]);
      expect(help.stdout.replace(/\s+/g, " ")).toContain(
        "--now <iso> " +
          (command === "validate"
            ? "evaluate the rotation schedule at this time instead of now"
            : "judge at this time instead of the clock") +
          ": an ISO 8601 time with Z or an offset",
      );
    }
  });
});
