/**
 * The one form of every progress line a command prints on stderr while it waits (docs/commands.md#progress):
 * `<step>: <what happened>, retrying in <wait> (attempt <next>, <left> of budget left)`, e.g.
 * `token: 429 from Entra, retrying in 7 s (attempt 2, 41 s of budget left)`. Pure functions; the
 * command's context prints them (and `--quiet` silences them).
 */

/** A duration in seconds, as --max-wait-s counts them: `0.5 s`, `7 s`, `41 s`, `300 s`. */
export function seconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s < 10 ? `${Number(s.toFixed(1))} s` : `${Math.round(s)} s`;
}

/** What a retry waits for, and what it is waiting within. */
export interface RetryNote {
  /** The step, e.g. `token`, `dataverse`, `key vault`. */
  step: string;
  /** The answer that is retried, e.g. `429 from Entra`. */
  what: string;
  /** The wait before the next attempt, in ms. */
  delayMs: number;
  /** The number of the attempt that follows the wait (2 after the first failed one). */
  attempt: number;
  /** What is left of the budget (or window) when the wait starts, in ms. */
  leftMs: number;
  /** What `leftMs` is left of; default `budget`. */
  of?: string;
}

/** `token: 429 from Entra, retrying in 7 s (attempt 2, 41 s of budget left)`. */
export function retryLine(n: RetryNote): string {
  return `${n.step}: ${n.what}, retrying in ${seconds(n.delayMs)} (attempt ${n.attempt}, ${seconds(n.leftMs)} of ${n.of ?? "budget"} left)`;
}
