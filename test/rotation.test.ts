import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DAY_MS,
  decodeState,
  encodeState,
  isoTime,
  legacyState,
  ON_SCHEDULE_MS,
  planRotation,
  reconcileRecords,
  RotationConflictError,
  RotationStateError,
  type RotationPolicy,
  type RotationState,
  type SlotName,
} from "../rotation";
import { CallerModel, scenarios, simulate } from "./helpers/rotation-sim";

/** Key Vault's limit on one tag value (what the state tag must fit in). */
const KEY_VAULT_TAG_VALUE_MAX = 256;

const at = (iso: string) => Date.parse(iso);
const HOUR_MS = 3_600_000;
const YEARS_3 = 3 * 365 * DAY_MS;

/** The plan of the version before rotation state: both slots on the grid, from the clock alone. */
function gridPlan(policy: RotationPolicy, t: number) {
  const R = policy.rotationDays * DAY_MS;
  const O = policy.offsetDays * DAY_MS;
  const a = Math.floor((t - O) / R);
  const b = Math.floor((t - O + R / 2) / R);
  const slot = (period: number, startMs: number) => ({ period, startMs, endMs: startMs + 1.5 * R });
  return { a: slot(a, a * R + O), b: slot(b, b * R + O - R / 2) };
}

describe("a first run (no state) puts both slots on the grid", () => {
  // Periods and starts worked out by hand from the grid (days since the Unix epoch).
  const cases: {
    name: string;
    policy: RotationPolicy;
    now: string;
    a: [number, string];
    b: [number, string];
    published: SlotName;
    next: string;
  }[] = [
    {
      name: "R=90 mid-period: slot B began later and is published",
      policy: { rotationDays: 90, offsetDays: 0 },
      now: "2026-11-22T00:00:00Z",
      a: [230, "2026-09-04T00:00:00Z"],
      b: [231, "2026-10-19T00:00:00Z"],
      published: "b",
      next: "2026-12-03T00:00:00Z",
    },
    {
      name: "R=90 exactly at slot A's boundary: A's new period, published",
      policy: { rotationDays: 90, offsetDays: 0 },
      now: "2026-12-03T00:00:00Z",
      a: [231, "2026-12-03T00:00:00Z"],
      b: [231, "2026-10-19T00:00:00Z"],
      published: "a",
      next: "2027-01-17T00:00:00Z",
    },
    {
      name: "R=90 with a 10-day offset shifts every boundary by 10 days",
      policy: { rotationDays: 90, offsetDays: 10 },
      now: "2026-11-22T00:00:00Z",
      a: [230, "2026-09-14T00:00:00Z"],
      b: [231, "2026-10-29T00:00:00Z"],
      published: "b",
      next: "2026-12-13T00:00:00Z",
    },
    {
      name: "R=2, the shortest schedule: slots one day apart",
      policy: { rotationDays: 2, offsetDays: 0 },
      now: "2026-11-22T12:00:00Z",
      a: [10389, "2026-11-21T00:00:00Z"],
      b: [10390, "2026-11-22T00:00:00Z"],
      published: "b",
      next: "2026-11-23T00:00:00Z",
    },
    {
      name: "R=365 (odd): slot B's boundaries fall at noon",
      policy: { rotationDays: 365, offsetDays: 0 },
      now: "2026-11-22T00:00:00Z",
      a: [56, "2025-12-18T00:00:00Z"],
      b: [57, "2026-06-18T12:00:00Z"],
      published: "b",
      next: "2026-12-18T00:00:00Z",
    },
  ];

  it.each(cases)("$name", ({ policy, now, a, b, published, next }) => {
    const plan = planRotation(policy, at(now));
    expect([plan.a.period, isoTime(plan.a.startMs)]).toEqual(a);
    expect([plan.b.period, isoTime(plan.b.startMs)]).toEqual(b);
    expect(plan.published.slot).toBe(published);
    expect(isoTime(plan.nextRotationMs)).toBe(next);
    // Each secret ends 1.5 × R after its period began: what an unbroken history declares, whenever the run is.
    for (const s of [plan.a, plan.b]) expect(s.endMs - s.startMs).toBe(1.5 * policy.rotationDays * DAY_MS);
    // The older slot was retired when the newer one's period began.
    expect(plan.state.retiredMs).toBe(Math.max(plan.a.startMs, plan.b.startMs));
    expect(plan.fresh).toBe("no-state");
    expect(plan.replaced).toEqual(["a", "b"]);
  });
});

describe("a run that is not due", () => {
  it("changes nothing and hands the same state on, however often it runs", () => {
    const policy = { rotationDays: 90, offsetDays: 7 };
    const first = planRotation(policy, at("2026-11-22T05:17:00Z"));
    let state = first.state;
    for (let t = at("2026-11-22T06:00:00Z"); t < first.nextRotationMs; t += 7 * HOUR_MS) {
      const plan = planRotation(policy, t, state);
      expect(plan.replaced).toEqual([]);
      expect(plan.state).toBe(state);
      expect(plan.nextRotationMs).toBe(first.nextRotationMs);
      state = plan.state;
    }
  });

  it("after nextRotationAt, replaces exactly the unpublished slot and publishes it", () => {
    const policy = { rotationDays: 90, offsetDays: 0 };
    const first = planRotation(policy, at("2026-11-22T05:17:00Z"));
    const due = planRotation(policy, first.nextRotationMs + 5 * HOUR_MS, first.state);
    expect(due.replaced).toEqual([first.published.slot === "a" ? "b" : "a"]);
    expect(due.published.slot).toBe(due.replaced[0]);
    // The secret that left Key Vault keeps its end date: callers holding it are not cut off.
    const kept = first.published.slot;
    expect(due[kept]).toEqual(first[kept]);
  });
});

describe.each([
  ["daily", DAY_MS],
  ["hourly", HOUR_MS],
] as const)("an unchanged schedule with %s runs, three years", (_, stepMs) => {
  it.each(stepMs === DAY_MS ? [2, 3, 7, 30, 90, 91, 365] : [3, 90, 365])(
    "rotationDays %i: each slot is replaced every R days on its grid",
    (R) => {
      const policy = { rotationDays: R, offsetDays: Math.floor(R / 3) };
      const model = new CallerModel();
      const start = at("2026-01-01T06:17:00Z");
      for (let t = start; t < start + YEARS_3; t += stepMs) model.run(t, policy);
      expect(model.violations).toEqual([]);

      const grid = (t: number) => gridPlan(policy, t);
      const bySlot: Record<SlotName, number[]> = { a: [], b: [] };
      for (const run of model.runs.slice(1)) {
        for (const slot of run.replaced) {
          bySlot[slot].push(run.t);
          // The new secret is in the grid's current period of that slot, and was created at the first
          // run on or after that period's boundary.
          expect(run.plan[slot].period).toBe(grid(run.t)[slot].period);
          expect(run.plan[slot].startMs).toBe(grid(run.t)[slot].startMs);
          expect(run.t - run.plan[slot].startMs).toBeLessThan(stepMs);
        }
        expect(run.replaced.length).toBeLessThanOrEqual(1);
      }
      for (const times of Object.values(bySlot)) {
        expect(times.length).toBeGreaterThan(Math.floor(YEARS_3 / (R * DAY_MS)) - 2);
        for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(R * DAY_MS);
      }
      // On the schedule, a secret is deleted exactly G = R/2 after it left Key Vault.
      for (const g of model.graces()) expect(g.onSchedule).toBeGreaterThanOrEqual(g.G);
    },
  );
});

describe("a schedule change replaces one slot per run and converges to the new grid", () => {
  function runWithChange(before: RotationPolicy, after: RotationPolicy, changeAt: number) {
    const model = new CallerModel();
    const start = at("2026-01-01T06:17:00Z");
    for (let t = start; t < start + YEARS_3; t += DAY_MS) model.run(t, t < changeAt ? before : after);
    return model;
  }

  it.each([
    ["rotationDays 90 → 60", { rotationDays: 90, offsetDays: 0 }, { rotationDays: 60, offsetDays: 0 }],
    ["rotationDays 60 → 90", { rotationDays: 60, offsetDays: 0 }, { rotationDays: 90, offsetDays: 0 }],
    ["offsetDays 0 → 5", { rotationDays: 90, offsetDays: 0 }, { rotationDays: 90, offsetDays: 5 }],
    ["offsetDays 5 → 0", { rotationDays: 90, offsetDays: 5 }, { rotationDays: 90, offsetDays: 0 }],
  ])("%s", (_, before, after) => {
    // The change lands the day after a rotation: the worst moment for the stateless schedule.
    const probe = runWithChange(before, before, Infinity);
    const rotation = probe.runs.find((r) => r.t > at("2026-08-01T00:00:00Z") && r.replaced.length === 1)!;
    const model = runWithChange(before, after, rotation.t + DAY_MS);
    expect(model.violations).toEqual([]);
    for (const run of model.runs.slice(1)) expect(run.replaced.length).toBeLessThanOrEqual(1);
    for (const g of model.graces()) expect(g.onSchedule).toBeGreaterThanOrEqual(g.G);
    // A year later, rotations fall on the new grid again.
    const late = model.runs.filter((r) => r.t > rotation.t + 400 * DAY_MS && r.replaced.length === 1);
    expect(late.length).toBeGreaterThan(2);
    for (const r of late) {
      const slot = r.replaced[0];
      expect(r.plan[slot].period).toBe(gridPlan(after, r.t)[slot].period);
      expect(r.t - gridPlan(after, r.t)[slot].startMs).toBeLessThan(DAY_MS);
    }
  });
});

describe("gaps and lost state", () => {
  it("a pipeline gap of R/2 keeps every promise; the rotations after it come late, never early", () => {
    const policy = { rotationDays: 90, offsetDays: 0 };
    const model = new CallerModel();
    const start = at("2026-01-01T06:17:00Z");
    const first = planRotation(policy, start);
    for (let t = start; t < start + YEARS_3; t += DAY_MS) {
      // No runs for 45 days starting the day before the first rotation.
      if (t > first.nextRotationMs - DAY_MS && t < first.nextRotationMs + 44 * DAY_MS) continue;
      model.checkCoveredSince(model.runs.at(-1)?.t ?? -Infinity, t);
      model.run(t, policy);
    }
    expect(model.violations).toEqual([]);
    for (const g of model.graces()) {
      expect(g.onSchedule).toBeGreaterThanOrEqual(g.G);
      expect(g.betweenRuns).toBeGreaterThanOrEqual(g.G);
    }
  });

  it("after a gap longer than 1.5 × R, the first run back publishes a fresh secret", () => {
    const policy = { rotationDays: 30, offsetDays: 0 };
    const first = planRotation(policy, at("2026-01-01T06:17:00Z"));
    const back = planRotation(policy, at("2026-01-01T06:17:00Z") + 50 * DAY_MS, first.state);
    expect(back.fresh).toBe("published-expired");
    // A record exists (its published secret expired): both new secrets live 1.5 × R from now, on grid periods.
    expect(back.published.endMs - (at("2026-01-01T06:17:00Z") + 50 * DAY_MS)).toBe(45 * DAY_MS);
  });

  it("without state (the Key Vault secret deleted by hand) both slots start afresh", () => {
    const model = new CallerModel();
    const policy = { rotationDays: 30, offsetDays: 0 };
    const start = at("2026-01-01T06:17:00Z");
    model.run(start, policy);
    model.run(start + 20 * DAY_MS, policy);
    model.loseState(start + 20 * DAY_MS + HOUR_MS);
    const run = model.run(start + 21 * DAY_MS, policy);
    expect(run.stateLost).toBe(true);
    expect(run.plan.fresh).toBe("no-state");
    expect(model.violations).toEqual([]);
  });
});

describe("a lost record lands on the schedule's grid", () => {
  it.each([2, 3, 7, 30, 90, 91, 365])(
    "rotationDays %i: without any record, a run declares exactly what three years of unbroken runs deployed",
    (R) => {
      const policy = { rotationDays: R, offsetDays: Math.floor(R / 4) };
      const model = new CallerModel();
      const start = at("2026-01-01T06:17:00Z");
      for (let t = start; t < start + YEARS_3; t += R > 30 ? DAY_MS : 7 * HOUR_MS) {
        const history = model.run(t, policy).plan;
        if (t - start < R * DAY_MS) continue; // the first period: the first run itself was fresh
        const fresh = planRotation(policy, t);
        expect(fresh.state).toEqual(history.state);
        expect(fresh.nextRotationMs).toBe(history.nextRotationMs);
      }
      expect(model.violations).toEqual([]);
    },
  );

  it("losing every record (Key Vault and the stack's outputs) during a steady schedule replaces nothing", () => {
    const policy = { rotationDays: 30, offsetDays: 3 };
    const model = new CallerModel();
    const start = at("2026-01-01T06:17:00Z");
    let lost = 0;
    for (let t = start, day = 0; t < start + YEARS_3; t += DAY_MS, day++) {
      if (day > 40 && day % 17 === 0) {
        model.loseState(t - HOUR_MS);
        lost++;
      }
      const run = model.run(t, policy);
      if (run.stateLost && day > 0) {
        // What the engine would replace: only what the unbroken schedule replaces at this run anyway.
        expect(run.replaced.length).toBeLessThanOrEqual(1);
        if (run.replaced.length) expect(run.t - run.plan[run.replaced[0]].startMs).toBeLessThan(DAY_MS);
      }
    }
    expect(lost).toBeGreaterThan(50);
    expect(model.violations).toEqual([]);
  });

  it("losing only the Key Vault record changes nothing: the run follows the stack's outputs", () => {
    const policy = { rotationDays: 60, offsetDays: 0 };
    const steady = new CallerModel();
    const lossy = new CallerModel();
    const start = at("2026-01-01T06:17:00Z");
    for (let t = start, day = 0; t < start + YEARS_3; t += DAY_MS, day++) {
      if (day % 5 === 0) lossy.loseRecord();
      expect(lossy.run(t, policy).replaced).toEqual(steady.run(t, policy).replaced);
    }
    expect(lossy.violations).toEqual([]);
    for (const g of lossy.graces()) expect(g.onSchedule).toBeGreaterThanOrEqual(g.G);
  });
});

describe("two records of the state: Key Vault's and the stack's outputs", () => {
  const policy = { rotationDays: 90, offsetDays: 0 };
  const t0 = at("2026-11-22T05:17:00Z");
  const first = planRotation(policy, t0).state;
  const next = planRotation(policy, planRotation(policy, t0, first).nextRotationMs + HOUR_MS, first).state;
  const later = planRotation(policy, planRotation(policy, t0, next).nextRotationMs + HOUR_MS, next).state;

  it("agreeing records are used as they are", () => {
    expect(reconcileRecords(next, { ...next })).toMatchObject({ state: next, followed: "both" });
  });

  it("a missing, unreadable or older Key Vault record follows the stack's outputs", () => {
    expect(reconcileRecords(undefined, next)).toMatchObject({ state: next, followed: "stack" });
    expect(reconcileRecords(first, next)).toMatchObject({ state: next, followed: "stack" });
    const edited = { ...next, a: { ...next.a, endMs: next.a.endMs - DAY_MS } };
    expect(reconcileRecords(edited, next)).toMatchObject({ state: next, followed: "stack" });
  });

  it("a record one rotation ahead (an update that failed after writing Key Vault) is followed", () => {
    expect(reconcileRecords(next, first)).toMatchObject({ state: next, followed: "keyVault" });
  });

  it("a record ahead in any other way (a Pulumi state rolled back) stops the run, unless a reset names the way out", () => {
    expect(() => reconcileRecords(later, first)).toThrow(RotationConflictError);
    expect(reconcileRecords(later, first, "keyVault")).toMatchObject({ state: later, resetApplied: true });
    expect(reconcileRecords(later, first, "stack")).toMatchObject({ state: first, resetApplied: true });
    expect(reconcileRecords(later, first, "fresh")).toMatchObject({ followed: "none", resetApplied: true });
    // Once the records agree, a reset left in the config does nothing.
    expect(reconcileRecords(later, later, "fresh")).toMatchObject({ state: later, resetApplied: false });
  });

  it("only one record: that one; none: a fresh start", () => {
    expect(reconcileRecords(next, undefined)).toMatchObject({ state: next, followed: "keyVault" });
    expect(reconcileRecords(undefined, undefined)).toMatchObject({ followed: "none" });
    expect(reconcileRecords(undefined, undefined).state).toBeUndefined();
  });
});

describe("stacks deployed before rotation state (tags slot and period only)", () => {
  const policies: RotationPolicy[] = [
    { rotationDays: 90, offsetDays: 0 },
    { rotationDays: 90, offsetDays: 37 },
    { rotationDays: 365, offsetDays: 100 },
    { rotationDays: 7, offsetDays: 2 },
    { rotationDays: 2, offsetDays: 1 },
  ];

  it.each(policies)(
    "R=$rotationDays O=$offsetDays: the first run of this version replaces nothing",
    (policy) => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 3 * 365 * 24 }),
          fc.double({ min: 0, max: 0.999, noNaN: true }),
          (hours, later) => {
            const deployedAt = at("2025-01-01T00:00:00Z") + hours * HOUR_MS;
            const old = gridPlan(policy, deployedAt);
            const published: SlotName = old.b.startMs > old.a.startMs ? "b" : "a";
            const state = legacyState(
              { slot: published, period: old[published].period, expiresMs: old[published].endMs },
              policy,
            );
            expect(state).toBeDefined();
            // The upgrade runs before the next boundary the old version would have acted on.
            const nextBoundary = Math.min(old.a.startMs, old.b.startMs) + policy.rotationDays * DAY_MS;
            const t = deployedAt + Math.floor((nextBoundary - deployedAt) * later);
            const plan = planRotation(policy, t, state);
            expect(plan.replaced).toEqual([]);
            for (const s of ["a", "b"] as const) {
              expect([plan[s].period, plan[s].endMs]).toEqual([old[s].period, old[s].endMs]);
            }
            expect(plan.published.slot).toBe(published);
            expect(plan.nextRotationMs).toBe(nextBoundary);
          },
        ),
        { numRuns: 40 },
      );
    },
  );

  it("finds the grid the old version used even when the schedule changes in the same commit", () => {
    const old = { rotationDays: 90, offsetDays: 0 };
    const deployedAt = at("2026-11-22T05:17:00Z");
    const g = gridPlan(old, deployedAt);
    const state = legacyState(
      { slot: "b", period: g.b.period, expiresMs: g.b.endMs },
      { rotationDays: 60, offsetDays: 5 },
    );
    expect(state?.a).toEqual({ ...g.a, rotationDays: 90 });
    expect(state?.b).toEqual({ ...g.b, rotationDays: 90 });
    const plan = planRotation({ rotationDays: 60, offsetDays: 5 }, deployedAt + DAY_MS, state);
    expect(plan.replaced.length).toBeLessThanOrEqual(1);
  });

  it("gives up (no state) on tags that no grid explains", () => {
    expect(
      legacyState(
        { slot: "a", period: 230, expiresMs: at("2027-01-17T03:00:00Z") },
        { rotationDays: 90, offsetDays: 0 },
      ),
    ).toBeUndefined();
  });
});

describe("the state tag", () => {
  it("round-trips and fits in one Key Vault tag value, whatever the schedule", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 365 }),
        fc.integer({ min: 0, max: 80 * 365 }),
        fc.integer({ min: 0, max: 400 }),
        (R, days, laterDays) => {
          const policy = { rotationDays: R, offsetDays: days % R };
          const t = at("2000-01-01T00:00:00Z") + days * DAY_MS + 12_345;
          const first = planRotation(policy, t);
          const plan = planRotation(policy, t + laterDays * DAY_MS + 999, first.state);
          for (const state of [first.state, plan.state]) {
            const text = encodeState(state);
            expect(text.length).toBeLessThanOrEqual(KEY_VAULT_TAG_VALUE_MAX);
            expect(decodeState(text)).toEqual(state);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    "",
    "v2;pub=a;a=1,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,90;b=1,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,90",
    "v1;pub=c;a=1,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,90;b=1,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,90",
    "v1;pub=a;a=1,2026-01-01T00:00:00Z,2025-02-01T00:00:00Z,90;b=1,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,90",
    "v1;pub=a;a=1,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,900;b=1,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,90",
    "v1;pub=a;a=1,2026-13-01T00:00:00Z,2026-02-01T00:00:00Z,90;b=1,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,90",
  ])("refuses %j instead of guessing", (text) => {
    expect(() => decodeState(text)).toThrow(RotationStateError);
  });
});

describe("three years of runs, schedule changes, gaps and lost state (simulation)", () => {
  // Prints the worst grace it saw; `npm run bench:rotation` does the same over many more scenarios.
  it("keeps every invariant: a retired secret keeps working for at least G after its scheduled retirement", () => {
    let graces = 0;
    let worstOnSchedule = Infinity;
    let worstBetweenRuns = Infinity;
    fc.assert(
      fc.property(scenarios, (s) => {
        const model = simulate(s);
        expect(model.violations).toEqual([]);
        for (const g of model.graces()) {
          graces++;
          // Counted from the scheduled retirement: never less than G.
          expect(g.onSchedule).toBeGreaterThanOrEqual(g.G);
          // Between the actual runs: less only by how much later the retiring run came after its
          // boundary than the deleting run did (at most a day).
          expect(g.betweenRuns).toBeGreaterThanOrEqual(g.G - ON_SCHEDULE_MS);
          worstOnSchedule = Math.min(worstOnSchedule, g.onSchedule / g.G);
          worstBetweenRuns = Math.min(worstBetweenRuns, g.betweenRuns - g.G);
        }
      }),
      { numRuns: 30 },
    );
    expect(graces).toBeGreaterThan(250);
    console.log(
      `rotation simulation: ${graces} retired secrets; worst grace from the scheduled retirement ` +
        `${worstOnSchedule.toFixed(3)} × G; worst between actual runs G ${(worstBetweenRuns / HOUR_MS).toFixed(1)} h`,
    );
  });
});

describe("state written by one run and read by the next", () => {
  it("a RotationState survives JSON (what a test harness or a tag store might do)", () => {
    const plan = planRotation({ rotationDays: 90, offsetDays: 0 }, at("2026-11-22T05:17:00Z"));
    const copy = JSON.parse(JSON.stringify(plan.state)) as RotationState;
    expect(
      planRotation({ rotationDays: 90, offsetDays: 0 }, at("2026-11-23T05:17:00Z"), copy).replaced,
    ).toEqual([]);
  });
});
