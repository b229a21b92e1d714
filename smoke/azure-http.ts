/**
 * The HTTP client the Azure SDKs (@azure/identity with MSAL, @azure/keyvault-secrets) use in this
 * tool: the command's own `fetch` and timers, no redirects, bodies read up to a cap. Loaded only
 * with those SDKs.
 */
import {
  createHttpHeaders,
  RestError,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { readCapped, type HttpDeps } from "./http";

/** What the client saw of the last answer, for error messages the SDKs do not give. */
export interface LastAnswer {
  status?: number;
  /** Host a redirect pointed to. */
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

/** An SDK HTTP client over `deps`; `last` records each answer's facts. */
export function boundedHttpClient(deps: HttpDeps, last: LastAnswer = {}): HttpClient {
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      for (const key of Object.keys(last)) delete last[key as keyof LastAnswer];
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
        if (truncated) last.truncated = true;
        const location = response.headers.get("location");
        if (
          response.status >= 300 &&
          response.status < 400 &&
          location &&
          URL.canParse(location, request.url)
        ) {
          last.redirectHost = new URL(location, request.url).host;
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
        throw new RestError(message, { code, request });
      } finally {
        timer.cancel();
      }
    },
  };
}
