/**
 * `npm run bench:rotation`: the rotation simulation of test/rotation.test.ts over many more scenarios
 * (three years each: schedule changes, offset shifts, pipeline gaps, lost state), printing how long a
 * retired secret kept working, as a multiple of the promised grace G. Prints figures; asserts nothing
 * (the test asserts the invariants). Options: --runs N scenarios (default 300), --seed S.
 */
import fc from "fast-check";
import { scenarios, simulate } from "../test/helpers/rotation-sim";

const option = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = option("--runs", 300);
const SEED = option("--seed", Date.now() % 2 ** 31);
const HOUR_MS = 3_600_000;

let graces = 0;
let violations = 0;
let allLost = 0;
let worstOnSchedule = Infinity;
let worstBetweenRuns = Infinity;
const started = performance.now();
for (const s of fc.sample(scenarios, { numRuns: RUNS, seed: SEED })) {
  const model = simulate(s);
  violations += model.violations.length;
  allLost += model.inPlaceWhenAllLost();
  for (const g of model.graces()) {
    graces++;
    worstOnSchedule = Math.min(worstOnSchedule, g.onSchedule / g.G);
    worstBetweenRuns = Math.min(worstBetweenRuns, g.betweenRuns - g.G);
  }
}
console.log(
  `scenarios ${RUNS} (seed ${SEED}), retired secrets ${graces}, invariant violations ${violations}`,
);
console.log(
  `secrets in place when every record (Key Vault and the stack's outputs) was lost, not held to G: ${allLost}`,
);
console.log(`worst grace from the scheduled retirement: ${worstOnSchedule.toFixed(3)} x G (promise: >= 1)`);
console.log(
  `worst grace between the actual runs: G ${worstBetweenRuns >= 0 ? "+" : ""}${(worstBetweenRuns / HOUR_MS).toFixed(1)} h (promise: >= G - 24 h)`,
);
console.log(`time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
