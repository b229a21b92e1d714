/** Retry timing of the smoke test: backoff with jitter, Retry-After, and the total budget. */
import { describe, expect, test } from "vitest";
import { backoffDelayMs, DEFAULT_BACKOFF, parseRetryAfter, planRetry } from "./retry";

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
  test("honours a Retry-After longer than the backoff as is when it fits in the budget", () => {
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
    // Time here is the sum of the planned delays: planRetry is pure and nothing sleeps.
    for (const budget of [0, 1000, 3000, 30_000, 300_000]) {
      let simulatedMs = 0;
      let retries = 0;
      for (let retry = 1; ; retry++) {
        const plan = planRetry({ retry, remainingMs: budget - simulatedMs, random: (retry * 0.37) % 1 });
        if (!plan.retry) break;
        simulatedMs += plan.delayMs;
        retries++;
      }
      expect(simulatedMs).toBeLessThanOrEqual(budget);
      if (budget >= 30_000) expect(retries).toBeGreaterThan(3);
    }
  });

  test("Retry-After: 0 with a spent budget means no retry", () => {
    const plan = planRetry({ retry: 1, retryAfterMs: 0, remainingMs: 0, random: 0 });
    expect(plan.retry).toBe(false);
    expect(plan.retry === false && plan.reason).toContain("--max-wait-s");
  });

  test("Retry-After: 0 or a past HTTP date still waits the backoff, never 0 ms", () => {
    const past = parseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT", NOW);
    expect(past).toBe(0);
    for (const retryAfterMs of [0, past]) {
      expect(planRetry({ retry: 1, retryAfterMs, remainingMs: 10_000, random: 0 })).toEqual({
        retry: true,
        delayMs: 500,
      });
      expect(planRetry({ retry: 3, retryAfterMs, remainingMs: 10_000, random: 0 })).toEqual({
        retry: true,
        delayMs: 2000,
      });
      expect(planRetry({ retry: 1, retryAfterMs, remainingMs: 0, random: 0 }).retry).toBe(false);
      expect(planRetry({ retry: 1, retryAfterMs, remainingMs: -1, random: 0 }).retry).toBe(false);
    }
  });

  test("a longer backoff wins over a shorter Retry-After; a wait reaching the budget is refused", () => {
    expect(planRetry({ retry: 4, retryAfterMs: 1000, remainingMs: 60_000, random: 0 })).toEqual({
      retry: true,
      delayMs: 4000,
    });
    expect(planRetry({ retry: 1, retryAfterMs: 5000, remainingMs: 5000, random: 0 }).retry).toBe(false);
    expect(planRetry({ retry: 3, remainingMs: 2000, random: 0 }).retry).toBe(false);
  });

  test("a server answering Retry-After: 0 forever ends within the budget", () => {
    for (const budget of [0, 2000, 30_000]) {
      let simulatedMs = 0;
      let retries = 0;
      let ended = false;
      for (let retry = 1; retry <= 1000; retry++) {
        simulatedMs += 10; // the request itself
        const plan = planRetry({ retry, retryAfterMs: 0, remainingMs: budget - simulatedMs, random: 0.5 });
        if (!plan.retry) {
          ended = true;
          break;
        }
        expect(plan.delayMs).toBeGreaterThan(0);
        simulatedMs += plan.delayMs;
        retries++;
      }
      expect(ended, `budget ${budget}`).toBe(true);
      expect(retries).toBeLessThan(20);
      expect(simulatedMs).toBeLessThanOrEqual(Math.max(budget, 10));
    }
  });
});
