/**
 * Callers of every credential kind, through the whole program under the fake Azure: what each kind
 * declares (exact sets), how the pieces are wired, and the outputs readers parse.
 */
import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as selfsigned from "selfsigned";
import { describe, expect, it } from "vitest";
import { federatedCredentialName } from "../components/flow-caller";
import {
  certificateThumbprint,
  CERTIFICATE_VALIDITY_MARGIN_MS,
  KEY_ROTATION_CLI,
  requireKeyRotation,
  RotatingCertificate,
} from "../components/rotating-certificate";
import { type StackConfig } from "../config";
import { isSecretAt } from "../engine/mock-engine";
import { stackOutputsSchema } from "../outputs";
import { DAY_MS, decodeState, isoTime, STATE_TAG } from "../rotation";
import {
  DEPLOYER_OBJECT_ID,
  FakeAzure,
  FLOW_SP_OBJECT_ID,
  SUBSCRIPTION_ID,
  T,
  TENANT_ID,
  type FakeAzureOptions,
} from "./helpers/fake-azure";
import {
  CREATED_IDENTITY_CALLER,
  LOGIC_APP_CALLER,
  LOGIC_APP_PRINCIPAL,
  stackConfig,
  up as upStack,
  VAULT_NAMES,
} from "./helpers/stack";

const NOW = Date.parse("2026-11-22T09:30:00Z");
const GH = "https://token.actions.githubusercontent.com";
const READER = "11111111-2222-4333-8444-555555555555";
const PRINCIPAL_CLIENT = "5b1e0a2c-1111-4222-8333-444455556666";
const EXISTING_VAULT = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-shared-01`;
const COMPONENT = {
  caller: "flow-trigger-auth:entra:FlowCaller",
  secret: "flow-trigger-auth:entra:RotatingClientSecret",
  certificate: "flow-trigger-auth:entra:RotatingCertificate",
  identity: "flow-trigger-auth:identity:ManagedIdentityCaller",
  vault: "flow-trigger-auth:keyvault:SecretVault",
};
const PRINCIPALS: FakeAzureOptions = {
  principals: { [LOGIC_APP_PRINCIPAL]: { clientId: PRINCIPAL_CLIENT, displayName: "logic-app-prod" } },
};

const CALLERS = {
  erp: { name: "erp" },
  sap: {
    name: "sap",
    credential: "certificate",
    secretReaders: [{ objectId: READER, type: "ServicePrincipal" }],
  },
  bot: {
    name: "deploy-bot",
    credential: "federated",
    federatedCredentials: [
      { github: { repository: "contoso/erp-sync", environment: "prod" } },
      {
        issuer: "https://gitlab.example.com",
        subject: "project_path:platform/erp:ref:main",
        audiences: ["api://gl"],
      },
    ],
  },
  logicApp: LOGIC_APP_CALLER,
  func: CREATED_IDENTITY_CALLER,
};

const config = (callers: unknown[], extra: Record<string, unknown> = {}, location = true) =>
  stackConfig(callers, extra, { location });
const up = (fake: FakeAzure, cfg: StackConfig, now = NOW) => upStack(fake, cfg, now);
const deploy = (cfg: StackConfig, options: FakeAzureOptions = PRINCIPALS) => up(new FakeAzure(options), cfg);
const components = (d: { declared: { custom: boolean; type: string; name: string }[] }) =>
  d.declared
    .filter((x) => !x.custom)
    .map((x) => `${x.type} ${x.name}`)
    .sort();
const ficName = (subject: string, issuer = GH) => federatedCredentialName(issuer, subject);

describe("what each credential kind declares", () => {
  it("certificate: the app, enterprise app and consent, two slots of key, certificate and Entra credential, the vault secret and its readers", async () => {
    const d = await deploy(config([CALLERS.sap]));
    expect(d.failures).toEqual([]);
    expect(d.customNames()).toEqual(
      [
        ...VAULT_NAMES,
        `${T.app} sap`,
        `${T.sp} sap-sp`,
        `${T.grant} sap-consent`,
        ...["a", "b"].flatMap((s) => [
          `${T.key} sap-certificate-${s}-key`,
          `${T.cert} sap-certificate-${s}-cert`,
          `${T.appCert} sap-certificate-${s}`,
        ]),
        `${T.secret} sap-certificate-kv`,
        `${T.role} sap-certificate-reader-${READER}`,
      ].sort(),
    );
    expect(components(d)).toEqual(
      [
        `${COMPONENT.caller} sap`,
        `${COMPONENT.certificate} sap-certificate`,
        `${COMPONENT.vault} vault`,
      ].sort(),
    );
  });

  it("federated: the app, enterprise app and consent and one federated credential per entry; no vault, no password", async () => {
    const d = await deploy(config([CALLERS.bot], {}, false));
    expect(d.failures).toEqual([]);
    expect(d.customNames()).toEqual(
      [
        `${T.app} deploy-bot`,
        `${T.sp} deploy-bot-sp`,
        `${T.grant} deploy-bot-consent`,
        `${T.fic} deploy-bot-${ficName("repo:contoso/erp-sync:environment:prod")}`,
        `${T.fic} deploy-bot-${ficName("project_path:platform/erp:ref:main", "https://gitlab.example.com")}`,
      ].sort(),
    );
    expect(components(d)).toEqual([`${COMPONENT.caller} deploy-bot`]);
  });

  it("managed identity, existing: nothing is created, the principal is looked up", async () => {
    const d = await deploy(config([CALLERS.logicApp], {}, false));
    expect(d.failures).toEqual([]);
    expect(d.customNames()).toEqual([]);
    expect(components(d)).toEqual([`${COMPONENT.identity} logic-app`]);
  });

  it("managed identity, created: a user-assigned identity in the stack's resource group, and no vault", async () => {
    const d = await deploy(config([CALLERS.func]));
    expect(d.failures).toEqual([]);
    expect(d.customNames()).toEqual([`${T.rg} vault-rg`, `${T.identity} func-identity`].sort());
    expect(components(d)).toEqual([`${COMPONENT.identity} func`, `${COMPONENT.vault} vault`].sort());
    expect(d.resolved.keyVaultName).toBeUndefined();
    expect(d.resolved.keyVaultUri).toBeUndefined();
  });

  it("every kind at once: the union, one vault shared by the secret and the certificate", async () => {
    const d = await deploy(config(Object.values(CALLERS)));
    expect(d.failures).toEqual([]);
    const only = (prefix: string) => d.customNames().filter((n) => n.split(" ")[1].startsWith(prefix));
    expect(d.customNames().filter((n) => n.startsWith(T.vault))).toHaveLength(1);
    expect(only("erp")).toHaveLength(6);
    expect(only("sap")).toHaveLength(11);
    expect(only("deploy-bot")).toHaveLength(5);
    expect(only("logic-app")).toEqual([]);
    expect(only("func")).toEqual([`${T.identity} func-identity`]);
    expect(
      d
        .byType(T.app)
        .map((a) => a.name)
        .sort(),
    ).toEqual(["deploy-bot", "erp", "sap"]);
    expect(d.byType(T.grant)).toHaveLength(3);
  });
});

describe("a certificate caller", () => {
  it("makes RSA 2048 keys, replaced by the slot's period and end, kept encrypted in state", async () => {
    const fake = new FakeAzure();
    const d = await up(fake, config([CALLERS.sap]));
    const state = decodeState(d.one(T.secret, "sap-certificate-kv").inputs.tags[STATE_TAG]);
    for (const slot of ["a", "b"] as const) {
      const key = d.one(T.key, `sap-certificate-${slot}-key`);
      expect(key.inputs).toEqual({ algorithm: "RSA", rsaBits: 2048 });
      const registered = fake.registrations.get(`${T.key} sap-certificate-${slot}-key`)!;
      expect(registered.replacementTrigger).toEqual({
        slot,
        period: state[slot].period,
        endDate: isoTime(state[slot].endMs),
      });
      expect(registered.additionalSecretOutputs).toEqual(
        expect.arrayContaining(["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"]),
      );
      const cert = d.one(T.cert, `sap-certificate-${slot}-cert`);
      expect(cert.inputs.privateKeyPem).toBe(key.state.privateKeyPem);
      expect(isSecretAt(cert, ["privateKeyPem"])).toBe(true);
      expect(
        fake.registrations.get(`${T.cert} sap-certificate-${slot}-cert`)!.additionalSecretOutputs,
      ).toContain("privateKeyPem");
    }
  });

  it("registers each slot's certificate with Entra until the slot's end, inside the certificate's validity", async () => {
    const d = await deploy(config([CALLERS.sap]));
    const app = d.one(T.app, "sap");
    const state = decodeState(d.one(T.secret, "sap-certificate-kv").inputs.tags[STATE_TAG]);
    for (const slot of ["a", "b"] as const) {
      const cert = d.one(T.cert, `sap-certificate-${slot}-cert`);
      const credential = d.one(T.appCert, `sap-certificate-${slot}`).inputs;
      expect(credential).toEqual({
        applicationId: app.id,
        type: "AsymmetricX509Cert",
        encoding: "pem",
        value: cert.state.certPem,
        endDate: isoTime(state[slot].endMs),
      });
      expect(cert.inputs.subject).toEqual({
        commonName: `flow-trigger-auth slot ${slot} until ${isoTime(state[slot].endMs)}`,
      });
      expect(cert.inputs.allowedUses).toEqual(["digital_signature"]);
      // Valid from its creation until past the slot's end by the margin (no renewal of its own).
      expect(Date.parse(cert.state.validityEndTime)).toBeGreaterThanOrEqual(
        state[slot].endMs + CERTIFICATE_VALIDITY_MARGIN_MS,
      );
    }
  });

  it("publishes the newer slot's private key and certificate (PEM) to Key Vault as a secret, expiring with it, readable by its readers", async () => {
    const d = await deploy(
      config([CALLERS.sap], { keyVault: { secretReaders: [{ objectId: READER, type: "Group" }] } }),
    );
    const secret = d.one(T.secret, "sap-certificate-kv");
    const key = d.one(T.key, "sap-certificate-b-key").state; // slot B's period began later
    const cert = d.one(T.cert, "sap-certificate-b-cert").state;
    expect(secret.inputs.secretName).toBe("sap-client-certificate");
    expect(secret.inputs.properties.value).toBe(`${key.privateKeyPemPkcs8}${cert.certPem}`);
    expect(secret.inputs.properties.value).toMatch(
      /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/,
    );
    expect(isSecretAt(secret, ["properties", "value"])).toBe(true);
    expect(secret.inputs.properties.contentType).toBe("application/x-pem-file");
    expect(secret.inputs.properties.attributes).toEqual({
      enabled: true,
      expires: Date.parse(d.one(T.appCert, "sap-certificate-b").inputs.endDate) / 1000,
    });
    expect(secret.inputs.tags).toMatchObject({
      clientId: d.one(T.app, "sap").state.clientId,
      slot: "b",
      "managed-by": "flow-trigger-auth",
    });
    // The caller's own reader and the stack-wide one merge into one assignment.
    const readers = d.byType(T.role).filter((r) => r.name.startsWith("sap-certificate-reader-"));
    expect(readers.map((r) => [r.inputs.principalId, r.inputs.principalType, r.inputs.scope])).toEqual([
      [READER, "ServicePrincipal", secret.id],
    ]);
  });

  it("outputs the published certificate's SHA-1 and SHA-256 thumbprints, each named by its hash, never a private key", async () => {
    const d = await deploy(config([CALLERS.sap]));
    const certPem: string = d.one(T.cert, "sap-certificate-b-cert").state.certPem;
    expect(d.resolved.callers.sap.certificateThumbprintSha256).toBe(certificateThumbprint(certPem));
    expect(d.resolved.callers.sap.certificateThumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
    // SHA-1: what the portal and `az ad app credential list` show.
    expect(d.resolved.callers.sap.certificateThumbprintSha1).toBe(certificateThumbprint(certPem, "sha1"));
    expect(d.resolved.callers.sap.certificateThumbprintSha1).toMatch(/^[0-9A-F]{40}$/);
    const text = JSON.stringify(d.resolved);
    expect(text).not.toContain("PRIVATE KEY");
    for (const k of d.byType(T.key)) expect(text).not.toContain(k.state.privateKeyPemPkcs8.split("\n")[1]);
  });

  it("a re-run changes nothing; a Key Vault secret deleted by hand replaces no key, certificate or credential", async () => {
    const fake = new FakeAzure();
    await up(fake, config([CALLERS.sap]));
    const again = await up(fake, config([CALLERS.sap]), NOW + DAY_MS);
    expect(again.changes).toEqual({ created: [], replaced: [], updated: [] });
    fake.deleteSecretByHand("sap-client-certificate");
    const fresh = await up(fake, config([CALLERS.sap]), NOW + 2 * DAY_MS);
    expect(fresh.failures).toEqual([]);
    expect(fresh.changes.replaced).toEqual([]);
    expect(fake.vaultSecretTags("sap-client-certificate")).toBeDefined();
  });
});

describe("thumbprints", () => {
  it("are the SHA-256 of the certificate's DER, as x5t#S256 and Node compute them", async () => {
    // A real certificate: a thumbprint computed from the PEM text matches Node's X.509 parser.
    const pems = await selfsigned.generate([{ name: "commonName", value: "flow-trigger-auth test" }], {
      keySize: 2048,
    });
    const cert = new X509Certificate(pems.cert);
    expect(certificateThumbprint(pems.cert)).toBe(cert.fingerprint256.replace(/:/g, ""));
    expect(certificateThumbprint(pems.cert, "sha1")).toBe(cert.fingerprint.replace(/:/g, ""));
    expect(() => certificateThumbprint("<certificate of sap-certificate-a-cert>")).toThrow(
      /not a PEM certificate/,
    );
  });
});

describe("the Pulumi CLI a certificate caller needs", () => {
  it("is asked for replacementTrigger support, and an older one stops the run saying what to upgrade", async () => {
    const ranges: string[] = [];
    await requireKeyRotation(async (range) => void ranges.push(range));
    expect(ranges).toEqual([KEY_ROTATION_CLI]);
    await expect(
      requireKeyRotation(() =>
        Promise.reject(new Error("Pulumi CLI version 3.200.0 does not satisfy >=3.226.0")),
      ),
    ).rejects.toThrow(
      /certificate callers need the Pulumi CLI 3\.226\.0 or later.*3\.200\.0.*Upgrade the Pulumi CLI/,
    );
  });

  it("that refuses declares no key", async () => {
    const refused = requireKeyRotation(() =>
      Promise.reject(new Error("Pulumi CLI version 3.200.0 does not satisfy >=3.226.0")),
    );
    refused.catch(() => undefined);
    const run = await new FakeAzure().run(
      () =>
        new RotatingCertificate("sap-certificate", {
          applicationId: "/applications/7b1395cf-a187-4388-a0fd-59dba4db1eff",
          clientId: "a3a6453e-332b-40a7-9100-8d32c8d37765",
          policy: { rotationDays: 90, offsetDays: 0 },
          nowMs: NOW,
          vault: {
            name: "flow-dev-x7k2pq",
            resourceGroupName: "flow-dev-rg",
            subscriptionId: SUBSCRIPTION_ID,
          },
          secretName: "sap-client-certificate",
          readers: [],
          caller: "sap",
          keyRotationCheck: refused,
        }),
      "dev",
      NOW,
    );
    expect(run.failures.join("\n")).toMatch(/certificate callers need the Pulumi CLI 3\.226\.0 or later/);
    expect(run.declared.filter((d) => d.type === T.key || d.type === T.secret)).toEqual([]);
  });
});

describe("a federated caller", () => {
  it("trusts each entry's issuer and subject with one audience, api://AzureADTokenExchange unless given", async () => {
    const d = await deploy(config([CALLERS.bot], {}, false));
    const app = d.one(T.app, "deploy-bot");
    const fics = d.byType(T.fic).map((f) => f.inputs);
    expect(fics).toEqual([
      {
        applicationId: app.id,
        displayName: ficName("repo:contoso/erp-sync:environment:prod"),
        issuer: GH,
        subject: "repo:contoso/erp-sync:environment:prod",
        audiences: ["api://AzureADTokenExchange"],
        description: "Managed by flow-trigger-auth",
      },
      {
        applicationId: app.id,
        displayName: ficName("project_path:platform/erp:ref:main", "https://gitlab.example.com"),
        issuer: "https://gitlab.example.com",
        subject: "project_path:platform/erp:ref:main",
        audiences: ["api://gl"],
        description: "Managed by flow-trigger-auth",
      },
    ]);
    expect(fics[0].displayName).toMatch(/^github-repo-contoso-erp-sync-environment-prod-[0-9a-f]{8}$/);
    expect(d.byType(T.password)).toEqual([]);
    expect(d.byType(T.secret)).toEqual([]);
  });

  it("keeps its credentials when the list is reordered, and updates an audience in place", async () => {
    const fake = new FakeAzure();
    await up(fake, config([CALLERS.bot], {}, false));
    const [first, second] = CALLERS.bot.federatedCredentials;
    const reordered = await up(
      fake,
      config([{ ...CALLERS.bot, federatedCredentials: [second, first] }], {}, false),
    );
    expect(reordered.failures).toEqual([]);
    expect(reordered.changes).toEqual({ created: [], replaced: [], updated: [] });
    const audience = await up(
      fake,
      config(
        [{ ...CALLERS.bot, federatedCredentials: [{ ...second, audiences: ["api://gl2"] }, first] }],
        {},
        false,
      ),
    );
    expect(audience.changes.replaced).toEqual([]);
    expect(audience.changes.updated).toEqual([
      `${T.fic} deploy-bot-${ficName("project_path:platform/erp:ref:main", "https://gitlab.example.com")}`,
    ]);
  });

  it("names each credential in the way Entra takes it, from what it trusts", () => {
    const long = `repo:contoso/${"x".repeat(100)}:environment:${"y".repeat(200)}`;
    for (const [issuer, subject] of [
      [GH, "repo:contoso/erp-sync:environment:prod"],
      [GH, long],
      ["https://idp.contoso.com/tenant/v2", "ÄÖ:ü/--__//"],
      [GH, "::"],
    ]) {
      const name = federatedCredentialName(issuer, subject);
      expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/);
      expect(federatedCredentialName(issuer, subject)).toBe(name);
    }
    // Subjects that differ only in case are different credentials, with different names.
    expect(federatedCredentialName(GH, "repo:Contoso/x:pull_request")).not.toBe(
      federatedCredentialName(GH, "repo:contoso/x:pull_request"),
    );
  });
});

describe("a managed identity caller", () => {
  it("existing: takes client ID and name from its service principal, found by object ID", async () => {
    const d = await deploy(config([CALLERS.logicApp], {}, false));
    expect(d.resolved.callers["logic-app"]).toEqual({
      credential: "managedIdentity",
      displayName: "logic-app-prod",
      clientId: PRINCIPAL_CLIENT,
      servicePrincipalObjectId: LOGIC_APP_PRINCIPAL,
    });
  });

  it("existing but not in the tenant: the run fails naming the config key, and creates nothing", async () => {
    const d = await deploy(config([CALLERS.erp, CALLERS.logicApp]), {});
    expect(d.failures.join("\n")).toMatch(
      /flow-trigger-auth:callers\[1\]\.managedIdentity\.principalId: no service principal with object ID 3f2a1b0c-.* object \(principal\) ID, not its client ID/,
    );
  });

  it("existing but not a managed identity: a warning, and it is listed all the same", async () => {
    const d = await deploy(config([CALLERS.logicApp], {}, false), {
      principals: {
        [LOGIC_APP_PRINCIPAL]: { clientId: PRINCIPAL_CLIENT, displayName: "some-app", type: "Application" },
      },
    });
    expect(d.failures).toEqual([]);
    expect(d.logs.filter((l) => l.severity === "warn").map((l) => l.message)).toEqual([
      expect.stringMatching(
        /callers\[0\]\.managedIdentity\.principalId: .* is a service principal of type Application/,
      ),
    ]);
    expect(d.resolved.allowedUsers).toEqual([LOGIC_APP_PRINCIPAL]);
  });

  it("created: in the stack's resource group and region, named like the apps; its principal is the allowed user", async () => {
    const d = await deploy(config([CALLERS.func], { environment: "test", namePrefix: "acme" }));
    const identity = d.one(T.identity, "func-identity");
    expect(identity.inputs).toEqual({
      resourceGroupName: "acme-test-rg",
      resourceName: "acme-test-func",
      location: "westeurope",
      tags: { "managed-by": "flow-trigger-auth", environment: "test" },
    });
    expect(d.resolved.callers.func).toEqual({
      credential: "managedIdentity",
      displayName: "acme-test-func",
      clientId: identity.state.clientId,
      servicePrincipalObjectId: identity.state.principalId,
      managedIdentityResourceId: identity.id,
    });
    expect(d.resolved.allowedUsers).toEqual([identity.state.principalId]);
  });

  it("created beside an existing vault: in the vault's resource group and region", async () => {
    const d = await deploy(config([CALLERS.func], { keyVault: { existingVaultId: EXISTING_VAULT } }, false), {
      existingVault: { location: "northeurope", enableRbacAuthorization: false },
    });
    // An access-policy vault is fine when nothing is written to it.
    expect(d.failures).toEqual([]);
    expect(d.one(T.identity, "func-identity").inputs).toMatchObject({
      resourceGroupName: "rg-shared",
      location: "northeurope",
    });
    expect(d.customNames()).toEqual([`${T.identity} func-identity`]);
  });
});

describe("stack outputs of every kind", () => {
  it("parse with the one outputs schema, carry each kind's facts and nothing else, and list every principal in allowedUsers", async () => {
    const d = await deploy(config(Object.values(CALLERS)));
    const parsed = stackOutputsSchema.safeParse(d.resolved);
    expect(parsed.error?.issues ?? []).toEqual([]);
    const c = d.resolved.callers;
    const keys = (name: string) => Object.keys(c[name]).sort();
    const app = ["credential", "displayName", "clientId", "servicePrincipalObjectId", "applicationObjectId"];
    const vaulted = ["keyVaultSecretName", "keyVaultSecretUri", "secretExpiresAt", "nextRotationAt"];
    expect(keys("erp")).toEqual([...app, ...vaulted].sort());
    expect(keys("sap")).toEqual(
      [...app, ...vaulted, "certificateThumbprintSha1", "certificateThumbprintSha256"].sort(),
    );
    expect(keys("deploy-bot")).toEqual([...app, "federatedCredentials"].sort());
    expect(keys("logic-app")).toEqual(
      ["credential", "displayName", "clientId", "servicePrincipalObjectId"].sort(),
    );
    expect(keys("func")).toEqual(
      [
        "credential",
        "displayName",
        "clientId",
        "servicePrincipalObjectId",
        "managedIdentityResourceId",
      ].sort(),
    );
    expect(c.sap.keyVaultSecretUri).toBe(`${d.resolved.keyVaultUri}secrets/sap-client-certificate`);
    expect(c["deploy-bot"].federatedCredentials).toEqual([
      {
        issuer: GH,
        subject: "repo:contoso/erp-sync:environment:prod",
        audiences: ["api://AzureADTokenExchange"],
      },
      {
        issuer: "https://gitlab.example.com",
        subject: "project_path:platform/erp:ref:main",
        audiences: ["api://gl"],
      },
    ]);
    expect(d.resolved.allowedUsers).toEqual([
      d.one(T.sp, "erp-sp").state.objectId,
      d.one(T.sp, "sap-sp").state.objectId,
      d.one(T.sp, "deploy-bot-sp").state.objectId,
      LOGIC_APP_PRINCIPAL,
      d.one(T.identity, "func-identity").state.principalId,
    ]);
  });

  it("have no vault when no caller keeps a credential in Key Vault", async () => {
    const d = await deploy(config([CALLERS.bot, CALLERS.logicApp], {}, false));
    expect(stackOutputsSchema.safeParse(d.resolved).error?.issues ?? []).toEqual([]);
    expect("keyVaultName" in d.resolved).toBe(false);
    expect("keyVaultUri" in d.resolved).toBe(false);
  });

  it("hold no secret value", async () => {
    const d = await deploy(config(Object.values(CALLERS)));
    const flat: pulumi.Output<unknown>[] = [];
    const walk = (v: unknown) => {
      if (pulumi.Output.isInstance(v)) flat.push(v as pulumi.Output<unknown>);
      else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(d.result);
    for (const o of flat) expect(await pulumi.isSecret(o)).toBe(false);
  });
});

describe("apps of every kind", () => {
  it("are owned by the deploying identity and consented to the Flow service; the notes name what the stack sets", async () => {
    const d = await deploy(config([CALLERS.sap, CALLERS.bot]));
    for (const [name, what] of [
      ["sap", "certificates"],
      ["deploy-bot", "federated credentials"],
    ]) {
      expect(d.one(T.app, name).inputs.owners).toEqual([DEPLOYER_OBJECT_ID]);
      expect(d.one(T.app, name).inputs.notes).toContain(
        `Owners, permissions and ${what} are set by the stack`,
      );
      expect(d.one(T.grant, `${name}-consent`).inputs.resourceServicePrincipalObjectId).toBe(
        FLOW_SP_OBJECT_ID,
      );
    }
    expect(d.resolved.tenantId).toBe(TENANT_ID);
  });
});

describe("the smoke test inside pulumi up", () => {
  it("of a certificate caller is declared with its published PEM at hand", async () => {
    const smokeTest = {
      triggerUrl: "https://x.environment.api.powerplatform.com/p?api-version=1",
      caller: "sap",
    };
    const d = await deploy(config([CALLERS.sap], { smokeTest }));
    expect(d.failures).toEqual([]);
    expect(components(d)).toContain("flow-trigger-auth:smoke:SmokeCheck smoke-sap");
  });
});
