import { describe, expect, it } from "vitest";
import { DAY_MS, isoTime, planRotation, type RotationPlan, type RotationPolicy } from "../rotation";

const at = (iso: string) => Date.parse(iso);

describe("rotation schedule at period boundaries", () => {
  // Expected values worked out by hand from the contract's formulas (days since the Unix epoch).
  const cases: {
    name: string;
    policy: RotationPolicy;
    now: string;
    a: [number, string, string];
    b: [number, string, string];
    published: "a" | "b";
    next: string;
  }[] = [
    {
      name: "R=90 mid-period: slot B is newer and published",
      policy: { rotationDays: 90, offsetDays: 0 },
      now: "2026-11-22T00:00:00Z",
      a: [230, "2026-09-04T00:00:00Z", "2027-01-17T00:00:00Z"],
      b: [231, "2026-10-19T00:00:00Z", "2027-03-03T00:00:00Z"],
      published: "b",
      next: "2026-12-03T00:00:00Z",
    },
    {
      name: "R=90 one millisecond before slot A's boundary: nothing has moved yet",
      policy: { rotationDays: 90, offsetDays: 0 },
      now: "2026-12-02T23:59:59.999Z",
      a: [230, "2026-09-04T00:00:00Z", "2027-01-17T00:00:00Z"],
      b: [231, "2026-10-19T00:00:00Z", "2027-03-03T00:00:00Z"],
      published: "b",
      next: "2026-12-03T00:00:00Z",
    },
    {
      name: "R=90 exactly at slot A's boundary: A is renewed and published, B untouched",
      policy: { rotationDays: 90, offsetDays: 0 },
      now: "2026-12-03T00:00:00Z",
      a: [231, "2026-12-03T00:00:00Z", "2027-04-17T00:00:00Z"],
      b: [231, "2026-10-19T00:00:00Z", "2027-03-03T00:00:00Z"],
      published: "a",
      next: "2027-01-17T00:00:00Z",
    },
    {
      name: "R=90 with a 10-day offset shifts every boundary by 10 days",
      policy: { rotationDays: 90, offsetDays: 10 },
      now: "2026-11-22T00:00:00Z",
      a: [230, "2026-09-14T00:00:00Z", "2027-01-27T00:00:00Z"],
      b: [231, "2026-10-29T00:00:00Z", "2027-03-13T00:00:00Z"],
      published: "b",
      next: "2026-12-13T00:00:00Z",
    },
    {
      name: "R=2, the shortest schedule: slots one day apart",
      policy: { rotationDays: 2, offsetDays: 0 },
      now: "2026-11-22T12:00:00Z",
      a: [10389, "2026-11-21T00:00:00Z", "2026-11-24T00:00:00Z"],
      b: [10390, "2026-11-22T00:00:00Z", "2026-11-25T00:00:00Z"],
      published: "b",
      next: "2026-11-23T00:00:00Z",
    },
    {
      name: "R=365 (odd): slot B starts on a half day",
      policy: { rotationDays: 365, offsetDays: 0 },
      now: "2026-11-22T00:00:00Z",
      a: [56, "2025-12-18T00:00:00Z", "2027-06-18T12:00:00Z"],
      b: [57, "2026-06-18T12:00:00Z", "2027-12-18T00:00:00Z"],
      published: "b",
      next: "2026-12-18T00:00:00Z",
    },
    {
      name: "R=30 with a 7-day offset, one millisecond before slot B's boundary: slot A still published",
      policy: { rotationDays: 30, offsetDays: 7 },
      now: "2026-11-24T23:59:59.999Z",
      a: [692, "2026-11-10T00:00:00Z", "2026-12-25T00:00:00Z"],
      b: [692, "2026-10-26T00:00:00Z", "2026-12-10T00:00:00Z"],
      published: "a",
      next: "2026-11-25T00:00:00Z",
    },
    {
      name: "R=30 with a 7-day offset, exactly at slot B's boundary: B is renewed and published, A untouched",
      policy: { rotationDays: 30, offsetDays: 7 },
      now: "2026-11-25T00:00:00Z",
      a: [692, "2026-11-10T00:00:00Z", "2026-12-25T00:00:00Z"],
      b: [693, "2026-11-25T00:00:00Z", "2027-01-09T00:00:00Z"],
      published: "b",
      next: "2026-12-10T00:00:00Z",
    },
    {
      name: "R=30 with a 7-day offset, exactly at slot A's boundary: A is renewed and published, B untouched",
      policy: { rotationDays: 30, offsetDays: 7 },
      now: "2026-12-10T00:00:00Z",
      a: [693, "2026-12-10T00:00:00Z", "2027-01-24T00:00:00Z"],
      b: [693, "2026-11-25T00:00:00Z", "2027-01-09T00:00:00Z"],
      published: "a",
      next: "2026-12-25T00:00:00Z",
    },
    {
      name: "R=365 with a 100-day offset, one millisecond before slot B's half-day boundary",
      policy: { rotationDays: 365, offsetDays: 100 },
      now: "2027-09-26T11:59:59.999Z",
      a: [57, "2027-03-28T00:00:00Z", "2028-09-25T12:00:00Z"],
      b: [57, "2026-09-26T12:00:00Z", "2028-03-27T00:00:00Z"],
      published: "a",
      next: "2027-09-26T12:00:00Z",
    },
    {
      name: "R=365 with a 100-day offset, exactly at slot B's half-day boundary (R/2 = 182.5 days)",
      policy: { rotationDays: 365, offsetDays: 100 },
      now: "2027-09-26T12:00:00Z",
      a: [57, "2027-03-28T00:00:00Z", "2028-09-25T12:00:00Z"],
      b: [58, "2027-09-26T12:00:00Z", "2029-03-27T00:00:00Z"],
      published: "b",
      next: "2028-03-27T00:00:00Z",
    },
    {
      name: "R=365 with the largest offset, 364 days",
      policy: { rotationDays: 365, offsetDays: 364 },
      now: "2026-11-22T00:00:00Z",
      a: [55, "2025-12-17T00:00:00Z", "2027-06-17T12:00:00Z"],
      b: [56, "2026-06-17T12:00:00Z", "2027-12-17T00:00:00Z"],
      published: "b",
      next: "2026-12-17T00:00:00Z",
    },
  ];

  it.each(cases)("$name", ({ policy, now, a, b, published, next }) => {
    const plan = planRotation(policy, at(now));
    expect([plan.a.period, isoTime(plan.a.startMs), isoTime(plan.a.endMs)]).toEqual(a);
    expect([plan.b.period, isoTime(plan.b.startMs), isoTime(plan.b.endMs)]).toEqual(b);
    expect(plan.published.slot).toBe(published);
    expect(isoTime(plan.nextRotationMs)).toBe(next);
  });
});

/** A password as the cloud would hold it between daily runs. */
interface Live {
  slot: "a" | "b";
  period: number;
  /** Start of its period on the schedule. */
  startMs: number;
  endMs: number;
  createdMs: number;
  /** Run that put a newer password in the vault. */
  unpublishedMs?: number;
  /** Scheduled start of that newer password: the instant this one stopped being the newest. */
  supersededAtMs?: number;
  deletedMs?: number;
}

/**
 * Replays `pulumi up` once a day for three years the way the engine applies the plan: a slot's password
 * is replaced (create, then delete) exactly when its period index changes; the vault holds the newer one.
 */
function simulateDailyRuns(policy: RotationPolicy, startMs: number, days: number) {
  const live: Record<"a" | "b", Live | undefined> = { a: undefined, b: undefined };
  const history: Live[] = [];
  const runs: { t: number; plan: RotationPlan; changed: ("a" | "b")[]; published: Live }[] = [];
  let published: Live | undefined;
  for (let day = 0; day <= days; day++) {
    const t = startMs + day * DAY_MS;
    const plan = planRotation(policy, t);
    const changed: ("a" | "b")[] = [];
    for (const slot of ["a", "b"] as const) {
      const current = live[slot];
      if (!current || current.period !== plan[slot].period) {
        if (current) current.deletedMs = t;
        const fresh: Live = {
          slot,
          period: plan[slot].period,
          startMs: plan[slot].startMs,
          endMs: plan[slot].endMs,
          createdMs: t,
        };
        live[slot] = fresh;
        history.push(fresh);
        if (current) changed.push(slot);
      }
    }
    const now = live[plan.published.slot]!;
    if (published && published !== now) {
      published.unpublishedMs = t;
      published.supersededAtMs = now.startMs;
    }
    published = now;
    runs.push({ t, plan, changed, published: now });
  }
  return { runs, history };
}

describe.each([2, 30, 90, 365])("three years of daily runs with rotationDays = %i", (rotationDays) => {
  const policy = { rotationDays, offsetDays: rotationDays > 2 ? 7 : 1 };
  const R = rotationDays * DAY_MS;
  // Runs at 06:17 UTC every day, like a scheduled pipeline.
  const { runs, history } = simulateDailyRuns(policy, at("2026-01-01T06:17:00Z"), 3 * 365);

  it("keeps a published secret that is valid at every instant until the next run", () => {
    for (let i = 0; i + 1 < runs.length; i++) {
      expect(runs[i].published.endMs).toBeGreaterThan(runs[i + 1].t);
    }
  });

  it("publishes a secret valid at least R days ahead at every run", () => {
    for (const run of runs) expect(run.published.endMs - run.t).toBeGreaterThanOrEqual(R);
  });

  it("never deletes a password within R/2 of it leaving the vault", () => {
    const wholeDaysOfHalfR = Math.floor(rotationDays / 2) * DAY_MS;
    const retired = history.filter((p) => p.deletedMs !== undefined && p.unpublishedMs !== undefined);
    expect(retired.length).toBeGreaterThan(0);
    for (const p of retired) {
      // Between daily runs, in whole days; on the schedule, exactly R/2 (182.5 days for R = 365).
      expect(p.deletedMs! - p.unpublishedMs!).toBeGreaterThanOrEqual(wholeDaysOfHalfR);
      expect(p.deletedMs! - p.supersededAtMs!).toBeGreaterThanOrEqual(R / 2);
    }
  });

  it("never deletes the password the vault holds", () => {
    for (const run of runs) {
      if (run.published.deletedMs !== undefined) expect(run.published.deletedMs).toBeGreaterThan(run.t);
    }
  });

  it("changes nothing between two runs within one period", () => {
    for (const run of runs) {
      if (run.changed.length) continue;
      const later = planRotation(policy, run.t + 3 * 3_600_000);
      const again = planRotation(policy, run.t);
      expect(again).toEqual(run.plan);
      if (later.a.period === run.plan.a.period && later.b.period === run.plan.b.period) {
        expect(later).toEqual(run.plan);
      }
    }
  });

  it("replaces exactly one slot when a period ends", () => {
    const rotations = runs.filter((r) => r.changed.length > 0);
    expect(rotations.length).toBeGreaterThanOrEqual(Math.floor((3 * 365 * DAY_MS) / (R / 2)) - 1);
    for (const r of rotations) expect(r.changed).toHaveLength(1);
  });

  it("announces the next rotation as the moment the next slot is replaced", () => {
    for (let i = 0; i + 1 < runs.length; i++) {
      const { plan } = runs[i];
      const nextChange = runs.slice(i + 1).find((r) => r.changed.length > 0);
      if (!nextChange) continue;
      expect(nextChange.t).toBeGreaterThanOrEqual(plan.nextRotationMs);
      expect(nextChange.t - plan.nextRotationMs).toBeLessThan(DAY_MS);
    }
  });

  it("keeps each password's lifetime at 1.5 × R", () => {
    for (const p of history) {
      const plan = planRotation(policy, p.createdMs);
      expect(plan[p.slot].endMs - plan[p.slot].startMs).toBe(1.5 * R);
    }
  });
});
