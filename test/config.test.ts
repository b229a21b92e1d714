import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from "../config";

const NS = "flow-trigger-auth";
const GUID = "0f1e2d3c-4b5a-4968-8776-655443322110";
const VAULT_ID = `/subscriptions/${GUID}/resourceGroups/rg-flow/providers/Microsoft.KeyVault/vaults/kv-flow-dev`;

/** A valid config, then `changes` applied (undefined removes a key). */
function raw(changes: Record<string, unknown> = {}): Record<string, string> {
  const base: Record<string, unknown> = {
    "azure-native:location": "westeurope",
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
  it("gets the contract's defaults", () => {
    const c = parseStackConfig(raw(), "dev");
    expect(c).toEqual({
      environment: "dev",
      cloud: "public",
      namePrefix: "flow",
      location: "westeurope",
      callers: [
        { name: "erp", description: undefined, owners: [], secretReaders: [] },
        { name: "crm", description: undefined, owners: [], secretReaders: [] },
      ],
      rotation: { rotationDays: 90, maxLifetimeDays: 730, offsetDays: 0 },
      keyVault: { existingVaultId: undefined, secretReaders: [] },
      smokeTest: undefined,
      alerts: undefined,
    });
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
          triggerUrl: "https://x.environment.api.powerplatform.com/p?api-version=1",
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
      /unknown key; allowed keys: name, description, owners, secretReaders/,
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
      /must be an object \{ name, description, owners, secretReaders \}/,
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
      { [`${NS}:smokeTest`]: { triggerUrl: "http://example.com/x", caller: "erp" } },
      `${NS}:smokeTest.triggerUrl`,
      /HTTPS/,
    ],
    [
      "smoke test caller not configured",
      { [`${NS}:smokeTest`]: { triggerUrl: "https://example.com/x", caller: "hr" } },
      `${NS}:smokeTest.caller`,
      /one of the callers: erp, crm/,
    ],
    [
      "expectStatus not 2xx",
      { [`${NS}:smokeTest`]: { triggerUrl: "https://example.com/x", caller: "erp", expectStatus: 401 } },
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
