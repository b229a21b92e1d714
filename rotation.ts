/**
 * The rotation of a caller's two client-secret slots, as pure maths: no Pulumi, no clock of its own
 * (`now` is an argument). docs/rotation.md explains the design; this file is its executable form.
 *
 * The grid (R = rotationDays, O = offsetDays, in ms) says WHEN a slot is replaced:
 * - slot A's boundaries are at k·R + O, slot B's at k·R + O − R/2 (half a period apart);
 * - a slot's period index is the number of its last boundary, e.g. a = floor((t − O) / R).
 *
 * The state, kept in Azure between runs, says WHAT is deployed: each slot's period, when that period
 * began, when its secret expires, and the R it was created under; which slot is published; and when
 * the other one stopped being published. Each run:
 * - replaces at most the unpublished slot, once its next boundary has come AND its secret left Key
 *   Vault at least G = min(R at its creation, R now) / 2 ago (never sooner), and publishes the new one;
 * - replaces it earlier than its boundary only when the published secret needs relief (so that it
 *   can retire with G to spare, even after a pipeline gap of G);
 * - starts afresh (both slots) when there is no state or the published secret has already expired.
 * A new secret ends 1.5·R after its period began (later only when a late run or a schedule change
 * needs it, never beyond maxLifetimeDays), so that it outlives its time in Key Vault, a gap of up to
 * R/2 and G; ends depend on the schedule, not on when the runs happened.
 */
import { parseIsoInstant } from "./dates";

/** Milliseconds in one day. */
export const DAY_MS = 86_400_000;

/**
 * A rotation that runs within this long after its scheduled boundary counts as on schedule: the secret
 * it retires is counted as retired at the boundary. A daily pipeline's first run after a boundary
 * always is; a run that comes later than that (a pipeline gap) counts from the run itself.
 */
export const ON_SCHEDULE_MS = DAY_MS;

/** `flow-trigger-auth:rotation` when a key is left out. */
export const ROTATION_DEFAULTS = { rotationDays: 90, maxLifetimeDays: 730, offsetDays: 0 } as const;

/** Schedule settings (`flow-trigger-auth:rotation`), in whole days; other keys are ignored. */
export interface RotationPolicy {
  /** Days between two rotations of the same slot, e.g. `90`. */
  rotationDays: number;
  /** Days to shift every boundary, e.g. `0`; spreads rotations of different stacks. */
  offsetDays: number;
  /** Longest life a new secret may get, e.g. `730`; at least 1.5 × rotationDays. Default 730. */
  maxLifetimeDays?: number;
}

/** Slot names; each is one Entra client secret of the caller. */
export type SlotName = "a" | "b";

/** The two slots. */
export const SLOTS: readonly SlotName[] = ["a", "b"];

/** One slot as deployed: what its password's inputs are made from. */
export interface SlotPlan {
  slot: SlotName;
  /** Period index on the grid its secret was created under; part of the password's identity. */
  period: number;
  /** When that period began (ms since the Unix epoch), on the grid it was created under. */
  startMs: number;
  /** When the secret expires (ms since the Unix epoch, whole seconds). */
  endMs: number;
  /** rotationDays when the secret was created. */
  rotationDays: number;
}

/** What a run hands to the next one (kept in the tags of the published Key Vault secret). */
export interface RotationState {
  version: 1;
  /** The slot whose value is in Key Vault. */
  published: SlotName;
  /** When the other slot's value stopped being published (whole seconds); absent if it never was. */
  retiredMs?: number;
  a: Omit<SlotPlan, "slot">;
  b: Omit<SlotPlan, "slot">;
}

/** Why a plan starts afresh instead of continuing the previous run's state. */
export type FreshReason = "no-state" | "published-expired";

/** Both slots after this run, which one callers should use, and the state for the next run. */
export interface RotationPlan {
  a: SlotPlan;
  b: SlotPlan;
  /** The slot whose value is stored in Key Vault. */
  published: SlotPlan;
  /** When the next slot is due to be replaced (ms since the Unix epoch). */
  nextRotationMs: number;
  /** Hand this to the next run as `previous`. */
  state: RotationState;
  /** Slots whose password this run replaces (compared with `previous`): none, one, or both when fresh. */
  replaced: SlotName[];
  /** Set when this run starts afresh: no previous state, or the published secret had expired. */
  fresh?: FreshReason;
}

/** The grid of a policy: boundaries of each slot, in ms. */
interface Grid {
  R: number;
  maxLifeMs: number;
  /** Offset of a slot's boundaries: O for A, O − R/2 for B. */
  offset: Record<SlotName, number>;
}

function gridOf(policy: RotationPolicy): Grid {
  const R = policy.rotationDays * DAY_MS;
  const O = policy.offsetDays * DAY_MS;
  const maxLifeMs = Math.max(1.5 * R, (policy.maxLifetimeDays ?? ROTATION_DEFAULTS.maxLifetimeDays) * DAY_MS);
  return { R, maxLifeMs, offset: { a: O, b: O - R / 2 } };
}

/** The period of `slot` that contains `t`, and when it began. */
function periodAt(g: Grid, slot: SlotName, t: number): { period: number; startMs: number } {
  const period = Math.floor((t - g.offset[slot]) / g.R);
  return { period, startMs: period * g.R + g.offset[slot] };
}

/** The first boundary of `slot` at or after `t`. */
function boundaryAtOrAfter(g: Grid, slot: SlotName, t: number): number {
  return Math.ceil((t - g.offset[slot]) / g.R) * g.R + g.offset[slot];
}

const other = (slot: SlotName): SlotName => (slot === "a" ? "b" : "a");
const ceilSecond = (ms: number) => Math.ceil(ms / 1000) * 1000;
const floorSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

/**
 * Grace owed to a secret once it leaves Key Vault: half the shortest rotationDays among when it was
 * created, when it left (`rotationDays` is the smaller of those two) and now. A longer rotationDays
 * never lengthens a promise already made: the secrets in place were cut for the old one.
 */
function graceMs(g: Grid, rotationDays: number): number {
  return Math.min(rotationDays * DAY_MS, g.R) / 2;
}

/**
 * End of a secret created at `t` for the period that began at `startMs`, which must last until at
 * least `untilMs`: start + 1.5·R from the schedule alone (what an unbroken history declares), later
 * only when `untilMs` needs it (a late run, a schedule change); whole seconds, never past maxLifetime.
 */
function endFor(g: Grid, t: number, startMs: number, untilMs: number): number {
  return Math.min(ceilSecond(Math.max(startMs + 1.5 * g.R, untilMs)), floorSecond(t + g.maxLifeMs));
}

/**
 * When the unpublished slot of `state` is due: at its first boundary on or after both half a period
 * into its period and the end of its grace (G after it left Key Vault, or its expiry), so that a late
 * rotation puts the slot back on the grid instead of dragging the delay along; earlier only when the
 * published secret needs relief.
 */
function dueMs(g: Grid, state: RotationState): number {
  const p = state[state.published];
  const Q = other(state.published);
  const q = state[Q];
  const allowed = graceEndMs(g, state.retiredMs, q, p.rotationDays);
  const aligned = boundaryAtOrAfter(g, Q, Math.max(q.startMs + g.R / 2, allowed));
  // The published secret must be able to retire with G to spare even if the run that retires it
  // comes one G late: its retirement is planned no later than end − 2·G.
  const relief = p.endMs - 2 * graceMs(g, p.rotationDays);
  return Math.min(aligned, Math.max(relief, allowed));
}

/**
 * When a secret that left Key Vault at `retiredMs` (while a secret of `publishedDays` was published)
 * may be deleted: G later, or at its expiry if sooner; any time if it never was published.
 */
function graceEndMs(
  g: Grid,
  retiredMs: number | undefined,
  slot: Omit<SlotPlan, "slot">,
  publishedDays: number,
): number {
  if (retiredMs === undefined) return -Infinity;
  return Math.min(retiredMs + graceMs(g, Math.min(slot.rotationDays, publishedDays)), slot.endMs);
}

function planOf(state: RotationState, g: Grid, replaced: SlotName[], fresh?: FreshReason): RotationPlan {
  const a: SlotPlan = { slot: "a", ...state.a };
  const b: SlotPlan = { slot: "b", ...state.b };
  const plan: RotationPlan = {
    a,
    b,
    published: state.published === "a" ? a : b,
    nextRotationMs: dueMs(g, state),
    state,
    replaced,
  };
  if (fresh) plan.fresh = fresh;
  return plan;
}

/**
 * Both slots as an unbroken history under the current schedule would have left them at `t`, from the
 * schedule alone (never from the time of the run): each in its grid period with end = start + 1.5·R,
 * the one whose period began later published, the other retired when that period began. So a run that
 * lost every record during a steady schedule declares exactly what is deployed and replaces nothing,
 * and a first deployment rotates on the grid from its first boundary.
 */
function freshState(g: Grid, t: number, rotationDays: number): RotationState {
  const slot = (s: SlotName) => {
    const { period, startMs } = periodAt(g, s, t);
    return { period, startMs, endMs: startMs + 1.5 * g.R, rotationDays };
  };
  const a = slot("a");
  const b = slot("b");
  const published: SlotName = b.startMs > a.startMs ? "b" : "a";
  return { version: 1, published, retiredMs: Math.max(a.startMs, b.startMs), a, b };
}

/**
 * The plan of this run at `nowMs` (ms since the Unix epoch), given the state the previous run left
 * (`undefined`: none, e.g. a new caller or a first deployment). Pure: same inputs, same plan.
 */
export function planRotation(policy: RotationPolicy, nowMs: number, previous?: RotationState): RotationPlan {
  const g = gridOf(policy);
  const t = nowMs;
  if (!previous) return planOf(freshState(g, t, policy.rotationDays), g, [...SLOTS], "no-state");
  const P = previous.published;
  const Q = other(P);
  // Callers cannot use what Key Vault holds: nothing to protect, publish a fresh value now, living
  // 1.5·R from now (a record exists, so no slot needs to match an unbroken history).
  if (previous[P].endMs <= t) {
    const fresh = freshState(g, t, policy.rotationDays);
    for (const s of SLOTS) fresh[s].endMs = endFor(g, t, t, t);
    delete fresh.retiredMs;
    const replaced = SLOTS.filter((s) => !sameSlot(fresh[s], previous[s]));
    return planOf(fresh, g, replaced, "published-expired");
  }
  if (t < dueMs(g, previous)) return planOf(previous, g, []);

  // Replace Q and publish it; P leaves Key Vault now (or, on schedule, at Q's boundary).
  const { period, startMs } = periodAt(g, Q, t);
  const retiredMs = ceilSecond(
    t - startMs < ON_SCHEDULE_MS ? Math.max(startMs, previous.retiredMs ?? -Infinity) : t,
  );
  const p = previous[P];
  // P's own next replacement (as dueMs will find it); the new secret outlives it by a gap and a grace.
  const pAllowed = graceEndMs(g, retiredMs, p, policy.rotationDays);
  const pNext = boundaryAtOrAfter(g, P, Math.max(p.startMs + g.R / 2, pAllowed));
  const fresh = {
    period,
    startMs,
    endMs: endFor(g, t, startMs, pNext + g.R),
    rotationDays: policy.rotationDays,
  };
  const state: RotationState = { version: 1, published: Q, retiredMs, a: previous.a, b: previous.b };
  state[Q] = fresh;
  return planOf(state, g, [Q]);
}

function sameSlot(x: Omit<SlotPlan, "slot">, y: Omit<SlotPlan, "slot">): boolean {
  return x.period === y.period && x.endMs === y.endMs;
}

/** The tag of the published Key Vault secret that holds {@link RotationState}. */
export const STATE_TAG = "rotation-state";

/** A `rotation-state` tag that cannot be read: the run must stop rather than guess. */
export class RotationStateError extends Error {
  override readonly name = "RotationStateError";
}

/**
 * The state as one tag value, readable by people, e.g.
 * `v1;pub=b;ret=2026-10-19T00:00:00Z;a=230,2026-09-04T00:00:00Z,2027-01-17T00:00:00Z,90;b=231,...`
 * (at most about 160 characters, under Key Vault's 256).
 */
export function encodeState(state: RotationState): string {
  const slot = (s: Omit<SlotPlan, "slot">) =>
    [s.period, isoTime(s.startMs), isoTime(s.endMs), s.rotationDays].join(",");
  return [
    "v1",
    `pub=${state.published}`,
    ...(state.retiredMs === undefined ? [] : [`ret=${isoTime(state.retiredMs)}`]),
    `a=${slot(state.a)}`,
    `b=${slot(state.b)}`,
  ].join(";");
}

const ISO = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z`;
const SLOT_TEXT = String.raw`(-?\d{1,9}),(${ISO}),(${ISO}),(\d{1,3})`;
const STATE_TEXT = new RegExp(String.raw`^v1;pub=([ab])(?:;ret=(${ISO}))?;a=${SLOT_TEXT};b=${SLOT_TEXT}$`);

/**
 * Reads a `rotation-state` tag written by {@link encodeState}.
 * @throws {RotationStateError} naming what is wrong, when it is not one.
 */
export function decodeState(text: string): RotationState {
  const m = STATE_TEXT.exec(text.trim());
  if (!m)
    throw new RotationStateError(`"${text.slice(0, 80)}" is not a rotation state (v1;pub=...;a=...;b=...)`);
  const time = (iso: string) => {
    // Strict: a day that does not exist (2027-02-30) is a damaged record, not March 2nd.
    const ms = parseIsoInstant(iso, { dateOnly: false });
    if (ms === undefined) throw new RotationStateError(`"${iso}" is not a time`);
    return ms;
  };
  const slot = (i: number, name: SlotName) => {
    const s = {
      period: Number(m[i]),
      startMs: time(m[i + 1]),
      endMs: time(m[i + 2]),
      rotationDays: Number(m[i + 3]),
    };
    if (s.rotationDays < 2 || s.rotationDays > 365 || s.endMs <= s.startMs) {
      throw new RotationStateError(`slot ${name} of "${text.slice(0, 80)}" is inconsistent`);
    }
    return s;
  };
  const state: RotationState = { version: 1, published: m[1] as SlotName, a: slot(3, "a"), b: slot(7, "b") };
  if (m[2] !== undefined) state.retiredMs = time(m[2]);
  return state;
}

/** What a secret published by a version without rotation state carries: tags `slot`, `period`, and its expiry. */
export interface LegacyPublished {
  slot: SlotName;
  period: number;
  /** `attributes.expires` of the secret, in ms. */
  expiresMs: number;
}

/**
 * The state a stack deployed before rotation state existed is in, rebuilt from what its published
 * secret says: that version put both slots on the grid (end = start + 1.5·R). The grid it used is
 * solved from the expiry (the current policy first), so a schedule changed in the same commit as the
 * upgrade still finds the passwords as deployed. Undefined when no grid explains the secret.
 */
export function legacyState(published: LegacyPublished, policy: RotationPolicy): RotationState | undefined {
  const build = (rotationDays: number, offsetDays: number): RotationState | undefined => {
    const g = gridOf({ rotationDays, offsetDays });
    const k = published.period;
    const slot = (s: SlotName, period: number) => {
      const startMs = period * g.R + g.offset[s];
      return { period, startMs, endMs: startMs + 1.5 * g.R, rotationDays };
    };
    const state: RotationState =
      published.slot === "a"
        ? { version: 1, published: "a", a: slot("a", k), b: slot("b", k) }
        : { version: 1, published: "b", a: slot("a", k - 1), b: slot("b", k) };
    state.retiredMs = state[published.slot].startMs;
    return state[published.slot].endMs === published.expiresMs ? state : undefined;
  };
  const current = build(policy.rotationDays, policy.offsetDays);
  if (current) return current;
  const fits: RotationState[] = [];
  for (let R = 2; R <= 365; R++) {
    // The published end is (k + 1.5)·R + O for slot A and (k + 1)·R + O for slot B, in days.
    const coefficient = published.period + (published.slot === "a" ? 1.5 : 1);
    const offsetDays = (published.expiresMs - coefficient * R * DAY_MS) / DAY_MS;
    if (Number.isInteger(offsetDays) && offsetDays >= 0 && offsetDays < R) {
      const found = build(R, offsetDays);
      if (found) fits.push(found);
    }
  }
  return fits.length === 1 ? fits[0] : undefined;
}

/** ISO 8601 text of a time in ms, as Entra and the outputs expect it (`2026-11-22T00:00:00Z`). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

/** Which record a run follows when its two records of a caller's state disagree (`flow-trigger-auth:rotationReset`). */
export const RESET_FOLLOWS = ["keyVault", "stack", "fresh"] as const;

/** One of {@link RESET_FOLLOWS}: the Key Vault record, the stack's outputs, or a fresh start on the grid. */
export type ResetFollow = (typeof RESET_FOLLOWS)[number];

/** Where the state a run plans from came from. */
export type Followed = "both" | "keyVault" | "stack" | "none";

/** What {@link reconcileRecords} settled on. */
export interface Reconciled {
  /** The state to plan from; undefined: a fresh start on the grid. */
  state?: RotationState;
  followed: Followed;
  /** Why, in a sentence, for the run's log (undefined when both records agree). */
  note?: string;
  /** True when a reset setting decided it (the records were in conflict). */
  resetApplied: boolean;
}

/** The two records disagree in a way no rule settles: the run must stop before anything is replaced. */
export class RotationConflictError extends Error {
  override readonly name = "RotationConflictError";
  constructor(
    message: string,
    readonly record: RotationState,
    readonly witness: RotationState,
  ) {
    super(message);
  }
}

/** Slot `x` began later than `y`, or as late and ends later (−1, 0, 1). */
function compareSlot(x: Omit<SlotPlan, "slot">, y: Omit<SlotPlan, "slot">): number {
  return Math.sign(x.startMs - y.startMs) || Math.sign(x.endMs - y.endMs);
}

/** The two states are the same, slot by slot. */
export function sameState(x: RotationState, y: RotationState): boolean {
  return encodeState(x) === encodeState(y);
}

/**
 * `record` is exactly one on-schedule step ahead of `witness`: it replaced the slot the witness had
 * unpublished, with a later period, and published it; the other slot is untouched. That is what an
 * update leaves when it wrote Key Vault and then failed before the stack's outputs were saved.
 */
export function isOneStepAhead(record: RotationState, witness: RotationState): boolean {
  const Q = other(witness.published);
  return (
    record.published === Q &&
    compareSlot(record[Q], witness[Q]) > 0 &&
    compareSlot(record[witness.published], witness[witness.published]) === 0 &&
    record[witness.published].period === witness[witness.published].period
  );
}

/**
 * The state a run follows, given the Key Vault record (`record`, undefined when missing, unreadable or
 * another app's; `recordProblem` says which) and the stack's last outputs (`witness`):
 * - both equal, or only one of them: that one;
 * - the witness at or ahead of the record in both slots (a record deleted, edited or restored from
 *   an older version): the witness, and the record is written back;
 * - the record exactly one rotation step ahead (an update that wrote Key Vault, then failed): the record;
 * - neither: undefined (a fresh start on the grid);
 * - anything else (e.g. a Pulumi state rolled back): `reset` decides, else {@link RotationConflictError}.
 */
export function reconcileRecords(
  record: RotationState | undefined,
  witness: RotationState | undefined,
  reset?: ResetFollow,
  recordProblem = "the Key Vault record is missing",
): Reconciled {
  if (!record && !witness) {
    return {
      followed: "none",
      note: `${recordProblem} and the stack has no outputs of it`,
      resetApplied: false,
    };
  }
  if (!record) {
    return {
      state: witness,
      followed: "stack",
      note: `${recordProblem}: following the stack's outputs (what the engine deployed); the record is written back`,
      resetApplied: false,
    };
  }
  if (!witness) return { state: record, followed: "keyVault", resetApplied: false };
  if (sameState(record, witness)) return { state: record, followed: "both", resetApplied: false };
  if (SLOTS.every((s) => compareSlot(witness[s], record[s]) >= 0)) {
    return {
      state: witness,
      followed: "stack",
      note:
        "the Key Vault record is older than the stack's outputs (edited, or an older version restored): following " +
        "the stack's outputs (what the engine deployed); the record is written back",
      resetApplied: false,
    };
  }
  if (isOneStepAhead(record, witness)) {
    return {
      state: record,
      followed: "keyVault",
      note:
        "the Key Vault record is one rotation ahead of the stack's outputs (an update wrote Key Vault, then failed " +
        "before saving its outputs): following the record, which is what the engine deployed",
      resetApplied: false,
    };
  }
  if (reset === "keyVault") return { state: record, followed: "keyVault", resetApplied: true };
  if (reset === "stack") return { state: witness, followed: "stack", resetApplied: true };
  if (reset === "fresh") return { followed: "none", resetApplied: true };
  throw new RotationConflictError(
    "the Key Vault record is ahead of the stack's outputs in a way no update leaves (was the Pulumi state rolled back?)",
    record,
    witness,
  );
}

/** The state in words, slot by slot, for people reading an error or a log. */
export function describeState(state: RotationState): string {
  const slot = (s: SlotName) =>
    `slot ${s}: period ${state[s].period} from ${isoTime(state[s].startMs)} until ${isoTime(state[s].endMs)} ` +
    `(rotationDays ${state[s].rotationDays})`;
  return `${slot("a")}; ${slot("b")}; slot ${state.published} published`;
}
