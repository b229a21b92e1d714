/**
 * `flow-trigger-auth rotation-status`: is each caller's published secret or certificate safe?
 * (docs/operations.md). Exit 1 naming every caller whose credential expires within --warn-days or
 * whose rotation is overdue by more than a day; callers that keep nothing in Key Vault have nothing
 * to rotate.
 */
import type { Command } from "commander";
import { printable } from "../../printable";
import type { LiveSecretReader } from "./assess";
import type { Io } from "../../lib/io";
import {
  addOutputsOptions,
  isoInstant,
  ISO_INSTANT_HELP,
  maxWaitOption,
  wholeDays,
  type OutputsOptions,
} from "../../lib/options";
import { tlsVerificationProblem } from "../../lib/http";
import { EXIT } from "../../lib/exit";
import { runCommand, UsageError, type CommandSpec } from "../../lib/runner";

/** Default of `--warn-days`. */
const DEFAULT_WARN_DAYS = 30;

interface Options extends OutputsOptions {
  warnDays: number;
  live?: boolean;
  now?: number;
}

const spec: CommandSpec<Options> = {
  name: "rotation-status",
  examples: [
    "rotation-status --stack dev --stack prod",
    "rotation-status --outputs dev.json --warn-days 14 --now 2026-11-22T09:30:00Z",
    "rotation-status --stack prod --live --json --quiet",
  ],
  configure(program: Command) {
    program
      .description(
        "Check each caller's published client secret or certificate, naming every caller whose credential " +
          "expires within --warn-days days or whose rotation is overdue by more than a day.",
      )
      .option(
        "--warn-days <days>",
        "warn when a published credential expires within this many days",
        wholeDays,
        DEFAULT_WARN_DAYS,
      )
      .option(
        "--live",
        "read each secret's expiry from Key Vault (ambient Azure credential) and trust it over the outputs",
      )
      .option("--now <iso>", `judge at this time instead of the clock: ${ISO_INSTANT_HELP}`, isoInstant);
    addOutputsOptions(program);
    maxWaitOption(program, 120);
  },
  async run(o, ctx) {
    const { io } = ctx;
    const deadline = ctx.startedAt + o.maxWaitS * 1000;
    // --live sends a Key Vault token: never without TLS certificate checks.
    const tls = o.live ? tlsVerificationProblem(io.env) : undefined;
    if (tls) throw new UsageError(tls);
    // Loaded only here: reading outputs needs their schema (zod), which --help does not.
    const [{ loadOutputs }, { assessRotation, renderText }] = await Promise.all([
      import("../../lib/stack-outputs"),
      import("./assess"),
    ]);
    const environments = await loadOutputs(o.sources, io, deadline, ctx.progress);
    let readLive: LiveSecretReader | undefined;
    if (o.live) {
      // Loaded only when asked: the Azure SDK is not needed to judge the outputs.
      const { keyVaultReader } = await import("./live");
      readLive = keyVaultReader(
        {
          fetch: io.fetch,
          timer: io.timer,
          now: io.now,
          sleep: io.sleep,
          random: io.random,
          env: io.env,
          deadline,
          log: (line) => ctx.note(line),
          progress: (line) => ctx.progress(line),
        },
        io.azureCredential,
      );
    }
    const report = await assessRotation(environments, {
      nowMs: o.now ?? io.now(),
      warnDays: o.warnDays,
      readLive,
    });
    if (report.exitCode !== 0 && !ctx.json)
      ctx.note(`rotation-status: at risk: ${printable(report.atRisk.join(", "))}`);
    return {
      exitCode: report.exitCode === 0 ? EXIT.ok : EXIT.failed,
      json: report,
      text: renderText(report),
    };
  },
};

/** `flow-trigger-auth rotation-status <argv>`. */
export function rotationStatus(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(spec, argv, io);
}
