/**
 * `validate`'s offline plan (engine/offline-engine.ts planStack) for a stack with every credential kind:
 * the program runs against placeholders, declares each kind's resources, and shows no secret.
 */
import { describe, expect, it } from "vitest";
import { federatedCredentialName } from "../components/flow-caller";
import { parseStackConfig } from "../config";
import { resolveDeep } from "../engine/mock-engine";
import { planStack } from "../engine/offline-engine";

const NOW = Date.parse("2026-11-22T09:30:00Z");
const PRINCIPAL = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c";

const config = parseStackConfig(
  {
    "azure-native:location": "westeurope",
    "azure-native:subscriptionId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "flow-trigger-auth:callers": JSON.stringify([
      { name: "erp" },
      { name: "sap", credential: "certificate" },
      {
        name: "deploy-bot",
        credential: "federated",
        federatedCredentials: [{ github: { repository: "contoso/erp-sync", environment: "prod" } }],
      },
      { name: "logic-app", credential: "managedIdentity", managedIdentity: { principalId: PRINCIPAL } },
      { name: "func", credential: "managedIdentity", managedIdentity: { create: true } },
    ]),
  },
  "dev",
);

describe("validate's offline plan", () => {
  it("plans every credential kind without a cloud, secrets shown as [secret]", async () => {
    const plan = await planStack(config, NOW, "dev");
    const custom = plan.resources.filter((r) => r.custom);
    const names = custom.map((r) => `${r.type.split(":").pop()} ${r.name}`).sort();
    const fic = federatedCredentialName(
      "https://token.actions.githubusercontent.com",
      "repo:contoso/erp-sync:environment:prod",
    );
    expect(names).toEqual(
      [
        "ResourceGroup vault-rg",
        "RandomString vault-suffix",
        // Reads the stack's own last outputs (none offline): the second record of the rotation state.
        "StackReference rotation-witness",
        "Vault vault",
        "RoleAssignment vault-deployer",
        ...["erp", "sap", "deploy-bot"].flatMap((n) => [
          `Application ${n}`,
          `ServicePrincipal ${n}-sp`,
          `ServicePrincipalDelegatedPermissionGrant ${n}-consent`,
        ]),
        "ApplicationPassword erp-secret-a",
        "ApplicationPassword erp-secret-b",
        "Secret erp-secret-kv",
        ...["a", "b"].flatMap((s) => [
          `PrivateKey sap-certificate-${s}-key`,
          `SelfSignedCert sap-certificate-${s}-cert`,
          `ApplicationCertificate sap-certificate-${s}`,
        ]),
        "Secret sap-certificate-kv",
        `ApplicationFederatedIdentityCredential deploy-bot-${fic}`,
        "UserAssignedIdentity func-identity",
      ].sort(),
    );
    const inputs = (name: string) => custom.find((r) => r.name === name)!.inputs;
    expect(inputs("sap-certificate-kv")["properties.value"]).toBe("[secret]");
    expect(inputs("sap-certificate-a-cert").privateKeyPem).toBe("[secret]");
    expect(inputs("sap-certificate-a")).toMatchObject({ type: "AsymmetricX509Cert", encoding: "pem" });
    expect(inputs(`deploy-bot-${fic}`)).toMatchObject({
      subject: "repo:contoso/erp-sync:environment:prod",
      "audiences[0]": "api://AzureADTokenExchange",
      applicationId: "<id of deploy-bot>",
    });
    expect(inputs("func-identity")).toMatchObject({
      resourceName: "flow-dev-func",
      resourceGroupName: "flow-dev-rg",
      location: "westeurope",
    });
    expect(JSON.stringify(plan.resources)).not.toMatch(/PRIVATE KEY/);
    expect(plan.warnings).toEqual([]);
  });
});

describe("validate's offline plan of a user caller", () => {
  it("plans its app for the platform, its enterprise app and consent, no vault, and outputs the people as Allowed users", async () => {
    const user = parseStackConfig(
      {
        "flow-trigger-auth:callers": JSON.stringify([
          {
            name: "portal",
            credential: "user",
            platform: "spa",
            redirectUris: ["https://portal.contoso.com/"],
            users: [PRINCIPAL],
          },
        ]),
      },
      "dev",
    );
    const plan = await planStack(user, NOW, "dev");
    const custom = plan.resources.filter((r) => r.custom);
    expect(custom.map((r) => `${r.type.split(":").pop()} ${r.name}`).sort()).toEqual([
      "Application portal",
      "ServicePrincipal portal-sp",
      "ServicePrincipalDelegatedPermissionGrant portal-consent",
    ]);
    expect(custom.find((r) => r.name === "portal")!.inputs).toMatchObject({
      "singlePageApplication.redirectUris[0]": "https://portal.contoso.com/",
      "web.implicitGrant.accessTokenIssuanceEnabled": false,
    });
    expect(custom.find((r) => r.name === "portal")!.inputs).not.toHaveProperty("fallbackPublicClientEnabled");
    expect(await resolveDeep(plan.outputs.allowedUsers)).toEqual([PRINCIPAL]);
    expect(plan.warnings).toEqual([]);
  });
});
