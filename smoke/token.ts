/**
 * One token request through @azure/identity (MSAL underneath): no hand-written OAuth. The SDK is
 * loaded only when a token is asked for, and it talks through the command's bounded HTTP client. The
 * answer is reduced to what the smoke test needs (HTTP status, AADSTS code, Retry-After) and never
 * carries a secret or a raw SDK error (those can hold request details).
 */
import type { HttpDeps } from "./http";

/** How the caller proves who it is (`--credential`). */
export type CallerCredential =
  | { kind: "secret"; secret: string }
  /** The certificate and its private key, PEM. */
  | { kind: "certificate"; pem: string }
  /** Reads the platform's OIDC token (e.g. from AZURE_FEDERATED_TOKEN_FILE) each time it is needed. */
  | { kind: "federated"; assertion: () => Promise<string> }
  /** The Azure resource's managed identity; user-assigned when `clientId` is given. */
  | { kind: "managedIdentity"; clientId?: string };

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

/** Gets one token; the smoke test injects a different one in unit tests. */
export type AcquireToken = (request: TokenRequest) => Promise<TokenAnswer>;

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
}

/**
 * A token source backed by @azure/identity: a fresh credential per request (so MSAL's cache and its
 * throttling memory do not hide what Entra answers), the SDK's own retries off (the smoke test
 * retries within its budget), every request through `deps`.
 */
export function identityTokenSource(deps: TokenDeps): AcquireToken {
  return async (request) => {
    const [identity, { boundedHttpClient }, { AzureLogger }] = await Promise.all([
      import("@azure/identity"),
      import("./azure-http"),
      import("@azure/logger"),
    ]);
    if (deps.log) {
      const log = deps.log;
      AzureLogger.log = (...args: unknown[]) => log(args.map(String).join(" "));
    }
    const observed: {
      status?: number;
      retryAfter?: string;
      aadsts?: string;
      networkCode?: string;
      tokenEndpoint?: string;
    } = {};
    const last = {} as import("./azure-http").LastAnswer;
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
    const options = {
      authorityHost: request.authorityHost,
      disableInstanceDiscovery: request.disableInstanceDiscovery,
      retryOptions: { maxRetries: 0 },
      httpClient: boundedHttpClient(deps, last),
      additionalPolicies: [{ policy: observer, position: "perRetry" as const }],
    };
    const c = request.credential;
    const credential =
      c.kind === "secret"
        ? new identity.ClientSecretCredential(request.tenantId, request.clientId, c.secret, options)
        : c.kind === "certificate"
          ? new identity.ClientCertificateCredential(
              request.tenantId,
              request.clientId,
              { certificate: c.pem },
              options,
            )
          : c.kind === "federated"
            ? new identity.ClientAssertionCredential(request.tenantId, request.clientId, c.assertion, options)
            : new identity.ManagedIdentityCredential({
                ...(c.clientId ? { clientId: c.clientId } : {}),
                ...options,
              });
    const abort = new AbortController();
    const timer = deps.timer(request.timeoutMs);
    timer.signal.addEventListener("abort", () => abort.abort(), { once: true });
    const endpoint = () => (observed.tokenEndpoint ? { endpoint: observed.tokenEndpoint } : {});
    try {
      const result = await Promise.race([
        credential.getToken(request.scope, { abortSignal: abort.signal }),
        new Promise<"timeout">((resolve) =>
          timer.signal.addEventListener("abort", () => resolve("timeout"), { once: true }),
        ),
      ]);
      if (result === "timeout") {
        return {
          ok: false,
          code: "TimeoutError",
          message: `no answer from the authority within ${request.timeoutMs} ms`,
          ...endpoint(),
        };
      }
      if (!result) return { ok: false, message: "the authority gave no token", ...endpoint() };
      return { ok: true, token: result.token, ...endpoint() };
    } catch (err) {
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
    } finally {
      timer.cancel();
    }
  };
}
