import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { FakeAzure } from "./helpers/fake-azure";

const NS = "flow-trigger-auth";
const GUID = "0f1e2d3c-4b5a-4968-8776-655443322110";

/** A valid stack config with `changes` applied (undefined removes a key): full keys, string values. */
function stackConfig(changes: Record<string, unknown>): Record<string, string> {
  const merged: Record<string, unknown> = {
    "azure-native:location": "westeurope",
    "azure-native:subscriptionId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    [`${NS}:callers`]: [{ name: "erp" }, { name: "crm" }],
    ...changes,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) {
    if (v !== undefined) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

/** Runs the entry point as `pulumi up` does; returns its error and what it declared. */
async function up(changes: Record<string, unknown>) {
  let error: unknown;
  const run = await new FakeAzure().run(async () => {
    // What the engine hands the program through PULUMI_CONFIG, read once per process: set it per case.
    pulumi.runtime.setAllConfig(stackConfig(changes));
    vi.resetModules();
    try {
      await import("../index");
    } catch (err) {
      error = err;
    }
  });
  return { error, declared: run.declared };
}

describe("pulumi up with a bad config", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["missing callers", { [`${NS}:callers`]: undefined }, [`${NS}:callers`]],
    ["empty callers", { [`${NS}:callers`]: [] }, [`${NS}:callers`]],
    [
      "more than 100 callers",
      { [`${NS}:callers`]: Array.from({ length: 101 }, (_, i) => ({ name: `c${i}` })) },
      [`${NS}:callers`],
    ],
    ["duplicate name", { [`${NS}:callers`]: [{ name: "erp" }, { name: "erp" }] }, [`${NS}:callers[1].name`]],
    ["malformed name", { [`${NS}:callers`]: [{ name: "erp" }, { name: "CRM!" }] }, [`${NS}:callers[1].name`]],
    [
      "non-GUID owner",
      { [`${NS}:callers`]: [{ name: "erp", owners: ["alice@contoso.com"] }] },
      [`${NS}:callers[0].owners[0]`],
    ],
    [
      "non-GUID reader and unknown reader type",
      { [`${NS}:keyVault`]: { secretReaders: [{ objectId: "42", type: "App" }] } },
      [`${NS}:keyVault.secretReaders[0].objectId`, `${NS}:keyVault.secretReaders[0].type`],
    ],
    ["rotationDays 1", { [`${NS}:rotation`]: { rotationDays: 1 } }, [`${NS}:rotation.rotationDays`]],
    ["rotationDays 366", { [`${NS}:rotation`]: { rotationDays: 366 } }, [`${NS}:rotation.rotationDays`]],
    ["rotationDays 45.5", { [`${NS}:rotation`]: { rotationDays: 45.5 } }, [`${NS}:rotation.rotationDays`]],
    [
      "1.5 × rotationDays above maxLifetimeDays",
      { [`${NS}:rotation`]: { rotationDays: 100, maxLifetimeDays: 149 } },
      [`${NS}:rotation.maxLifetimeDays`],
    ],
    ["negative offsetDays", { [`${NS}:rotation`]: { offsetDays: -1 } }, [`${NS}:rotation.offsetDays`]],
    [
      "offsetDays not below rotationDays",
      { [`${NS}:rotation`]: { rotationDays: 30, offsetDays: 30 } },
      [`${NS}:rotation.offsetDays`],
    ],
    ["unknown cloud", { [`${NS}:cloud`]: "azure-germany" }, [`${NS}:cloud`]],
    [
      "malformed existingVaultId",
      { [`${NS}:keyVault`]: { existingVaultId: `/subscriptions/${GUID}/resourceGroups/rg` } },
      [`${NS}:keyVault.existingVaultId`],
    ],
    ["no location for a created vault", { "azure-native:location": undefined }, ["azure-native:location"]],
    ["unknown top-level key", { [`${NS}:rotationDays`]: "30" }, [`${NS}:rotationDays`]],
    [
      "unknown nested key",
      { [`${NS}:callers`]: [{ name: "erp", secretReader: [] }] },
      [`${NS}:callers[0].secretReader`],
    ],
    [
      "federated credentials on a secret caller",
      {
        [`${NS}:callers`]: [
          {
            name: "erp",
            federatedCredentials: [{ github: { repository: "contoso/erp", environment: "prod" } }],
          },
        ],
      },
      [`${NS}:callers[0].federatedCredentials`],
    ],
    [
      "a managed identity without principalId or create",
      { [`${NS}:callers`]: [{ name: "app", credential: "managedIdentity", managedIdentity: {} }] },
      [`${NS}:callers[0].managedIdentity`],
    ],
    [
      "a subject GitHub never issues",
      {
        [`${NS}:callers`]: [
          {
            name: "bot",
            credential: "federated",
            federatedCredentials: [
              { issuer: "https://token.actions.githubusercontent.com", subject: "repo:contoso/erp:*" },
            ],
          },
        ],
      },
      [`${NS}:callers[0].federatedCredentials[0].subject`],
    ],
    [
      "the same federated credential twice",
      {
        [`${NS}:callers`]: [
          {
            name: "bot",
            credential: "federated",
            federatedCredentials: [
              {
                issuer: "https://token.actions.githubusercontent.com",
                subject: "repo:contoso/erp:pull_request",
              },
              { github: { repository: "contoso/erp", pullRequest: true } },
            ],
          },
        ],
      },
      [`${NS}:callers[0].federatedCredentials[1]`],
    ],
    [
      "a smoke test of a managed identity",
      {
        [`${NS}:callers`]: [
          { name: "erp" },
          { name: "app", credential: "managedIdentity", managedIdentity: { principalId: GUID } },
        ],
        [`${NS}:smokeTest`]: {
          triggerUrl: "https://0a1b2c3d.environment.api.powerplatform.com/x",
          caller: "app",
        },
      },
      [`${NS}:smokeTest.caller`],
    ],
    [
      "flows naming an unknown caller, a name twice, a trigger URL with sig, a non-GUID flow ID, a Dataverse URL off the cloud's domain",
      {
        [`${NS}:flows`]: [
          {
            name: "intake",
            triggerUrl: "https://0a1b2c3d.environment.api.powerplatform.com/x?api-version=1&sig=abc",
            callers: ["erp", "billing"],
            flowId: "intake-flow",
            dataverseUrl: "https://contoso.crm4.dynamics.com",
          },
          {
            name: "intake",
            triggerUrl: "https://0a1b2c3d.environment.api.powerplatform.com/x?api-version=1",
            callers: ["crm"],
            flowId: GUID,
            dataverseUrl: "https://contoso.example.com",
          },
        ],
      },
      [
        `${NS}:flows[0].triggerUrl`,
        `${NS}:flows[0].callers[1]`,
        `${NS}:flows[0].flowId`,
        `${NS}:flows[1].name`,
        `${NS}:flows[1].dataverseUrl`,
      ],
    ],
    [
      "a user caller with consent: false, an http redirect URI, a wildcard, a fragment, a duplicate, a non-GUID user and another kind's key",
      {
        [`${NS}:callers`]: [
          { name: "erp" },
          {
            name: "portal",
            credential: "user",
            platform: "spa",
            redirectUris: [
              "http://portal.contoso.com/",
              "https://*.contoso.com/",
              "https://portal.contoso.com/#x",
              "https://portal.contoso.com/",
              "https://portal.contoso.com/",
            ],
            users: ["lisa"],
            secretReaders: [],
            consent: false,
          },
          { name: "desk", credential: "user" },
        ],
      },
      [
        `${NS}:callers[1].redirectUris[0]`,
        `${NS}:callers[1].redirectUris[1]`,
        `${NS}:callers[1].redirectUris[2]`,
        `${NS}:callers[1].redirectUris[4]`,
        `${NS}:callers[1].users[0]`,
        `${NS}:callers[1].consent`,
        `${NS}:callers[1].secretReaders`,
        `${NS}:callers[2].platform`,
        `${NS}:callers[2].redirectUris`,
      ],
    ],
    [
      "several problems at once",
      {
        [`${NS}:callers`]: [{ name: "ERP!" }, { name: "crm", owners: ["not-a-guid"] }],
        [`${NS}:rotation`]: { rotationDays: 1 },
        "azure-native:location": undefined,
      },
      [
        `${NS}:callers[0].name`,
        `${NS}:callers[1].owners[0]`,
        `${NS}:rotation.rotationDays`,
        "azure-native:location",
      ],
    ],
  ];

  it.each(cases)(
    "%s: refused naming the key, before any resource is declared",
    async (_name, changes, paths) => {
      const { error, declared } = await up(changes);
      // RunError: Pulumi prints the message alone, without a stack trace.
      expect(error).toBeInstanceOf(pulumi.RunError);
      const lines = (error as Error).message.split("\n").slice(1);
      expect(lines).toHaveLength(paths.length);
      for (const path of paths) expect(lines.some((l) => l.trim().startsWith(`${path}: `))).toBe(true);
      expect(declared).toEqual([]);
    },
  );

  it("a good config, run the same way, declares resources (so the empty lists above mean something)", async () => {
    const { error, declared } = await up({});
    expect(error).toBeUndefined();
    expect(declared.length).toBeGreaterThan(0);
  });
});
