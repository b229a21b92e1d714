/**
 * One token request through @azure/identity (MSAL underneath): no hand-written OAuth. The SDK is
 * loaded only when a token is asked for, and it talks through the command's bounded HTTP client. The
 * answer is reduced to what the smoke test needs (HTTP status, AADSTS code, Retry-After) and never
 * carries a secret or a raw SDK error (those can hold request details).
 */
import type { TokenCredential } from "@azure/identity";
import type { Cloud } from "../../clouds";
import type { HttpDeps } from "../../lib/http";
import { withinTimer } from "../../lib/sdk-retry";
import type { CredentialKind } from "../../kinds/names";
import type { DeviceCodeWait } from "./device-code";

/** How the caller proves who it is, by credential kind (`--credential`). */
export type CallerCredential =
  | {
      kind: "secret";
      secret: string;
      /** When it was created, when known (Key Vault's `created` of the version read), ms since the epoch. */
      createdAtMs?: number;
    }
  /** The certificate and its private key, PEM. */
  | { kind: "certificate"; pem: string }
  /** Reads the platform's OIDC token (e.g. from AZURE_FEDERATED_TOKEN_FILE) each time it is needed. */
  | { kind: "federated"; assertion: () => Promise<string> }
  /** The Azure resource's managed identity; user-assigned when `clientId` is given. */
  | { kind: "managedIdentity"; clientId?: string }
  /** A signed-in person's delegated token: one they obtained, or one the device-code flow gets. */
  | { kind: "user"; token: string }
  | { kind: "user"; deviceCode: DeviceCodeWait };

/** What a token request needs. */
export interface TokenRequest {
  tenantId: string;
  clientId: string;
  credential: CallerCredential;
  /** e.g. `https://service.flow.microsoft.com//.default`. */
  scope: string;
  /** Entra authority host, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
  /** True for a non-standard authority (`--authority-host`): MSAL then trusts it without instance discovery. */
  disableInstanceDiscovery: boolean;
  /** Give up on this one request after this many ms. */
  timeoutMs: number;
}

/** The answer to one token request. */
export type TokenAnswer =
  | {
      ok: true;
      token: string;
      /** The token endpoint MSAL posted to (from the tenant's OpenID metadata), without query. */
      endpoint?: string;
    }
  | {
      ok: false;
      /** HTTP status of the last answer from the authority, if one came back. */
      status?: number;
      /** `AADSTS<n>`, a network error code, `Redirect`, `NotJson`, or MSAL's error code. */
      code?: string;
      /** What went wrong, without any secret (still redacted again before printing). */
      message: string;
      /** The Retry-After header of the last answer, if any. */
      retryAfter?: string;
      /** The token endpoint MSAL posted to, if it got that far. */
      endpoint?: string;
    };

/**
 * MSAL keeps the managed-identity source it picks, with the HTTP client of the first managed-identity
 * credential, for the whole process (msal-node: `ManagedIdentityClient.identitySource` is static). So
 * every managed-identity credential gets this one client, which sends through the client of the
 * current attempt: its budget, its origins, and what it observed.
 */
let managedIdentityAttempt: import("@azure/core-rest-pipeline").HttpClient | undefined;
const managedIdentityHttpClient: import("@azure/core-rest-pipeline").HttpClient = {
  sendRequest(request) {
    if (!managedIdentityAttempt) throw new Error("no managed-identity token request is under way");
    return managedIdentityAttempt.sendRequest(request);
  },
};

/** Gets one token; the smoke test injects a different one in unit tests. */
export type AcquireToken = (request: TokenRequest) => Promise<TokenAnswer>;

/** How one kind of credential gets its token. */
interface TokenSource<C extends CallerCredential> {
  /**
   * Where its token comes from: the Entra authority, or the platform's managed-identity endpoint (its
   * requests, errors and the endpoint named in the report are that endpoint's).
   */
  from: "authority" | "platform";
  /** The secret values it holds: never printed. */
  secrets(c: C): string[];
  /** The scope its token is asked for on `cloud`; default the app-only `.default` scope. */
  scope?(cloud: Cloud): string;
  /** Gets its token without @azure/identity (a kind whose token needs a person), through `deps`. */
  acquire?(c: C, request: TokenRequest, deps: TokenDeps): Promise<TokenAnswer>;
  /**
   * Its @azure/identity credential (unless it has {@link acquire}). `local` wraps what reads something on this machine (a token file),
   * so that its failure is reported as the credential's own, not as Entra's answer.
   */
  credential?(
    sdk: typeof import("@azure/identity"),
    c: C,
    request: TokenRequest,
    options: import("@azure/identity").ClientSecretCredentialOptions,
    local: (read: () => Promise<string>) => () => Promise<string>,
  ): TokenCredential;
}

/** Each credential kind's token source. */
const TOKEN_SOURCES: { [K in CredentialKind]: TokenSource<Extract<CallerCredential, { kind: K }>> } = {
  secret: {
    from: "authority",
    secrets: (c) => [c.secret],
    credential: (sdk, c, r, options) =>
      new sdk.ClientSecretCredential(r.tenantId, r.clientId, c.secret, options),
  },
  certificate: {
    from: "authority",
    secrets: (c) => [c.pem],
    credential: (sdk, c, r, options) =>
      new sdk.ClientCertificateCredential(r.tenantId, r.clientId, { certificate: c.pem }, options),
  },
  federated: {
    from: "authority",
    secrets: () => [],
    credential: (sdk, c, r, options, local) =>
      new sdk.ClientAssertionCredential(r.tenantId, r.clientId, local(c.assertion), options),
  },
  managedIdentity: {
    from: "platform",
    secrets: () => [],
    credential: (sdk, c, _r, options) =>
      new sdk.ManagedIdentityCredential({ ...(c.clientId ? { clientId: c.clientId } : {}), ...options }),
  },
  user: {
    from: "authority",
    secrets: (c) => ("token" in c ? [c.token] : []),
    scope: (cloud) => cloud.delegatedScope,
    acquire: async (c, request, deps) =>
      "token" in c
        ? { ok: true, token: c.token }
        : (await import("./device-code")).deviceCodeToken(request, c.deviceCode, deps),
  },
};

/** The scope `c`'s token is asked for on `cloud`: its kind's (a delegated scope), else the app-only one. */
export function scopeOf(c: CallerCredential, cloud: Cloud): string {
  return sourceOf(c).scope?.(cloud) ?? cloud.scope;
}

/** The token source of `c`'s kind. */
function sourceOf(c: CallerCredential): TokenSource<CallerCredential> {
  return TOKEN_SOURCES[c.kind] as TokenSource<CallerCredential>;
}

/** The secret values a credential holds (a client secret, a private key), for redaction. */
export function secretsOf(c: CallerCredential): string[] {
  return sourceOf(c).secrets(c);
}

const AADSTS = /AADSTS\d+/;

/**
 * The AADSTS code of an error body: from its text (`AADSTS7000215: ...` in `error_description`), else
 * from Entra's JSON `error_codes` (`[7000215]`), which some answers carry without the prefixed text.
 */
export function aadstsCodeOfBody(text: string): string | undefined {
  const inText = AADSTS.exec(text)?.[0];
  if (inText) return inText;
  try {
    const json = JSON.parse(text) as { error_codes?: unknown };
    const first = Array.isArray(json.error_codes) ? (json.error_codes[0] as unknown) : undefined;
    if (typeof first === "number" && Number.isInteger(first) && first > 0) return `AADSTS${first}`;
    if (typeof first === "string" && /^\d+$/.test(first)) return `AADSTS${first}`;
  } catch {
    // not JSON: no code
  }
  return undefined;
}

/** First line of an SDK message, without MSAL's boilerplate, cut to a readable length. */
function summarize(message: string): string {
  const description = /Description: (AADSTS\d+: [^]*?)(?: Trace ID:| - Correlation ID:|$)/.exec(message)?.[1];
  const text = (description ?? message).replace(/\s+/g, " ").trim();
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** Where the SDK's own log lines go (AZURE_LOG_LEVEL): the command's stderr, which redacts. */
export interface TokenDeps extends HttpDeps {
  log?: (line: string) => void;
  /**
   * The environment, for the managed-identity endpoints the platform names (IDENTITY_ENDPOINT...):
   * the only origins a managed identity's token request may go to. Default: none but IMDS and Arc's.
   */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * What a managed-identity endpoint said in an error answer: IMDS's `error_description` ("Identity not
 * found"), App Service's `message` ("No User Assigned or Delegated Managed Identity found for specified
 * ClientId/ResourceId/PrincipalId."), or the start of the body.
 */
export function managedIdentityErrorText(body: string | undefined): string {
  try {
    const json = JSON.parse(body ?? "") as Record<string, unknown>;
    const error = json.error as { message?: unknown } | string | undefined;
    const said = [
      json.error_description,
      json.message,
      json.Message,
      typeof error === "object" ? error?.message : error,
    ].find((v): v is string => typeof v === "string" && v.length > 0);
    if (said) return summarize(said);
  } catch {
    // not JSON
  }
  return summarize(body || "no message");
}

/**
 * A token source backed by @azure/identity: a fresh credential per request (so MSAL's cache and its
 * throttling memory do not hide what Entra answers), the SDK's own retries off (the smoke test
 * retries within its budget), every request through `deps`.
 */
export function identityTokenSource(deps: TokenDeps): AcquireToken {
  return async (request) => {
    const own = sourceOf(request.credential).acquire;
    if (own) return own(request.credential, request, deps);
    const [identity, http] = await Promise.all([import("@azure/identity"), import("../../lib/azure-http")]);
    http.routeAzureLogs(deps.log);
    const observed: {
      status?: number;
      retryAfter?: string;
      aadsts?: string;
      networkCode?: string;
      tokenEndpoint?: string;
    } = {};
    const last = {} as import("../../lib/azure-http").LastAnswer;
    const observer = {
      name: "flowSmokeObserver",
      async sendRequest(
        req: import("@azure/core-rest-pipeline").PipelineRequest,
        next: import("@azure/core-rest-pipeline").SendRequest,
      ) {
        delete observed.status;
        delete observed.retryAfter;
        delete observed.aadsts;
        delete observed.networkCode;
        if (req.method === "POST") observed.tokenEndpoint = req.url.replace(/[?#].*$/, "");
        try {
          const response = await next(req);
          observed.status = response.status;
          observed.retryAfter = response.headers.get("retry-after") ?? undefined;
          if (response.status >= 400) observed.aadsts = aadstsCodeOfBody(response.bodyAsText ?? "");
          return response;
        } catch (err) {
          const e = err as { code?: unknown; cause?: { code?: unknown } };
          const code = e.code ?? e.cause?.code;
          if (typeof code === "string") observed.networkCode = code;
          throw err;
        }
      },
    };
    const c = request.credential;
    const source = sourceOf(c);
    const managed = source.from === "platform";
    // A token file that went bad between two requests (emptied, replaced) is a local problem, not
    // Entra's answer: remembered here, because MSAL and @azure/identity wrap the error.
    let localProblem: Error | undefined;
    const local = (read: () => Promise<string>) => async () => {
      try {
        return await read();
      } catch (err) {
        localProblem = err instanceof Error ? err : new Error(String(err));
        throw err;
      }
    };
    // Requests go only where this credential was issued for: the authority (and MSAL's instance
    // discovery host), or the platform's identity endpoints; never to an endpoint an answer names elsewhere.
    const scope: import("../../lib/azure-http").ClientScope = managed
      ? {
          origins: http.managedIdentityOrigins(deps.env ?? {}),
          what: "the managed-identity endpoint",
          last,
          arcChallenge: true,
        }
      : {
          origins: http.authorityOrigins(request.authorityHost, !request.disableInstanceDiscovery),
          what: "the Entra authority",
          last,
        };
    const attemptClient = http.boundedHttpClient(deps, scope);
    if (managed) managedIdentityAttempt = attemptClient;
    const options = {
      authorityHost: request.authorityHost,
      disableInstanceDiscovery: request.disableInstanceDiscovery,
      retryOptions: { maxRetries: 0 },
      httpClient: managed ? managedIdentityHttpClient : attemptClient,
      additionalPolicies: [{ policy: observer, position: "perRetry" as const }],
    };
    const credential = source.credential!(identity, c, request, options, local);
    let timedOut = false;
    // The token source named in the report: the endpoint that was asked (a managed identity's is the
    // platform's identity endpoint, never Entra's token URL, which it did not call).
    const endpoint = () =>
      managed
        ? { endpoint: last.url ?? "the managed-identity endpoint" }
        : observed.tokenEndpoint
          ? { endpoint: observed.tokenEndpoint }
          : {};
    try {
      const result = await withinTimer(
        deps.timer,
        request.timeoutMs,
        (abortSignal) => credential.getToken(request.scope, { abortSignal }),
        () => (timedOut = true),
      );
      if (!result) return { ok: false, message: "the authority gave no token", ...endpoint() };
      return { ok: true, token: result.token, ...endpoint() };
    } catch (err) {
      if (timedOut) {
        return {
          ok: false,
          code: "TimeoutError",
          message: `no answer from the authority within ${request.timeoutMs} ms`,
          ...endpoint(),
        };
      }
      if (scope.violation) {
        return { ok: false, code: "OffOrigin", message: scope.violation.message, ...endpoint() };
      }
      if (localProblem)
        return { ok: false, code: "LocalCredential", message: localProblem.message, ...endpoint() };
      if (scope.fileProblem) {
        return { ok: false, code: "LocalCredential", message: scope.fileProblem.message, ...endpoint() };
      }
      if (managed) return managedIdentityFailure(last, err, endpoint());
      const e = err as { message?: unknown };
      const message = typeof e.message === "string" ? e.message : "token request failed";
      const msalCode = /^([a-z_]+):/.exec(message)?.[1];
      let code = AADSTS.exec(message)?.[0] ?? observed.aadsts ?? observed.networkCode ?? msalCode;
      let text = summarize(message);
      if (last.redirectHost !== undefined) {
        code = "Redirect";
        text = `the authority answered ${last.status ?? "3xx"}, a redirect to ${last.redirectHost}: a credential is never sent on; check --authority-host and any proxy in the way`;
      } else if (last.notJson) {
        code = "NotJson";
        text = `the authority answered ${last.status ?? 200} with something that is not JSON (a sign-in page or a proxy's page?): check --authority-host and any proxy in the way`;
      } else if (last.truncated) {
        code = "TooLarge";
        text =
          "the authority's answer was larger than 64 KiB and was cut: it is not Entra ID; check --authority-host";
      } else if (observed.aadsts && !text.includes(observed.aadsts)) {
        text += ` (the authority answered ${observed.status ?? "an error"} ${observed.aadsts})`;
      } else if (observed.networkCode && !text.includes(observed.networkCode)) {
        text += ` (${observed.networkCode})`;
      }
      const answer: TokenAnswer = { ok: false, message: text, ...endpoint() };
      if (observed.status !== undefined) answer.status = observed.status;
      if (code !== undefined) answer.code = code;
      if (observed.retryAfter !== undefined) answer.retryAfter = observed.retryAfter;
      return answer;
    }
  };
}

/**
 * A managed identity's failure, read from what its endpoint answered (Learn, "How to use managed
 * identities for Azure resources on an Azure VM to acquire an access token", Error handling): 404 and
 * 410 while IMDS updates, 429 and 5xx are transient (`ManagedIdentityUpdating`, or the status); any
 * other error status is definitive (`ManagedIdentityRefused`: e.g. 400 "Identity not found" from IMDS,
 * or App Service's 400 "No User Assigned or Delegated Managed Identity found..."); no answer at all
 * means no identity endpoint here (`ManagedIdentityUnreachable`).
 */
function managedIdentityFailure(
  last: import("../../lib/azure-http").LastAnswer,
  err: unknown,
  endpoint: { endpoint?: string },
): TokenAnswer {
  const status = last.status;
  const where = last.url ?? "the managed-identity endpoint";
  const failure = (code: string | undefined, message: string): TokenAnswer => ({
    ok: false,
    ...(code !== undefined ? { code } : {}),
    message,
    ...(status !== undefined ? { status } : {}),
    ...(last.retryAfter !== undefined ? { retryAfter: last.retryAfter } : {}),
    ...endpoint,
  });
  const sdkMessage = summarize(String((err as { message?: unknown }).message ?? err));
  if (status === undefined) {
    const code = last.networkCode ?? (err as { code?: unknown }).code;
    return failure(
      "ManagedIdentityUnreachable",
      `no answer from ${where} (${typeof code === "string" ? code : sdkMessage})`,
    );
  }
  // The report puts the status and the code before the message.
  const said = managedIdentityErrorText(last.body);
  if (status === 404 || status === 410) return failure("ManagedIdentityUpdating", said);
  if (status === 429 || status >= 500) return failure(undefined, said);
  if (status >= 400) return failure("ManagedIdentityRefused", said);
  return failure(undefined, sdkMessage);
}
