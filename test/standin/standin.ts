/**
 * A stand-in for Entra ID (OIDC metadata, client-credentials token endpoint) and Power Automate's
 * HTTP trigger, over real HTTPS on 127.0.0.1, for testing the smoke test end to end.
 *
 * Test support, not product. It answers the way domain.md says the real services do: AADSTS errors in
 * Entra's JSON shape, app-only v1 tokens whose `aud` is the scope cut at its last slash, and the
 * trigger's three modes with their error codes. Tokens are RS256 JWTs verified against its own key.
 * Calls are recorded without any credential: only whether an Authorization header was present.
 *
 * What @azure/identity 4.13 (MSAL Node 3) requests with `disableInstanceDiscovery: true` and
 * `authorityHost` = this stand-in, per token: `GET /<tenant>/v2.0/.well-known/openid-configuration`
 * (an unknown tenant gets 400 AADSTS90002 here, which MSAL reports as `endpoints_resolution_error`),
 * then `POST <token_endpoint>?client-request-id=...` with client_id, client_secret, scope and
 * grant_type=client_credentials. It does not fetch the JWKS (served anyway at `discovery/v2.0/keys`).
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from "jose";
import { testCertificates } from "./certs";

/** An app registration (with its enterprise app) in a stand-in tenant. */
export interface StandinApp {
  /** Application (client) ID, e.g. a GUID. */
  clientId: string;
  /** The client secret value the token endpoint accepts. */
  secret: string;
  /** Object ID of the enterprise application: the token's `oid`, what Allowed users lists. */
  servicePrincipalObjectId: string;
  /** Answer AADSTS700016 ("not found in the directory") to this many token requests first (replication). */
  notReplicatedForRequests?: number;
  /** Answer AADSTS7000215 ("invalid client secret") to this many token requests first (new secret). */
  secretNotReplicatedForRequests?: number;
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
      /** `drop`: the connection is destroyed without an answer; `hang`: no answer until the stand-in closes. */
      network: "drop" | "hang";
      only?: "anonymous" | "authenticated";
    };

/** Where {@link Standin.failNext} injects: a flow's trigger, a tenant's token endpoint or its OIDC metadata. */
export type FailureTarget = { flowId: string } | { tenantId: string } | { metadataTenantId: string };

/** A running stand-in. */
export interface Standin {
  /** `https://127.0.0.1:<port>`: the value for `--authority-host`. */
  baseUrl: string;
  /** PEM file of the CA that signed the stand-in's certificate: the value for NODE_EXTRA_CA_CERTS. */
  caFile: string;
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
  close(): Promise<void>;
}

/** The public cloud audience: what a trigger demands unless told otherwise. */
export const PUBLIC_FLOW_AUDIENCE = "https://service.flow.microsoft.com/";

/** Resources (v1 identifier URIs, compared without trailing slash) the stand-in knows tokens for. */
const KNOWN_RESOURCES = [
  "https://service.flow.microsoft.com",
  "https://gov.service.flow.microsoft.us",
  "https://high.service.flow.microsoft.us",
  "https://service.flow.appsplatform.us",
  "https://service.powerautomate.cn",
];

const TRIGGER_PATH =
  /^\/powerautomate\/automations\/direct\/workflows\/([^/]+)\/triggers\/manual\/paths\/invoke$/;

function aadstsError(
  res: ServerResponse,
  status: number,
  error: string,
  code: number,
  text: string,
): { status: number } {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  sendJson(res, status, {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
  return { status };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function flowError(res: ServerResponse, status: number, code: string, message: string): { status: number } {
  sendJson(res, status, { error: { code, message } });
  return { status };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function redactSig(pathAndQuery: string): string {
  return pathAndQuery.replace(/([?&]sig=)[^&]*/gi, "$1***");
}

/** A run ID shaped like Power Automate's (`08584...CU..`). */
function runId(): string {
  const digits = Array.from({ length: 20 }, () => Math.floor(Math.random() * 10)).join("");
  return `0858${digits}CU${String(Math.floor(Math.random() * 100)).padStart(2, "0")}`;
}

/** Starts a stand-in on an ephemeral port of 127.0.0.1. */
export async function startStandin(): Promise<Standin> {
  const certs = await testCertificates();
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: "sig", alg: "RS256" };

  const tenants = new Map<string, StandinTenant>();
  const flows = new Map<string, StandinFlow>();
  const tokenRequestsByClient = new Map<string, number>();
  /** Injected failures by `token:<tenantId>` or `trigger:<flowId>`. */
  const injected = new Map<string, InjectedFailure[]>();
  const calls: StandinCall[] = [];
  let baseUrl = "";

  /** Sockets left without an answer by a `hang` failure; destroyed on close. */
  const hanging = new Set<ServerResponse>();

  function takeInjected(
    target: "token" | "trigger" | "metadata",
    id: string,
    res: ServerResponse,
    authenticated = false,
  ): { status: number } | undefined {
    const queue = injected.get(`${target}:${id}`) ?? [];
    const index = queue.findIndex(
      (f) => f.only === undefined || f.only === (authenticated ? "authenticated" : "anonymous"),
    );
    if (index < 0) return undefined;
    const [failure] = queue.splice(index, 1);
    if ("network" in failure) {
      if (failure.network === "drop") res.socket?.destroy();
      else hanging.add(res);
      return { status: 0 };
    }
    const headers: Record<string, string> = failure.retryAfter ? { "retry-after": failure.retryAfter } : {};
    if (failure.body !== undefined) {
      sendJson(res, failure.status, failure.body, headers);
    } else if (target === "token") {
      const code = failure.status === 429 ? 50196 : 90033;
      sendJson(
        res,
        failure.status,
        {
          error: "temporarily_unavailable",
          error_description: `AADSTS${code}: The server is temporarily unavailable (stand-in injected ${failure.status}).`,
          error_codes: [code],
        },
        headers,
      );
    } else if (target === "metadata") {
      // What a front door answers when the service behind it is unavailable: no JSON, no AADSTS code.
      const text = `Service Unavailable (stand-in injected ${failure.status})`;
      res.writeHead(failure.status, {
        "content-type": "text/plain; charset=utf-8",
        "content-length": Buffer.byteLength(text),
        ...headers,
      });
      res.end(text);
    } else {
      const code = failure.status === 429 ? "WorkflowRequestsThrottled" : "ServiceUnavailable";
      sendJson(
        res,
        failure.status,
        { error: { code, message: `stand-in injected ${failure.status}` } },
        headers,
      );
    }
    return { status: failure.status };
  }

  function metadata(tenantId: string, res: ServerResponse): { status: number } {
    const injectedAnswer = takeInjected("metadata", tenantId, res);
    if (injectedAnswer) return injectedAnswer;
    if (!tenants.has(tenantId)) {
      return aadstsError(
        res,
        400,
        "invalid_tenant",
        90002,
        `Tenant '${tenantId}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    const t = `${baseUrl}/${tenantId}`;
    const regional = tenants.get(tenantId)?.regionalTokenEndpoint === true;
    sendJson(res, 200, {
      token_endpoint: `${t}${regional ? "/regional" : ""}/oauth2/v2.0/token`,
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
    return { status: 200 };
  }

  async function token(
    tenantId: string,
    form: URLSearchParams,
    res: ServerResponse,
    call: StandinCall,
  ): Promise<{ status: number }> {
    const clientId = form.get("client_id") ?? "";
    const scope = form.get("scope") ?? "";
    call.clientId = clientId;
    call.scope = scope;
    const tenant = tenants.get(tenantId);
    if (!tenant) {
      return aadstsError(
        res,
        400,
        "invalid_tenant",
        90002,
        `Tenant '${tenantId}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    const injectedAnswer = takeInjected("token", tenantId, res);
    if (injectedAnswer) return injectedAnswer;
    if (form.get("grant_type") !== "client_credentials") {
      return aadstsError(
        res,
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
        res,
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    if (form.get("client_secret") !== app.secret || seen <= (app.secretNotReplicatedForRequests ?? 0)) {
      return aadstsError(
        res,
        401,
        "invalid_client",
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
    if (!scope.endsWith("/.default")) {
      return aadstsError(
        res,
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    // Entra's v2 endpoint derives a v1 resource's audience by cutting the scope at its LAST slash.
    const audience = scope.slice(0, scope.lastIndexOf("/"));
    const resourceKnown = KNOWN_RESOURCES.includes(audience.replace(/\/$/, ""));
    if (!resourceKnown || tenant.flowServicePrincipal === false) {
      return aadstsError(
        res,
        400,
        "invalid_resource",
        500011,
        `The resource principal named ${audience} was not found in the tenant named ${tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    }
    const issuer = `https://sts.windows.net/${tenantId}/`;
    const accessToken = await new SignJWT({
      aio: "stand-in",
      appid: clientId,
      appidacr: "1",
      idp: issuer,
      idtyp: "app",
      oid: app.servicePrincipalObjectId,
      rh: "0.stand-in.",
      sub: app.servicePrincipalObjectId,
      tid: tenantId,
      uti: randomUUID().replace(/-/g, "").slice(0, 22),
      ver: "1.0",
    })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid, x5t: kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setNotBefore("0s")
      .setExpirationTime("1h")
      .sign(privateKey as CryptoKey);
    sendJson(res, 200, {
      token_type: "Bearer",
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: accessToken,
    });
    return { status: 200 };
  }

  async function trigger(
    flowId: string,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ status: number }> {
    const flow = flows.get(flowId);
    if (!flow || flow.enabled === false) {
      return flowError(
        res,
        404,
        "WorkflowNotFound",
        `The workflow '${flowId}' could not be found, or it is turned off.`,
      );
    }
    const injectedAnswer = takeInjected("trigger", flowId, res, req.headers.authorization !== undefined);
    if (injectedAnswer) return injectedAnswer;
    if (req.method !== "POST") {
      return flowError(res, 405, "MethodNotAllowed", `The trigger accepts POST, not ${req.method}.`);
    }
    const authorization = req.headers.authorization;
    const sig = url.searchParams.get("sig");
    if (!authorization && flow.acceptAnonymous) return accept(flow, res);
    if (flow.mode === "anyone") {
      if (authorization) {
        return flowError(
          res,
          401,
          "OAuthAccessPolicyNotFound",
          "The request cannot be authorized: no OAuth access policy is configured for this trigger.",
        );
      }
      if (!sig || sig !== flow.sig) {
        return flowError(
          res,
          401,
          "DirectApiAuthorizationRequired",
          "The request must be authenticated only by Shared Access scheme.",
        );
      }
      return accept(flow, res);
    }
    if (!authorization?.startsWith("Bearer ")) {
      return flowError(
        res,
        401,
        "DirectApiAuthorizationRequired",
        "The OAuth authorization scheme is required.",
      );
    }
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(authorization.slice("Bearer ".length), publicKey));
    } catch {
      return flowError(res, 401, "InvalidAuthenticationToken", "The access token is not valid.");
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
        res,
        flow.mismatchStatus ?? 403,
        "MisMatchingOAuthClaims",
        "One or more claims either missing or does not match with the open authentication access control policy.",
      );
    }
    return accept(flow, res);
  }

  function accept(flow: StandinFlow, res: ServerResponse): { status: number } {
    const headers = { "x-ms-workflow-run-id": runId() };
    if (flow.response) {
      sendJson(res, flow.response.status, flow.response.body ?? {}, headers);
      return { status: flow.response.status };
    }
    res.writeHead(202, { ...headers, "content-length": 0 });
    res.end();
    return { status: 202 };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const call: StandinCall = {
      kind: "other",
      method: req.method ?? "",
      path: redactSig(req.url ?? "/"),
      authorization: req.headers.authorization !== undefined,
      status: 0,
      at: Date.now(),
    };
    calls.push(call);
    const body = await readBody(req);
    let m: RegExpMatchArray | null;
    let answer: { status: number };
    if ((m = url.pathname.match(/^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/))) {
      call.kind = "metadata";
      answer = metadata(m[1], res);
    } else if ((m = url.pathname.match(/^\/([^/]+)\/discovery\/v2\.0\/keys$/))) {
      call.kind = "keys";
      sendJson(res, 200, { keys: [jwk] });
      answer = { status: 200 };
    } else if (
      (m = url.pathname.match(/^\/([^/]+)(?:\/regional)?\/oauth2\/v2\.0\/token$/)) &&
      req.method === "POST"
    ) {
      call.kind = "token";
      answer = await token(m[1], new URLSearchParams(body), res, call);
    } else if ((m = url.pathname.match(TRIGGER_PATH))) {
      call.kind = "trigger";
      answer = await trigger(m[1], url, req, res);
    } else {
      answer = flowError(res, 404, "NotFound", `stand-in has nothing at ${url.pathname}`);
    }
    call.status = answer.status;
  }

  const server: Server = createServer({ cert: certs.serverCert, key: certs.serverKey }, (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: "StandinBug", message: String(err) } });
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    caFile: certs.caFile,
    addTenant(tenant) {
      tenants.set(tenant.tenantId, tenant);
    },
    addFlow(flow) {
      flows.set(flow.flowId, flow);
      const url = `${baseUrl}/powerautomate/automations/direct/workflows/${flow.flowId}/triggers/manual/paths/invoke?api-version=1`;
      return flow.mode === "anyone" && flow.sig
        ? `${url}&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${flow.sig}`
        : url;
    },
    failNext(target, count, failure) {
      const key =
        "flowId" in target
          ? `trigger:${target.flowId}`
          : "metadataTenantId" in target
            ? `metadata:${target.metadataTenantId}`
            : `token:${target.tenantId}`;
      const queue = injected.get(key) ?? [];
      for (let i = 0; i < count; i++) queue.push(failure);
      injected.set(key, queue);
    },
    callsFor(scope) {
      return calls.filter(
        (c) =>
          (scope.tenantId !== undefined && c.path.startsWith(`/${scope.tenantId}/`)) ||
          (scope.flowId !== undefined && c.path.includes(`/workflows/${scope.flowId}/`)),
      );
    },
    calls,
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const res of hanging) res.socket?.destroy();
        server.closeAllConnections();
      });
    },
  };
}
