/**
 * `npm run bench`: how long the program takes to evaluate under mocked engine answers, for 1, 10 and
 * 100 callers, and how many resources each caller adds. Prints figures; asserts nothing.
 * Options: --runs N (default 5) repetitions per size.
 */
import { parseStackConfig } from "../config";
import { planStack } from "../engine/offline-engine";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const NOW = Date.parse("2026-11-22T06:00:00Z");

function config(callers: number) {
  return parseStackConfig(
    {
      "azure-native:location": "westeurope",
      "azure-native:subscriptionId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      "flow-trigger-auth:callers": JSON.stringify(
        Array.from({ length: callers }, (_, i) => ({
          name: `caller-${i}`,
          secretReaders: [{ objectId: "11111111-2222-4333-8444-555555555555", type: "ServicePrincipal" }],
        })),
      ),
    },
    "bench",
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  console.log(`program evaluation under mocks, ${RUNS} runs per size (node ${process.version})`);
  console.log("callers  resources  median ms  min ms  max ms  heap MB");
  const counts = new Map<number, number>();
  for (const callers of [1, 10, 100]) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const plan = await planStack(config(callers), NOW, "bench");
      times.push(plan.evaluationMs);
      counts.set(callers, plan.resources.filter((r) => r.custom).length);
    }
    console.log(
      [
        String(callers).padStart(7),
        String(counts.get(callers)).padStart(11),
        median(times).toFixed(1).padStart(11),
        Math.min(...times)
          .toFixed(1)
          .padStart(8),
        Math.max(...times)
          .toFixed(1)
          .padStart(8),
        (process.memoryUsage().heapUsed / 1024 / 1024).toFixed(0).padStart(9),
      ].join(""),
    );
  }
  const perCaller = (counts.get(100)! - counts.get(1)!) / 99;
  console.log(
    `resources per caller: ${perCaller} (app, enterprise app, consent, 2 passwords, vault secret, 1 reader role assignment); ` +
      `shared per stack: ${counts.get(1)! - perCaller}`,
  );
}

void main();
