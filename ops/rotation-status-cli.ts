/**
 * `npm run rotation-status -- --outputs FILE [--warn-days N] [--live] [--now ISO] [--json]` or `--stack NAME`:
 * each caller's published secret expiry and next rotation.
 * Exit 0 when every caller is fine; 1 naming every caller at risk (secret expires within N days,
 * or rotation overdue by more than a day); 2 on bad arguments, bad input or a failed Key Vault read.
 */
import { Command, Option } from "commander";
import {
  addOutputsOptions,
  configureExits,
  isoInstant,
  loadOutputs,
  nonNegativeInteger,
  runMain,
  UsageError,
} from "./cli-common";
import { assessRotation, renderText, type LiveSecretReader } from "./rotation-status";

/** Contract default of `--warn-days`. */
const DEFAULT_WARN_DAYS = 30;

async function main(argv: readonly string[]): Promise<number> {
  const program = configureExits(new Command("rotation-status"))
    .description(
      "Check each caller's published client secret: exit 1 naming every caller whose secret expires within " +
        "--warn-days days or whose rotation is overdue by more than a day.",
    )
    .addOption(
      new Option("--warn-days <days>", "warn when a published secret expires within this many days")
        .argParser(nonNegativeInteger)
        .default(DEFAULT_WARN_DAYS),
    )
    .option(
      "--live",
      "read each secret's expiry from Key Vault (ambient Azure credential) and trust it over the outputs",
    )
    .addOption(
      new Option("--now <iso>", "judge at this time instead of the clock (reproducible runs)").argParser(
        isoInstant,
      ),
    )
    .option("--json", "print one JSON object instead of text");
  const sources = addOutputsOptions(program);
  program.parse(argv, { from: "user" });
  const opts = program.opts<{ warnDays: number; live?: boolean; now?: number; json?: boolean }>();

  const environments = await loadOutputs(sources);
  let readLive: LiveSecretReader | undefined;
  if (opts.live) {
    // Loaded only when asked: the Azure SDK is not needed to judge the outputs.
    const { keyVaultReader, LiveReadError } = await import("./rotation-status-live");
    const reader = keyVaultReader();
    readLive = async (ref) => {
      try {
        return await reader(ref);
      } catch (err) {
        throw err instanceof LiveReadError ? new UsageError(`--live: ${err.message}`) : err;
      }
    };
  }
  const report = await assessRotation(environments, {
    nowMs: opts.now ?? Date.now(),
    warnDays: opts.warnDays,
    readLive,
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(renderText(report));
    if (report.exitCode !== 0) {
      process.stderr.write(`rotation-status: at risk: ${report.atRisk.join(", ")}\n`);
    }
  }
  return report.exitCode;
}

void runMain("rotation-status", () => main(process.argv.slice(2)));
