/**
 * The stand-in's device-code flow (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code):
 * `POST /<tenant>/oauth2/v2.0/devicecode` (client_id, scope) answers a device and a user code; polls of
 * the token endpoint with grant_type `urn:ietf:params:oauth:grant-type:device_code` answer
 * `authorization_pending` until a test approves the code for a person (`Standin.approveDeviceCode`,
 * or a script of `Standin.scriptDeviceCodes`), then a delegated v1 token: `oid` the person's,
 * `scp` the scope's permission, `aud` the scope cut at its last slash. An app without public client
 * flows gets AADSTS7000218 (Entra wants a client secret or assertion from a confidential client; "Allow
 * public client flows" enables device code, IWA and ROPC: AzureAD/microsoft-authentication-library-for-dotnet
 * #1407, Azure-Samples/active-directory-dotnetcore-devicecodeflow-v2 #9).
 * The transport and the tenants are the stand-in's (./standin.ts).
 */
import { randomUUID } from "node:crypto";
import type { JWTPayload } from "jose";
import { aadstsError, audienceOfScope, json, resourceRefusal } from "./entra";
import type { StandinCall, StandinTenant } from "./standin";

/**
 * How the stand-in answers the polls of a device code a test does not approve by hand: `pending`
 * polls of `authorization_pending` (after `slowDown` of them answering `slow_down`), then the end.
 */
export interface DeviceCodeScript {
  pending?: number;
  slowDown?: number;
  then: { approve: string } | "decline" | "expire" | "never";
}

/**
 * The device codes of one stand-in: `tenants` are its tenants, `signV1` signs a v1 access token with
 * its key.
 */
export function deviceCodeFlow(
  tenants: Map<string, StandinTenant>,
  signV1: (tenantId: string, audience: string, claims: JWTPayload) => Promise<string>,
) {
  /** Device codes by device code: who asked, for what, and how it stands. */
  const deviceCodes = new Map<
    string,
    {
      tenantId: string;
      clientId: string;
      scope: string;
      userCode: string;
      polls: number;
      script?: DeviceCodeScript;
      approvedBy?: string;
      declined?: boolean;
    }
  >();
  const deviceCodeScripts = new Map<string, DeviceCodeScript[]>();
  let deviceCodeIntervalS = 5;

  /** `POST /<tenant>/oauth2/v2.0/devicecode`: a device code and a user code for `client_id` and `scope`. */
  function start(tenant: StandinTenant, clientId: string, scope: string): Response {
    const { tenantId } = tenant;
    if (!tenant.apps.some((a) => a.clientId === clientId)) {
      return aadstsError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenantId}'.`,
      );
    }
    const deviceCode = randomUUID() + randomUUID();
    const userCode = Array.from(
      { length: 9 },
      () => "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[Math.floor(Math.random() * 32)],
    ).join("");
    const script = deviceCodeScripts.get(tenantId)?.shift();
    deviceCodes.set(deviceCode, { tenantId, clientId, scope, userCode, polls: 0, script });
    return json(200, {
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: "https://microsoft.com/devicelogin",
      expires_in: 900,
      interval: deviceCodeIntervalS,
      message: `To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ${userCode} to authenticate.`,
    });
  }

  /** One poll of the token endpoint for a device code (Learn v2-oauth2-device-code, "Expected errors"). */
  async function poll(
    tenantId: string,
    clientId: string,
    deviceCode: string,
    call: StandinCall,
  ): Promise<Response> {
    const code = deviceCodes.get(deviceCode);
    if (!code || code.tenantId !== tenantId || code.clientId !== clientId) {
      return aadstsError(
        400,
        "invalid_grant",
        70000,
        "The provided value for the input parameter 'device_code' is not valid.",
      );
    }
    call.scope = code.scope;
    code.polls += 1;
    const script = code.script;
    if (script && !code.approvedBy && !code.declined) {
      const waited = (script.slowDown ?? 0) + (script.pending ?? 0);
      if (code.polls <= (script.slowDown ?? 0)) {
        return aadstsError(
          400,
          "slow_down",
          70016,
          "OAuth 2.0 device flow error. Polling too fast: slow down.",
        );
      }
      if (code.polls > waited) {
        if (script.then === "decline") code.declined = true;
        else if (script.then === "expire") {
          deviceCodes.delete(deviceCode);
          return aadstsError(
            400,
            "expired_token",
            70020,
            "The provided value for the input parameter 'device_code' is expired.",
          );
        } else if (script.then !== "never") code.approvedBy = script.then.approve;
      }
    }
    if (code.declined) {
      deviceCodes.delete(deviceCode);
      return aadstsError(
        400,
        "authorization_declined",
        70000,
        "The end user denied the authorization request.",
      );
    }
    if (!code.approvedBy) {
      return aadstsError(
        400,
        "authorization_pending",
        70016,
        "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
      );
    }
    const app = tenants.get(tenantId)!.apps.find((a) => a.clientId === clientId)!;
    if (!app.publicClientFlows) {
      return aadstsError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    deviceCodes.delete(deviceCode);
    const audience = audienceOfScope(code.scope);
    const permission = code.scope.slice(code.scope.lastIndexOf("/") + 1);
    const refused = resourceRefusal(tenants.get(tenantId)!, audience);
    if (refused) return refused;
    if (permission !== "User" && permission !== ".default") {
      return aadstsError(
        400,
        "invalid_scope",
        65005,
        `The application asked for scope '${permission}' that doesn't exist on the resource.`,
      );
    }
    return json(200, {
      token_type: "Bearer",
      scope: code.scope,
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: await delegatedTokenFor(tenantId, clientId, code.approvedBy, audience),
    });
  }

  /** A delegated v1 access token for the person `oid`, as Entra issues it to a public client. */
  function delegatedTokenFor(
    tenantId: string,
    clientId: string,
    oid: string,
    audience: string,
  ): Promise<string> {
    return signV1(tenantId, audience, {
      acr: "1",
      amr: ["pwd"],
      appid: clientId,
      appidacr: "0",
      idtyp: "user",
      oid,
      scp: "User",
      sub: oid,
      tid: tenantId,
      upn: "person@contoso.example",
      uti: randomUUID().replace(/-/g, "").slice(0, 22),
      ver: "1.0",
    });
  }

  return {
    start,
    poll,
    /** The person with object ID `oid` approves the device code `userCode`; false when no such code waits. */
    approve(userCode: string, oid: string): boolean {
      const waiting = [...deviceCodes.values()].find((c) => c.userCode === userCode);
      if (!waiting) return false;
      waiting.approvedBy = oid;
      return true;
    },
    /** The next device codes of `tenantId` are answered as `scripts` say (in order, one script per code). */
    script(tenantId: string, scripts: DeviceCodeScript[]): void {
      deviceCodeScripts.set(tenantId, [...(deviceCodeScripts.get(tenantId) ?? []), ...scripts]);
    },
    /** Sets the seconds between polls the device-code answers ask for. */
    setInterval(seconds: number): void {
      deviceCodeIntervalS = seconds;
    },
  };
}
