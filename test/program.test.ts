import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { FLOW_SERVICE_APP_ID, VAULT_DNS_SUFFIX } from "../clouds";
import { parseStackConfig, type StackConfig } from "../config";
import { isSecretAt } from "../engine/mock-engine";
import { stackOutputsSchema } from "../outputs";
import { appNotes } from "../program";
import { DAY_MS, decodeState, isoTime, STATE_TAG } from "../rotation";
import {
  ARM_ERRORS,
  DEPLOYER_OBJECT_ID,
  FakeAzure,
  FLOW_SP_OBJECT_ID,
  FLOW_USER_SCOPE_ID,
  SUBSCRIPTION_ID,
  T,
  TENANT_ID,
  type FakeAzureOptions,
} from "./helpers/fake-azure";
import { stackConfig, up as upStack, VAULT_NAMES } from "./helpers/stack";

const NOW = Date.parse("2026-11-22T09:30:00Z");
const READER = "11111111-2222-4333-8444-555555555555";
const OWNER = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

const config = (extra: Record<string, unknown> = {}, callers: unknown[] = [{ name: "erp" }]) =>
  stackConfig(callers, extra);
const up = (fake: FakeAzure, cfg: StackConfig, now = NOW) => upStack(fake, cfg, now);

const deploy = (cfg: StackConfig, options: FakeAzureOptions = {}, now = NOW) =>
  up(new FakeAzure(options), cfg, now);

describe("resources a stack declares", () => {
  it("creates exactly the vault, the deployer's vault role, and one caller's identity, consent, two slots, vault secret and reader", async () => {
    const d = await deploy(
      config({}, [{ name: "erp", secretReaders: [{ objectId: READER, type: "ServicePrincipal" }] }]),
    );
    expect(d.failures).toEqual([]);
    expect(d.customNames()).toEqual(
      [
        ...VAULT_NAMES,
        `${T.app} erp`,
        `${T.sp} erp-sp`,
        `${T.grant} erp-consent`,
        `${T.password} erp-secret-a`,
        `${T.password} erp-secret-b`,
        `${T.secret} erp-secret-kv`,
        `${T.role} erp-secret-reader-${READER}`,
      ].sort(),
    );
    expect(
      d.declared
        .filter((x) => !x.custom)
        .map((x) => `${x.type} ${x.name}`)
        .sort(),
    ).toEqual(
      [
        "flow-trigger-auth:entra:FlowCaller erp",
        "flow-trigger-auth:entra:RotatingClientSecret erp-secret",
        "flow-trigger-auth:keyvault:SecretVault vault",
      ].sort(),
    );
  });

  it("creates one set per caller for three callers, sharing one vault", async () => {
    const d = await deploy(config({}, [{ name: "erp" }, { name: "crm" }, { name: "hr-sync" }]));
    expect(d.customNames()).toEqual(
      [
        ...VAULT_NAMES,
        ...["erp", "crm", "hr-sync"].flatMap((n) => [
          `${T.app} ${n}`,
          `${T.sp} ${n}-sp`,
          `${T.grant} ${n}-consent`,
          `${T.password} ${n}-secret-a`,
          `${T.password} ${n}-secret-b`,
          `${T.secret} ${n}-secret-kv`,
        ]),
      ].sort(),
    );
  });
});

describe("a caller's app registration and consent", () => {
  it("is single tenant, has no redirect URI or implicit grant, and asks for the Flow service's User scope", async () => {
    const d = await deploy(
      config({ environment: "test", namePrefix: "acme" }, [{ name: "erp", description: "SAP ERP" }]),
    );
    const app = d.one(T.app, "erp").inputs;
    expect(app.displayName).toBe("acme-test-erp");
    expect(app.description).toBe("SAP ERP");
    expect(app.signInAudience).toBe("AzureADMyOrg");
    expect(app.web?.redirectUris ?? []).toEqual([]);
    expect(app.web.implicitGrant).toEqual({
      accessTokenIssuanceEnabled: false,
      idTokenIssuanceEnabled: false,
    });
    expect(app.singlePageApplication).toBeUndefined();
    expect(app.publicClient).toBeUndefined();
    expect(app.requiredResourceAccesses).toEqual([
      { resourceAppId: FLOW_SERVICE_APP_ID, resourceAccesses: [{ id: FLOW_USER_SCOPE_ID, type: "Scope" }] },
    ]);
  });

  it("grants admin consent for all users from the caller's enterprise app to the Flow service principal", async () => {
    const d = await deploy(config({}, [{ name: "erp" }, { name: "crm" }]));
    for (const name of ["erp", "crm"]) {
      const app = d.one(T.app, name);
      const sp = d.one(T.sp, `${name}-sp`);
      const grant = d.one(T.grant, `${name}-consent`).inputs;
      expect(sp.inputs.clientId).toBe(app.state.clientId);
      expect(sp.inputs.useExisting).toBeUndefined();
      expect(grant.servicePrincipalObjectId).toBe(sp.state.objectId);
      expect(grant.resourceServicePrincipalObjectId).toBe(FLOW_SP_OBJECT_ID);
      expect(grant.claimValues).toEqual(["User"]);
      expect(grant.userObjectId).toBeUndefined();
    }
  });

  it("creates nothing in a tenant without the Flow service principal, not even the vault", async () => {
    const d = await deploy(config({}, [{ name: "erp" }, { name: "crm" }]), { flowServiceMissing: true });
    expect(d.customNames()).toEqual([]);
    expect(d.failures.length).toBeGreaterThan(0);
    for (const f of d.failures) expect(f).toContain(`az ad sp create --id ${FLOW_SERVICE_APP_ID}`);
  });

  it("never declares the Flow service principal itself", async () => {
    const d = await deploy(config());
    expect(d.byType(T.sp).map((x) => x.inputs.clientId)).not.toContain(FLOW_SERVICE_APP_ID);
  });

  it("makes the deploying identity and the configured owners, and no one else, owners of the app and enterprise app", async () => {
    const d = await deploy(
      config({}, [{ name: "erp", owners: [OWNER, DEPLOYER_OBJECT_ID.toUpperCase()] }, { name: "crm" }]),
    );
    expect(d.one(T.app, "erp").inputs.owners).toEqual([DEPLOYER_OBJECT_ID, OWNER]);
    expect(d.one(T.sp, "erp-sp").inputs.owners).toEqual([DEPLOYER_OBJECT_ID, OWNER]);
    // Without configured owners the deploying identity stays the owner (unset would remove every owner).
    expect(d.one(T.app, "crm").inputs.owners).toEqual([DEPLOYER_OBJECT_ID]);
    expect(d.one(T.sp, "crm-sp").inputs.owners).toEqual([DEPLOYER_OBJECT_ID]);
  });

  it("says in the app's notes that the scheduled refresh reverts changes made by hand", async () => {
    const d = await deploy(config());
    expect(d.one(T.app, "erp").inputs.notes).toBe(appNotes("flow-trigger-auth", "dev"));
    expect(appNotes("flow-trigger-auth", "dev")).toContain("pulumi up --refresh");
  });
});

describe("the rotating client secret", () => {
  it("puts both slots on the app, each ending 1.5 × R after its grid period began, keyed on their periods, without start dates", async () => {
    const d = await deploy(config({ rotation: { rotationDays: 90, offsetDays: 0 } }));
    // Periods 230 (from 2026-09-04) and 231 (from 2026-10-19): the schedule alone, not the time of the run.
    const a = d.one(T.password, "erp-secret-a").inputs;
    const b = d.one(T.password, "erp-secret-b").inputs;
    expect(a.applicationId).toBe(d.one(T.app, "erp").id);
    expect([a.endDate, a.rotateWhenChanged, a.startDate]).toEqual([
      "2027-01-17T00:00:00Z",
      { period: "230" },
      undefined,
    ]);
    expect([b.endDate, b.rotateWhenChanged, b.startDate]).toEqual([
      "2027-03-03T00:00:00Z",
      { period: "231" },
      undefined,
    ]);
    expect(a.displayName).toBe("flow-trigger-auth slot a, until 2027-01-17T00:00:00Z");
    expect(a.endDateRelative).toBeUndefined();
  });

  it("stores the published slot's value in Key Vault as a Pulumi secret, expiring with it, with the rotation state in its tags", async () => {
    const d = await deploy(config());
    const secret = d.one(T.secret, "erp-secret-kv");
    const b = d.one(T.password, "erp-secret-b"); // slot B's period began later on 2026-11-22
    expect(secret.inputs.secretName).toBe("erp-client-secret");
    expect(secret.inputs.properties.value).toBe(b.state.value);
    expect(isSecretAt(secret, ["properties", "value"])).toBe(true);
    expect(secret.inputs.properties.attributes).toEqual({
      enabled: true,
      expires: Date.parse(b.inputs.endDate) / 1000,
    });
    expect(secret.inputs.properties.contentType).toBe("text/plain; charset=utf-8; kind=entra-client-secret");
    const tags = secret.inputs.tags;
    expect(tags).toMatchObject({
      clientId: d.one(T.app, "erp").state.clientId,
      slot: "b",
      period: "231",
      "managed-by": "flow-trigger-auth",
    });
    const state = decodeState(tags[STATE_TAG]);
    expect(state.published).toBe("b");
    expect(isoTime(state.b.endMs)).toBe(b.inputs.endDate);
    // Key Vault: at most 15 tags of at most 256 characters each; no secret in them.
    expect(Object.keys(tags).length).toBeLessThanOrEqual(15);
    for (const v of Object.values(tags)) expect(String(v).length).toBeLessThanOrEqual(256);
    expect(JSON.stringify(tags)).not.toContain(b.state.value);
  });

  it("grants Key Vault Secrets User on the caller's secret only, to its readers and the stack-wide readers, once per principal", async () => {
    const stackReader = "66666666-7777-4888-9999-000000000000";
    const d = await deploy(
      config(
        {
          keyVault: {
            secretReaders: [
              { objectId: stackReader, type: "Group" },
              { objectId: READER.toUpperCase(), type: "Group" },
            ],
          },
        },
        [{ name: "erp", secretReaders: [{ objectId: READER, type: "ServicePrincipal" }] }],
      ),
    );
    const secret = d.one(T.secret, "erp-secret-kv");
    const readers = d.byType(T.role).filter((r) => r.name.startsWith("erp-secret-reader-"));
    expect(readers.map((r) => [r.inputs.principalId, r.inputs.principalType]).sort()).toEqual(
      [
        [READER, "ServicePrincipal"],
        [stackReader, "Group"],
      ].sort(),
    );
    for (const r of readers) {
      expect(r.inputs.scope).toBe(secret.id);
      expect(r.inputs.roleDefinitionId).toBe(
        `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
      );
    }
  });
});

describe("rotation state kept in Azure, across runs", () => {
  const twoCallers = (rotation: Record<string, unknown> = { rotationDays: 90, offsetDays: 0 }) =>
    config({ rotation }, [{ name: "erp" }, { name: "crm" }]);
  const passwordsReplaced = (changes: { replaced: string[] }) =>
    changes.replaced
      .filter((k) => k.startsWith(T.password))
      .map((k) => k.split(" ")[1])
      .sort();

  it("a re-run with the previous run's Key Vault secret read back changes nothing", async () => {
    const fake = new FakeAzure();
    await up(fake, twoCallers(), NOW);
    for (const later of [HOUR, DAY_MS, 10 * DAY_MS]) {
      const again = await up(fake, twoCallers(), NOW + later);
      expect(again.failures).toEqual([]);
      expect(again.changes).toEqual({ created: [], replaced: [], updated: [] });
    }
  });

  it("after nextRotationAt exactly one slot per caller is replaced, and the Key Vault secret updated", async () => {
    const fake = new FakeAzure();
    const first = await up(fake, twoCallers(), NOW);
    const next = Date.parse(first.resolved.callers.erp.nextRotationAt);
    const due = await up(fake, twoCallers(), next + HOUR);
    expect(passwordsReplaced(due.changes)).toEqual(["crm-secret-a", "erp-secret-a"]);
    expect(due.changes.updated.sort()).toEqual([`${T.secret} crm-secret-kv`, `${T.secret} erp-secret-kv`]);
    expect(due.one(T.secret, "erp-secret-kv").inputs.properties.value).toBe(
      due.one(T.password, "erp-secret-a").state.value,
    );
    // The secret that left Key Vault keeps its value and end date until its own turn.
    expect(due.one(T.password, "erp-secret-b").state.value).toBe(
      first.one(T.password, "erp-secret-b").state.value,
    );
  });

  it.each([
    ["rotationDays 90 → 60", { rotationDays: 60, offsetDays: 0 }, 150, 10],
    ["offsetDays 0 → 5", { rotationDays: 90, offsetDays: 5 }, 180, 10],
    ["rotationDays 90 → 7", { rotationDays: 7, offsetDays: 3, maxLifetimeDays: 30 }, 40, 3],
  ])("after %s, each run replaces at most one slot of the caller", async (_, rotation, days, everyDays) => {
    // The schedule maths are simulated run by run in rotation.test.ts; this checks the program hands
    // the state from run to run, through Key Vault, across a change.
    const fake = new FakeAzure();
    await up(fake, config(), NOW);
    let replacements = 0;
    for (let day = 1; day <= days; day += everyDays) {
      const run = await up(fake, config({ rotation }), NOW + day * DAY_MS);
      expect(run.failures).toEqual([]);
      expect(passwordsReplaced(run.changes).length).toBeLessThanOrEqual(1);
      replacements += passwordsReplaced(run.changes).length;
    }
    expect(replacements).toBeGreaterThanOrEqual(2);
  });

  it("a Key Vault secret deleted by hand is written again at the next run, and no slot is replaced", async () => {
    const fake = new FakeAzure();
    await up(fake, config(), NOW);
    fake.deleteSecretByHand("erp-client-secret");
    const next = await up(fake, config(), NOW + DAY_MS);
    expect(next.failures).toEqual([]);
    expect(passwordsReplaced(next.changes)).toEqual([]);
    expect(fake.vaultSecretTags("erp-client-secret")?.[STATE_TAG]).toBeDefined();
  });

  it("stops with an error naming the secret when the state cannot be read, and writes nothing for that caller", async () => {
    const d = await deploy(config(), {
      getSecretError: `Status=403 Code="AuthorizationFailed" Message="The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/secrets/read'"`,
    });
    expect(d.failures.join("\n")).toMatch(
      /cannot read the rotation state of Key Vault secret erp-client-secret \(vault flow-dev-\w+, resource group flow-dev-rg, subscription [-0-9a-f]+\): ARM answered 403 AuthorizationFailed.*grant it Reader on the vault.*stops before anything is replaced/,
    );
    expect(d.byType(T.password)).toEqual([]);
    expect(d.byType(T.secret)).toEqual([]);
  });

  it("refuses to overwrite a secret of that name that flow-trigger-auth does not manage", async () => {
    const fake = new FakeAzure();
    await up(fake, config(), NOW);
    fake.edit(T.secret, "erp-secret-kv", (s) => {
      s.tags = { owner: "someone else" };
    });
    const next = await up(fake, config(), NOW + DAY_MS);
    expect(next.failures.join("\n")).toContain("exists and is not managed by flow-trigger-auth");
    expect(next.byType(T.password)).toEqual([]);
  });

  it("a stack deployed before rotation state (tags slot and period only) upgrades without replacing anything", async () => {
    const fake = new FakeAzure();
    const first = await up(fake, config(), NOW);
    // What the previous version deployed on 2026-11-22 for R = 90: both slots on the grid, B published.
    const grid = {
      a: { period: 230, start: "2026-09-04T00:00:00Z" },
      b: { period: 231, start: "2026-10-19T00:00:00Z" },
    };
    for (const slot of ["a", "b"] as const) {
      const end = isoTime(Date.parse(grid[slot].start) + 135 * DAY_MS);
      fake.edit(T.password, `erp-secret-${slot}`, (s) => {
        Object.assign(s, {
          endDate: end,
          rotateWhenChanged: { period: String(grid[slot].period) },
          displayName: `flow-trigger-auth slot ${slot}, until ${end}`,
        });
      });
    }
    fake.edit(T.secret, "erp-secret-kv", (s) => {
      s.tags = {
        clientId: first.one(T.app, "erp").state.clientId,
        slot: "b",
        period: "231",
        "managed-by": "flow-trigger-auth",
      };
      s.properties.attributes = { enabled: true, expires: Date.parse("2027-03-03T00:00:00Z") / 1000 };
    });
    const upgrade = await up(fake, config(), NOW + DAY_MS);
    expect(upgrade.failures).toEqual([]);
    expect(passwordsReplaced(upgrade.changes)).toEqual([]);
    // Only the vault secret is written again, to add the state tag (same value, same expiry).
    expect(upgrade.changes.updated).toEqual([`${T.secret} erp-secret-kv`]);
    expect(upgrade.resolved.callers.erp.secretExpiresAt).toBe("2027-03-03T00:00:00Z");
    expect(upgrade.resolved.callers.erp.nextRotationAt).toBe("2026-12-03T00:00:00Z");
  });
});

const HOUR = 3_600_000;
const warnings = (run: { logs: { severity: string; message: string }[] }) =>
  run.logs
    .filter((l) => l.severity === "warn")
    .map((l) => l.message)
    .join("\n");

describe("the vault", () => {
  it("is created with RBAC, purge protection, soft delete and a unique name of at most 24 characters", async () => {
    const d = await deploy(config({ namePrefix: "contoso-flow", environment: "production-west" }));
    const vault = d.one(T.vault, "vault");
    const p = vault.inputs.properties;
    expect(p.enableRbacAuthorization).toBe(true);
    expect(p.enablePurgeProtection).toBe(true);
    expect(p.enableSoftDelete).toBe(true);
    expect(p.tenantId).toBe(TENANT_ID);
    expect(p.accessPolicies).toEqual([]);
    expect(vault.inputs.location).toBe("westeurope");
    expect(d.one(T.rg, "vault-rg").inputs).toMatchObject({
      resourceGroupName: "contoso-flow-production-west-rg",
      location: "westeurope",
    });
    const name: string = vault.inputs.vaultName;
    expect(name.length).toBeLessThanOrEqual(24);
    expect(name).toMatch(/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/);
    expect(name).not.toContain("--");
    expect(name.endsWith(d.one(T.random, "vault-suffix").state.result)).toBe(true);
  });

  it("gives the deploying identity Key Vault Secrets Officer on the vault it creates (Key Vault deletes secrets through the data plane)", async () => {
    const d = await deploy(config());
    const grant = d.one(T.role, "vault-deployer").inputs;
    expect(grant.principalId).toBe(DEPLOYER_OBJECT_ID);
    expect(grant.scope).toBe(d.one(T.vault, "vault").id);
    expect(grant.roleDefinitionId).toBe(
      `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/b86a8fe4-44ce-4948-aee5-eccb2c155cd7`,
    );
  });

  const existing = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shared-01`;
  const existingConfig = () =>
    parseStackConfig(
      {
        "azure-native:subscriptionId": SUBSCRIPTION_ID,
        "flow-trigger-auth:callers": JSON.stringify([{ name: "erp" }]),
        "flow-trigger-auth:keyVault": JSON.stringify({ existingVaultId: existing }),
      },
      "dev",
    );

  it("uses an existing vault by ID, creating none and granting nothing on it", async () => {
    const d = await deploy(existingConfig(), { existingVault: { location: "northeurope" } });
    expect(d.byType(T.vault)).toHaveLength(0);
    expect(d.byType(T.rg)).toHaveLength(0);
    expect(d.byType(T.random)).toHaveLength(0);
    expect(d.byType(T.role)).toHaveLength(0);
    const secret = d.one(T.secret, "erp-secret-kv").inputs;
    expect([secret.vaultName, secret.resourceGroupName]).toEqual(["kv-shared-01", "rg-shared"]);
    expect(d.resolved.keyVaultName).toBe("kv-shared-01");
    expect(d.resolved.keyVaultUri).toBe("https://kv-shared-01.vault.azure.net/");
  });

  it("writes nothing to an existing vault that uses access policies: the check comes before every write", async () => {
    const d = await deploy(existingConfig(), {
      existingVault: { location: "northeurope", enableRbacAuthorization: false },
    });
    expect(d.failures.join("\n")).toContain(
      "az keyvault update --name kv-shared-01 --enable-rbac-authorization true",
    );
    expect(d.byType(T.secret)).toEqual([]);
    expect(d.byType(T.password)).toEqual([]);
  });
});

describe("names the stack chooses", () => {
  it("wire the vault secret and fill the outputs without relying on the provider echoing them", async () => {
    const d = await deploy(config(), { minimalAzureState: true });
    const vault = d.one(T.vault, "vault").inputs;
    const secret = d.one(T.secret, "erp-secret-kv").inputs;
    expect(secret.vaultName).toBe(vault.vaultName);
    expect(secret.resourceGroupName).toBe("flow-dev-rg");
    expect(vault.resourceGroupName).toBe("flow-dev-rg");
    expect(d.resolved.keyVaultName).toBe(vault.vaultName);
    expect(d.resolved.callers.erp.keyVaultSecretName).toBe("erp-client-secret");
    expect(d.resolved.callers.erp.keyVaultSecretUri).toBe(
      `https://${vault.vaultName}.vault.azure.net/secrets/erp-client-secret`,
    );
  });
});

describe("stack outputs", () => {
  it("are exactly the documented ones, with the enterprise app object IDs as allowedUsers", async () => {
    const d = await deploy(config({}, [{ name: "erp" }, { name: "crm" }]));
    const { resolved } = d;
    expect(Object.keys(resolved).sort()).toEqual(
      [
        "tenantId",
        "cloud",
        "audience",
        "scope",
        "tokenEndpoint",
        "keyVaultName",
        "keyVaultUri",
        "callers",
        "allowedUsers",
        "rotationState",
      ].sort(),
    );
    // Each rotating caller's state as Key Vault holds it: what the next run reads back.
    expect(resolved.rotationState).toEqual({
      erp: d.one(T.secret, "erp-secret-kv").inputs.tags[STATE_TAG],
      crm: d.one(T.secret, "crm-secret-kv").inputs.tags[STATE_TAG],
    });
    expect(resolved.tenantId).toBe(TENANT_ID);
    expect(resolved.cloud).toBe("public");
    expect(resolved.audience).toBe("https://service.flow.microsoft.com/");
    expect(resolved.scope).toBe("https://service.flow.microsoft.com//.default");
    expect(resolved.tokenEndpoint).toBe(`https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token`);
    expect(resolved.keyVaultUri).toBe(`https://${resolved.keyVaultName}.vault.azure.net/`);
    expect(Object.keys(resolved.callers)).toEqual(["erp", "crm"]);
    for (const name of ["erp", "crm"]) {
      const app = d.one(T.app, name);
      const sp = d.one(T.sp, `${name}-sp`);
      expect(resolved.callers[name]).toEqual({
        displayName: `flow-dev-${name}`,
        clientId: app.state.clientId,
        applicationObjectId: app.state.objectId,
        servicePrincipalObjectId: sp.state.objectId,
        credential: "secret",
        keyVaultSecretName: `${name}-client-secret`,
        keyVaultSecretUri: `https://${resolved.keyVaultName}.vault.azure.net/secrets/${name}-client-secret`,
        secretExpiresAt: "2027-03-03T00:00:00Z",
        nextRotationAt: "2026-12-03T00:00:00Z",
      });
    }
    expect(resolved.allowedUsers).toEqual([
      d.one(T.sp, "erp-sp").state.objectId,
      d.one(T.sp, "crm-sp").state.objectId,
    ]);
  });

  it("are what every reader accepts: they parse with the one outputs schema (outputs.ts)", async () => {
    for (const cloud of ["public", "gcchigh", "china"] as const) {
      const d = await deploy(config({ cloud }, [{ name: "erp" }, { name: "crm" }]), {
        vaultDnsSuffix: VAULT_DNS_SUFFIX[cloud],
      });
      const parsed = stackOutputsSchema.safeParse(d.resolved);
      expect(parsed.error?.issues ?? []).toEqual([]);
    }
  });

  it("hold no secret value, checked on the values", async () => {
    const d = await deploy(config({}, [{ name: "erp" }, { name: "crm" }]));
    const secrets = d.byType(T.password).map((p) => p.state.value as string);
    expect(secrets).toHaveLength(4);
    const text = JSON.stringify(d.resolved);
    for (const s of secrets) expect(text).not.toContain(s);
    const flat: pulumi.Output<unknown>[] = [];
    const walk = (v: unknown) => {
      if (pulumi.Output.isInstance(v)) flat.push(v as pulumi.Output<unknown>);
      else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(d.result);
    for (const o of flat) expect(await pulumi.isSecret(o)).toBe(false);
  });

  it.each([
    ["gcc", "https://gov.service.flow.microsoft.us/", "https://login.microsoftonline.com"],
    ["gcchigh", "https://high.service.flow.microsoft.us/", "https://login.microsoftonline.us"],
    ["dod", "https://service.flow.appsplatform.us/", "https://login.microsoftonline.us"],
    ["china", "https://service.powerautomate.cn/", "https://login.chinacloudapi.cn"],
  ])("follow cloud %s: audience, double-slash scope and authority", async (cloud, audience, authority) => {
    const { resolved } = await deploy(config({ cloud }));
    expect(resolved.cloud).toBe(cloud);
    expect(resolved.audience).toBe(audience);
    expect(resolved.scope).toBe(`${audience}/.default`);
    expect(resolved.tokenEndpoint).toBe(`${authority}/${TENANT_ID}/oauth2/v2.0/token`);
  });
});

describe("the smoke test inside pulumi up", () => {
  const smokeTest = {
    triggerUrl:
      "https://0f1e2d3c.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1",
    caller: "crm",
    body: { ping: true },
  };
  const cfg = () => config({ smokeTest }, [{ name: "erp" }, { name: "crm" }]);

  it("is not declared unless configured", async () => {
    const d = await deploy(config());
    expect(d.byType(T.command)).toHaveLength(0);
  });

  it("is skipped on the caller's first deployment (it cannot be in Allowed users yet), and runs at the next", async () => {
    const fake = new FakeAzure();
    const first = await up(fake, cfg(), NOW);
    const skipped = first.one(T.command, "smoke-crm-run").inputs.create;
    expect(skipped).toMatch(/^echo '\{"verdict":"skipped"/);
    expect(warnings(first)).toMatch(
      /smoke test skipped: crm has no rotation state yet \(first deployment\): hand its object ID/,
    );
    const second = await up(fake, cfg(), NOW + DAY_MS);
    const run = second.one(T.command, "smoke-crm-run");
    // The built tool itself (npm would add its banner and start-up time), no longer the skip notice.
    expect(run.inputs.create).toMatch(
      /^node dist\/flow-trigger-auth\.js smoke --trigger-url "\$FLOW_TRIGGER_URL"/,
    );
    expect(run.inputs.create).not.toMatch(/^echo /);
    // A changed command runs again in place: the resource is updated, not replaced.
    expect(second.changes.updated).toContain(`${T.command} smoke-crm-run`);
    expect(second.changes.replaced).not.toContain(`${T.command} smoke-crm-run`);
    expect(warnings(second)).not.toContain("smoke test skipped");
  });

  it("runs the smoke CLI with the caller's published secret in its environment, never on its command line", async () => {
    const fake = new FakeAzure();
    await up(fake, cfg(), NOW);
    const d = await up(fake, cfg(), NOW + DAY_MS);
    const run = d.one(T.command, "smoke-crm-run");
    const published = d.one(T.password, "crm-secret-b").state.value;
    expect(run.inputs.environment.FLOW_CLIENT_SECRET).toBe(published);
    expect(isSecretAt(run, ["environment", "FLOW_CLIENT_SECRET"])).toBe(true);
    expect(isSecretAt(run, ["environment", "FLOW_TRIGGER_URL"])).toBe(true);
    expect(run.inputs.environment.FLOW_CLIENT_ID).toBe(d.one(T.app, "crm").state.clientId);
    expect(run.inputs.environment.FLOW_TENANT_ID).toBe(TENANT_ID);
    expect(run.inputs.environment.FLOW_BODY).toBe('{"ping":true}');
    // stdout and stderr never reach the CI log; in state they are secrets.
    expect(run.inputs.logging).toBe("none");
    expect(run.inputs.create).toContain("--cloud public");
    expect(run.inputs.create).not.toContain(published);
    expect(run.inputs.create).not.toContain("powerplatform.com");
    const secret = d.one(T.secret, "crm-secret-kv");
    expect(run.inputs.triggers).toContain(secret.state.properties.secretUriWithVersion);
    expect(run.inputs.triggers).toContain(smokeTest.triggerUrl);
  });

  it("checks a certificate caller with its published key and certificate, in its environment only", async () => {
    const fake = new FakeAzure();
    const certificate = () =>
      config({ smokeTest }, [{ name: "erp" }, { name: "crm", credential: "certificate" }]);
    await up(fake, certificate(), NOW);
    const d = await up(fake, certificate(), NOW + DAY_MS);
    const run = d.one(T.command, "smoke-crm-run");
    expect(run.inputs.create).toContain("--credential certificate");
    expect(run.inputs.environment.FLOW_CLIENT_SECRET).toBeUndefined();
    expect(run.inputs.environment.FLOW_CLIENT_CERTIFICATE).toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    expect(run.inputs.environment.FLOW_CLIENT_CERTIFICATE).toContain("-----BEGIN CERTIFICATE-----");
    expect(isSecretAt(run, ["environment", "FLOW_CLIENT_CERTIFICATE"])).toBe(true);
    expect(warnings(d)).not.toContain("smoke test skipped");
  });
});

describe("expiry alerts", () => {
  it("are not declared unless configured", async () => {
    const d = await deploy(config());
    expect(d.declared.filter((x) => x.type.startsWith("azure-native:eventgrid:"))).toHaveLength(0);
  });

  it("watch the stack's vault and keep the webhook URL secret", async () => {
    const d = await deploy(
      config({ alerts: { emails: ["ops@contoso.com"], webhookUrl: "https://hooks.contoso.com/k=abc" } }),
    );
    const vault = d.one(T.vault, "vault");
    const topic = d.one("azure-native:eventgrid:SystemTopic", "alerts-topic").inputs;
    expect(topic.source).toBe(vault.id);
    expect(topic.location).toBe("westeurope");
    expect(topic.resourceGroupName).toBe(d.one(T.rg, "vault-rg").state.name);
    const hook = d.one("azure-native:eventgrid:SystemTopicEventSubscription", "alerts-to-webhook");
    expect(JSON.stringify(hook.inputs)).toContain("https://hooks.contoso.com/k=abc");
    expect(isSecretAt(hook, ["destination", "endpointUrl"])).toBe(true);
    const group = d.one("azure-native:monitor:ActionGroup", "alerts-action-group").inputs;
    expect(group.groupShortName).toBe("flow-dev");
    expect(group.emailReceivers).toEqual([expect.objectContaining({ emailAddress: "ops@contoso.com" })]);
  });
});

describe("short rotation periods", () => {
  it("warn that the published secret is always within 30 days of expiry", async () => {
    const d = await deploy(
      config({
        rotation: { rotationDays: 20, maxLifetimeDays: 30 },
        alerts: { emails: ["ops@contoso.com"] },
      }),
    );
    expect(warnings(d)).toMatch(/rotationDays 20 ≤ 30.*--warn-days below 20.*near-expiry alert/);
  });
});

describe("the deploying identity and its subscription", () => {
  it("gives the deployer's vault role the type it really has: ServicePrincipal from a pipeline, User for a person", async () => {
    for (const deployerType of ["ServicePrincipal", "User"] as const) {
      const d = await deploy(config(), { deployerType });
      expect(d.failures).toEqual([]);
      expect(d.one(T.role, "vault-deployer").inputs.principalType).toBe(deployerType);
    }
  });

  it("is refused by ARM with UnmatchedPrincipalType when a role assignment names the wrong type, as ARM does", async () => {
    const d = await deploy(
      config({}, [{ name: "erp", secretReaders: [{ objectId: READER, type: "User" }] }]),
      { principalTypes: { [READER]: "ServicePrincipal" } },
    );
    expect(d.failures.join("\n")).toContain(
      `Code="UnmatchedPrincipalType" Message="The PrincipalId '${READER}' has type 'ServicePrincipal' , which is different from specified PrincipalType 'User'."`,
    );
  });

  it("a stack first deployed by a person upgrades with no change to the deployer's role assignment", async () => {
    const fake = new FakeAzure();
    await up(fake, config());
    // The version before this one sent no principalType: the SDK's default, User (roleAssignment.js).
    fake.edit(T.role, "vault-deployer", (v) => {
      v.principalType = "User";
    });
    const next = await up(fake, config(), NOW + DAY_MS);
    expect(next.failures).toEqual([]);
    expect(next.changes.replaced).toEqual([]);
    expect(next.changes.updated).not.toContain(`${T.role} vault-deployer`);
  });

  it("refuses to read or write anything when azure-native is signed in to another subscription or tenant", async () => {
    for (const options of [
      { signedInSubscription: "99999999-4e5f-4a6b-8c7d-9e0f1a2b3c4d" },
      { signedInTenant: "88888888-1d4e-4f80-9a7b-2c3d4e5f6a7b" },
    ]) {
      const d = await deploy(config(), options);
      expect(d.customNames()).toEqual([]);
      expect(d.failures.join("\n")).toMatch(
        /azure-native:subscriptionId is 0a1b2c3d-.*signed in to subscription 99999999-|signed in to tenant 88888888-/,
      );
    }
  });

  it.each([
    ["the vault is missing", ARM_ERRORS.vaultNotFound("flow-dev-rg", "x"), "az keyvault list-deleted"],
    [
      "the resource group is missing",
      ARM_ERRORS.resourceGroupNotFound("flow-dev-rg"),
      "resource group flow-dev-rg does not exist",
    ],
    [
      "the subscription is not visible",
      ARM_ERRORS.subscriptionNotFound(SUBSCRIPTION_ID),
      "is not visible to the deploying identity",
    ],
    [
      "the identity may not read the vault",
      ARM_ERRORS.authorizationFailed(DEPLOYER_OBJECT_ID, "Microsoft.KeyVault/vaults/read", "/x"),
      "grant it Reader",
    ],
    ["the sign-in expired", ARM_ERRORS.expiredToken(), "sign in again"],
    ["ARM throttles", ARM_ERRORS.throttled(), "throttled"],
  ])(
    "stops before any slot is declared when %s, naming the vault and subscription",
    async (_, error, check) => {
      const d = await deploy(config(), { getVaultError: error });
      const message = d.failures.join("\n");
      expect(message).toContain(`subscription ${SUBSCRIPTION_ID}`);
      expect(message).toContain(check);
      expect(d.byType(T.password)).toEqual([]);
      expect(d.byType(T.secret)).toEqual([]);
    },
  );
});

describe("consent", () => {
  it("with consent: false, declares no grant and no requiredResourceAccesses entry; per caller overrides the stack", async () => {
    const d = await deploy(config({ consent: false }, [{ name: "erp" }, { name: "crm", consent: true }]));
    expect(d.failures).toEqual([]);
    expect(d.one(T.app, "erp").inputs.requiredResourceAccesses).toEqual([]);
    expect(d.byType(T.grant).map((g) => g.name)).toEqual(["crm-consent"]);
    expect(d.one(T.app, "crm").inputs.requiredResourceAccesses).toHaveLength(1);
  });

  it("turning consent off later updates the app in place and removes only the grant", async () => {
    const fake = new FakeAzure();
    await up(fake, config());
    const next = await up(fake, config({ consent: false }), NOW + DAY_MS);
    expect(next.failures).toEqual([]);
    expect(next.changes.replaced).toEqual([]);
    expect(next.changes.updated).toContain(`${T.app} erp`);
    expect(next.byType(T.grant)).toEqual([]);
  });
});
