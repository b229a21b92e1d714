/**
 * Retry timing of the smoke test, as pure functions: exponential backoff with jitter, `Retry-After`
 * parsing (seconds or HTTP date), and the decision whether one more attempt fits in the total budget
 * (`--max-wait-s`). Nothing here sleeps or reads the clock; callers pass `now` and a random number.
 */

import { parseHttpDate } from "../dates";

/** Shape of the exponential backoff between attempts. */
export interface BackoffPolicy {
  /** Delay before the first retry, before jitter, in ms, e.g. `1000`. */
  baseMs: number;
  /** Growth per retry, e.g. `2` (1 s, 2 s, 4 s, ...). */
  factor: number;
  /** Upper bound of one delay, in ms, e.g. `30000`. */
  capMs: number;
}

/** 1 s, 2 s, 4 s ... up to 30 s, each with "equal jitter" (between half and all of it). */
export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = { baseMs: 1000, factor: 2, capMs: 30_000 };

/**
 * Delay before retry number `retry` (1 for the first retry), with jitter: between half and all of
 * `min(cap, base * factor^(retry-1))`. `random` is a number in [0, 1), e.g. `Math.random()`.
 */
export function backoffDelayMs(
  retry: number,
  random: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
): number {
  const exponent = Math.max(0, retry - 1);
  const full = Math.min(policy.capMs, policy.baseMs * policy.factor ** exponent);
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(full / 2 + (r * full) / 2);
}

/**
 * The wait a `Retry-After` header asks for, in ms, or `undefined` when absent or unreadable.
 * Accepts delta-seconds (`"120"`, also `"1.5"`) and an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`);
 * a date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date in one of RFC 9110's three forms; a day that does not exist is no date.
  const at = parseHttpDate(text, nowMs);
  if (at === undefined) return undefined;
  return Math.max(0, at - nowMs);
}

/** Whether to try again, and after how long. */
export type RetryPlan =
  | { retry: true; delayMs: number }
  | {
      retry: false;
      /** Why not, for the person reading the report, e.g. "the 300 s budget (--max-wait-s) is spent". */
      reason: string;
    };

/** Inputs of {@link planRetry}. */
export interface RetryPlanInput {
  /** Number of the retry being considered: 1 after the first failed attempt. */
  retry: number;
  /** What the server's Retry-After asked for, in ms (from {@link parseRetryAfter}), if anything. */
  retryAfterMs?: number;
  /** Time left of the total budget, in ms. */
  remainingMs: number;
  /** A number in [0, 1) for the jitter. */
  random: number;
  policy?: BackoffPolicy;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * Decides the next retry. The wait is the longer of the server's Retry-After (when given) and the
 * backoff with jitter, so a `Retry-After: 0` or a date in the past cannot make the caller hammer the
 * server. No retry when the budget is spent, nor when the wait would reach or pass its end (then the
 * last answer is final).
 */
export function planRetry(input: RetryPlanInput): RetryPlan {
  const remaining = input.remainingMs;
  if (!(remaining > 0)) {
    return {
      retry: false,
      reason: `the retry budget (--max-wait-s) is spent after ${input.retry} attempt(s)`,
    };
  }
  const backoff = backoffDelayMs(input.retry, input.random, input.policy);
  if (input.retryAfterMs !== undefined && input.retryAfterMs >= remaining) {
    return {
      retry: false,
      reason: `the server asked to wait ${seconds(input.retryAfterMs)} (Retry-After), more than the ${seconds(remaining)} left of --max-wait-s`,
    };
  }
  const delayMs = Math.max(input.retryAfterMs ?? 0, backoff);
  if (delayMs >= remaining) {
    return {
      retry: false,
      reason: `the retry budget (--max-wait-s) is spent after ${input.retry} attempt(s)`,
    };
  }
  return { retry: true, delayMs };
}
