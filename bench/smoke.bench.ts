/**
 * `npm run bench:smoke`: how long a passing `npm run smoke` takes from start to exit, next to a bare
 * Node client making the same requests (bench/bare-client.mjs), both as processes against the HTTPS
 * stand-in on 127.0.0.1, alternating, in one run, and the tool as its bin runs it (`node dist/...`).
 * Prints the medians and ratios, and how long `--help` of each command takes (target: under 150 ms).
 * The 1.5 target is the smoke pass against the bare client, both started by node; npm's own start
 * comes on top of any `npm run` and is printed apart. Asserts nothing.
 * Options: --runs N (default 15).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { demoScenario, scenarioArgs } from "../standin/scenario";
import { startStandin } from "../standin/standin";

const ROOT = join(__dirname, "..");
const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;

function timed(
  file: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ ms: number; code: number | null }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) =>
    execFile(
      file,
      args,
      { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env } },
      (err) =>
        resolve({
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          code: err ? ((err as { code?: number }).code ?? null) : 0,
        }),
    ),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const standin = await startStandin();
  const s = demoScenario(standin, { mode: "users" });
  const env = { NODE_EXTRA_CA_CERTS: standin.caFile, FLOW_CLIENT_SECRET: s.secret };
  const tokenEndpoint = `${standin.baseUrl}/${s.tenantId}/oauth2/v2.0/token`;
  const tool: number[] = [];
  const direct: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const a = await timed("npm", ["run", "-s", "smoke", "--", ...scenarioArgs(s, standin.baseUrl)], env);
    const b = await timed(
      process.execPath,
      [
        "bench/bare-client.mjs",
        s.triggerUrl,
        tokenEndpoint,
        s.clientId,
        "https://service.flow.microsoft.com//.default",
      ],
      env,
    );
    const c = await timed(
      process.execPath,
      ["dist/flow-trigger-auth.js", "smoke", ...scenarioArgs(s, standin.baseUrl)],
      env,
    );
    if (a.code !== 0 || b.code !== 0 || c.code !== 0)
      throw new Error(
        `a run did not pass (npm run smoke: ${a.code}, bare client: ${b.code}, node dist: ${c.code})`,
      );
    if (i > 0) {
      // The first round warms the file cache; it is not counted.
      tool.push(a.ms);
      bare.push(b.ms);
      direct.push(c.ms);
    }
  }
  await standin.close();
  console.log(
    `passing smoke test, ${RUNS} runs each, alternating (node ${process.version}, ${process.platform})`,
  );
  console.log(
    `  npm run smoke     median ${median(tool).toFixed(0)} ms  (min ${Math.min(...tool).toFixed(0)}, max ${Math.max(...tool).toFixed(0)})`,
  );
  console.log(
    `  bare Node client  median ${median(bare).toFixed(0)} ms  (min ${Math.min(...bare).toFixed(0)}, max ${Math.max(...bare).toFixed(0)})`,
  );
  console.log(
    `  node dist/... smoke median ${median(direct).toFixed(0)} ms  (min ${Math.min(...direct).toFixed(0)}, max ${Math.max(...direct).toFixed(0)})`,
  );
  console.log(
    `  smoke pass / bare client   ${(median(direct) / median(bare)).toFixed(2)}  (target: at most 1.5)`,
  );
  console.log(`  npm run smoke / bare client ${(median(tool) / median(bare)).toFixed(2)}`);
  console.log(`  npm's own start            ${(median(tool) - median(direct)).toFixed(0)} ms`);
  console.log("--help, median of 5 (target: under 150 ms):");
  for (const command of ["smoke", "handoff", "rotation-status", "validate", "audit"]) {
    const times: number[] = [];
    for (let i = 0; i < 5; i++)
      times.push((await timed(process.execPath, ["dist/flow-trigger-auth.js", command, "--help"], {})).ms);
    console.log(`  ${command.padEnd(16)} ${median(times).toFixed(0)} ms`);
  }
}

void main();
