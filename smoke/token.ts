/**
 * One client-credentials token request through @azure/identity (MSAL underneath): no hand-written
 * OAuth. The answer is reduced to what the smoke test needs (HTTP status, AADSTS code, Retry-After)
 * and never carries the secret or a raw SDK error (those can hold request details).
 */
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { ClientSecretCredential } from "@azure/identity";

/** What a token request needs. */
export interface TokenRequest {
  tenantId: string;
  clientId: string;
  clientSecret: string;
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
      /** `AADSTS<n>`, a network error code, or MSAL's error code (e.g. `endpoints_resolution_error`). */
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

/** What the last request to the authority got; reset before each request, so nothing is stale. */
interface Observed {
  status?: number;
  retryAfter?: string;
  aadsts?: string;
  networkCode?: string;
  /** The URL (without query) of the last POST: the token endpoint from the metadata. */
  tokenEndpoint?: string;
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

/**
 * Records status, Retry-After and the AADSTS code of error answers of the LAST request (metadata GET
 * or token POST; each request starts from a clean slate); never keeps a body.
 */
function observer(observed: Observed): PipelinePolicy {
  return {
    name: "flowSmokeObserver",
    async sendRequest(request, next) {
      delete observed.status;
      delete observed.retryAfter;
      delete observed.aadsts;
      delete observed.networkCode;
      if (request.method === "POST") observed.tokenEndpoint = request.url.replace(/[?#].*$/, "");
      try {
        const response = await next(request);
        observed.status = response.status;
        observed.retryAfter = response.headers.get("retry-after") ?? undefined;
        if (response.status >= 400) {
          observed.aadsts = aadstsCodeOfBody(response.bodyAsText ?? "");
        }
        return response;
      } catch (err) {
        const e = err as { code?: unknown; cause?: { code?: unknown } };
        const code = e.code ?? e.cause?.code;
        if (typeof code === "string") observed.networkCode = code;
        throw err;
      }
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** First line of an SDK message, without MSAL's boilerplate, cut to a readable length. */
function summarize(message: string): string {
  const description = /Description: (AADSTS\d+: [^]*?)(?: Trace ID:| - Correlation ID:|$)/.exec(message)?.[1];
  const text = (description ?? message).replace(/\s+/g, " ").trim();
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/**
 * Requests a token with `ClientSecretCredential` (a fresh one each time, so MSAL's cache and its
 * throttling memory do not hide what Entra answers). The SDK's own retries are off: the smoke test
 * retries within its budget.
 */
export const acquireTokenWithIdentity: AcquireToken = async (request) => {
  const observed: Observed = {};
  const credential = new ClientSecretCredential(request.tenantId, request.clientId, request.clientSecret, {
    authorityHost: request.authorityHost,
    disableInstanceDiscovery: request.disableInstanceDiscovery,
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy: observer(observed), position: "perRetry" }],
  });
  try {
    const abort = new AbortController();
    const result = await withTimeout(
      credential.getToken(request.scope, { abortSignal: abort.signal }),
      request.timeoutMs,
    );
    if (result === "timeout") {
      abort.abort();
      return {
        ok: false,
        code: "TimeoutError",
        message: `no answer from the authority within ${request.timeoutMs} ms`,
        ...(observed.tokenEndpoint ? { endpoint: observed.tokenEndpoint } : {}),
      };
    }
    return {
      ok: true,
      token: result.token,
      ...(observed.tokenEndpoint ? { endpoint: observed.tokenEndpoint } : {}),
    };
  } catch (err) {
    const e = err as { message?: unknown; errorCode?: unknown };
    const message = typeof e.message === "string" ? e.message : "token request failed";
    const msalCode = /^([a-z_]+):/.exec(message)?.[1];
    const code = AADSTS.exec(message)?.[0] ?? observed.aadsts ?? observed.networkCode ?? msalCode;
    let text = summarize(message);
    if (observed.aadsts && !text.includes(observed.aadsts)) {
      text += ` (the authority answered ${observed.status ?? "an error"} ${observed.aadsts})`;
    } else if (observed.networkCode && !text.includes(observed.networkCode)) {
      text += ` (${observed.networkCode})`;
    }
    const answer: TokenAnswer = { ok: false, message: text };
    if (observed.status !== undefined) answer.status = observed.status;
    if (code !== undefined) answer.code = code;
    if (observed.retryAfter !== undefined) answer.retryAfter = observed.retryAfter;
    if (observed.tokenEndpoint !== undefined) answer.endpoint = observed.tokenEndpoint;
    return answer;
  }
};
