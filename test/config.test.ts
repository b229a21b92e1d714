import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../config";
import { githubSubject } from "../kinds/federated";
import { githubSubjectProblem } from "../kinds/github-subject";

const NS = "flow-trigger-auth";
const FLOW_HOST = "0a1b2c3d.environment.api.powerplatform.com";
const GUID = "0f1e2d3c-4b5a-4968-8776-655443322110";
const VAULT_ID = `/subscriptions/${GUID}/resourceGroups/rg-flow/providers/Microsoft.KeyVault/vaults/kv-flow-dev`;

/** A valid config, then `changes` applied (undefined removes a key). */
function raw(changes: Record<string, unknown> = {}): Record<string, string> {
  const base: Record<string, unknown> = {
    "azure-native:location": "westeurope",
    "azure-native:subscriptionId": GUID,
    [`${NS}:callers`]: [{ name: "erp" }, { name: "crm" }],
  };
  const merged = { ...base, ...changes };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) {
    if (v !== undefined) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

function problems(changes: Record<string, unknown>, stack = "dev"): { path: string; message: string }[] {
  try {
    parseStackConfig(raw(changes), stack);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("expected the config to be refused");
}

describe("a valid config", () => {
  it("gets the documented defaults", () => {
    const c = parseStackConfig(raw(), "dev");
    expect(c).toEqual({
      environment: "dev",
      cloud: "public",
      namePrefix: "flow",
      location: "westeurope",
      subscriptionId: GUID,
      callers: [
        {
          name: "erp",
          description: undefined,
          credential: "secret",
          owners: [],
          secretReaders: [],
          consent: true,
        },
        {
          name: "crm",
          description: undefined,
          credential: "secret",
          owners: [],
          secretReaders: [],
          consent: true,
        },
      ],
      rotation: { rotationDays: 90, maxLifetimeDays: 730, offsetDays: 0 },
      rotationReset: {},
      keyVault: { existingVaultId: undefined, secretReaders: [] },
      smokeTest: undefined,
      alerts: undefined,
    });
  });

  it("requires azure-native:subscriptionId whenever a vault is created or used or an identity created, saying how to find and set it", () => {
    for (const changes of [
      {},
      { [`${NS}:keyVault`]: { existingVaultId: VAULT_ID }, "azure-native:location": undefined },
      {
        [`${NS}:callers`]: [
          { name: "func", credential: "managedIdentity", managedIdentity: { create: true } },
        ],
      },
    ]) {
      const found = problems({ ...changes, "azure-native:subscriptionId": undefined });
      expect(found.map((p) => p.path)).toEqual(["azure-native:subscriptionId"]);
      expect(found[0].message).toContain("az account show --query id -o tsv");
      expect(found[0].message).toContain("pulumi config set azure-native:subscriptionId <id>");
    }
    // Federated callers and existing identities only: nothing in Azure, no subscription needed.
    expect(() =>
      parseStackConfig(
        raw({
          "azure-native:subscriptionId": undefined,
          "azure-native:location": undefined,
          [`${NS}:callers`]: [
            { name: "func", credential: "managedIdentity", managedIdentity: { principalId: GUID } },
          ],
        }),
        "dev",
      ),
    ).not.toThrow();
    expect(problems({ "azure-native:subscriptionId": "my-subscription" })).toEqual([
      {
        path: "azure-native:subscriptionId",
        message: expect.stringContaining("must be a subscription ID (a GUID)"),
      },
    ]);
    // An existing vault must be in the stack's subscription.
    expect(
      problems({
        "azure-native:subscriptionId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        [`${NS}:keyVault`]: { existingVaultId: VAULT_ID },
      }).map((p) => p.path),
    ).toEqual([`${NS}:keyVault.existingVaultId`]);
  });

  it("takes consent per stack and per caller (default true); a managed identity takes none", () => {
    const c = parseStackConfig(
      raw({
        [`${NS}:consent`]: "false",
        [`${NS}:callers`]: [{ name: "erp" }, { name: "crm", consent: true }],
      }),
      "dev",
    );
    expect(c.callers.map((k) => k.consent)).toEqual([false, true]);
    expect(problems({ [`${NS}:consent`]: "maybe" })[0].path).toBe(`${NS}:consent`);
    expect(
      problems({
        [`${NS}:callers`]: [
          { name: "erp" },
          { name: "func", credential: "managedIdentity", managedIdentity: { create: true }, consent: false },
        ],
      }).map((p) => p.path),
    ).toEqual([`${NS}:callers[1].consent`]);
  });

  it("takes rotationReset only for callers that rotate, once each", () => {
    const c = parseStackConfig(
      raw({ [`${NS}:rotationReset`]: [{ caller: "erp", follow: "keyVault" }] }),
      "dev",
    );
    expect(c.rotationReset).toEqual({ erp: "keyVault" });
    expect(
      problems({
        [`${NS}:callers`]: [
          { name: "erp" },
          {
            name: "bot",
            credential: "federated",
            federatedCredentials: [{ github: { repository: "c/r", environment: "p" } }],
          },
        ],
        [`${NS}:rotationReset`]: [
          { caller: "erpp", follow: "stack" },
          { caller: "bot", follow: "stack" },
          { caller: "erp", follow: "latest" },
          { caller: "erp", follow: "fresh" },
          { caller: "erp", follow: "fresh" },
        ],
      }),
    ).toEqual([
      {
        path: `${NS}:rotationReset[2].follow`,
        message: expect.stringContaining("must be one of keyVault, stack, fresh"),
      },
      {
        path: `${NS}:rotationReset[0].caller`,
        message: '"erpp" must name one of the callers that rotate: erp',
      },
      {
        path: `${NS}:rotationReset[1].caller`,
        message: expect.stringContaining("keeps no rotating credential"),
      },
      { path: `${NS}:rotationReset[3].caller`, message: '"erp" is already listed: one reset per caller' },
      { path: `${NS}:rotationReset[4].caller`, message: '"erp" is already listed: one reset per caller' },
    ]);
  });

  it("keeps every documented setting", () => {
    const c = parseStackConfig(
      raw({
        [`${NS}:environment`]: "prod-eu",
        [`${NS}:cloud`]: "gcchigh",
        [`${NS}:namePrefix`]: "acme",
        [`${NS}:callers`]: [
          {
            name: "erp",
            description: "SAP",
            owners: [GUID],
            secretReaders: [{ objectId: GUID, type: "Group" }],
          },
        ],
        [`${NS}:rotation`]: { rotationDays: 30, maxLifetimeDays: 45, offsetDays: 29 },
        [`${NS}:keyVault`]: { existingVaultId: VAULT_ID, secretReaders: [{ objectId: GUID, type: "User" }] },
        [`${NS}:smokeTest`]: {
          triggerUrl: "https://x.environment.api.high.powerplatform.microsoft.us/p?api-version=1",
          caller: "erp",
          body: { a: 1 },
          expectStatus: 200,
        },
        [`${NS}:alerts`]: { emails: ["ops@contoso.com"], webhookUrl: "https://hooks.contoso.com/x" },
        "azure-native:location": undefined,
      }),
      "whatever",
    );
    expect(c.environment).toBe("prod-eu");
    expect(c.cloud).toBe("gcchigh");
    expect(c.rotation).toEqual({ rotationDays: 30, maxLifetimeDays: 45, offsetDays: 29 });
    expect(c.keyVault.existingVaultId).toBe(VAULT_ID);
    expect(c.smokeTest?.expectStatus).toBe(200);
    expect(c.alerts).toEqual({ emails: ["ops@contoso.com"], webhookUrl: "https://hooks.contoso.com/x" });
  });

  it("takes whole numbers written as text, as `pulumi config set --path` may store them", () => {
    const c = parseStackConfig(
      raw({ [`${NS}:rotation`]: { rotationDays: "30", maxLifetimeDays: "45", offsetDays: "3" } }),
      "dev",
    );
    expect(c.rotation).toEqual({ rotationDays: 30, maxLifetimeDays: 45, offsetDays: 3 });
    expect(problems({ [`${NS}:rotation`]: { rotationDays: "thirty" } })).toEqual([
      { path: `${NS}:rotation.rotationDays`, message: '"thirty" must be a whole number from 2 to 365' },
    ]);
    expect(problems({ [`${NS}:rotation`]: { rotationDays: "30", maxLifetimeDays: "40" } })[0].path).toBe(
      `${NS}:rotation.maxLifetimeDays`,
    );
  });

  it("ignores other namespaces' keys", () => {
    expect(() =>
      parseStackConfig(raw({ "azuread:environment": "global", "azure-native:subscriptionId": GUID }), "dev"),
    ).not.toThrow();
  });
});

describe("bad input is refused with its key path", () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ["missing callers", { [`${NS}:callers`]: undefined }, `${NS}:callers`, /is required/],
    ["empty callers", { [`${NS}:callers`]: [] }, `${NS}:callers`, /at least 1 caller/],
    [
      "too many callers",
      { [`${NS}:callers`]: Array.from({ length: 101 }, (_, i) => ({ name: `c${i}` })) },
      `${NS}:callers`,
      /at most 100/,
    ],
    [
      "malformed name",
      { [`${NS}:callers`]: [{ name: "erp" }, { name: "ERP Connector!" }] },
      `${NS}:callers[1].name`,
      /"ERP Connector!" must be lowercase letters, digits and hyphens/,
    ],
    [
      "name too long",
      { [`${NS}:callers`]: [{ name: "a".repeat(41) }] },
      `${NS}:callers[0].name`,
      /at most 40/,
    ],
    [
      "duplicate name",
      { [`${NS}:callers`]: [{ name: "erp" }, { name: "crm" }, { name: "erp" }] },
      `${NS}:callers[2].name`,
      /already used by callers\[0\]/,
    ],
    [
      "non-GUID owner",
      { [`${NS}:callers`]: [{ name: "erp", owners: ["alice@contoso.com"] }] },
      `${NS}:callers[0].owners[0]`,
      /must be an object ID/,
    ],
    [
      "non-GUID reader",
      { [`${NS}:callers`]: [{ name: "erp", secretReaders: [{ objectId: "42", type: "User" }] }] },
      `${NS}:callers[0].secretReaders[0].objectId`,
      /must be an object ID/,
    ],
    [
      "unknown reader type",
      { [`${NS}:keyVault`]: { secretReaders: [{ objectId: GUID, type: "App" }] } },
      `${NS}:keyVault.secretReaders[0].type`,
      /User, Group, ServicePrincipal/,
    ],
    [
      "rotationDays too small",
      { [`${NS}:rotation`]: { rotationDays: 1 } },
      `${NS}:rotation.rotationDays`,
      /from 2 to 365/,
    ],
    [
      "rotationDays too large",
      { [`${NS}:rotation`]: { rotationDays: 366 } },
      `${NS}:rotation.rotationDays`,
      /from 2 to 365/,
    ],
    [
      "rotationDays fractional",
      { [`${NS}:rotation`]: { rotationDays: 45.5 } },
      `${NS}:rotation.rotationDays`,
      /whole number/,
    ],
    [
      "lifetime rule",
      { [`${NS}:rotation`]: { rotationDays: 180, maxLifetimeDays: 180 } },
      `${NS}:rotation.maxLifetimeDays`,
      /1\.5 × rotationDays = 270/,
    ],
    [
      "lifetime rule against the default",
      { [`${NS}:rotation`]: { rotationDays: 365, maxLifetimeDays: 365 } },
      `${NS}:rotation.maxLifetimeDays`,
      /at least/,
    ],
    [
      "offsetDays equal to rotationDays",
      { [`${NS}:rotation`]: { rotationDays: 30, offsetDays: 30 } },
      `${NS}:rotation.offsetDays`,
      /from 0 to 29/,
    ],
    [
      "negative offsetDays",
      { [`${NS}:rotation`]: { offsetDays: -1 } },
      `${NS}:rotation.offsetDays`,
      /from 0 to 89/,
    ],
    [
      "unknown cloud",
      { [`${NS}:cloud`]: "azure-germany" },
      `${NS}:cloud`,
      /one of public, gcc, gcchigh, dod, china/,
    ],
    [
      "malformed existingVaultId",
      { [`${NS}:keyVault`]: { existingVaultId: "kv-flow-dev" } },
      `${NS}:keyVault.existingVaultId`,
      /ARM ID of a Key Vault/,
    ],
    [
      "vault ID of another resource type",
      {
        [`${NS}:keyVault`]: {
          existingVaultId: VAULT_ID.replace("Microsoft.KeyVault/vaults", "Microsoft.Storage/storageAccounts"),
        },
      },
      `${NS}:keyVault.existingVaultId`,
      /ARM ID of a Key Vault/,
    ],
    [
      "no location when the vault is created",
      { "azure-native:location": undefined },
      "azure-native:location",
      /required when the stack creates the Key Vault/,
    ],
    ["bad environment", { [`${NS}:environment`]: "Production" }, `${NS}:environment`, /lowercase/],
    ["stack name unfit as environment", {}, `${NS}:environment`, /stack name "Prod_EU"/],
    [
      "bad namePrefix",
      { [`${NS}:namePrefix`]: "9flow" },
      `${NS}:namePrefix`,
      /start with a lowercase letter/,
    ],
    [
      "unknown top-level key",
      { [`${NS}:caller`]: [{ name: "erp" }] },
      `${NS}:caller`,
      /unknown key; allowed keys: environment, cloud, namePrefix, callers/,
    ],
    [
      "unknown nested key",
      { [`${NS}:rotation`]: { rotationDay: 30 } },
      `${NS}:rotation.rotationDay`,
      /unknown key; allowed keys: rotationDays, maxLifetimeDays, offsetDays/,
    ],
    [
      "unknown caller key",
      { [`${NS}:callers`]: [{ name: "erp", owner: GUID }] },
      `${NS}:callers[0].owner`,
      /unknown key; allowed keys: name, description, credential, owners, secretReaders, federatedCredentials, managedIdentity, consent$/,
    ],
    [
      "callers given as one object instead of a list",
      { [`${NS}:callers`]: { name: "erp" } },
      `${NS}:callers`,
      /must be a list of 1 to 100 callers/,
    ],
    [
      "a caller that is not an object",
      { [`${NS}:callers`]: [{ name: "erp" }, "crm"] },
      `${NS}:callers[1]`,
      /must be an object \{ name, description, credential, owners, secretReaders, federatedCredentials, managedIdentity, consent \}/,
    ],
    [
      "rotation that is not an object",
      { [`${NS}:rotation`]: 90 },
      `${NS}:rotation`,
      /must be an object \{ rotationDays, maxLifetimeDays, offsetDays \}/,
    ],
    [
      "plain string where a list is expected",
      { [`${NS}:callers`]: "erp,crm" },
      `${NS}:callers`,
      /structured YAML/,
    ],
    [
      "anyone trigger URL",
      {
        [`${NS}:smokeTest`]: {
          triggerUrl:
            "https://prod-1.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2F&sv=1.0&sig=abc",
          caller: "erp",
        },
      },
      `${NS}:smokeTest.triggerUrl`,
      /"Anyone" trigger/,
    ],
    [
      "http trigger URL",
      { [`${NS}:smokeTest`]: { triggerUrl: `http://${FLOW_HOST}/x`, caller: "erp" } },
      `${NS}:smokeTest.triggerUrl`,
      /must be an https:\/\/ URL/,
    ],
    [
      "trigger URL on a host that is not Power Automate's",
      { [`${NS}:smokeTest`]: { triggerUrl: "https://flows.example.com/x", caller: "erp" } },
      `${NS}:smokeTest.triggerUrl`,
      /not Power Automate's in cloud public .* the bearer token would be sent to it/,
    ],
    [
      "trigger URL of another cloud",
      {
        [`${NS}:smokeTest`]: { triggerUrl: `https://${FLOW_HOST}/x`, caller: "erp" },
        [`${NS}:cloud`]: "china",
      },
      `${NS}:smokeTest.triggerUrl`,
      /in cloud china/,
    ],
    [
      "trigger URL with a SIG in capitals",
      { [`${NS}:smokeTest`]: { triggerUrl: `https://${FLOW_HOST}/x?api-version=1&SIG=abc`, caller: "erp" } },
      `${NS}:smokeTest.triggerUrl`,
      /"Anyone" trigger/,
    ],
    [
      "trigger URL with credentials in it",
      { [`${NS}:smokeTest`]: { triggerUrl: `https://user:pass@${FLOW_HOST}/x`, caller: "erp" } },
      `${NS}:smokeTest.triggerUrl`,
      /user name or password/,
    ],
    [
      "smoke test caller not configured",
      { [`${NS}:smokeTest`]: { triggerUrl: `https://${FLOW_HOST}/x`, caller: "hr" } },
      `${NS}:smokeTest.caller`,
      /one of the callers: erp, crm/,
    ],
    [
      "expectStatus not 2xx",
      { [`${NS}:smokeTest`]: { triggerUrl: `https://${FLOW_HOST}/x`, caller: "erp", expectStatus: 401 } },
      `${NS}:smokeTest.expectStatus`,
      /from 200 to 299/,
    ],
    [
      "bad alert e-mail",
      { [`${NS}:alerts`]: { emails: ["ops"] } },
      `${NS}:alerts.emails[0]`,
      /e-mail address/,
    ],
    [
      "http webhook",
      { [`${NS}:alerts`]: { webhookUrl: "http://hooks.contoso.com" } },
      `${NS}:alerts.webhookUrl`,
      /HTTPS URL/,
    ],
    ["empty alerts", { [`${NS}:alerts`]: {} }, `${NS}:alerts`, /emails, webhookUrl or both/],
  ];

  it.each(cases)("%s", (_name, changes, path, message) => {
    const stack = _name === "stack name unfit as environment" ? "Prod_EU" : "dev";
    const found = problems(changes, stack);
    const hit = found.find((p) => p.path === path);
    expect(hit, JSON.stringify(found)).toBeDefined();
    expect(hit!.message).toMatch(message);
  });

  it("reports an empty location once, as not naming a region", () => {
    expect(problems({ "azure-native:location": "" })).toEqual([
      { path: "azure-native:location", message: "must name an Azure region, e.g. westeurope" },
    ]);
  });

  it("reports every problem at once, each on its own line of the error", () => {
    let error: ConfigError | undefined;
    try {
      parseStackConfig(
        raw({
          [`${NS}:callers`]: [{ name: "Bad Name" }, { name: "crm" }, { name: "crm", owners: ["nope"] }],
          [`${NS}:rotation`]: { rotationDays: 400, offsetDays: -2 },
          [`${NS}:cloud`]: "mars",
          [`${NS}:typo`]: "x",
          "azure-native:location": undefined,
        }),
        "dev",
      );
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.map((p) => p.path).sort()).toEqual(
      [
        `${NS}:typo`,
        `${NS}:cloud`,
        `${NS}:callers[0].name`,
        `${NS}:callers[2].owners[0]`,
        `${NS}:callers[2].name`,
        `${NS}:rotation.rotationDays`,
        `${NS}:rotation.offsetDays`,
        "azure-native:location",
      ].sort(),
    );
    for (const p of error!.problems) expect(error!.message).toContain(`${p.path}: ${p.message}`);
  });
});

describe("credential kinds", () => {
  const GH = "https://token.actions.githubusercontent.com";
  const PRINCIPAL = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c";

  it("keeps secret the default and gives each kind its own shape, GitHub's shorthand expanded", () => {
    const c = parseStackConfig(
      raw({
        [`${NS}:callers`]: [
          { name: "erp" },
          {
            name: "sap",
            credential: "certificate",
            owners: [GUID],
            secretReaders: [{ objectId: GUID, type: "Group" }],
          },
          {
            name: "deploy-bot",
            credential: "federated",
            federatedCredentials: [
              { issuer: GH, subject: "repo:contoso/erp-sync:environment:prod" },
              { github: { repository: "contoso/erp-sync", ref: "refs/heads/main" } },
              { github: { repository: "contoso/erp-sync", pullRequest: true } },
              { github: { repository: "contoso/erp-sync", environment: "eu:west" } },
              {
                issuer: "https://gitlab.example.com",
                subject: "project_path:platform/erp:ref_type:branch:ref:main",
                audiences: ["https://gitlab.example.com"],
              },
            ],
          },
          { name: "logic-app", credential: "managedIdentity", managedIdentity: { principalId: PRINCIPAL } },
          { name: "func", credential: "managedIdentity", managedIdentity: { create: true } },
        ],
      }),
      "dev",
    );
    expect(c.callers).toEqual([
      {
        name: "erp",
        description: undefined,
        credential: "secret",
        owners: [],
        secretReaders: [],
        consent: true,
      },
      {
        name: "sap",
        description: undefined,
        consent: true,
        credential: "certificate",
        owners: [GUID],
        secretReaders: [{ objectId: GUID, type: "Group" }],
      },
      {
        name: "deploy-bot",
        description: undefined,
        consent: true,
        credential: "federated",
        owners: [],
        federatedCredentials: [
          {
            issuer: GH,
            subject: "repo:contoso/erp-sync:environment:prod",
            audiences: ["api://AzureADTokenExchange"],
          },
          {
            issuer: GH,
            subject: "repo:contoso/erp-sync:ref:refs/heads/main",
            audiences: ["api://AzureADTokenExchange"],
          },
          {
            issuer: GH,
            subject: "repo:contoso/erp-sync:pull_request",
            audiences: ["api://AzureADTokenExchange"],
          },
          // GitHub writes a colon inside a value as %3A.
          {
            issuer: GH,
            subject: "repo:contoso/erp-sync:environment:eu%3Awest",
            audiences: ["api://AzureADTokenExchange"],
          },
          {
            issuer: "https://gitlab.example.com",
            subject: "project_path:platform/erp:ref_type:branch:ref:main",
            audiences: ["https://gitlab.example.com"],
          },
        ],
      },
      {
        name: "logic-app",
        description: undefined,
        consent: false,
        credential: "managedIdentity",
        managedIdentity: { principalId: PRINCIPAL },
      },
      {
        name: "func",
        description: undefined,
        consent: false,
        credential: "managedIdentity",
        managedIdentity: { create: true },
      },
    ]);
  });

  it("needs no location when nothing is created in Azure: federated callers and existing identities only", () => {
    const c = parseStackConfig(
      raw({
        "azure-native:location": undefined,
        [`${NS}:callers`]: [
          {
            name: "bot",
            credential: "federated",
            federatedCredentials: [{ github: { repository: "a/b", environment: "x" } }],
          },
          { name: "app", credential: "managedIdentity", managedIdentity: { principalId: PRINCIPAL } },
        ],
      }),
      "dev",
    );
    expect(c.location).toBeUndefined();
    expect(
      problems({
        "azure-native:location": undefined,
        [`${NS}:callers`]: [
          { name: "func", credential: "managedIdentity", managedIdentity: { create: true } },
        ],
      }),
    ).toEqual([
      {
        path: "azure-native:location",
        message: expect.stringMatching(
          /required when the stack creates a managed identity \(flow-trigger-auth:callers\[0\]\.managedIdentity\.create\)/,
        ),
      },
    ]);
    // Beside an existing vault, a created identity takes the vault's group and region.
    expect(() =>
      parseStackConfig(
        raw({
          "azure-native:location": undefined,
          [`${NS}:keyVault`]: { existingVaultId: VAULT_ID },
          [`${NS}:callers`]: [
            { name: "func", credential: "managedIdentity", managedIdentity: { create: true } },
          ],
        }),
        "dev",
      ),
    ).not.toThrow();
  });

  const fed = (...federatedCredentials: unknown[]) => ({
    [`${NS}:callers`]: [{ name: "erp" }, { name: "bot", credential: "federated", federatedCredentials }],
  });
  const mi = (extra: Record<string, unknown>) => ({
    [`${NS}:callers`]: [{ name: "erp" }, { name: "app", credential: "managedIdentity", ...extra }],
  });
  const at = (rest: string) => `${NS}:callers[1]${rest}`;
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    [
      "unknown credential",
      { [`${NS}:callers`]: [{ name: "erp", credential: "cert" }] },
      `${NS}:callers[0].credential`,
      /"cert" must be one of secret, certificate, federated, managedIdentity/,
    ],
    [
      "federatedCredentials on a secret caller",
      {
        [`${NS}:callers`]: [
          { name: "erp", federatedCredentials: [{ github: { repository: "a/b", environment: "x" } }] },
        ],
      },
      `${NS}:callers[0].federatedCredentials`,
      /only a caller with credential: federated takes federatedCredentials; this caller's credential is secret/,
    ],
    [
      "managedIdentity on a certificate caller",
      { [`${NS}:callers`]: [{ name: "sap", credential: "certificate", managedIdentity: { create: true } }] },
      `${NS}:callers[0].managedIdentity`,
      /only a caller with credential: managedIdentity takes managedIdentity; this caller's credential is certificate/,
    ],
    [
      "federated caller without credentials",
      { [`${NS}:callers`]: [{ name: "bot", credential: "federated" }] },
      `${NS}:callers[0].federatedCredentials`,
      /is required for credential: federated: a list of 1 to 20/,
    ],
    ["empty federated credentials", fed(), at(".federatedCredentials"), /at least 1/],
    [
      "21 federated credentials",
      fed(...Array.from({ length: 21 }, (_, i) => ({ github: { repository: "a/b", environment: `e${i}` } }))),
      at(".federatedCredentials"),
      /at most 20 federated credentials \(Entra's limit per app\)/,
    ],
    [
      "secretReaders on a federated caller",
      {
        [`${NS}:callers`]: [
          {
            name: "bot",
            credential: "federated",
            secretReaders: [{ objectId: GUID, type: "User" }],
            federatedCredentials: [{ github: { repository: "a/b", environment: "x" } }],
          },
        ],
      },
      `${NS}:callers[0].secretReaders`,
      /a federated caller keeps nothing in Key Vault/,
    ],
    [
      "managed identity caller without managedIdentity",
      { [`${NS}:callers`]: [{ name: "app", credential: "managedIdentity" }] },
      `${NS}:callers[0].managedIdentity`,
      /is required for credential: managedIdentity: \{ principalId: .* \} or \{ create: true \}/,
    ],
    [
      "managed identity, neither principalId nor create",
      mi({ managedIdentity: {} }),
      at(".managedIdentity"),
      /give principalId .* or create: true/,
    ],
    [
      "managed identity, both",
      mi({ managedIdentity: { principalId: PRINCIPAL, create: true } }),
      at(".managedIdentity"),
      /not both/,
    ],
    [
      "managed identity, create false",
      mi({ managedIdentity: { create: false } }),
      at(".managedIdentity.create"),
      /must be true/,
    ],
    [
      "managed identity, principalId not a GUID",
      mi({ managedIdentity: { principalId: "logic-app-prod" } }),
      at(".managedIdentity.principalId"),
      /object \(principal\) ID of an existing managed identity/,
    ],
    [
      "managed identity with owners",
      mi({ managedIdentity: { create: true }, owners: [GUID] }),
      at(".owners"),
      /a managed identity has no app registration to own/,
    ],
    [
      "managed identity with secretReaders",
      mi({ managedIdentity: { create: true }, secretReaders: [{ objectId: GUID, type: "User" }] }),
      at(".secretReaders"),
      /a managedIdentity caller keeps nothing in Key Vault/,
    ],
    [
      "unknown managedIdentity key",
      mi({ managedIdentity: { principalID: PRINCIPAL } }),
      at(".managedIdentity.principalID"),
      /unknown key; allowed keys: principalId, create/,
    ],
    [
      "both github and issuer",
      fed({ issuer: GH, subject: "repo:a/b:pull_request", github: { repository: "a/b", environment: "x" } }),
      at(".federatedCredentials[0]"),
      /either \{ issuer, subject \} or \{ github \}, not both/,
    ],
    [
      "neither github nor issuer",
      fed({ audiences: ["api://x"] }),
      at(".federatedCredentials[0]"),
      /give \{ issuer, subject, audiences\? \} or \{ github/,
    ],
    [
      "http issuer",
      fed({ issuer: "http://idp.contoso.com", subject: "x" }),
      at(".federatedCredentials[0].issuer"),
      /HTTPS issuer URL/,
    ],
    [
      "issuer without subject",
      fed({ issuer: "https://idp.contoso.com" }),
      at(".federatedCredentials[0].subject"),
      /is required with issuer/,
    ],
    [
      "unknown federated credential key",
      fed({ issuer: GH, subject: "repo:a/b:pull_request", name: "x" }),
      at(".federatedCredentials[0].name"),
      /unknown key; allowed keys: issuer, subject, audiences, github$/,
    ],
    [
      "two audiences",
      fed({
        issuer: GH,
        subject: "repo:a/b:pull_request",
        audiences: ["api://AzureADTokenExchange", "api://x"],
      }),
      at(".federatedCredentials[0].audiences"),
      /exactly one audience \(Entra takes one per credential\)/,
    ],
    [
      "GitHub subject with a wrong prefix",
      fed(
        { github: { repository: "a/b", environment: "x" } },
        { issuer: GH, subject: "contoso/erp-sync:environment:prod" },
      ),
      at(".federatedCredentials[1].subject"),
      /is not a subject GitHub issues: it must start with a claim such as repo:OWNER\/REPO.*case-sensitively/,
    ],
    [
      "GitHub subject with a wildcard",
      fed({ issuer: GH, subject: "repo:contoso/erp-sync:*" }),
      at(".federatedCredentials[0].subject"),
      /wildcards match nothing/,
    ],
    [
      "GitHub subject missing its environment",
      fed({ issuer: GH, subject: "repo:contoso/erp-sync:environment" }),
      at(".federatedCredentials[0].subject"),
      /environment has no value/,
    ],
    [
      "GitHub subject with a branch name for a ref",
      fed({ issuer: GH, subject: "repo:contoso/erp-sync:ref:main" }),
      at(".federatedCredentials[0].subject"),
      /ref "main" must be a full ref/,
    ],
    [
      "GitHub subject of a repository without owner",
      fed({ issuer: GH, subject: "repo:erp-sync:pull_request" }),
      at(".federatedCredentials[0].subject"),
      /repo "erp-sync" is not OWNER\/REPO/,
    ],
    [
      "GitHub issuer with a trailing slash",
      fed({ issuer: `${GH}/`, subject: "repo:a/b:pull_request" }),
      at(".federatedCredentials[0].issuer"),
      /without a trailing slash/,
    ],
    [
      "GitHub shorthand with environment and ref",
      fed({ github: { repository: "a/b", environment: "x", ref: "refs/heads/main" } }),
      at(".federatedCredentials[0].github"),
      /exactly one of environment, ref or pullRequest: true .*got environment and ref/,
    ],
    [
      "GitHub shorthand with no context",
      fed({ github: { repository: "a/b" } }),
      at(".federatedCredentials[0].github"),
      /exactly one of/,
    ],
    [
      "GitHub shorthand repository without owner",
      fed({ github: { repository: "erp-sync", environment: "x" } }),
      at(".federatedCredentials[0].github.repository"),
      /must be OWNER\/REPOSITORY/,
    ],
    [
      "GitHub shorthand with a branch name for a ref",
      fed({ github: { repository: "a/b", ref: "main" } }),
      at(".federatedCredentials[0].github.ref"),
      /refs\/heads\/<branch> or refs\/tags\/<tag>/,
    ],
    [
      "GitHub shorthand environment with a wildcard",
      fed({ github: { repository: "a/b", environment: "prod-*" } }),
      at(".federatedCredentials[0].github.environment"),
      /no wildcard/,
    ],
    [
      "the same subject twice, once spelled for GitHub",
      fed(
        { issuer: GH, subject: "repo:contoso/erp-sync:environment:prod" },
        { github: { repository: "contoso/erp-sync", environment: "prod" } },
      ),
      at(".federatedCredentials[1]"),
      /same issuer and subject as federatedCredentials\[0\]/,
    ],
    [
      "subjects that differ only in case",
      fed(
        { github: { repository: "contoso/erp-sync", environment: "prod" } },
        { github: { repository: "Contoso/erp-sync", environment: "prod" } },
      ),
      at(".federatedCredentials[1]"),
      /differs from federatedCredentials\[0\] only in letter case .* case-sensitively/,
    ],
    [
      "smoke test of a federated caller",
      {
        ...fed({ github: { repository: "a/b", environment: "x" } }),
        [`${NS}:smokeTest`]: { triggerUrl: `https://${FLOW_HOST}/x`, caller: "bot" },
      },
      `${NS}:smokeTest.caller`,
      /"bot" is a federated caller: .* name a secret or certificate caller/,
    ],
    [
      "smoke test of a managed identity",
      {
        ...mi({ managedIdentity: { create: true } }),
        [`${NS}:smokeTest`]: { triggerUrl: `https://${FLOW_HOST}/x`, caller: "app" },
      },
      `${NS}:smokeTest.caller`,
      /is a managedIdentity caller/,
    ],
    [
      "alerts without a credential in Key Vault",
      {
        [`${NS}:callers`]: [
          { name: "app", credential: "managedIdentity", managedIdentity: { create: true } },
        ],
        [`${NS}:alerts`]: { emails: ["ops@contoso.com"] },
      },
      `${NS}:alerts`,
      /no caller keeps one there/,
    ],
  ];

  it.each(cases)("%s: refused with its key path", (_name, changes, path, message) => {
    const found = problems(changes);
    const hit = found.find((p) => p.path === path);
    expect(hit, JSON.stringify(found)).toBeDefined();
    expect(hit!.message).toMatch(message);
  });

  it("reports every credential problem at once", () => {
    expect(
      problems({
        [`${NS}:callers`]: [
          { name: "erp", credential: "secret", federatedCredentials: [] },
          {
            name: "bot",
            credential: "federated",
            federatedCredentials: [{ issuer: GH, subject: "repo:a/b:*" }, {}],
          },
          {
            name: "app",
            credential: "managedIdentity",
            managedIdentity: { principalId: "x" },
            owners: [GUID],
          },
        ],
      })
        .map((p) => p.path)
        .sort(),
    ).toEqual(
      [
        `${NS}:callers[0].federatedCredentials`,
        `${NS}:callers[0].federatedCredentials`,
        `${NS}:callers[1].federatedCredentials[0].subject`,
        `${NS}:callers[1].federatedCredentials[1]`,
        `${NS}:callers[2].managedIdentity.principalId`,
        `${NS}:callers[2].owners`,
      ].sort(),
    );
  });
});

describe("subjects GitHub Actions issues", () => {
  it.each([
    "repo:contoso/erp-sync:environment:prod",
    "repo:contoso/erp-sync:ref:refs/heads/main",
    "repo:contoso/erp-sync:ref:refs/tags/v1.2.0",
    "repo:contoso/erp-sync:pull_request",
    "repo:contoso/erp.sync_2:environment:eu%3Awest",
    // Repositories created from mid-2026 on carry immutable IDs.
    "repo:contoso@1234/erp-sync@5678:environment:prod",
    // Custom subject templates (include_claim_keys).
    "repository_owner_id:1234:environment:prod",
    "repo:contoso/erp-sync:environment:prod:job_workflow_ref:contoso/shared/.github/workflows/deploy.yml@refs/heads/main",
  ])("accepts %s", (subject) => {
    expect(githubSubjectProblem(subject)).toBeUndefined();
  });

  it.each([
    ["contoso/erp-sync:environment:prod", /start with a claim/],
    ["repo:contoso/erp-sync:*", /wildcards/],
    ["repo:contoso/*:pull_request", /wildcards/],
    ["repo:contoso/erp-sync:environment:", /environment has no value/],
    ["repo:contoso/erp-sync:ref:main", /full ref/],
    ["repo:contoso/erp-sync:branch:main", /"branch" is not a claim/],
    ["repo:contoso/erp-sync :pull_request", /white space/],
    ["", /start with a claim/],
  ])("refuses %s", (subject, reason) => {
    expect(githubSubjectProblem(subject)).toMatch(reason);
  });

  it("expands the shorthand to the default template", () => {
    expect(githubSubject({ repository: "contoso/erp-sync", environment: "prod" })).toBe(
      "repo:contoso/erp-sync:environment:prod",
    );
    expect(githubSubject({ repository: "contoso/erp-sync", ref: "refs/tags/v1" })).toBe(
      "repo:contoso/erp-sync:ref:refs/tags/v1",
    );
    expect(githubSubject({ repository: "contoso/erp-sync", pullRequest: true })).toBe(
      "repo:contoso/erp-sync:pull_request",
    );
  });
});

describe("invisible characters: values Entra compares exactly, or people read, cannot hide anything", () => {
  const federated = (credential: unknown) => ({
    [`${NS}:callers`]: [{ name: "erp", credential: "federated", federatedCredentials: [credential] }],
  });
  it.each([
    [
      "a subject ending in a zero-width space",
      federated({ issuer: "https://issuer.example", subject: "system:serviceaccount:erp:sync\u200b" }),
      "callers[0].federatedCredentials[0].subject",
      "U+200B",
    ],
    [
      "an issuer with a bidi isolate",
      federated({ issuer: "https://issuer.example/\u2066x", subject: "s" }),
      "callers[0].federatedCredentials[0].issuer",
      "U+2066",
    ],
    [
      "an audience with a zero-width joiner",
      federated({
        issuer: "https://issuer.example",
        subject: "s",
        audiences: ["api://AzureADTokenExchange\u200d"],
      }),
      "callers[0].federatedCredentials[0].audiences[0]",
      "U+200D",
    ],
    [
      "a GitHub environment with a bidi isolate",
      federated({ github: { repository: "contoso/erp", environment: "\u2068prod" } }),
      "callers[0].federatedCredentials[0].github.environment",
      "U+2068",
    ],
    [
      "a description with a right-to-left override",
      { [`${NS}:callers`]: [{ name: "erp", description: "ERP \u202eexe.txt" }] },
      "callers[0].description",
      "U+202E",
    ],
    [
      "a description with an escape sequence",
      { [`${NS}:callers`]: [{ name: "erp", description: "ERP \u001b[2J" }] },
      "callers[0].description",
      "U+001B",
    ],
    [
      "an alert e-mail address with a word joiner",
      { [`${NS}:alerts`]: { emails: ["ops@contoso.com\u2060"] } },
      "alerts.emails[0]",
      "U+2060",
    ],
  ])("refuses %s, naming the key path and the character", (_, changes, path, code) => {
    const found = problems(changes).find((p) => p.path === `${NS}:${path}`);
    expect(found, JSON.stringify(problems(changes))).toBeDefined();
    expect(found!.message).toContain(`contains ${code}, an invisible or control character`);
    // The message shows the value with the character escaped, never raw.
    // eslint-disable-next-line no-control-regex
    expect(found!.message).not.toMatch(/[\u200b-\u200d\u2060\u2066\u2068\u202e\u001b]/);
  });

  it("a description may still span lines and hold tabs", () => {
    const c = parseStackConfig(
      raw({ [`${NS}:callers`]: [{ name: "erp", description: "ERP\n\tsync" }] }),
      "dev",
    );
    expect(c.callers[0].description).toBe("ERP\n\tsync");
  });
});
