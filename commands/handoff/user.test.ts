/** The hand-off sheet and rotation-status of user callers: sign-in configuration to paste, people for Allowed users. */
import { describe, expect, it } from "vitest";
import outputs from "../../test/fixtures/outputs/user.json";
import { fixture, runCli } from "../../test/helpers/cli";
import { stackOutputsSchema } from "../../outputs";

// A GCC High stack: erp (secret), portal (user, spa, two people), desk (user, publicClient, one person).
const USER = fixture("outputs/user.json");
const LISA = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d";
const OMAR = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9";

function section(sheet: string, caller: string): string {
  const start = sheet.indexOf(`#### \`${caller}\``);
  expect(start, `no section for ${caller}`).toBeGreaterThanOrEqual(0);
  const next = sheet.indexOf("\n#### ", start + 1);
  return sheet.slice(start, next < 0 ? undefined : next);
}

describe("handoff: user callers", () => {
  it("lists the people for Allowed users, never the app's enterprise application", async () => {
    const r = await runCli("handoff", ["--outputs", USER]);
    expect(r.code, r.stderr).toBe(0);
    const portal = section(r.stdout, "portal");
    expect(portal).toContain("#### `portal` (flow-prod-portal): signed-in users (delegated, no secret)");
    expect(portal).toContain(
      `| **Object ID for Allowed users** (the people who sign in, not the app) | \`${LISA}\`, \`${OMAR}\` |`,
    );
    expect(r.stdout).not.toContain(outputs.callers.portal.servicePrincipalObjectId);
    expect(r.stdout.split("\n")).toContain(outputs.allowedUsers.join(","));
  });

  it("gives a spa the msal-browser configuration and a public client the .NET one, with the cloud's authority and scope", async () => {
    const r = await runCli("handoff", ["--outputs", USER]);
    const portal = section(r.stdout, "portal");
    expect(portal).toContain(
      '  auth: { clientId: "0b6f4c2e-8d1a-4f3b-9e7c-5a2d1c0b9e8f", authority: "https://login.microsoftonline.us/eb4abb67-170c-4ad7-977a-78b7180211ed", redirectUri: "https://portal.contoso.com/" },',
    );
    expect(portal).toContain(
      'const loginRequest = { scopes: ["https://high.service.flow.microsoft.us//User"] };',
    );
    expect(portal).toContain(
      "every person of the tenant may sign in to the app, but only the listed people pass the trigger",
    );
    const desk = section(r.stdout, "desk");
    expect(desk).toContain(
      'var app = PublicClientApplicationBuilder.Create("4e2c8a6f-1b3d-4f5a-9c7e-0d2b4f6a8c1e")',
    );
    expect(desk).toContain(
      '    .WithAuthority("https://login.microsoftonline.us/eb4abb67-170c-4ad7-977a-78b7180211ed")',
    );
    expect(desk).toContain('    .WithRedirectUri("http://localhost")');
    expect(desk).toContain(
      'var result = await app.AcquireTokenInteractive(new[] { "https://high.service.flow.microsoft.us//User" }).ExecuteAsync();',
    );
  });

  it("refuses outputs whose user caller lists a redirect URI that could break out of the sheet, or the wrong scope or people", () => {
    const bad = structuredClone(outputs) as any;
    bad.callers.portal.redirectUris = ["https://portal.contoso.com/```\n# injected"];
    bad.callers.desk.scope = "https://high.service.flow.microsoft.us/.default";
    bad.allowedUsers = [
      outputs.callers.erp.servicePrincipalObjectId,
      outputs.callers.portal.servicePrincipalObjectId,
    ];
    const issues = stackOutputsSchema
      .safeParse(bad)
      .error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^callers\.portal\.redirectUris\.0: /),
        "callers.desk.scope: must be https://high.service.flow.microsoft.us//User, the Flow service's User scope on cloud gcchigh",
        expect.stringMatching(
          /^allowedUsers: must list exactly the object IDs the callers put into Allowed users/,
        ),
      ]),
    );
  });
});

describe("rotation-status: user callers", () => {
  it("have nothing to rotate, in their own words", async () => {
    const r = await runCli("rotation-status", ["--outputs", USER, "--json"], { now: "2026-11-22T00:00:00Z" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain("signed-in users: no secret to rotate");
  });
});
