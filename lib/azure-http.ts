/**
 * The HTTP client the Azure SDKs (@azure/identity with MSAL, @azure/keyvault-secrets) use in this
 * tool: the command's own `fetch` and timers, bodies read up to a cap, and only the origins the client
 * was issued for (lib/same-origin.ts): a request the SDK would send elsewhere (a paging `nextLink`,
 * a `token_endpoint` from OpenID metadata) and a redirect elsewhere stop it, before anything is sent
 * there. Redirects are never followed here; the SDK pipeline's own redirect policy follows same-origin
 * ones without the Authorization header. Loaded only with those SDKs.
 */
import {
  createHttpHeaders,
  RestError,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { readCapped, type HttpDeps } from "./http";
import { AzureLogger } from "@azure/logger";
import { checkRegularFile, FileReadError } from "./bounded-file";
import { offOriginError, type OffOriginError } from "./same-origin";

/** What the client saw of the last request and its answer, for error messages the SDKs do not give. */
export interface LastAnswer {
  /** The request's method and URL without query (a query may carry identifiers, never shown). */
  method?: string;
  url?: string;
  status?: number;
  /** The answer's Retry-After header. */
  retryAfter?: string;
  /** The first 2 KiB of the answer's body, for reading an error out of it. */
  body?: string;
  /** Why no answer came (`ECONNREFUSED`, `TimeoutError`...). */
  networkCode?: string;
  /** Host a same-origin redirect pointed to (not followed here). */
  redirectHost?: string;
  /** The body was cut at the cap. */
  truncated?: boolean;
  /** The body was not JSON although the content type or endpoint said it should be. */
  notJson?: boolean;
}

function bodyOf(request: PipelineRequest): RequestInit["body"] {
  const body = request.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array || body instanceof ArrayBuffer)
    return body as RequestInit["body"];
  throw new RestError("unsupported request body", { code: "REQUEST_SEND_ERROR", request });
}

/**
 * Sends the Azure SDKs' own log lines (`AZURE_LOG_LEVEL`) to `log`, the command's stderr, which
 * redacts and escapes them, instead of straight to the process's stderr. Every command that loads an
 * SDK calls it before the first request.
 */
export function routeAzureLogs(log: ((line: string) => void) | undefined): void {
  if (log) AzureLogger.log = (...args: unknown[]) => log(args.map(String).join(" "));
}

/** MSAL's instance discovery host: fixed in MSAL, asked unless instance discovery is off. */
export const INSTANCE_DISCOVERY_ORIGIN = "https://login.microsoftonline.com";

/** IMDS, the identity endpoint of VMs and AKS nodes (`AZURE_POD_IDENTITY_AUTHORITY_HOST` replaces it). */
export const IMDS_ORIGIN = "http://169.254.169.254";

/** Azure Arc's identity endpoint when the agent is installed and no variable names it (MSAL's default). */
export const ARC_DEFAULT_ORIGIN = "http://127.0.0.1:40342";

/**
 * Where a managed identity's token may come from: the endpoints the platform names in the
 * environment (App Service, Functions, Container Apps, Service Fabric, Azure Arc: `IDENTITY_ENDPOINT`,
 * `IMDS_ENDPOINT`; Cloud Shell, Azure ML: `MSI_ENDPOINT`), IMDS (or `AZURE_POD_IDENTITY_AUTHORITY_HOST`),
 * Arc's default, and for AKS workload identity (`AZURE_FEDERATED_TOKEN_FILE`) the Entra authority
 * (`AZURE_AUTHORITY_HOST`, else the public cloud's). Never a URL from an answer.
 */
export function managedIdentityOrigins(env: Readonly<Record<string, string | undefined>>): string[] {
  const named = [
    env.IDENTITY_ENDPOINT,
    env.MSI_ENDPOINT,
    env.IMDS_ENDPOINT,
    env.AZURE_POD_IDENTITY_AUTHORITY_HOST ?? IMDS_ORIGIN,
    ARC_DEFAULT_ORIGIN,
    env.AZURE_FEDERATED_TOKEN_FILE ? (env.AZURE_AUTHORITY_HOST ?? INSTANCE_DISCOVERY_ORIGIN) : undefined,
  ];
  return [...new Set(named.filter((u): u is string => !!u && URL.canParse(u)).map((u) => new URL(u).origin))];
}

/**
 * Where an Entra credential's requests may go: the authority host it was given, and MSAL's instance
 * discovery host unless discovery is off (a non-standard authority). Not the endpoints named in the
 * authority's answers: those must be on these origins too.
 */
export function authorityOrigins(authorityHost: string, instanceDiscovery: boolean): string[] {
  return [
    ...new Set([new URL(authorityHost).origin, ...(instanceDiscovery ? [INSTANCE_DISCOVERY_ORIGIN] : [])]),
  ];
}

/** Where an SDK HTTP client may go, and what it remembers. */
export interface ClientScope {
  /** The origins requests may go to, e.g. `["https://flow-dev-k3x9q2.vault.azure.net"]`. */
  origins: readonly string[];
  /** Who the client talks to, for messages, e.g. `Key Vault` or `the Entra authority`. */
  what: string;
  /** Facts of each answer (reset at every request). */
  last?: LastAnswer;
  /**
   * Set by the client once a request or a redirect left {@link origins} (never reset): the SDKs wrap
   * or swallow the client's errors, so callers read it here to stop with exit 2.
   */
  violation?: OffOriginError;
  /**
   * A managed identity's client: Azure Arc's endpoint answers 401 naming a secret file
   * (`WWW-Authenticate: Basic realm=<path>`) that MSAL then reads with a blocking whole-file read; it
   * is checked first to be a regular file of at most 4 KiB (Arc's limit, as MSAL's).
   */
  arcChallenge?: boolean;
  /** Set by the client when a file an answer named cannot be read with a bound (never reset). */
  fileProblem?: FileReadError;
}

/** The most Azure Arc's secret file may hold (MSAL: AZURE_ARC_SECRET_FILE_MAX_SIZE_BYTES). */
export const ARC_SECRET_FILE_MAX_BYTES = 4096;

/** An SDK HTTP client over `deps`, limited to `scope.origins`. */
export function boundedHttpClient(deps: HttpDeps, scope: ClientScope): HttpClient {
  const last = scope.last ?? {};
  const refuse = (error: OffOriginError, request: PipelineRequest): never => {
    scope.violation ??= error;
    throw Object.assign(new RestError(error.message, { code: "OffOrigin", request }), { offOrigin: error });
  };
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      for (const key of Object.keys(last)) delete last[key as keyof LastAnswer];
      last.method = request.method;
      last.url = request.url.replace(/[?#].*$/, "");
      const elsewhere = offOriginError(
        request.url,
        scope.origins,
        `a URL from ${scope.what}'s answers (a paging link or an endpoint)`,
      );
      if (elsewhere) refuse(elsewhere, request);
      const timer = deps.timer(request.timeout > 0 ? request.timeout : 60_000);
      const signals = [timer.signal, ...(request.abortSignal ? [request.abortSignal as AbortSignal] : [])];
      try {
        const response = await deps.fetch(request.url, {
          method: request.method,
          headers: request.headers.toJSON(),
          body: bodyOf(request),
          redirect: "manual",
          signal: AbortSignal.any(signals),
        });
        const { text, truncated } = await readCapped(response.body);
        last.status = response.status;
        last.body = text.slice(0, 2048);
        const retryAfter = response.headers.get("retry-after");
        if (retryAfter !== null) last.retryAfter = retryAfter;
        if (truncated) last.truncated = true;
        const location = response.headers.get("location");
        if (response.status >= 300 && response.status < 400 && location) {
          const elsewhere = offOriginError(
            location,
            scope.origins,
            `${scope.what}'s redirect (HTTP ${response.status}, Location)`,
            request.url,
          );
          if (elsewhere) refuse(elsewhere, request);
          last.redirectHost = new URL(location, request.url).host;
        }
        const realm = /Basic realm=(.+)$/i.exec(response.headers.get("www-authenticate") ?? "")?.[1]?.trim();
        if (scope.arcChallenge && response.status === 401 && realm) {
          try {
            await checkRegularFile(realm, {
              what: `the Azure Arc secret file ${realm} (named by the identity endpoint's challenge)`,
              maxBytes: ARC_SECRET_FILE_MAX_BYTES,
            });
          } catch (err) {
            if (!(err instanceof FileReadError)) throw err;
            scope.fileProblem ??= err;
            throw new RestError(err.message, { code: "LocalCredential", request });
          }
        }
        const type = response.headers.get("content-type") ?? "";
        if (response.status < 300 && text && !/json/i.test(type)) {
          try {
            JSON.parse(text);
          } catch {
            last.notJson = true;
          }
        }
        return {
          request,
          status: response.status,
          headers: createHttpHeaders(Object.fromEntries(response.headers)),
          bodyAsText: text,
        };
      } catch (err) {
        if (err instanceof RestError) throw err;
        const timedOut = timer.signal.aborted;
        const e = err as { message?: string; cause?: { code?: unknown; message?: unknown } };
        const code = timedOut
          ? "TimeoutError"
          : typeof e.cause?.code === "string"
            ? e.cause.code
            : "REQUEST_SEND_ERROR";
        const message = timedOut
          ? "no answer in time"
          : typeof e.cause?.message === "string"
            ? e.cause.message
            : (e.message ?? "request failed");
        last.networkCode = code;
        throw new RestError(message, { code, request });
      } finally {
        timer.cancel();
      }
    },
  };
}
