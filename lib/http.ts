/**
 * The smoke test's HTTP calls, bounded: every request has a timeout from the run's budget, redirects
 * are never followed (a token must not travel on) and one to another origin stops the run
 * (lib/same-origin.ts), and a response body is read only up to a cap and then cancelled, so an
 * endless or huge answer cannot exhaust memory.
 */
import { offOriginError } from "./same-origin";

/**
 * Why a command that would send a secret or token must not run in this environment, or undefined:
 * `NODE_TLS_REJECT_UNAUTHORIZED=0` turns off Node's certificate checks for every TLS connection, fetch
 * included ("If value equals '0', certificate validation is disabled for TLS connections":
 * nodejs.org/api/cli.html), so whoever sits in the network path could take the credential. A test or
 * proxy CA is trusted with NODE_EXTRA_CA_CERTS instead.
 */
export function tlsVerificationProblem(
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (env.NODE_TLS_REJECT_UNAUTHORIZED !== "0") return undefined;
  return (
    "NODE_TLS_REJECT_UNAUTHORIZED=0 is set: TLS certificate checks are off, so a secret or token could go to " +
    "whoever is in the network path; nothing was sent. Unset it, and to trust a test or proxy CA put its " +
    "certificate (PEM) in a file and set NODE_EXTRA_CA_CERTS to that file"
  );
}

/** Most of a response body the tool ever reads: error answers are a few hundred bytes. */
export const BODY_CAP_BYTES = 64 * 1024;

/** A timer that aborts a signal; `cancel` stops it (the clock is the caller's, e.g. a test's). */
export interface Timer {
  signal: AbortSignal;
  cancel(): void;
}

/** What the HTTP calls need from the outside world (the command's `io`). */
export interface HttpDeps {
  fetch: typeof fetch;
  /** A signal that aborts with a `TimeoutError` after `ms`. */
  timer(ms: number): Timer;
}

/** A real timer (setTimeout), unref'd so it never keeps the process alive. */
export function realTimer(ms: number): Timer {
  const controller = new AbortController();
  const handle = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError")),
    Math.max(0, ms),
  );
  handle.unref?.();
  return { signal: controller.signal, cancel: () => clearTimeout(handle) };
}

/** The first `cap` bytes of `body` as UTF-8 text; the rest is cancelled unread. */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  cap = BODY_CAP_BYTES,
): Promise<{ text: string; truncated: boolean }> {
  if (!body) return { text: "", truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = cap - size;
      chunks.push(value.length > room ? value.subarray(0, room) : value);
      size += Math.min(value.length, room);
      if (value.length >= room) {
        truncated = true;
        break;
      }
    }
  } finally {
    if (truncated) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  return { text: Buffer.concat(chunks).toString("utf8"), truncated };
}

/**
 * A request's outcome: an answer (status, headers, capped body), or why there was none: a network
 * error, a timeout, or `OffOrigin` (a redirect to another origin, whose `host` is named).
 */
export type Sent =
  | { ok: true; status: number; headers: Headers; text: string; truncated: boolean }
  | { ok: false; code: string; message: string; host?: string };

/**
 * Sends one request with a timeout of `timeoutMs`, without following redirects, reading at most
 * `capBytes` of the answer (default {@link BODY_CAP_BYTES}). A redirect to another origin is
 * `OffOrigin`. Never throws for what the network does.
 */
export async function send(
  deps: HttpDeps,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  capBytes = BODY_CAP_BYTES,
): Promise<Sent> {
  const timer = deps.timer(timeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, timer.signal]) : timer.signal;
  try {
    const response = await deps.fetch(url, { ...init, redirect: "manual", signal });
    const location = response.headers.get("location");
    const redirect = response.status >= 300 && response.status < 400 && location;
    const off = redirect
      ? offOriginError(location, [url], `the answer's redirect (HTTP ${response.status}, Location)`, url)
      : undefined;
    if (off) {
      await response.body?.cancel().catch(() => undefined);
      return { ok: false, code: "OffOrigin", host: off.host, message: off.message };
    }
    const body = await readCapped(response.body, capBytes);
    return { ok: true, status: response.status, headers: response.headers, ...body };
  } catch (err) {
    if (timer.signal.aborted)
      return { ok: false, code: "TimeoutError", message: `no answer within ${timeoutMs} ms` };
    const e = err as { name?: string; message?: string; cause?: { code?: unknown; message?: unknown } };
    if (e.name === "AbortError") return { ok: false, code: "AbortError", message: "cancelled" };
    const code = typeof e.cause?.code === "string" ? e.cause.code : "NetworkError";
    const message = typeof e.cause?.message === "string" ? e.cause.message : (e.message ?? "network error");
    return { ok: false, code, message: `request failed: ${message}` };
  } finally {
    timer.cancel();
  }
}
