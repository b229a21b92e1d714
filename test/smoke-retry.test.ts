/** Retry timing of the smoke test: backoff with jitter, Retry-After, and the total budget. */
import { describe, expect, test } from "vitest";
import { backoffDelayMs, DEFAULT_BACKOFF, parseRetryAfter, planRetry } from "../smoke/retry";

const NOW = Date.parse("2026-03-01T12:00:00Z");

describe("backoff", () => {
  test("doubles from 1 s with jitter between half and all of each step", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 0.999999))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelayMs(2, 0.5)).toBe(1500);
  });

  test("never exceeds the cap however many retries", () => {
    for (const retry of [6, 10, 50, 1000]) {
      expect(backoffDelayMs(retry, 0.999999)).toBeLessThanOrEqual(DEFAULT_BACKOFF.capMs);
      expect(backoffDelayMs(retry, 0)).toBe(DEFAULT_BACKOFF.capMs / 2);
    }
  });

  test("follows a custom policy", () => {
    expect(backoffDelayMs(3, 0, { baseMs: 10, factor: 3, capMs: 1000 })).toBe(45);
  });
});

describe("Retry-After", () => {
  test("reads delta-seconds", () => {
    expect(parseRetryAfter("120", NOW)).toBe(120_000);
    expect(parseRetryAfter("0", NOW)).toBe(0);
    expect(parseRetryAfter(" 2 ", NOW)).toBe(2000);
    expect(parseRetryAfter("1.5", NOW)).toBe(1500);
  });

  test("reads an HTTP date relative to now, a past date meaning now", () => {
    expect(parseRetryAfter("Sun, 01 Mar 2026 12:00:30 GMT", NOW)).toBe(30_000);
    expect(parseRetryAfter("Sun, 01 Mar 2026 11:00:00 GMT", NOW)).toBe(0);
  });

  test("ignores absent or unreadable values", () => {
    for (const v of [undefined, null, "", "soon", "-5", "1e3"]) {
      expect(parseRetryAfter(v, NOW)).toBeUndefined();
    }
  });
});

describe("planRetry", () => {
  test("honours Retry-After as is when it fits in the budget", () => {
    expect(planRetry({ retry: 1, retryAfterMs: 7000, remainingMs: 10_000, random: 0.9 })).toEqual({
      retry: true,
      delayMs: 7000,
    });
  });

  test("gives up at once rather than sleep past the budget for a long Retry-After", () => {
    const plan = planRetry({ retry: 1, retryAfterMs: 120_000, remainingMs: 10_000, random: 0 });
    expect(plan.retry).toBe(false);
    expect(plan.retry === false && plan.reason).toMatch(/Retry-After.*--max-wait-s/);
  });

  test("uses backoff without Retry-After, and stops when the next wait would end past the budget", () => {
    expect(planRetry({ retry: 3, remainingMs: 10_000, random: 0 })).toEqual({ retry: true, delayMs: 2000 });
    const plan = planRetry({ retry: 3, remainingMs: 1999, random: 0 });
    expect(plan.retry).toBe(false);
    expect(plan.retry === false && plan.reason).toContain("budget");
  });

  test("a spent or negative budget means no retry", () => {
    expect(planRetry({ retry: 1, remainingMs: 0, random: 0 }).retry).toBe(false);
    expect(planRetry({ retry: 1, retryAfterMs: 1, remainingMs: -50, random: 0 }).retry).toBe(false);
  });

  test("a simulated run never waits past its budget in total", () => {
    for (const budget of [0, 1000, 3000, 30_000, 300_000]) {
      let elapsed = 0;
      let retries = 0;
      for (let retry = 1; ; retry++) {
        const plan = planRetry({ retry, remainingMs: budget - elapsed, random: (retry * 0.37) % 1 });
        if (!plan.retry) break;
        elapsed += plan.delayMs;
        retries++;
      }
      expect(elapsed).toBeLessThanOrEqual(budget);
      if (budget >= 30_000) expect(retries).toBeGreaterThan(3);
    }
  });
});
