/**
 * Retries of an Azure SDK call (a Key Vault read) on the command's own clock: the SDK's retry policy
 * is turned off (it would wait on the real clock, unseen), and a throttled (429), failing (5xx) or
 * unanswered attempt is tried again within the command's budget, honouring Retry-After, each wait
 * told as a progress line (lib/progress.ts) before it begins.
 */
import { parseRetryAfter, planRetry } from "./retry";
import type { Timer } from "./http";
import { retryLine } from "./progress";

/** What the retries need: the command's clock, sleep and randomness, the end of its budget, and where progress goes. */
export interface RetryDeps {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
  /** When the budget ends (ms, on `now`'s clock). */
  deadline: number;
  progress?: (line: string) => void;
}

/** Network error codes of a request that got no answer (core-rest-pipeline's and Node's). */
const NO_ANSWER = new Set([
  "REQUEST_SEND_ERROR",
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
]);

/**
 * What a failed SDK call said, when it is worth another attempt: `429`, `503`... or `no answer`, and
 * the Retry-After of the answer. Undefined for anything else (a refusal, a missing secret, a timeout
 * of the command's budget, a credential that is not there).
 */
export function transientSdkError(err: unknown): { said: string; retryAfter?: string } | undefined {
  const e = err as {
    statusCode?: unknown;
    code?: unknown;
    name?: unknown;
    response?: { headers?: { get?(name: string): string | undefined } };
  };
  const retryAfter = e.response?.headers?.get?.("retry-after") ?? undefined;
  if (typeof e.statusCode === "number") {
    if (e.statusCode !== 429 && e.statusCode < 500) return undefined;
    return { said: String(e.statusCode), ...(retryAfter ? { retryAfter } : {}) };
  }
  if (e.name === "RestError" && typeof e.code === "string" && NO_ANSWER.has(e.code))
    return { said: `no answer (${e.code})` };
  return undefined;
}

/**
 * Runs `attempt` (given its number, from 1) until it succeeds, fails for good, or the budget would
 * end during the next wait: then the last error is thrown. `step` and `from` name the progress line,
 * e.g. `key vault` and `https://flow-dev-x7k2pq.vault.azure.net`.
 */
export async function withSdkRetries<T>(
  step: string,
  from: string,
  attempt: (n: number) => Promise<T>,
  deps: RetryDeps,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const transient = transientSdkError(err);
      if (!transient) throw err;
      const left = deps.deadline - deps.now();
      const plan = planRetry({
        retry: n,
        retryAfterMs: parseRetryAfter(transient.retryAfter, deps.now()),
        remainingMs: left,
        random: deps.random(),
      });
      if (!plan.retry) throw err;
      deps.progress?.(
        retryLine({
          step,
          what: `${transient.said} from ${from}`,
          delayMs: plan.delayMs,
          attempt: n + 1,
          leftMs: left,
        }),
      );
      await deps.sleep(plan.delayMs);
    }
  }
}

/**
 * `work` given a signal that aborts after `ms` on the command's timer; when it does, the result is a
 * `TimeoutError` (an SDK call may not notice the signal at once) and `onTimeout` is told first.
 */
export async function withinTimer<T>(
  timer: (ms: number) => Timer,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  onTimeout: () => void,
): Promise<T> {
  const t = timer(ms);
  try {
    return await Promise.race([
      work(t.signal),
      new Promise<never>((_, reject) =>
        t.signal.addEventListener(
          "abort",
          () => {
            onTimeout();
            reject(Object.assign(new Error("timeout"), { name: "TimeoutError" }));
          },
          { once: true },
        ),
      ),
    ]);
  } finally {
    t.cancel();
  }
}
