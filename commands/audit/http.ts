/**
 * The audit's outside calls, bounded: one request at a time through the smoke test's bounded `send`
 * (no redirects: one to another origin stops the run, exit 2; a timeout per request, the body read up to a cap), retried on 429, 5xx and network
 * failures within the run's budget (`--max-wait-s`) honouring Retry-After, and tokens from the ambient
 * Azure credential within the same budget.
 */
import type { TokenCredential } from "@azure/identity";
import { send, type HttpDeps, type Sent } from "../../lib/http";
import { OffOriginError } from "../../lib/same-origin";
import { DEFAULT_BACKOFF, parseRetryAfter, planRetry } from "../../lib/retry";
import { retryLine } from "../../lib/progress";
import { withinTimer } from "../../lib/sdk-retry";

/** What the audit's calls need from the command's `io`, and the end of the budget. */
export interface CallDeps extends HttpDeps {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
  /** When the budget ends (ms, on `now`'s clock). */
  deadline: number;
  /** Told of each step begun and each wait before a retry, as a progress line (lib/progress.ts). */
  progress?: (line: string) => void;
}

/** Longest wait for one answer; a request also never outlives the budget but for {@link MIN_REQUEST_MS}. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** A request started at the very end of the budget still gets this long. */
export const MIN_REQUEST_MS = 1_000;

/** One request's final outcome and how many attempts it took. */
export interface Attempted {
  sent: Sent;
  attempts: number;
  /** Why retrying stopped while the answer was still a transient failure. */
  gaveUp?: string;
}

function timeoutOf(deps: CallDeps): number {
  return Math.max(1, Math.min(REQUEST_TIMEOUT_MS, Math.max(deps.deadline - deps.now(), MIN_REQUEST_MS)));
}

/** A 429, a 5xx, or no answer at all: worth another attempt. */
export function isTransient(sent: Sent): boolean {
  return !sent.ok || sent.status === 429 || sent.status >= 500;
}

/**
 * Sends `init` to `url`, again while the answer is transient and the budget allows; each wait is told
 * as a progress line of `step` (`dataverse`, `graph`).
 */
export async function sendWithRetry(
  deps: CallDeps,
  url: string,
  init: RequestInit,
  capBytes: number,
  step: string,
): Promise<Attempted> {
  for (let n = 1; ; n++) {
    const sent = await send(deps, url, init, timeoutOf(deps), capBytes);
    // A redirect to another origin is never followed or retried: the run stops (exit 2).
    if (!sent.ok && sent.code === "OffOrigin") throw new OffOriginError(sent.message, sent.host ?? "");
    if (!isTransient(sent)) return { sent, attempts: n };
    const plan = planRetry({
      retry: n,
      retryAfterMs: sent.ok ? parseRetryAfter(sent.headers.get("retry-after"), deps.now()) : undefined,
      remainingMs: deps.deadline - deps.now(),
      random: deps.random(),
      policy: DEFAULT_BACKOFF,
    });
    if (!plan.retry) return { sent, attempts: n, gaveUp: plan.reason };
    const host = new URL(url).host;
    deps.progress?.(
      retryLine({
        step,
        what: sent.ok ? `${sent.status} from ${host}` : `no answer from ${host} (${sent.code})`,
        delayMs: plan.delayMs,
        attempt: n + 1,
        leftMs: deps.deadline - deps.now(),
      }),
    );
    await deps.sleep(plan.delayMs);
  }
}

/** A token, or why there is none (`unavailable`: no credential at all on this machine). */
export type TokenResult = { ok: true; token: string } | { ok: false; unavailable: boolean; message: string };

/** The first line of a credential error, short (they can be pages long). */
function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim()) ?? text;
  return line.length > 300 ? `${line.slice(0, 297)}...` : line.trim();
}

/** A token for `scope` from `credential`, within the budget; never throws. */
export async function tokenWithin(
  credential: TokenCredential,
  scope: string,
  deps: CallDeps,
): Promise<TokenResult> {
  let timedOut = false;
  try {
    const token = await withinTimer(
      deps.timer,
      Math.max(deps.deadline - deps.now(), MIN_REQUEST_MS),
      (abortSignal) => credential.getToken(scope, { abortSignal }),
      () => (timedOut = true),
    );
    if (!token?.token) return { ok: false, unavailable: false, message: `no token for ${scope}` };
    return { ok: true, token: token.token };
  } catch (err) {
    if (timedOut)
      return { ok: false, unavailable: false, message: "no token within the time budget (--max-wait-s)" };
    const e = err as { name?: string; message?: string };
    const unavailable = e.name === "CredentialUnavailableError" || e.name === "AggregateAuthenticationError";
    return { ok: false, unavailable, message: firstLine(e.message ?? String(err)) };
  }
}
