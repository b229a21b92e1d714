/**
 * The rotation schedule of a caller's two client-secret slots (contract: "Rotation: two staggered
 * slots"). Pure maths: no Pulumi, no clock of its own; `now` is an argument.
 *
 * With R = rotationDays and O = offsetDays (in ms) and t = now:
 * - slot A: period a = floor((t − O) / R), start sA = a·R + O
 * - slot B: period b = floor((t − O + R/2) / R), start sB = b·R + O − R/2
 * - each slot's password ends at start + 1.5·R and is replaced when its period index changes;
 * - the newer slot (later start) is published; the next rotation is at min(sA, sB) + R.
 */

/** Milliseconds in one day. */
export const DAY_MS = 86_400_000;

/** Schedule settings (`flow-trigger-auth:rotation`), in whole days. */
export interface RotationPolicy {
  /** Days between two rotations of the same slot, e.g. `90`. */
  rotationDays: number;
  /** Days to shift every period boundary, e.g. `0`; spreads rotations of different stacks. */
  offsetDays: number;
}

/** Slot names; each is one Entra client secret of the caller. */
export type SlotName = "a" | "b";

/** One slot in its current period. */
export interface SlotPlan {
  slot: SlotName;
  /** Period index; the password is replaced exactly when it changes. */
  period: number;
  /** When this period began (ms since the Unix epoch). */
  startMs: number;
  /** When the password expires (ms since the Unix epoch): start + 1.5·R. */
  endMs: number;
}

/** Both slots at one instant, and which one callers should use. */
export interface RotationPlan {
  a: SlotPlan;
  b: SlotPlan;
  /** The newer slot: its value is the one stored in Key Vault. */
  published: SlotPlan;
  /** When the next slot is replaced (ms since the Unix epoch). */
  nextRotationMs: number;
}

/** The slots' periods and lifetimes at `nowMs`. */
export function planRotation(policy: RotationPolicy, nowMs: number): RotationPlan {
  const R = policy.rotationDays * DAY_MS;
  const O = policy.offsetDays * DAY_MS;
  const a = Math.floor((nowMs - O) / R);
  const b = Math.floor((nowMs - O + R / 2) / R);
  const slotA = slot("a", a, a * R + O, R);
  const slotB = slot("b", b, b * R + O - R / 2, R);
  return {
    a: slotA,
    b: slotB,
    published: slotB.startMs > slotA.startMs ? slotB : slotA,
    nextRotationMs: Math.min(slotA.startMs, slotB.startMs) + R,
  };
}

function slot(name: SlotName, period: number, startMs: number, R: number): SlotPlan {
  return { slot: name, period, startMs, endMs: startMs + 1.5 * R };
}

/** ISO 8601 text of a time in ms, as Entra and the outputs expect it (`2026-11-22T00:00:00Z`). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}
