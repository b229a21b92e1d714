/**
 * Runs in every test worker. Property tests (fast-check) draw the same cases on every run, so the
 * suite gives the same answer twice; `FC_SEED=<number> npx vitest run` explores other cases, and a
 * failure prints the seed and path that reproduce it.
 */
import fc from "fast-check";

const seed = Number(process.env.FC_SEED ?? 20261126);
if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, got ${process.env.FC_SEED}`);
fc.configureGlobal({ seed });
