import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FLOW_SERVICE_APP_ID } from "../clouds";
import { parseStackConfig, type StackConfig } from "../config";
import { defineStack } from "../program";
import { DAY_MS, planRotation } from "../rotation";
import {
  type Declared,
  FLOW_SP_OBJECT_ID,
  FLOW_USER_SCOPE_ID,
  installMocks,
  isSecretInput,
  resolveDeep,
  settle,
  SUBSCRIPTION_ID,
  TENANT_ID,
} from "./helpers/mocks";

const NOW = Date.parse("2026-11-22T09:30:00Z");
const READER = "11111111-2222-4333-8444-555555555555";
const STACK_READER = "66666666-7777-4888-9999-000000000000";

function config(extra: Record<string, unknown> = {}, callers: unknown[] = [{ name: "erp" }]): StackConfig {
  const raw: Record<string, string> = {
    "azure-native:location": "westeurope",
    "flow-trigger-auth:callers": JSON.stringify(callers),
  };
  for (const [k, v] of Object.entries(extra))
    raw[`flow-trigger-auth:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  return parseStackConfig(raw, "dev");
}

let declared: Declared[];
beforeEach(() => {
  declared = installMocks();
});

async function deploy(cfg: StackConfig, now = NOW) {
  const outputs = defineStack(cfg, now, "dev");
  const resolved = (await resolveDeep(outputs)) as any;
  await settle(declared);
  return { outputs, resolved };
}

const custom = () => declared.filter((d) => d.custom);
/** `<type> <name>` of every declared cloud resource, sorted. */
const customNames = () =>
  custom()
    .map((d) => `${d.type} ${d.name}`)
    .sort();
const byType = (type: string) => declared.filter((d) => d.type === type);
const one = (type: string, name: string) => {
  const found = declared.filter((d) => d.type === type && d.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0];
};

const T = {
  app: "azuread:index/application:Application",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
  grant: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
  password: "azuread:index/applicationPassword:ApplicationPassword",
  rg: "azure-native:resources:ResourceGroup",
  vault: "azure-native:keyvault:Vault",
  secret: "azure-native:keyvault:Secret",
  role: "azure-native:authorization:RoleAssignment",
  random: "random:index/randomString:RandomString",
};

describe("resources a stack declares", () => {
  it("creates exactly the vault and one caller's identity, consent, two secret slots and vault secret", async () => {
    await deploy(
      config({}, [{ name: "erp", secretReaders: [{ objectId: READER, type: "ServicePrincipal" }] }]),
    );
    expect(customNames()).toEqual(
      [
        `${T.rg} vault-rg`,
        `${T.random} vault-suffix`,
        `${T.vault} vault`,
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
      declared
        .filter((d) => !d.custom)
        .map((d) => `${d.type} ${d.name}`)
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
    await deploy(config({}, [{ name: "erp" }, { name: "crm" }, { name: "hr-sync" }]));
    expect(
      byType(T.secret)
        .map((s) => s.inputs.secretName)
        .sort(),
    ).toEqual(["crm-client-secret", "erp-client-secret", "hr-sync-client-secret"]);
    expect(customNames()).toEqual(
      [
        `${T.rg} vault-rg`,
        `${T.random} vault-suffix`,
        `${T.vault} vault`,
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
    await deploy(
      config({ environment: "test", namePrefix: "acme" }, [{ name: "erp", description: "SAP ERP" }]),
    );
    const app = one(T.app, "erp").inputs;
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
    await deploy(config({}, [{ name: "erp" }, { name: "crm" }]));
    for (const name of ["erp", "crm"]) {
      const app = one(T.app, name);
      const sp = one(T.sp, `${name}-sp`);
      const grant = one(T.grant, `${name}-consent`).inputs;
      expect(sp.inputs.clientId).toBe(app.state.clientId);
      expect(sp.inputs.useExisting).toBeUndefined();
      expect(grant.servicePrincipalObjectId).toBe(sp.state.objectId);
      expect(grant.resourceServicePrincipalObjectId).toBe(FLOW_SP_OBJECT_ID);
      expect(grant.claimValues).toEqual(["User"]);
      expect(grant.userObjectId).toBeUndefined();
    }
  });

  it("creates nothing in a tenant without the Flow service principal, not even the vault", async () => {
    declared = installMocks({ flowServiceMissing: true });
    // Pulumi reports each refused registration as an unhandled rejection; collect them for this test.
    const failures: unknown[] = [];
    const others = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    const collect = (reason: unknown) => failures.push(reason);
    process.on("unhandledRejection", collect);
    try {
      defineStack(config({}, [{ name: "erp" }, { name: "crm" }]), NOW, "dev");
      await settle(declared);
      await vi.waitFor(() => expect(failures.length).toBeGreaterThan(0));
    } finally {
      process.off("unhandledRejection", collect);
      for (const listener of others) process.on("unhandledRejection", listener);
    }
    expect(customNames()).toEqual([]);
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) expect(String(f)).toContain(`az ad sp create --id ${FLOW_SERVICE_APP_ID}`);
  });

  it("never declares the Flow service principal itself", async () => {
    await deploy(config());
    expect(byType(T.sp).map((d) => d.inputs.clientId)).not.toContain(FLOW_SERVICE_APP_ID);
  });

  it("sets owners on the app and the enterprise app only when owners are configured", async () => {
    const owner = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    await deploy(config({}, [{ name: "erp", owners: [owner] }, { name: "crm" }]));
    expect(one(T.app, "erp").inputs.owners).toEqual([owner]);
    expect(one(T.sp, "erp-sp").inputs.owners).toEqual([owner]);
    expect(one(T.app, "crm").inputs.owners).toBeUndefined();
  });
});

describe("the rotating client secret", () => {
  it("puts both slots on the app with the contract's end dates, keyed on their periods, without start dates", async () => {
    await deploy(config({ rotation: { rotationDays: 90 } }));
    const app = one(T.app, "erp");
    const plan = planRotation({ rotationDays: 90, offsetDays: 0 }, NOW);
    for (const slot of ["a", "b"] as const) {
      const p = one(T.password, `erp-secret-${slot}`).inputs;
      expect(p.applicationId).toBe(app.id);
      expect(p.applicationId).toMatch(/^\/applications\/[0-9a-f-]{36}$/);
      expect(Date.parse(p.endDate)).toBe(plan[slot].endMs);
      expect(p.rotateWhenChanged).toEqual({ period: String(plan[slot].period) });
      expect(p.startDate).toBeUndefined();
      expect(p.endDateRelative).toBeUndefined();
    }
    expect(Date.parse(one(T.password, "erp-secret-a").inputs.endDate)).toBe(
      Date.parse("2027-01-17T00:00:00Z"),
    );
    expect(Date.parse(one(T.password, "erp-secret-b").inputs.endDate)).toBe(
      Date.parse("2027-03-03T00:00:00Z"),
    );
  });

  it("stores the newest slot's value in Key Vault, expiring with it, with content type and tags", async () => {
    const { resolved } = await deploy(config());
    const app = one(T.app, "erp");
    const newest = one(T.password, "erp-secret-b"); // on 2026-11-22, slot B (started 2026-10-19) is newer
    const secret = one(T.secret, "erp-secret-kv").inputs;
    expect(secret.properties.value).toBe(newest.state.value);
    expect(secret.properties.value).not.toBe(one(T.password, "erp-secret-a").state.value);
    expect(secret.properties.attributes).toEqual({
      enabled: true,
      expires: Date.parse("2027-03-03T00:00:00Z") / 1000,
    });
    expect(secret.properties.contentType).toEqual(expect.any(String));
    expect(secret.tags).toMatchObject({ clientId: app.state.clientId, slot: "b" });
    expect(secret.vaultName).toBe(one(T.vault, "vault").state.name);
    expect(secret.resourceGroupName).toBe(one(T.rg, "vault-rg").state.name);
    expect(resolved.callers.erp.secretExpiresAt).toBe("2027-03-03T00:00:00Z");
    expect(resolved.callers.erp.nextRotationAt).toBe("2026-12-03T00:00:00Z");
  });

  it("publishes slot A once A is the newer slot", async () => {
    await deploy(config(), Date.parse("2026-12-03T06:00:00Z"));
    const secret = one(T.secret, "erp-secret-kv").inputs;
    expect(secret.properties.value).toBe(one(T.password, "erp-secret-a").state.value);
    expect(secret.tags.slot).toBe("a");
    expect(secret.properties.attributes.expires).toBe(Date.parse("2027-04-17T00:00:00Z") / 1000);
  });

  it("sends the vault secret's value to the engine as a Pulumi secret", async () => {
    await deploy(config());
    expect(isSecretInput(one(T.secret, "erp-secret-kv"), ["properties", "value"])).toBe(true);
  });

  it("grants Key Vault Secrets User on the caller's secret only, to its readers and the stack-wide readers", async () => {
    await deploy(
      config({ keyVault: { secretReaders: [{ objectId: STACK_READER, type: "Group" }] } }, [
        { name: "erp", secretReaders: [{ objectId: READER, type: "ServicePrincipal" }] },
        { name: "crm" },
      ]),
    );
    const roleDef = `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`;
    const erpSecret = one(T.secret, "erp-secret-kv");
    const crmSecret = one(T.secret, "crm-secret-kv");
    const assignments = byType(T.role).map((r) => ({
      name: r.name,
      scope: r.inputs.scope,
      principalId: r.inputs.principalId,
      principalType: r.inputs.principalType,
      roleDefinitionId: r.inputs.roleDefinitionId,
    }));
    expect(assignments.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      {
        name: `crm-secret-reader-${STACK_READER}`,
        scope: crmSecret.id,
        principalId: STACK_READER,
        principalType: "Group",
        roleDefinitionId: roleDef,
      },
      {
        name: `erp-secret-reader-${READER}`,
        scope: erpSecret.id,
        principalId: READER,
        principalType: "ServicePrincipal",
        roleDefinitionId: roleDef,
      },
      {
        name: `erp-secret-reader-${STACK_READER}`,
        scope: erpSecret.id,
        principalId: STACK_READER,
        principalType: "Group",
        roleDefinitionId: roleDef,
      },
    ]);
    expect(erpSecret.id).toMatch(
      /\/providers\/Microsoft\.KeyVault\/vaults\/[^/]+\/secrets\/erp-client-secret$/,
    );
  });

  it("assigns the role once to a principal listed both for the caller and stack-wide", async () => {
    await deploy(
      config({ keyVault: { secretReaders: [{ objectId: READER.toUpperCase(), type: "Group" }] } }, [
        { name: "erp", secretReaders: [{ objectId: READER, type: "ServicePrincipal" }] },
      ]),
    );
    const assignments = byType(T.role);
    expect(assignments).toHaveLength(1);
    expect(assignments[0].inputs).toMatchObject({ principalId: READER, principalType: "ServicePrincipal" });
  });

  it("changes nothing when re-run later within the same period", async () => {
    const snapshot = () =>
      custom()
        .filter((d) => d.type === T.password || d.type === T.secret)
        .map((d) => ({
          name: d.name,
          endDate: d.inputs.endDate,
          rotateWhenChanged: d.inputs.rotateWhenChanged,
          displayName: d.inputs.displayName,
          attributes: d.inputs.properties?.attributes,
          tags: d.inputs.tags && { ...d.inputs.tags, clientId: undefined },
        }));
    await deploy(config(), NOW);
    const first = snapshot();
    declared.length = 0;
    await deploy(config(), NOW + 10 * DAY_MS); // 2026-12-02: still before slot A's boundary
    expect(snapshot()).toEqual(first);
    declared.length = 0;
    await deploy(config(), Date.parse("2026-12-03T00:00:00Z"));
    const third = snapshot();
    const changed = third.filter((s, i) => JSON.stringify(s) !== JSON.stringify(first[i])).map((s) => s.name);
    expect(changed.sort()).toEqual(["erp-secret-a", "erp-secret-kv"]);
  });
});

describe("the vault", () => {
  it("is created with RBAC, purge protection, soft delete and a unique name of at most 24 characters", async () => {
    await deploy(config({ namePrefix: "contoso-flow", environment: "production-west" }));
    const vault = one(T.vault, "vault");
    const p = vault.inputs.properties;
    expect(p.enableRbacAuthorization).toBe(true);
    expect(p.enablePurgeProtection).toBe(true);
    expect(p.enableSoftDelete).toBe(true);
    expect(p.tenantId).toBe(TENANT_ID);
    expect(p.accessPolicies).toEqual([]);
    expect(vault.inputs.location).toBe("westeurope");
    expect(one(T.rg, "vault-rg").inputs).toMatchObject({
      resourceGroupName: "contoso-flow-production-west-rg",
      location: "westeurope",
    });
    const name: string = vault.inputs.vaultName;
    expect(name.length).toBeLessThanOrEqual(24);
    expect(name).toMatch(/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/);
    expect(name).not.toContain("--");
    expect(name.endsWith(one(T.random, "vault-suffix").state.result)).toBe(true);
  });

  it("uses an existing vault by ID, creating none", async () => {
    declared = installMocks({ existingVault: { location: "northeurope" } });
    const id = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shared-01`;
    const cfg = parseStackConfig(
      {
        "flow-trigger-auth:callers": JSON.stringify([{ name: "erp" }]),
        "flow-trigger-auth:keyVault": JSON.stringify({ existingVaultId: id }),
      },
      "dev",
    );
    const { resolved } = await deploy(cfg);
    expect(byType(T.vault)).toHaveLength(0);
    expect(byType(T.rg)).toHaveLength(0);
    expect(byType(T.random)).toHaveLength(0);
    const secret = one(T.secret, "erp-secret-kv").inputs;
    expect([secret.vaultName, secret.resourceGroupName]).toEqual(["kv-shared-01", "rg-shared"]);
    expect(resolved.keyVaultName).toBe("kv-shared-01");
    expect(resolved.keyVaultUri).toBe("https://kv-shared-01.vault.azure.net/");
  });
});

describe("names the stack chooses", () => {
  it("wire the vault secret and fill the outputs without relying on the provider echoing them", async () => {
    declared = installMocks({ minimalAzureState: true });
    const { resolved } = await deploy(config());
    const vault = one(T.vault, "vault").inputs;
    const secret = one(T.secret, "erp-secret-kv").inputs;
    expect(secret.vaultName).toBe(vault.vaultName);
    expect(secret.resourceGroupName).toBe("flow-dev-rg");
    expect(vault.resourceGroupName).toBe("flow-dev-rg");
    expect(resolved.keyVaultName).toBe(vault.vaultName);
    expect(resolved.callers.erp.keyVaultSecretName).toBe("erp-client-secret");
    expect(resolved.callers.erp.keyVaultSecretUri).toBe(
      `https://${vault.vaultName}.vault.azure.net/secrets/erp-client-secret`,
    );
  });
});

describe("stack outputs", () => {
  it("are exactly the contract's, with the enterprise app object IDs as allowedUsers", async () => {
    const { resolved } = await deploy(config({}, [{ name: "erp" }, { name: "crm" }]));
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
      ].sort(),
    );
    expect(resolved.tenantId).toBe(TENANT_ID);
    expect(resolved.cloud).toBe("public");
    expect(resolved.audience).toBe("https://service.flow.microsoft.com/");
    expect(resolved.scope).toBe("https://service.flow.microsoft.com//.default");
    expect(resolved.tokenEndpoint).toBe(`https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token`);
    expect(resolved.keyVaultUri).toBe(`https://${resolved.keyVaultName}.vault.azure.net/`);
    expect(Object.keys(resolved.callers)).toEqual(["erp", "crm"]);
    for (const name of ["erp", "crm"]) {
      const app = one(T.app, name);
      const sp = one(T.sp, `${name}-sp`);
      expect(resolved.callers[name]).toEqual({
        displayName: `flow-dev-${name}`,
        clientId: app.state.clientId,
        applicationObjectId: app.state.objectId,
        servicePrincipalObjectId: sp.state.objectId,
        keyVaultSecretName: `${name}-client-secret`,
        keyVaultSecretUri: `https://${resolved.keyVaultName}.vault.azure.net/secrets/${name}-client-secret`,
        secretExpiresAt: "2027-03-03T00:00:00Z",
        nextRotationAt: "2026-12-03T00:00:00Z",
      });
    }
    expect(resolved.allowedUsers).toEqual([
      one(T.sp, "erp-sp").state.objectId,
      one(T.sp, "crm-sp").state.objectId,
    ]);
  });

  it("hold no secret value, checked on the values", async () => {
    const { outputs, resolved } = await deploy(config({}, [{ name: "erp" }, { name: "crm" }]));
    const secrets = byType(T.password).map((p) => p.state.value as string);
    expect(secrets).toHaveLength(4);
    const text = JSON.stringify(resolved);
    for (const s of secrets) expect(text).not.toContain(s);
    const flat: pulumi.Output<unknown>[] = [];
    const walk = (v: unknown) => {
      if (pulumi.Output.isInstance(v)) flat.push(v as pulumi.Output<unknown>);
      else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(outputs);
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
    expect(resolved.scope).toContain("//.default");
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

  it("is not declared unless configured", async () => {
    await deploy(config());
    expect(byType("command:local:Command")).toHaveLength(0);
  });

  it("runs the smoke CLI with the caller's published secret in its environment, never on its command line", async () => {
    await deploy(config({ smokeTest }, [{ name: "erp" }, { name: "crm" }]));
    const run = one("command:local:Command", "smoke-crm-run");
    const published = one(T.password, "crm-secret-b").state.value; // slot B is the newer on 2026-11-22
    expect(run.inputs.environment.FLOW_CLIENT_SECRET).toBe(published);
    expect(isSecretInput(run, ["environment", "FLOW_CLIENT_SECRET"])).toBe(true);
    expect(isSecretInput(run, ["environment", "FLOW_TRIGGER_URL"])).toBe(true);
    expect(run.inputs.environment.FLOW_CLIENT_ID).toBe(one(T.app, "crm").state.clientId);
    expect(run.inputs.environment.FLOW_TENANT_ID).toBe(TENANT_ID);
    expect(run.inputs.environment.FLOW_BODY).toBe('{"ping":true}');
    expect(run.inputs.create).toMatch(/^npm run --silent smoke -- /);
    expect(run.inputs.create).toContain("--cloud public");
    expect(run.inputs.create).not.toContain(published);
    expect(run.inputs.create).not.toContain("powerplatform.com");
  });

  it("re-runs when the published secret version or the trigger URL changes", async () => {
    await deploy(config({ smokeTest }, [{ name: "erp" }, { name: "crm" }]));
    const run = one("command:local:Command", "smoke-crm-run");
    const secret = one(T.secret, "crm-secret-kv");
    expect(run.inputs.triggers).toContain(secret.state.properties.secretUriWithVersion);
    expect(run.inputs.triggers).toContain(smokeTest.triggerUrl);
  });
});

describe("expiry alerts", () => {
  it("are not declared unless configured", async () => {
    await deploy(config());
    expect(declared.filter((d) => d.type.startsWith("azure-native:eventgrid:"))).toHaveLength(0);
  });

  it("watch the stack's vault and keep the webhook URL secret", async () => {
    await deploy(
      config({ alerts: { emails: ["ops@contoso.com"], webhookUrl: "https://hooks.contoso.com/k=abc" } }),
    );
    const vault = one(T.vault, "vault");
    const topic = one("azure-native:eventgrid:SystemTopic", "alerts-topic").inputs;
    expect(topic.source).toBe(vault.id);
    expect(topic.location).toBe("westeurope");
    expect(topic.resourceGroupName).toBe(one(T.rg, "vault-rg").state.name);
    const hook = one("azure-native:eventgrid:SystemTopicEventSubscription", "alerts-to-webhook");
    expect(JSON.stringify(hook.inputs)).toContain("https://hooks.contoso.com/k=abc");
    expect(isSecretInput(hook, ["destination", "endpointUrl"])).toBe(true);
    expect(one("azure-native:monitor:ActionGroup", "alerts-action-group").inputs.groupShortName).toBe(
      "flow-dev",
    );
    expect(one("azure-native:monitor:ActionGroup", "alerts-action-group").inputs.emailReceivers).toEqual([
      expect.objectContaining({ emailAddress: "ops@contoso.com" }),
    ]);
  });
});

describe("short rotation periods", () => {
  it("warn that the published secret is always within 30 days of expiry", async () => {
    const { vi } = await import("vitest");
    const warn = vi.spyOn(pulumi.log, "warn").mockResolvedValue();
    await deploy(
      config({
        rotation: { rotationDays: 20, maxLifetimeDays: 30 },
        alerts: { emails: ["ops@contoso.com"] },
      }),
    );
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/rotationDays 20 ≤ 30.*--warn-days below 20.*near-expiry alert/),
    );
    warn.mockClear();
    await deploy(config({ rotation: { rotationDays: 31 } }));
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });
});
