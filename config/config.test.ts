/** The stack config: defaults, the stack's own keys, every problem at once with its key path. */
import { describe, expect, it } from "vitest";
import { ConfigError, parseStackConfig } from ".";
import { NS, FLOW_HOST, GUID, VAULT_ID, raw, problems, plainSecretCaller } from "../test/helpers/config";

describe("a valid config", () => {
  it("gets the documented defaults", () => {
    const c = parseStackConfig(raw(), "dev");
    expect(c).toEqual({
      environment: "dev",
      cloud: "public",
      namePrefix: "flow",
      location: "westeurope",
      subscriptionId: GUID,
      callers: [plainSecretCaller("erp"), plainSecretCaller("crm")],
      rotation: { rotationDays: 90, maxLifetimeDays: 730, offsetDays: 0 },
      rotationReset: {},
      keyVault: { existingVaultId: undefined, secretReaders: [] },
      smokeTest: undefined,
      flows: [],
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
      /unknown key; allowed keys: name, description, credential, owners, secretReaders, federatedCredentials, managedIdentity, platform, redirectUris, users, consent$/,
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
      /must be an object \{ name, description, credential, owners, secretReaders, federatedCredentials, managedIdentity, platform, redirectUris, users, consent \}/,
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
