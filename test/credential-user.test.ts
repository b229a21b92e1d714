/**
 * `credential: user` through the whole program under the fake Azure: the app registration for its
 * platform, admin consent and no credential; a stack mixing all five kinds (exact resources and
 * wiring); outputs and Allowed users holding the people, never the app.
 */
import { describe, expect, it } from "vitest";
import { type StackConfig } from "../config";
import { stackOutputsSchema } from "../outputs";
import { FakeAzure, FLOW_SP_OBJECT_ID, FLOW_USER_SCOPE_ID, T, TENANT_ID } from "./helpers/fake-azure";
import {
  EVERY_KIND_CALLERS,
  LOGIC_APP_PRINCIPAL,
  stackConfig as config,
  up as upStack,
  VAULT_NAMES,
} from "./helpers/stack";

const NOW = Date.parse("2026-12-06T09:30:00Z");
const FLOW_APP_ID = "7df0a125-d3be-4c96-aa54-591f83ff541c";
const LISA = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d";
const OMAR = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9";
const FLOW_URL =
  "https://0a1b2c3d4e5f60718293a4b5c6d7e8.f9.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke?api-version=1";

const PORTAL = {
  name: "portal",
  credential: "user",
  platform: "spa",
  redirectUris: ["https://portal.contoso.com/", "http://localhost:3000/"],
  users: [LISA, OMAR],
};
const DESK = {
  name: "desk",
  credential: "user",
  platform: "publicClient",
  redirectUris: ["http://localhost", "msal00000000-0000-0000-0000-000000000000://auth"],
  users: [LISA],
};
function fake() {
  return new FakeAzure({
    principals: { [LOGIC_APP_PRINCIPAL]: { clientId: LOGIC_APP_PRINCIPAL, displayName: "logic-app-prod" } },
  });
}

const up = (azure: FakeAzure, cfg: StackConfig) => upStack(azure, cfg, NOW);

describe("a user caller", () => {
  it("spa: an app with SPA redirect URIs, no implicit grant, no public client flows; its enterprise app and admin consent; nothing else", async () => {
    const d = await up(fake(), config([PORTAL]));
    expect(d.failures).toEqual([]);
    expect(d.customNames()).toEqual(
      [`${T.app} portal`, `${T.sp} portal-sp`, `${T.grant} portal-consent`].sort(),
    );
    const app = d.one(T.app, "portal").inputs;
    expect(app.signInAudience).toBe("AzureADMyOrg");
    expect(app.singlePageApplication).toEqual({ redirectUris: PORTAL.redirectUris });
    expect(app.web).toEqual({
      implicitGrant: { accessTokenIssuanceEnabled: false, idTokenIssuanceEnabled: false },
    });
    expect(app.publicClient).toBeUndefined();
    expect(app.fallbackPublicClientEnabled).toBeUndefined();
    expect(app.requiredResourceAccesses).toEqual([
      { resourceAppId: FLOW_APP_ID, resourceAccesses: [{ id: FLOW_USER_SCOPE_ID, type: "Scope" }] },
    ]);
    const grant = d.one(T.grant, "portal-consent").inputs;
    expect(grant).toEqual({
      servicePrincipalObjectId: d.one(T.sp, "portal-sp").state.objectId,
      resourceServicePrincipalObjectId: FLOW_SP_OBJECT_ID,
      claimValues: ["User"],
    });
    expect(d.one(T.sp, "portal-sp").inputs.clientId).toBe(d.one(T.app, "portal").state.clientId);
  });

  it("publicClient: public client redirect URIs and public client flows on (the device-code flow needs them)", async () => {
    const d = await up(fake(), config([DESK]));
    expect(d.failures).toEqual([]);
    const app = d.one(T.app, "desk").inputs;
    expect(app.publicClient).toEqual({ redirectUris: DESK.redirectUris });
    expect(app.fallbackPublicClientEnabled).toBe(true);
    expect(app.singlePageApplication).toBeUndefined();
    expect(app.web.implicitGrant).toEqual({
      accessTokenIssuanceEnabled: false,
      idTokenIssuanceEnabled: false,
    });
  });

  it("keeps its client ID when its redirect URIs, platform or users change: the app is updated in place", async () => {
    const azure = fake();
    const first = await up(azure, config([PORTAL]));
    const clientId = first.one(T.app, "portal").state.clientId;
    const second = await up(
      azure,
      config([{ ...PORTAL, platform: "publicClient", redirectUris: ["http://localhost"], users: [OMAR] }]),
    );
    expect(second.failures).toEqual([]);
    expect(second.changes.replaced).toEqual([]);
    expect(second.changes.updated).toEqual([`${T.app} portal`]);
    expect(second.one(T.app, "portal").state.clientId).toBe(clientId);
    expect(second.resolved.allowedUsers).toEqual([OMAR]);
  });

  it("outputs its sign-in facts and the cloud's delegated scope; Allowed users hold its people, not the app", async () => {
    const d = await up(fake(), config([PORTAL], { cloud: "gcchigh" }));
    const parsed = stackOutputsSchema.safeParse(d.resolved);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(d.resolved.callers.portal).toEqual({
      credential: "user",
      displayName: "flow-dev-portal",
      clientId: d.one(T.app, "portal").state.clientId,
      servicePrincipalObjectId: d.one(T.sp, "portal-sp").state.objectId,
      applicationObjectId: d.one(T.app, "portal").state.objectId,
      platform: "spa",
      redirectUris: PORTAL.redirectUris,
      scope: "https://high.service.flow.microsoft.us//User",
      users: [LISA, OMAR],
    });
    expect(d.resolved.allowedUsers).toEqual([LISA, OMAR]);
    expect(d.resolved.keyVaultName).toBeUndefined();
  });
});

describe("a stack mixing all five kinds", () => {
  it("declares exactly each kind's resources, one vault for the secret and the certificate, and wires the user caller like the other apps", async () => {
    const azure = fake();
    const d = await up(
      azure,
      config([...EVERY_KIND_CALLERS, PORTAL], {
        flows: [
          {
            name: "invoice",
            triggerUrl: FLOW_URL,
            callers: ["erp", "portal"],
            flowId: "0f1e2d3c-4b5a-4968-8776-655443322110",
            dataverseUrl: "https://contoso.crm4.dynamics.com",
          },
        ],
      }),
    );
    expect(d.failures).toEqual([]);
    expect(d.customNames()).toEqual(
      [
        ...VAULT_NAMES,
        ...["erp", "sap", "deploy-bot", "portal"].flatMap((n) => [
          `${T.app} ${n}`,
          `${T.sp} ${n}-sp`,
          `${T.grant} ${n}-consent`,
        ]),
        `${T.password} erp-secret-a`,
        `${T.password} erp-secret-b`,
        `${T.secret} erp-secret-kv`,
        ...["a", "b"].flatMap((s) => [
          `${T.key} sap-certificate-${s}-key`,
          `${T.cert} sap-certificate-${s}-cert`,
          `${T.appCert} sap-certificate-${s}`,
        ]),
        `${T.secret} sap-certificate-kv`,
        ...d.byType(T.fic).map((f) => `${T.fic} ${f.name}`),
      ].sort(),
    );
    expect(d.byType(T.fic)).toHaveLength(1);
    // The user caller is a FlowCaller like the other apps, with no credential component under it.
    const components = d.declared.filter((x) => !x.custom).map((x) => `${x.type} ${x.name}`);
    expect(components).toContain("flow-trigger-auth:entra:FlowCaller portal");
    expect(components.filter((c) => c.includes(" portal-"))).toEqual([]);
    for (const key of [`${T.app} portal`, `${T.sp} portal-sp`, `${T.grant} portal-consent`]) {
      expect(azure.registrations.get(key)?.parent).toMatch(/flow-trigger-auth:entra:FlowCaller::portal$/);
    }
    const appIds = d.byType(T.app).map((a) => a.state.clientId);
    expect(
      d
        .byType(T.sp)
        .map((s) => s.inputs.clientId)
        .sort(),
    ).toEqual([...appIds].sort());
    for (const g of d.byType(T.grant)) {
      expect(d.byType(T.sp).map((s) => s.state.objectId)).toContain(g.inputs.servicePrincipalObjectId);
      expect(g.inputs).toMatchObject({
        resourceServicePrincipalObjectId: FLOW_SP_OBJECT_ID,
        claimValues: ["User"],
      });
    }
    // Allowed users: each app-only principal, then the user caller's people (not its enterprise app).
    const sp = (n: string) => d.one(T.sp, `${n}-sp`).state.objectId;
    expect(d.resolved.allowedUsers).toEqual([
      sp("erp"),
      sp("sap"),
      sp("deploy-bot"),
      LOGIC_APP_PRINCIPAL,
      LISA,
      OMAR,
    ]);
    expect(d.resolved.allowedUsers).not.toContain(sp("portal"));
    expect(d.resolved.flows.invoice.allowedUsers).toEqual([sp("erp"), LISA, OMAR]);
    expect(stackOutputsSchema.safeParse(d.resolved).error?.issues ?? []).toEqual([]);
    expect(d.resolved.tenantId).toBe(TENANT_ID);
  });
});

describe("the fake refuses what Entra refuses", () => {
  it("a redirect URI Entra does not take fails the app's registration (as if the config had let it through)", async () => {
    const { FlowCaller } = await import("../components/flow-caller");
    const { lookupFlowService } = await import("../components/flow-service");
    const azure = fake();
    const run = await azure.run(
      () =>
        new FlowCaller("bad", {
          displayName: "flow-dev-bad",
          owners: [],
          flowService: lookupFlowService(),
          credential: { kind: "user", platform: "spa", redirectUris: ["http://portal.contoso.com/"] },
        }),
      "dev",
      NOW,
    );
    expect(run.failures.join("\n")).toContain("http is allowed only for localhost");
  });
});
