/**
 * A stand-in for Entra ID (OIDC metadata, client-credentials token endpoint) and Power Automate's
 * HTTP trigger, for testing the smoke test end to end. One handler (a WHATWG Request in, a Response
 * out) with two transports: `standin.fetch`, a drop-in `fetch` for commands run in-process, and
 * `startStandin()`, real HTTPS on 127.0.0.1 for the few tests that run the built tool as a process.
 *
 * Test support, not product. It answers the way the real services do (docs/smoke-test.md, docs/troubleshooting.md): AADSTS errors in
 * Entra's JSON shape, app-only v1 tokens whose `aud` is the scope cut at its last slash, and the
 * trigger's three modes with their error codes. Tokens are RS256 JWTs verified against its own key.
 * Calls are recorded without any credential: only whether an Authorization header was present.
 *
 * What @azure/identity 4.13 (MSAL Node 3) requests with `disableInstanceDiscovery: true` and
 * `authorityHost` = this stand-in, per token: `GET /<tenant>/v2.0/.well-known/openid-configuration`
 * (an unknown tenant gets 400 AADSTS90002 here, which MSAL reports as `endpoints_resolution_error`),
 * then `POST <token_endpoint>?client-request-id=...` with client_id, client_secret, scope and
 * grant_type=client_credentials. It does not fetch the JWKS (served anyway at `discovery/v2.0/keys`).
 *
 * The device-code flow is in ./device-code.ts; the Entra answers it shares with the token endpoint in
 * ./entra.ts.
 */
import { createHash, randomUUID, X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:https";
import { createServer as createPlainServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import {
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importX509,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from "jose";
import { testCertificates, type TestCertificates } from "./certs";
import { deviceCodeFlow, type DeviceCodeScript } from "./device-code";
import { aadstsError, audienceOfScope, isKnownResource, json, resourceRefusal, unknownTenant } from "./entra";

export type { DeviceCodeScript } from "./device-code";
export { audienceOfScope } from "./entra";

/** An app registration (with its enterprise app) in a stand-in tenant. */
export interface StandinApp {
  /** Application (client) ID, e.g. a GUID. */
  clientId: string;
  /** The client secret value the token endpoint accepts (if it has one). */
  secret?: string;
  /** A certificate (PEM) the app trusts: a client assertion signed with its key is accepted. */
  certificatePem?: string;
  /**
   * Federated identity credentials: a client assertion issued by `issuer` (the stand-in's own issuer,
   * {@link Standin.federatedIssuer}) for `subject` and `audience` is accepted.
   */
  federated?: { issuer: string; subject: string; audience?: string }[];
  /** Object ID of the enterprise application: the token's `oid`, what Allowed users lists. */
  servicePrincipalObjectId: string;
  /** Answer AADSTS700016 ("not found in the directory") to this many token requests first (replication). */
  notReplicatedForRequests?: number;
  /** Answer AADSTS7000215 ("invalid client secret") to this many token requests first (new secret). */
  secretNotReplicatedForRequests?: number;
  /** "Allow public client flows" (`isFallbackPublicClient`): the device-code flow is refused without it. */
  publicClientFlows?: boolean;
}

/** A managed identity the stand-in's managed-identity endpoint hands tokens out for. */
export interface StandinManagedIdentity {
  tenantId: string;
  /** Client ID; a request naming no client ID gets the first identity registered (system-assigned). */
  clientId: string;
  /** Principal (object) ID: the token's `oid`, what Allowed users lists. */
  principalId: string;
}

/** A tenant of the stand-in Entra ID. */
export interface StandinTenant {
  tenantId: string;
  apps: StandinApp[];
  /** False simulates a tenant where the Flow service principal was never provisioned (AADSTS500011). */
  flowServicePrincipal?: boolean;
  /**
   * True: the OIDC metadata advertises `/<tenant>/regional/oauth2/v2.0/token` instead of the usual
   * `/<tenant>/oauth2/v2.0/token` (both are served), to tell which one a client really used.
   */
  regionalTokenEndpoint?: boolean;
  /**
   * A hostile or misconfigured authority: the OIDC metadata names its token endpoint on this origin
   * (e.g. `https://collector.example`) instead of the stand-in's own.
   */
  tokenEndpointOrigin?: string;
}

/** "Who can trigger the flow". */
export type TriggerMode = "anyone" | "tenant" | "users";

/** An HTTP-triggered flow. */
export interface StandinFlow {
  /** Path segment of the flow, e.g. a GUID. */
  flowId: string;
  mode: TriggerMode;
  /** Tenant the flow lives in: the token's `tid` and `iss` must match it. */
  tenantId: string;
  /** The `aud` the trigger demands; default the public cloud's `https://service.flow.microsoft.com/`. */
  audience?: string;
  /** "Specific users" mode: the object IDs in Allowed users (empty behaves like "tenant"). */
  allowedOids?: string[];
  /** "Anyone" mode: the value of the `sig` query parameter the trigger accepts. */
  sig?: string;
  /** A misconfigured endpoint that runs the flow even without any credential. */
  acceptAnonymous?: boolean;
  /** Status used for MisMatchingOAuthClaims (both 401 and 403 are seen in the field). Default 403. */
  mismatchStatus?: 401 | 403;
  /** The flow's own Response action; without it the trigger answers 202 with an empty body. */
  response?: { status: number; body?: unknown };
  /** False: the flow is turned off (the trigger answers 404). */
  enabled?: boolean;
}

/** One call the stand-in received. Never holds a credential. */
export interface StandinCall {
  /** Which part answered. */
  kind: "metadata" | "keys" | "token" | "trigger" | "other";
  method: string;
  /** Path and query, with any `sig` value replaced by `***`. */
  path: string;
  /** True when the request carried an Authorization header (its value is not kept). */
  authorization: boolean;
  /** The status the stand-in answered; 0 when it answered nothing (connection dropped or left hanging). */
  status: number;
  /** Token calls: the client ID and scope asked for. */
  clientId?: string;
  scope?: string;
  /** Milliseconds since the Unix epoch when the call arrived. */
  at: number;
}

/** A canned failure answered instead of the normal answer. */
export type InjectedFailure =
  | {
      /** An HTTP error answer. */
      status: 400 | 401 | 429 | 500 | 502 | 503 | 504;
      /** Value of the Retry-After header (seconds or an HTTP date), if any. */
      retryAfter?: string;
      /**
       * JSON body to answer instead of the canned one (token endpoint: Entra's error shape with an
       * AADSTS code in `error_description`; metadata: a plain-text error page without any code;
       * trigger: `{"error":{"code","message"}}`).
       */
      body?: unknown;
      /** Trigger only: fail only calls with (`authenticated`) or without (`anonymous`) a token. Default: any. */
      only?: "anonymous" | "authenticated";
    }
  | {
      /** `drop`: the connection is destroyed without an answer; `hang`: no answer until the caller gives up. */
      network: "drop" | "hang";
      only?: "anonymous" | "authenticated";
    }
  | {
      /**
       * Held: `arrived` is called when the request comes in, and the normal answer waits until
       * `release` settles (a test looks at a running process while it waits on the stand-in).
       */
      hold: { arrived(): void; release: Promise<void> };
      only?: "anonymous" | "authenticated";
    }
  | {
      /**
       * A server that misbehaves: `endless-body` answers 200 and then streams forever; `redirect`
       * answers 302 to another host; `not-json` answers 200 with an HTML page; `hostile-text` answers
       * 400 with terminal escapes (OSC 52 clipboard write, screen clear, C1 CSI), bidirectional
       * overrides and zero-width characters in its error code and message ({@link HOSTILE_TEXT}).
       */
      misbehave: "endless-body" | "redirect" | "not-json" | "hostile-text";
      only?: "anonymous" | "authenticated";
    };

/** Where {@link Standin.failNext} injects: a flow's trigger, a tenant's token endpoint or its OIDC metadata. */
export type FailureTarget =
  | { flowId: string }
  | { tenantId: string }
  | { metadataTenantId: string }
  /** The managed-identity endpoints (App Service's and IMDS's). */
  | { managedIdentity: true };

/** A stand-in. */
export interface Standin {
  /** `https://127.0.0.1:<port>`: the value for `--authority-host`. */
  baseUrl: string;
  /** A `fetch` that the stand-in answers directly, without a socket (for commands run in-process). */
  fetch: typeof fetch;
  addTenant(tenant: StandinTenant): void;
  /** Registers a flow and returns its trigger URL (with `?api-version=1`, plus `sig` in "anyone" mode). */
  addFlow(flow: StandinFlow): string;
  /**
   * The next `count` calls to the trigger of flow `flowId` (or to the token endpoint of tenant
   * `tenantId`, or to the OIDC metadata `/<tenant>/v2.0/.well-known/openid-configuration` of tenant
   * `metadataTenantId`) get `failure` instead of their normal answer.
   */
  failNext(target: FailureTarget, count: number, failure: InjectedFailure): void;
  /** The calls that concern one tenant's Entra endpoints or one flow's trigger. */
  callsFor(scope: { tenantId?: string; flowId?: string }): StandinCall[];
  /** Every call received so far, in order. */
  readonly calls: readonly StandinCall[];
  /** The stand-in's own OIDC issuer (a stand-in for GitHub Actions), for federated credentials. */
  federatedIssuer: string;
  /** A token of {@link federatedIssuer} for `subject` (audience `api://AzureADTokenExchange` unless given). */
  federatedToken(subject: string, audience?: string): Promise<string>;
  /** Registers a managed identity for the managed-identity endpoint ({@link managedIdentityEndpoint}). */
  addManagedIdentity(identity: StandinManagedIdentity): void;
  /** The person with object ID `oid` approves the device code `userCode`; false when no such code waits. */
  approveDeviceCode(userCode: string, oid: string): boolean;
  /** The next device codes of `tenantId` are answered as `script` says (in order, one script per code). */
  scriptDeviceCodes(tenantId: string, ...scripts: DeviceCodeScript[]): void;
  /** Sets the seconds between polls the device-code answers ask for (default 5, as Entra). */
  setDeviceCodeInterval(seconds: number): void;
  /**
   * App Service's managed-identity endpoint on the stand-in: the value for IDENTITY_ENDPOINT (plain
   * HTTP, as on App Service); requests must carry `X-IDENTITY-HEADER: ` {@link MANAGED_IDENTITY_HEADER}.
   */
  managedIdentityEndpoint: string;
  /**
   * IMDS on the stand-in (plain HTTP, as IMDS): the value for AZURE_POD_IDENTITY_AUTHORITY_HOST, which
   * makes MSAL ask `<it>/metadata/identity/oauth2/token` instead of http://169.254.169.254.
   */
  imdsHost: string;
}

/** The value for IDENTITY_HEADER that the stand-in's managed-identity endpoint expects. */
export const MANAGED_IDENTITY_HEADER = "stand-in-identity-header-0123456789";

/** A stand-in serving real HTTPS on 127.0.0.1. */
export interface ServedStandin extends Standin {
  /** PEM file of the CA that signed the stand-in's certificate: the value for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  close(): Promise<void>;
}

/**
 * Text a hostile server puts in its answers: an OSC 52 clipboard write, a screen clear (CSI 2J), a C1
 * CSI, a right-to-left override, a zero-width space and a line separator.
 */
export const HOSTILE_TEXT =
  "\u001b]52;c;Y3VybCBldmlsfHNo\u0007\u001b[2J\u009b31mowned\u202etxt.exe\u200b\u2028fake line";

/** Thrown by the handler to make a transport drop the connection without an answer. */
class DropConnection extends Error {}

/** The public cloud audience: what a trigger demands unless told otherwise. */
export const PUBLIC_FLOW_AUDIENCE = "https://service.flow.microsoft.com/";

const TRIGGER_PATH =
  /^\/powerautomate\/automations\/direct\/workflows\/([^/]+)\/triggers\/manual\/paths\/invoke$/;

function flowError(status: number, code: string, message: string): Response {
  return json(status, { error: { code, message } });
}

function redactSig(pathAndQuery: string): string {
  return pathAndQuery.replace(/([?&]sig=)[^&]*/gi, "$1***");
}

/** A run ID shaped like Power Automate's (`08584...CU..`). */
function runId(): string {
  const digits = Array.from({ length: 20 }, () => Math.floor(Math.random() * 10)).join("");
  return `0858${digits}CU${String(Math.floor(Math.random() * 100)).padStart(2, "0")}`;
}

/** A body that never ends: 64 KiB of `x` whenever the reader asks for more. */
function endlessBody(): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x78);
  return new ReadableStream({
    pull(controller) {
      controller.enqueue(chunk);
    },
  });
}

/** Never answers: rejects as fetch does once the caller aborts. */
export function hang(signal: AbortSignal | null): Promise<never> {
  return new Promise((_, reject) => {
    const abort = () =>
      reject(signal?.reason ?? new DOMException("This operation was aborted", "AbortError"));
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
  });
}

/**
 * A stand-in answering at `baseUrl` (no socket: use its `fetch`, or {@link startStandin} for HTTPS).
 * `baseUrl` is what its OIDC metadata and trigger URLs name, e.g. `https://127.0.0.1:8443`.
 */
export async function createStandin(
  baseUrl = "https://127.0.0.1:8443",
  options: { onHang?: () => void } = {},
): Promise<Standin & { handle: (request: Request) => Promise<Response> }> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: "sig", alg: "RS256" };

  const tenants = new Map<string, StandinTenant>();
  const flows = new Map<string, StandinFlow>();
  const tokenRequestsByClient = new Map<string, number>();
  /** Injected failures by `token:<tenantId>`, `metadata:<tenantId>` or `trigger:<flowId>`. */
  const injected = new Map<string, InjectedFailure[]>();
  const calls: StandinCall[] = [];
  const managedIdentities: StandinManagedIdentity[] = [];
  const federatedIssuer = `${baseUrl}/federated-issuer`;
  const federatedKeys = await generateKeyPair("RS256");
  const deviceCodes = deviceCodeFlow(tenants, signV1);

  async function takeInjected(
    target: "token" | "trigger" | "metadata" | "msi",
    id: string,
    request: Request,
    authenticated = false,
  ): Promise<Response | undefined> {
    const queue = injected.get(`${target}:${id}`) ?? [];
    const index = queue.findIndex(
      (f) => f.only === undefined || f.only === (authenticated ? "authenticated" : "anonymous"),
    );
    if (index < 0) return undefined;
    const [failure] = queue.splice(index, 1);
    if ("hold" in failure) {
      failure.hold.arrived();
      await failure.hold.release;
      return undefined;
    }
    if ("network" in failure) {
      if (failure.network === "drop") throw new DropConnection();
      const hung = hang(request.signal);
      // In-process, time only passes when someone says so: tell the fake clock a request hangs.
      if (options.onHang) queueMicrotask(options.onHang);
      return hung;
    }
    if ("misbehave" in failure) {
      if (failure.misbehave === "endless-body") {
        return new Response(endlessBody(), { status: 200, headers: { "content-type": "application/json" } });
      }
      if (failure.misbehave === "redirect") {
        return new Response(null, {
          status: 302,
          headers: { location: "https://elsewhere.example/collect" },
        });
      }
      if (failure.misbehave === "hostile-text") {
        if (target === "trigger")
          return flowError(400, `BadRequest${HOSTILE_TEXT}`, `the flow says ${HOSTILE_TEXT}`);
        return json(400, {
          error: "invalid_request",
          error_description: `AADSTS90014: ${HOSTILE_TEXT}`,
          error_codes: [90014],
        });
      }
      return new Response("<html><body>Sign in to continue</body></html>", {
        status: 200,
        headers: { "content-type": "text/html" },
      });
    }
    const headers: Record<string, string> = failure.retryAfter ? { "retry-after": failure.retryAfter } : {};
    if (failure.body !== undefined) return json(failure.status, failure.body, headers);
    if (target === "token") {
      const code = failure.status === 429 ? 50196 : 90033;
      return json(
        failure.status,
        {
          error: "temporarily_unavailable",
          error_description: `AADSTS${code}: The server is temporarily unavailable (stand-in injected ${failure.status}).`,
          error_codes: [code],
        },
        headers,
      );
    }
    if (target === "metadata") {
      // What a front door answers when the service behind it is unavailable: no JSON, no AADSTS code.
      return new Response(`Service Unavailable (stand-in injected ${failure.status})`, {
        status: failure.status,
        headers: { "content-type": "text/plain; charset=utf-8", ...headers },
      });
    }
    const code = failure.status === 429 ? "WorkflowRequestsThrottled" : "ServiceUnavailable";
    return json(failure.status, { error: { code, message: `stand-in injected ${failure.status}` } }, headers);
  }

  async function metadata(tenantId: string, request: Request): Promise<Response> {
    const injectedAnswer = await takeInjected("metadata", tenantId, request);
    if (injectedAnswer) return injectedAnswer;
    if (!tenants.has(tenantId)) return unknownTenant(tenantId);
    const t = `${baseUrl}/${tenantId}`;
    const regional = tenants.get(tenantId)?.regionalTokenEndpoint === true;
    const tokenOrigin = tenants.get(tenantId)?.tokenEndpointOrigin ?? baseUrl;
    return json(200, {
      token_endpoint: `${tokenOrigin}/${tenantId}${regional ? "/regional" : ""}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${t}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${t}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${baseUrl}/oidc/userinfo`,
      authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${t}/oauth2/v2.0/logout`,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "tid", "oid"],
      kerberos_endpoint: `${t}/kerberos`,
      tenant_region_scope: "EU",
      cloud_instance_name: "microsoftonline.com",
      cloud_graph_host_name: "graph.windows.net",
      msgraph_host: "graph.microsoft.com",
      rbac_url: "https://pas.windows.net",
    });
  }

  /**
   * What the token and device-code endpoints both start with: the client ID and scope asked for (noted
   * on the call) and the tenant, or Entra's AADSTS90002 when the tenant does not exist.
   */
  function tokenRequest(
    tenantId: string,
    form: URLSearchParams,
    call: StandinCall,
  ): { clientId: string; scope: string; tenant: StandinTenant } | Response {
    const clientId = form.get("client_id") ?? "";
    const scope = form.get("scope") ?? "";
    call.clientId = clientId;
    call.scope = scope;
    const tenant = tenants.get(tenantId);
    return tenant ? { clientId, scope, tenant } : unknownTenant(tenantId);
  }

  async function token(
    tenantId: string,
    form: URLSearchParams,
    request: Request,
    call: StandinCall,
  ): Promise<Response> {
    const asked = tokenRequest(tenantId, form, call);
    if (asked instanceof Response) return asked;
    const { clientId, scope, tenant } = asked;
    const injectedAnswer = await takeInjected("token", tenantId, request);
    if (injectedAnswer) return injectedAnswer;
    if (form.get("grant_type") === "urn:ietf:params:oauth:grant-type:device_code") {
      return deviceCodes.poll(tenantId, clientId, form.get("device_code") ?? "", call);
    }
    if (form.get("grant_type") !== "client_credentials") {
      return aadstsError(
        400,
        "unsupported_grant_type",
        70003,
        "The app requested an unsupported grant type.",
      );
    }
    const seen = (tokenRequestsByClient.get(`${tenantId}/${clientId}`) ?? 0) + 1;
    tokenRequestsByClient.set(`${tenantId}/${clientId}`, seen);
    const app = tenant.apps.find((a) => a.clientId === clientId);
    if (!app || seen <= (app.notReplicatedForRequests ?? 0)) {
      return aadstsError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    const assertion = form.get("client_assertion");
    const tokenUrl = new URL(request.url);
    if (assertion !== null) {
      const refused = await checkAssertion(app, assertion, tokenUrl.origin + tokenUrl.pathname);
      if (refused) return refused;
    } else if (
      app.secret === undefined ||
      form.get("client_secret") !== app.secret ||
      seen <= (app.secretNotReplicatedForRequests ?? 0)
    ) {
      return aadstsError(
        401,
        "invalid_client",
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    if (!scope.endsWith("/.default")) {
      return aadstsError(
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    // Entra's v2 endpoint derives a v1 resource's audience by cutting the scope at its LAST slash.
    const audience = audienceOfScope(scope);
    const refused = resourceRefusal(tenant, audience);
    if (refused) return refused;
    const accessToken = await accessTokenFor(tenantId, clientId, app.servicePrincipalObjectId, audience);
    return json(200, {
      token_type: "Bearer",
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: accessToken,
    });
  }

  /** A v1 access token of `claims`, signed with the tenant's key, issued by its v1 issuer for an hour. */
  function signV1(tenantId: string, audience: string, claims: JWTPayload): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid, x5t: kid })
      .setIssuer(`https://sts.windows.net/${tenantId}/`)
      .setAudience(audience)
      .setIssuedAt()
      .setNotBefore("0s")
      .setExpirationTime("1h")
      .sign(privateKey as CryptoKey);
  }

  /** An app-only v1 access token, as Entra issues it for a v1 resource. */
  function accessTokenFor(
    tenantId: string,
    clientId: string,
    oid: string,
    audience: string,
  ): Promise<string> {
    const issuer = `https://sts.windows.net/${tenantId}/`;
    return signV1(tenantId, audience, {
      aio: "stand-in",
      appid: clientId,
      appidacr: "1",
      idp: issuer,
      idtyp: "app",
      oid,
      rh: "0.stand-in.",
      sub: oid,
      tid: tenantId,
      uti: randomUUID().replace(/-/g, "").slice(0, 22),
      ver: "1.0",
    });
  }

  /**
   * Checks a client assertion the way Entra does: a certificate's (signed with the key of a
   * certificate the app trusts, named by its SHA-256 thumbprint, for this token endpoint, issued by
   * and about the app), or a federated one (from a trusted issuer, subject and audience matching
   * exactly, case included). Undefined when accepted, else Entra's error answer.
   */
  async function checkAssertion(
    app: StandinApp,
    assertion: string,
    tokenUrl: string,
  ): Promise<Response | undefined> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      return aadstsError(401, "invalid_client", 50027, "JWT token is invalid or malformed.");
    }
    const unknownCertificate = () =>
      aadstsError(
        401,
        "invalid_client",
        700027,
        "The certificate with identifier used to sign the client assertion is not registered on application.",
      );
    if (header["x5t#S256"] !== undefined || header.x5t !== undefined) {
      if (!app.certificatePem) return unknownCertificate();
      const der = new X509Certificate(app.certificatePem).raw;
      if (
        header["x5t#S256"] !== undefined &&
        header["x5t#S256"] !== createHash("sha256").update(der).digest("base64url")
      ) {
        return unknownCertificate();
      }
      try {
        const key = await importX509(app.certificatePem, String(header.alg));
        const { payload } = await jwtVerify(assertion, key, {
          algorithms: ["PS256", "RS256"],
          audience: tokenUrl,
          // Entra tolerates clock skew (MSAL rounds nbf and iat to the second).
          clockTolerance: 300,
        });
        if (payload.iss !== app.clientId || payload.sub !== app.clientId) throw new Error("iss or sub");
      } catch {
        return aadstsError(401, "invalid_client", 700027, "Client assertion failed signature validation.");
      }
      return undefined;
    }
    try {
      const { payload } = await jwtVerify(assertion, federatedKeys.publicKey, {
        issuer: federatedIssuer,
        clockTolerance: 300,
      });
      const audiences = [payload.aud].flat();
      const match = (app.federated ?? []).find(
        (f) =>
          f.issuer === payload.iss &&
          f.subject === payload.sub &&
          audiences.includes(f.audience ?? "api://AzureADTokenExchange"),
      );
      if (match) return undefined;
      return aadstsError(
        400,
        "invalid_request",
        70021,
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${payload.iss}'. Assertion Subject: '${payload.sub}'. Assertion Audience: '${audiences.join(",")}'.`,
      );
    } catch {
      return aadstsError(
        400,
        "invalid_request",
        700211,
        "No matching federated identity record found for presented assertion issuer.",
      );
    }
  }

  /**
   * App Service's managed-identity endpoint: `GET ?resource=&api-version=2019-08-01[&client_id=]` with
   * X-IDENTITY-HEADER. An identity that is not assigned gets App Service's 400 (its text as MSAL's
   * integration tests record it: AzureAD/microsoft-authentication-library-for-dotnet, ManagedIdentityTests,
   * UserAssignedIdDoesNotExist).
   */
  async function managedIdentity(url: URL, request: Request): Promise<Response> {
    if (request.headers.get("x-identity-header") !== MANAGED_IDENTITY_HEADER) {
      return json(401, { statusCode: 401, message: "Unauthorized: X-IDENTITY-HEADER is missing or wrong" });
    }
    const injectedAnswer = await takeInjected("msi", "", request);
    if (injectedAnswer) return injectedAnswer;
    const identity = identityAsked(url);
    if (!identity) {
      return json(400, {
        statusCode: 400,
        message:
          "No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.",
        correlationId: randomUUID(),
      });
    }
    const resource = url.searchParams.get("resource") ?? "";
    if (!isKnownResource(resource)) {
      return json(400, { statusCode: 400, message: `unknown resource ${resource}` });
    }
    const token = await accessTokenFor(identity.tenantId, identity.clientId, identity.principalId, resource);
    return json(200, {
      access_token: token,
      expires_on: String(Math.floor(Date.now() / 1000) + 3600),
      resource,
      token_type: "Bearer",
      client_id: identity.clientId,
    });
  }

  /** The managed identity a request's `client_id` names; the first registered (system-assigned) without one. */
  function identityAsked(url: URL): StandinManagedIdentity | undefined {
    const clientId = url.searchParams.get("client_id");
    return clientId ? managedIdentities.find((m) => m.clientId === clientId) : managedIdentities[0];
  }

  /**
   * IMDS's managed-identity endpoint (`AZURE_POD_IDENTITY_AUTHORITY_HOST` points MSAL here):
   * `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=[&client_id=]` with
   * `Metadata: true`. An identity that is not assigned to the VM gets 400 `invalid_request` "Identity
   * not found" (as IMDS answers: Azure/azure-sdk-for-net#37278).
   */
  async function imds(url: URL, request: Request): Promise<Response> {
    if (request.headers.get("metadata") !== "true") {
      return json(400, {
        error: "bad_request_102",
        error_description: "Required metadata header not specified",
      });
    }
    const injectedAnswer = await takeInjected("msi", "", request);
    if (injectedAnswer) return injectedAnswer;
    const identity = identityAsked(url);
    if (!identity) return json(400, { error: "invalid_request", error_description: "Identity not found" });
    const resource = url.searchParams.get("resource") ?? "";
    if (!isKnownResource(resource)) {
      return json(400, {
        error: "invalid_resource",
        error_description: `AADSTS500011: The resource principal named ${resource} was not found in the tenant.`,
      });
    }
    const token = await accessTokenFor(identity.tenantId, identity.clientId, identity.principalId, resource);
    const now = Math.floor(Date.now() / 1000);
    return json(200, {
      access_token: token,
      client_id: identity.clientId,
      expires_in: "3599",
      expires_on: String(now + 3599),
      ext_expires_in: "3599",
      not_before: String(now),
      resource,
      token_type: "Bearer",
    });
  }

  async function trigger(flowId: string, url: URL, request: Request): Promise<Response> {
    const flow = flows.get(flowId);
    if (!flow || flow.enabled === false) {
      return flowError(
        404,
        "WorkflowNotFound",
        `The workflow '${flowId}' could not be found, or it is turned off.`,
      );
    }
    const authorization = request.headers.get("authorization");
    const injectedAnswer = await takeInjected("trigger", flowId, request, authorization !== null);
    if (injectedAnswer) return injectedAnswer;
    if (request.method !== "POST") {
      return flowError(405, "MethodNotAllowed", `The trigger accepts POST, not ${request.method}.`);
    }
    const sig = url.searchParams.get("sig");
    if (!authorization && flow.acceptAnonymous) return accept(flow);
    if (flow.mode === "anyone") {
      if (authorization) {
        return flowError(
          401,
          "OAuthAccessPolicyNotFound",
          "The request cannot be authorized: no OAuth access policy is configured for this trigger.",
        );
      }
      if (!sig || sig !== flow.sig) {
        return flowError(
          401,
          "DirectApiAuthorizationRequired",
          "The request must be authenticated only by Shared Access scheme.",
        );
      }
      return accept(flow);
    }
    if (!authorization?.startsWith("Bearer ")) {
      return flowError(401, "DirectApiAuthorizationRequired", "The OAuth authorization scheme is required.");
    }
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(authorization.slice("Bearer ".length), publicKey));
    } catch {
      return flowError(401, "InvalidAuthenticationToken", "The access token is not valid.");
    }
    const audience = flow.audience ?? PUBLIC_FLOW_AUDIENCE;
    const allowed = flow.allowedOids ?? [];
    const mismatch =
      claims.aud !== audience ||
      claims.iss !== `https://sts.windows.net/${flow.tenantId}/` ||
      claims.tid !== flow.tenantId ||
      (flow.mode === "users" && allowed.length > 0 && !allowed.includes(String(claims.oid)));
    if (mismatch) {
      return flowError(
        flow.mismatchStatus ?? 403,
        "MisMatchingOAuthClaims",
        "One or more claims either missing or does not match with the open authentication access control policy.",
      );
    }
    return accept(flow);
  }

  function accept(flow: StandinFlow): Response {
    const headers = { "x-ms-workflow-run-id": runId() };
    if (flow.response) return json(flow.response.status, flow.response.body ?? {}, headers);
    return new Response(null, { status: 202, headers });
  }

  /** Answers one request (the transports' common core); a DropConnection means "no answer at all". */
  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const call: StandinCall = {
      kind: "other",
      method: request.method,
      path: redactSig(url.pathname + url.search),
      authorization: request.headers.has("authorization"),
      status: 0,
      at: Date.now(),
    };
    calls.push(call);
    const body = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    let m: RegExpMatchArray | null;
    let answer: Response;
    if ((m = url.pathname.match(/^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/))) {
      call.kind = "metadata";
      answer = await metadata(m[1], request);
    } else if ((m = url.pathname.match(/^\/([^/]+)\/discovery\/v2\.0\/keys$/))) {
      call.kind = "keys";
      answer = json(200, { keys: [jwk] });
    } else if (
      (m = url.pathname.match(/^\/([^/]+)(?:\/regional)?\/oauth2\/v2\.0\/token$/)) &&
      request.method === "POST"
    ) {
      call.kind = "token";
      answer = await token(m[1], new URLSearchParams(body), request, call);
    } else if (
      (m = url.pathname.match(/^\/([^/]+)\/oauth2\/v2\.0\/devicecode$/)) &&
      request.method === "POST"
    ) {
      call.kind = "token";
      const asked = tokenRequest(m[1], new URLSearchParams(body), call);
      answer =
        asked instanceof Response ? asked : deviceCodes.start(asked.tenant, asked.clientId, asked.scope);
    } else if (url.pathname === "/msi/token" && request.method === "GET") {
      call.kind = "token";
      answer = await managedIdentity(url, request);
    } else if (/^\/metadata\/identity\/oauth2\/token\/?$/.test(url.pathname) && request.method === "GET") {
      call.kind = "token";
      answer = await imds(url, request);
    } else if ((m = url.pathname.match(TRIGGER_PATH))) {
      call.kind = "trigger";
      answer = await trigger(m[1], url, request);
    } else {
      answer = flowError(404, "NotFound", `stand-in has nothing at ${url.pathname}`);
    }
    call.status = answer.status;
    return answer;
  }

  const standin = {
    baseUrl,
    handle,
    /** In-process transport: what `fetch` would do against the stand-in, without a socket. */
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      if (new URL(request.url).host !== new URL(baseUrl).host) {
        throw new TypeError("fetch failed", {
          cause: Object.assign(new Error(`getaddrinfo ENOTFOUND ${new URL(request.url).hostname}`), {
            code: "ENOTFOUND",
          }),
        });
      }
      try {
        return await handle(request);
      } catch (err) {
        if (err instanceof DropConnection) {
          throw new TypeError("fetch failed", {
            cause: Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }),
          });
        }
        throw err;
      }
    }) as typeof fetch,
    addTenant(tenant: StandinTenant) {
      tenants.set(tenant.tenantId, tenant);
    },
    addFlow(flow: StandinFlow) {
      flows.set(flow.flowId, flow);
      const url = `${baseUrl}/powerautomate/automations/direct/workflows/${flow.flowId}/triggers/manual/paths/invoke?api-version=1`;
      return flow.mode === "anyone" && flow.sig
        ? `${url}&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${flow.sig}`
        : url;
    },
    failNext(target: FailureTarget, count: number, failure: InjectedFailure) {
      const key =
        "flowId" in target
          ? `trigger:${target.flowId}`
          : "managedIdentity" in target
            ? "msi:"
            : "metadataTenantId" in target
              ? `metadata:${target.metadataTenantId}`
              : `token:${target.tenantId}`;
      const queue = injected.get(key) ?? [];
      for (let i = 0; i < count; i++) queue.push(failure);
      injected.set(key, queue);
    },
    approveDeviceCode: deviceCodes.approve,
    scriptDeviceCodes(tenantId: string, ...scripts: DeviceCodeScript[]) {
      deviceCodes.script(tenantId, scripts);
    },
    setDeviceCodeInterval: deviceCodes.setInterval,
    callsFor(scope: { tenantId?: string; flowId?: string }) {
      return calls.filter(
        (c) =>
          (scope.tenantId !== undefined && c.path.startsWith(`/${scope.tenantId}/`)) ||
          (scope.flowId !== undefined && c.path.includes(`/workflows/${scope.flowId}/`)),
      );
    },
    calls,
    federatedIssuer,
    federatedToken(subject: string, audience = "api://AzureADTokenExchange") {
      return new SignJWT({})
        .setProtectedHeader({ alg: "RS256", typ: "JWT" })
        .setIssuer(federatedIssuer)
        .setSubject(subject)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(federatedKeys.privateKey as CryptoKey);
    },
    addManagedIdentity(identity: StandinManagedIdentity) {
      managedIdentities.push(identity);
    },
    managedIdentityEndpoint: `${baseUrl.replace(/^https:/, "http:")}/msi/token`,
    imdsHost: baseUrl.replace(/^https:/, "http:"),
  };
  return standin;
}

/**
 * Starts a stand-in serving HTTPS on an ephemeral port of 127.0.0.1 (for tests that run the tool as a
 * process, and the demo), and its managed-identity endpoints over plain HTTP on another port, as the
 * platforms serve them (App Service's IDENTITY_ENDPOINT, IMDS). Its certificate is signed by
 * `certificates` (default: the process's own throw-away CA, in a temporary folder).
 */
export async function startStandin(
  options: { certificates?: TestCertificates } = {},
): Promise<ServedStandin> {
  const certs = options.certificates ?? (await testCertificates());
  // Set once the stand-in exists (it needs the port, the server needs the handler).
  const handler: { handle?: (request: Request) => Promise<Response> } = {};
  const open = new Set<ServerResponse>();
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    open.add(res);
    res.on("close", () => open.delete(res));
    serve(req, res).catch(() => res.socket?.destroy());
  };
  const server: Server = createServer({ cert: certs.serverCert, key: certs.serverKey }, listener);
  const identityServer = createPlainServer(listener);
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    // The URL the client used, port included: a client assertion's audience is the token URL.
    const scheme = "encrypted" in req.socket ? "https" : "http";
    const request = new Request(`${scheme}://${req.headers.host ?? "127.0.0.1"}${req.url ?? "/"}`, {
      method: req.method,
      headers,
      body:
        chunks.length && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined,
      signal: abort.signal,
    });
    let answer: Response;
    try {
      answer = await handler.handle!(request);
    } catch (err) {
      res.socket?.destroy();
      if (err instanceof DropConnection || abort.signal.aborted) return;
      throw err;
    }
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    if (!answer.body) {
      res.end();
      return;
    }
    Readable.fromWeb(answer.body as import("node:stream/web").ReadableStream).pipe(res);
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => identityServer.listen(0, "127.0.0.1", resolve));
  const baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const identityOrigin = `http://127.0.0.1:${(identityServer.address() as AddressInfo).port}`;
  const standin = await createStandin(baseUrl);
  handler.handle = standin.handle;
  return {
    ...standin,
    managedIdentityEndpoint: `${identityOrigin}/msi/token`,
    imdsHost: identityOrigin,
    caFile: certs.caFile,
    close() {
      return new Promise<void>((resolve) => {
        identityServer.close();
        identityServer.closeAllConnections();
        server.close(() => resolve());
        for (const res of open) res.socket?.destroy();
        server.closeAllConnections();
      });
    },
  };
}
