/**
 * A model of what `pulumi up` does to a caller's two slots, run by run, to check the rotation
 * invariants over years of simulated time. Pulumi replaces a slot's password exactly when its inputs
 * (period, end) differ from what it deployed last; the vault holds the published slot's value and the
 * state tag; a secret deleted by hand takes the state with it.
 */
import fc from "fast-check";
import {
  DAY_MS,
  ON_SCHEDULE_MS,
  planRotation,
  reconcileRecords,
  SLOTS,
  type RotationPlan,
  type RotationPolicy,
  type RotationState,
  type SlotName,
} from "../../rotation";

/** One client secret value, from creation to deletion. */
export interface SimValue {
  id: number;
  slot: SlotName;
  createdMs: number;
  endMs: number;
  /** rotationDays when it was created. */
  rotationDays: number;
  /** First run that put it in Key Vault. */
  publishedMs?: number;
  /** Run that put another value in Key Vault after it. */
  retiredMs?: number;
  /** rotationDays in force at that run. */
  rotationDaysAtRetirement?: number;
  /** When the plan counted it as retired (`state.retiredMs` written at that run). */
  retiredOnScheduleMs?: number;
  /** Run that deleted it. */
  deletedMs?: number;
  /** The run that deleted it was a recovery (no state, or the published value had expired). */
  deletedInRecovery?: boolean;
  /** It left Key Vault, or was deleted, at the first run after a gap longer than anything promised. */
  afterLongGap?: boolean;
  /** rotationDays in force when its grace ended (deletion, or the last run before it expired). */
  rotationDaysAtEnd?: number;
  /**
   * It was deployed when every record was lost: the fresh start that followed assumed an unbroken
   * history, which gaps or schedule changes before the loss may have broken, so its grace is not held
   * to G (docs/rotation.md#fresh-starts). Before fresh starts landed on the grid it was deleted at once.
   */
  inPlaceWhenAllLost?: boolean;
}

/** One run of the model. */
export interface SimRun {
  t: number;
  policy: RotationPolicy;
  plan: RotationPlan;
  /** Slots whose password the engine replaced. */
  replaced: SlotName[];
  /** The previous state was missing (first run or lost). */
  stateLost: boolean;
  /** The value in Key Vault when the run started had expired (a gap longer than its life). */
  publishedWasDead: boolean;
  previous?: RotationState;
}

/** What the model found. */
export interface SimResult {
  runs: SimRun[];
  values: SimValue[];
  violations: string[];
}

/** Drives the model: call {@link CallerModel.run} at each run time, {@link CallerModel.loseState} to delete the vault secret by hand. */
export class CallerModel {
  readonly runs: SimRun[] = [];
  readonly values: SimValue[] = [];
  readonly violations: string[] = [];
  /** Values whose grace has not ended yet (not deleted, not expired before a run saw it). */
  private open = new Set<SimValue>();
  private deployed: Partial<Record<SlotName, { period: number; endMs: number; value: SimValue }>> = {};
  /** The published value and the Key Vault record beside it (undefined once the record is lost). */
  private vault?: { value: SimValue; state?: RotationState };
  /** The stack's outputs: the state of the last run, kept by the engine (the second witness). */
  private witness?: RotationState;
  private lastPolicy?: RotationPolicy;
  private nextId = 1;

  /** Someone deletes the vault secret and the stack's outputs are lost too: no record of the state is left. */
  loseState(t: number): void {
    if (this.vault) this.vault.value.retiredMs ??= t;
    for (const slot of SLOTS) {
      const v = this.deployed[slot]?.value;
      if (v) v.inPlaceWhenAllLost = true;
    }
    this.vault = undefined;
    this.witness = undefined;
  }

  /**
   * Only the Key Vault record is lost (the secret deleted, or its tag removed): the stack's outputs still
   * hold the state, and the next run follows them and writes the record back.
   */
  loseRecord(): void {
    if (this.vault) this.vault = { value: this.vault.value };
  }

  /**
   * One `pulumi up` at `t` with `policy`. `afterLongGap`: the pipeline was down longer than any
   * promise covers, so what this run retires or deletes is not held to the grace.
   */
  run(t: number, policy: RotationPolicy, afterLongGap = false): SimRun {
    const previous = reconcileRecords(this.vault?.state, this.witness).state;
    const publishedWasDead = this.vault !== undefined && this.vault.value.endMs <= t;
    for (const v of this.open) {
      // A value that expired since the last run ended its grace under the last run's schedule.
      if (v.endMs <= t) {
        v.rotationDaysAtEnd = (this.lastPolicy ?? policy).rotationDays;
        this.open.delete(v);
      }
    }
    const plan = planRotation(policy, t, previous);
    const replaced: SlotName[] = [];
    const created: SimValue[] = [];
    const recovery = previous === undefined || publishedWasDead;
    for (const slot of SLOTS) {
      const want = plan[slot];
      const have = this.deployed[slot];
      if (have && have.period === want.period && have.endMs === want.endMs) continue;
      const value: SimValue = {
        id: this.nextId++,
        slot,
        createdMs: t,
        endMs: want.endMs,
        rotationDays: want.rotationDays,
      };
      this.values.push(value);
      this.open.add(value);
      created.push(value);
      if (have) {
        have.value.deletedMs = t;
        have.value.deletedInRecovery = recovery;
        if (afterLongGap) have.value.afterLongGap = true;
        have.value.rotationDaysAtEnd ??= policy.rotationDays;
        this.open.delete(have.value);
        replaced.push(slot);
      }
      this.deployed[slot] = { period: want.period, endMs: want.endMs, value };
    }
    const published = this.deployed[plan.published.slot]!.value;
    if (this.vault && this.vault.value !== published) {
      this.vault.value.retiredMs = t;
      this.vault.value.rotationDaysAtRetirement = policy.rotationDays;
      if (afterLongGap) this.vault.value.afterLongGap = true;
      this.vault.value.retiredOnScheduleMs = plan.state.retiredMs;
    }
    published.publishedMs ??= t;
    this.vault = { value: published, state: plan.state };
    this.witness = plan.state;
    this.lastPolicy = policy;
    const run: SimRun = {
      t,
      policy,
      plan,
      replaced,
      stateLost: previous === undefined,
      publishedWasDead,
      previous,
    };
    this.runs.push(run);
    this.check(run, created);
    return run;
  }

  private fail(run: SimRun, what: string): void {
    if (this.violations.length < 20) {
      this.violations.push(
        `${new Date(run.t).toISOString()} R=${run.policy.rotationDays} O=${run.policy.offsetDays}: ${what}`,
      );
    }
  }

  private check(run: SimRun, created: SimValue[]): void {
    const { plan, previous } = run;
    const recovery = run.stateLost || run.publishedWasDead;
    // 3. One slot per run, except to recover.
    if (!recovery && run.replaced.length > 1)
      this.fail(run, `replaced ${run.replaced.join(", ")} in one run`);
    // 4. A run that replaces nothing hands the state on unchanged.
    if (previous && run.replaced.length === 0 && JSON.stringify(plan.state) !== JSON.stringify(previous)) {
      this.fail(run, "state changed although nothing was replaced");
    }
    // The plan says what the engine does.
    if (!run.stateLost && [...plan.replaced].sort().join() !== [...run.replaced].sort().join()) {
      this.fail(run, `plan says it replaces [${plan.replaced}], the engine replaced [${run.replaced}]`);
    }
    // 1. The value in Key Vault is valid.
    const published = this.vault!.value;
    if (published.endMs <= run.t || published.deletedMs !== undefined)
      this.fail(run, "published value is not valid");
    // New secrets respect the tenant's lifetime cap.
    for (const v of created) {
      const max = (run.policy.maxLifetimeDays ?? 730) * DAY_MS;
      if (v.endMs - v.createdMs > max) this.fail(run, `secret ${v.id} lives beyond maxLifetimeDays`);
      if (v.endMs <= run.t) this.fail(run, `secret ${v.id} created already expired`);
    }
  }

  /**
   * Grace of every value that left Key Vault and was later deleted or expired, outside recoveries:
   * from the time the plan counted it retired (must be ≥ G) and from the run that retired it.
   */
  graces(): { value: SimValue; G: number; onSchedule: number; betweenRuns: number }[] {
    return this.values
      .filter(
        (v) =>
          v.retiredMs !== undefined &&
          v.rotationDaysAtEnd !== undefined &&
          !v.deletedInRecovery &&
          !v.afterLongGap &&
          !v.inPlaceWhenAllLost,
      )
      .map((v) => {
        const end = Math.min(v.deletedMs ?? Infinity, v.endMs);
        const G =
          (Math.min(v.rotationDays, v.rotationDaysAtRetirement ?? Infinity, v.rotationDaysAtEnd!) * DAY_MS) /
          2;
        return {
          value: v,
          G,
          onSchedule: end - (v.retiredOnScheduleMs ?? v.retiredMs!),
          betweenRuns: end - v.retiredMs!,
        };
      });
  }

  /** Values whose grace the simulation does not hold to G: deployed when every record was lost. */
  inPlaceWhenAllLost(): number {
    return this.values.filter((v) => v.inPlaceWhenAllLost).length;
  }

  /** rotationDays of the two values deployed now. */
  liveRotationDays(): number[] {
    return SLOTS.flatMap((s) => (this.deployed[s] ? [this.deployed[s]!.value.rotationDays] : []));
  }

  /** The published value must have lasted until this run (unless the gap before it was allowed to outlive it). */
  checkCoveredSince(previousRunMs: number, t: number): void {
    const v = this.vault?.value;
    if (v && v.endMs <= t && v.endMs > previousRunMs) {
      this.violations.push(
        `${new Date(v.endMs).toISOString()}: published value ${v.id} expired between runs`,
      );
    }
  }
}

export { ON_SCHEDULE_MS };

const HOUR_MS = 3_600_000;
const YEARS_3 = 3 * 365 * DAY_MS;
const at = (iso: string) => Date.parse(iso);

/**
 * A scenario of three years: schedule changes, offset shifts, gaps, two losses of every record, up to
 * six losses of the Key Vault record alone (the stack's outputs remain), and one long gap.
 */
export const scenarios = fc.record({
  stepMs: fc.constantFrom(DAY_MS, HOUR_MS),
  startMinute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
  initial: fc.integer({ min: 2, max: 365 }),
  changes: fc.array(
    fc.record({
      day: fc.integer({ min: 1, max: 3 * 365 }),
      rotationDays: fc.integer({ min: 2, max: 365 }),
      offset: fc.double({ min: 0, max: 0.999, noNaN: true }),
      tightLifetime: fc.boolean(),
    }),
    { maxLength: 10 },
  ),
  shifts: fc.array(
    fc.record({
      day: fc.integer({ min: 1, max: 3 * 365 }),
      offset: fc.double({ min: 0, max: 0.999, noNaN: true }),
    }),
    { maxLength: 5 },
  ),
  gaps: fc.array(
    fc.record({
      day: fc.integer({ min: 1, max: 3 * 365 }),
      length: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    { maxLength: 12 },
  ),
  losses: fc.tuple(fc.integer({ min: 1, max: 3 * 365 }), fc.integer({ min: 1, max: 3 * 365 })),
  /** Days on which only the Key Vault record is lost (deleted by hand, tag removed): the stack's outputs remain. */
  recordLosses: fc.array(fc.integer({ min: 1, max: 3 * 365 }), { maxLength: 6 }),
  longGapDay: fc.integer({ min: 300, max: 900 }),
});

export type Scenario = typeof scenarios extends fc.Arbitrary<infer T> ? T : never;

export function simulate(s: Scenario): CallerModel {
  const model = new CallerModel();
  const start = at("2026-01-01T00:00:00Z") + s.startMinute * 60_000;
  const day = (d: number) => start + d * DAY_MS;
  let policy: RotationPolicy = { rotationDays: s.initial, offsetDays: 0 };
  const changes = [...s.changes].sort((x, y) => x.day - y.day);
  const shifts = [...s.shifts].sort((x, y) => x.day - y.day);
  const gaps = [...s.gaps].sort((x, y) => x.day - y.day);
  let t = start;
  let longGapDone = false;
  let afterLongGap = false;
  while (t < start + YEARS_3) {
    if (!afterLongGap) model.checkCoveredSince(model.runs.at(-1)?.t ?? -Infinity, t);
    model.run(t, policy, afterLongGap);
    afterLongGap = false;
    while (changes.length && day(changes[0].day) <= t) {
      const c = changes.shift()!;
      policy = {
        rotationDays: c.rotationDays,
        offsetDays: Math.floor(c.offset * c.rotationDays),
        maxLifetimeDays: c.tightLifetime ? Math.ceil(1.5 * c.rotationDays) : 730,
      };
    }
    while (shifts.length && day(shifts[0].day) <= t) {
      policy = { ...policy, offsetDays: Math.floor(shifts.shift()!.offset * policy.rotationDays) };
    }
    let next = t + s.stepMs;
    while (gaps.length && day(gaps[0].day) <= t) {
      // A gap of up to G of the secrets in place (and of the schedule): the longest any promise covers.
      const G = (Math.min(policy.rotationDays, ...model.liveRotationDays()) * DAY_MS) / 2;
      next = Math.max(next, t + Math.floor((gaps.shift()!.length * G) / s.stepMs) * s.stepMs);
    }
    if (!longGapDone && t >= day(s.longGapDay)) {
      longGapDone = true;
      afterLongGap = true;
      const longest = Math.max(policy.rotationDays, ...model.liveRotationDays());
      next = t + Math.ceil((1.6 * longest * DAY_MS) / s.stepMs) * s.stepMs;
    }
    for (const lost of s.losses) if (day(lost) > t && day(lost) <= next) model.loseState(day(lost));
    for (const lost of s.recordLosses) if (day(lost) > t && day(lost) <= next) model.loseRecord();
    t = next;
  }
  return model;
}
