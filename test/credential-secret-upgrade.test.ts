/**
 * Secret callers after credential kinds arrived: a stack of secret callers must declare exactly what it
 * declared before (names, types, parents, inputs, options), so that upgrading replaces nothing. The
 * baseline in test/fixtures/credential-secret-baseline.json was recorded from the program as it was
 * before credential kinds; computed values are replaced by where they come from (`<Application erp
 * clientId>`), so the comparison is about wiring, not about random IDs.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../config";
import type { Declared } from "../ops/mock-engine";
import { defineStack } from "../program";
import { FakeAzure, SUBSCRIPTION_ID, type FakeAzureOptions, type Registration } from "./helpers/fake-azure";

const NOW = Date.parse("2026-11-22T09:30:00Z");
const READER = "11111111-2222-4333-8444-555555555555";
const GROUP = "66666666-7777-4888-9999-000000000000";
const OWNER = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

/** A stack config from plain values, as `pulumi config` hands it to the program. */
function config(values: Record<string, unknown>) {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) raw[k] = typeof v === "string" ? v : JSON.stringify(v);
  return parseStackConfig(raw, "dev");
}

const SCENARIOS: Record<string, { values: Record<string, unknown>; fake?: FakeAzureOptions }> = {
  "created vault, two secret callers, readers, owners, alerts": {
    values: {
      "azure-native:location": "westeurope",
      "azure-native:subscriptionId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      "flow-trigger-auth:callers": [
        {
          name: "erp",
          description: "SAP ERP posting invoices",
          owners: [OWNER],
          secretReaders: [{ objectId: READER, type: "ServicePrincipal" }],
        },
        { name: "crm" },
      ],
      "flow-trigger-auth:rotation": { rotationDays: 60, maxLifetimeDays: 120, offsetDays: 3 },
      "flow-trigger-auth:keyVault": { secretReaders: [{ objectId: GROUP, type: "Group" }] },
      "flow-trigger-auth:alerts": { emails: ["ops@contoso.com"], webhookUrl: "https://hooks.contoso.com/k" },
    },
  },
  "existing vault, one secret caller": {
    values: {
      "azure-native:subscriptionId": SUBSCRIPTION_ID,
      "flow-trigger-auth:callers": [{ name: "erp" }],
      "flow-trigger-auth:keyVault": {
        existingVaultId: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shared-01`,
      },
    },
    fake: { existingVault: { location: "northeurope" } },
  },
};

/**
 * Every declaration of a run, sorted, with computed values (IDs and state the fake made up) named by
 * their source, and secrets marked `{ "[secret]": value }`.
 */
function described(declared: Declared[], registrations: Map<string, Registration>) {
  const labels = new Map<string, string>();
  for (const d of declared) {
    const short = d.type.split(":").pop();
    if (d.id) labels.set(d.id, `<${short} ${d.name} id>`);
    // Computed: a value the provider made up, not one the program sent (e.g. an echoed name).
    const sent = JSON.stringify(d.inputs);
    for (const [field, value] of Object.entries(d.state)) {
      if (
        typeof value === "string" &&
        value.length >= 6 &&
        !/^[A-Za-z ]+$/.test(value) &&
        !sent.includes(JSON.stringify(value))
      ) {
        labels.set(value, `<${short} ${d.name} ${field}>`);
      }
    }
  }
  // One pass, longest values first, so that a label is never rewritten by a shorter value.
  const known = [...labels.keys()].sort((x, y) => y.length - x.length);
  const pattern = new RegExp(known.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
  const text = (s: string) => (known.length ? s.replace(pattern, (v) => labels.get(v)!) : s);
  const walk = (v: unknown): unknown => {
    if (pulumi.runtime.isRpcSecret(v)) return { "[secret]": walk(pulumi.runtime.unwrapRpcSecret(v)) };
    if (typeof v === "string") return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return declared
    .map((d) => {
      const r = registrations.get(`${d.type} ${d.name}`);
      return {
        resource: `${d.type} ${d.name}`,
        custom: d.custom,
        inputs: walk(d.rawInputs),
        options: r && {
          parent: r.parent,
          dependencies: r.dependencies,
          additionalSecretOutputs: r.additionalSecretOutputs,
          replaceOnChanges: r.replaceOnChanges,
          replacementTrigger: walk(r.replacementTrigger),
          aliases: r.aliases.filter((a) => !isApiVersionAlias(a)),
          deleteBeforeReplace: r.deleteBeforeReplace,
        },
      };
    })
    .sort((x, y) => (x.resource < y.resource ? -1 : x.resource > y.resource ? 1 : 0));
}

/** The aliases azure-native adds to every resource for its older API versions (not the program's). */
function isApiVersionAlias(alias: unknown): boolean {
  const spec = (alias as { spec?: { name?: string; type?: string } }).spec;
  return !spec?.name && /^azure-native:[^:]+\/v\d\w*:/.test(spec?.type ?? "");
}

describe("a stack of secret callers", () => {
  it("declares exactly what it declared before credential kinds: same names, types, parents, inputs and options", async () => {
    const recorded: Record<string, unknown> = {};
    for (const [name, { values, fake: options }] of Object.entries(SCENARIOS)) {
      const fake = new FakeAzure(options);
      const run = await fake.run(() => defineStack(config(values), NOW, "dev"));
      expect(run.failures).toEqual([]);
      recorded[name] = described(run.declared, fake.registrations);
    }
    await expect(JSON.stringify(recorded, null, 2) + "\n").toMatchFileSnapshot(
      "./fixtures/credential-secret-baseline.json",
    );
  });
});
