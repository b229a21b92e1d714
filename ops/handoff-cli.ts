/**
 * `npm run handoff -- --outputs FILE [--format markdown|json] [--out FILE]` or `--stack NAME`:
 * the flow makers' sheet. `--outputs` and `--stack` repeat: one section per environment.
 * Exit 0 when written; 2 on bad arguments or input that is not stack outputs.
 */
import { writeFile } from "node:fs/promises";
import { Command, Option } from "commander";
import { addOutputsOptions, configureExits, loadOutputs, runMain, UsageError } from "./cli-common";
import { buildHandoff, renderJson, renderMarkdown } from "./handoff";
import { userPath } from "./stack-outputs";

async function main(argv: readonly string[]): Promise<number> {
  const program = configureExits(new Command("handoff"))
    .description(
      "Print the flow makers' hand-off sheet: per environment the tenant, token endpoint, scope, and per caller " +
        "the enterprise application object ID to paste into the trigger's Allowed users.",
    )
    .addOption(
      new Option("--format <format>", "sheet format").choices(["markdown", "json"]).default("markdown"),
    )
    .option("--out <file>", "write the sheet to FILE instead of stdout");
  const sources = addOutputsOptions(program);
  program.parse(argv, { from: "user" });
  const opts = program.opts<{ format: "markdown" | "json"; out?: string }>();

  const sheet = buildHandoff(await loadOutputs(sources));
  const text = opts.format === "json" ? renderJson(sheet) : renderMarkdown(sheet);
  if (opts.out) {
    try {
      await writeFile(userPath(opts.out), text, "utf8");
    } catch (err) {
      throw new UsageError(`cannot write --out ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    process.stderr.write(`handoff: wrote ${opts.out} (${sheet.environments.length} environment(s))\n`);
  } else {
    process.stdout.write(text);
  }
  return 0;
}

void runMain("handoff", () => main(process.argv.slice(2)));
