/**
 * `validate`'s offline plan (engine/offline-engine.ts planStack) for a stack with every credential kind:
 * the program runs against placeholders, declares each kind's resources, and shows no secret.
 */
import { describe, expect, it } from "vitest";
import { federatedCredentialName } from "../components/flow-caller";
import { resolveDeep } from "../engine/mock-engine";
import { parseStackConfig } from "../config";
import { planStack } from "../engine/offline-engine";
import {
  CREATED_IDENTITY_CALLER,
  EVERY_KIND_CALLERS,
  LOGIC_APP_PRINCIPAL,
  stackConfig,
} from "./helpers/stack";

const NOW = Date.parse("2026-11-22T09:30:00Z");

const config = stackConfig([...EVERY_KIND_CALLERS, CREATED_IDENTITY_CALLER]);

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
            users: [LOGIC_APP_PRINCIPAL],
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
    expect(await resolveDeep(plan.outputs.allowedUsers)).toEqual([LOGIC_APP_PRINCIPAL]);
    expect(plan.warnings).toEqual([]);
  });
});
