/** Callers by credential kind: each kind's keys, refused keys of other kinds, and every problem at once. */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from ".";
import { NS, FLOW_HOST, GUID, VAULT_ID, raw, problems, plainSecretCaller } from "../test/helpers/config";

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
      plainSecretCaller("erp"),
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
