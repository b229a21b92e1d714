/**
 * `npm run bench:smoke`: how long a passing `npm run smoke` takes from start to exit, next to a bare
 * Node client making the same requests (bench/bare-client.mjs), both as processes against the HTTPS
 * stand-in on 127.0.0.1, alternating, in one run. Prints both medians and their ratio (target: at
 * most 2.5), and how long `--help` of each command takes (target: under 0.3 s). Asserts nothing.
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
    if (a.code !== 0 || b.code !== 0)
      throw new Error(`a run did not pass (npm run smoke: ${a.code}, bare client: ${b.code})`);
    if (i > 0) {
      // The first pair warms the file cache; it is not counted.
      tool.push(a.ms);
      bare.push(b.ms);
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
  console.log(`  median ratio      ${(median(tool) / median(bare)).toFixed(2)}  (target: at most 2.5)`);
  console.log("--help, median of 5 (target: under 300 ms):");
  for (const command of ["smoke", "handoff", "rotation-status", "validate"]) {
    const times: number[] = [];
    for (let i = 0; i < 5; i++)
      times.push((await timed(process.execPath, ["dist/flow-trigger-auth.js", command, "--help"], {})).ms);
    console.log(`  ${command.padEnd(16)} ${median(times).toFixed(0)} ms`);
  }
}

void main();
