/**
 * `npm run bench:smoke -- [--runs N] [--cli]`: how long a passing smoke test takes against the
 * local HTTPS stand-in (test/standin), as figures, not assertions.
 *
 * The stand-in runs in this process; the smoke library runs N times in a child process started with
 * NODE_EXTRA_CA_CERTS (Node reads it only at start-up), which reports each run's per-check durations.
 * With `--cli`, the real CLI process is also timed end to end (ts-node start-up included).
 * Prints median and spread (min / p90 / max) of the total and of each check.
 */
import { Command } from "commander";
import { runSmoke, type SmokeResult } from "../smoke/checks";
import { demoScenario, type Scenario } from "../test/standin/scenario";
import { startStandin } from "../test/standin/standin";
import { runSmokeCli, runTsScript } from "../test/standin/run-cli";

interface WorkerInput {
  scenario: Omit<Scenario, "secret">;
  authorityHost: string;
  runs: number;
}

/** Child side: runs the library `runs` times and prints one JSON array of results. */
async function worker(input: WorkerInput): Promise<void> {
  const results: SmokeResult[] = [];
  for (let i = 0; i < input.runs; i++) {
    results.push(
      await runSmoke({
        triggerUrl: input.scenario.triggerUrl,
        tenantId: input.scenario.tenantId,
        clientId: input.scenario.clientId,
        clientSecret: process.env.FLOW_CLIENT_SECRET ?? "",
        authorityHost: input.authorityHost,
        maxWaitMs: 30_000,
      }),
    );
  }
  process.stdout.write(`${JSON.stringify(results)}\n`, () => process.exit(0));
}

/** Nearest-rank percentile of sorted `values` (p in 0..100). */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function row(label: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const cells = [percentile(s, 50), s[0], percentile(s, 90), s[s.length - 1]].map((v) =>
    `${v.toFixed(0)} ms`.padStart(10),
  );
  return `${label.padEnd(22)}${cells.join("")}`;
}

function table(title: string, rows: [string, number[]][]): string {
  const header = `${"".padEnd(22)}${["median", "min", "p90", "max"].map((h) => h.padStart(10)).join("")}`;
  return [title, header, ...rows.map(([label, values]) => row(label, values))].join("\n");
}

async function main(): Promise<void> {
  const program = new Command("bench:smoke")
    .option("--runs <n>", "passing runs to time", "20")
    .option("--cli", "also time the CLI process end to end (ts-node start-up included)")
    .option("--worker <json>", "internal: run the library in this process")
    .parse(process.argv);
  const opts = program.opts<{ runs: string; cli?: boolean; worker?: string }>();
  if (opts.worker) return worker(JSON.parse(opts.worker) as WorkerInput);

  const runs = Number(opts.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`--runs must be a positive integer (got "${opts.runs}")`);
    process.exit(2);
  }

  const standin = await startStandin();
  const { secret, ...scenario } = demoScenario(standin, { mode: "users" });
  const env = { NODE_EXTRA_CA_CERTS: standin.caFile, FLOW_CLIENT_SECRET: secret };
  const input: WorkerInput = { scenario, authorityHost: standin.baseUrl, runs };

  const child = await runTsScript("bench/smoke.bench.ts", ["--worker", JSON.stringify(input)], env, 600_000);
  if (child.code !== 0) {
    console.error(`library runs failed (exit ${child.code}): ${child.stderr.trim()}`);
    await standin.close();
    process.exit(1);
  }
  const results = JSON.parse(child.stdout) as SmokeResult[];
  // Only passing runs are timed: a failing run stops early (or waits out retries) and would skew them.
  const passed = results.filter((r) => r.verdict === "pass");
  const failed = results.filter((r) => r.verdict !== "pass");
  console.log(
    `stand-in ${standin.baseUrl}, node ${process.version}, ${runs} library runs (${failed.length} not passing, left out of the figures)`,
  );
  for (const r of failed) {
    const last = r.checks[r.checks.length - 1];
    console.error(`not passing: ${r.verdict}, ${last ? `${last.name}: ${last.message}` : "no check"}`);
  }
  if (passed.length === 0) {
    console.error("no passing run to time");
    await standin.close();
    process.exit(1);
  }
  const names = ["url", "anonymous-rejected", "token", "invoke"];
  const rows: [string, number[]][] = [
    ["total", passed.map((r) => r.durationMs)],
    ...names.map((name): [string, number[]] => [
      name,
      passed.map((r) => r.checks.find((c) => c.name === name)?.durationMs ?? NaN),
    ]),
  ];
  console.log(
    table(`smoke library, ${passed.length} passing runs (in one process, fresh credential per run):`, rows),
  );

  if (opts.cli) {
    const cliRuns = Math.min(runs, 10);
    const times: number[] = [];
    for (let i = 0; i < cliRuns; i++) {
      const run = await runSmokeCli(
        [
          "--trigger-url",
          scenario.triggerUrl,
          "--tenant-id",
          scenario.tenantId,
          "--client-id",
          scenario.clientId,
          "--authority-host",
          standin.baseUrl,
          "--json",
        ],
        env,
      );
      if (run.code !== 0) {
        console.error(`CLI run ${i + 1} exited ${run.code}: left out of the figures`);
        continue;
      }
      times.push(run.elapsedMs);
    }
    if (times.length > 0) {
      console.log(
        table(`\nCLI process end to end, ${times.length} passing of ${cliRuns} runs:`, [
          ["ts-node smoke/cli.ts", times],
        ]),
      );
    } else {
      console.error(`\nCLI process end to end: none of ${cliRuns} runs passed, nothing to time`);
    }
  }
  await standin.close();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
