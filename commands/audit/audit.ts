/**
 * `flow-trigger-auth audit`: proves from each flow's own definition, read from Dataverse with the
 * ambient Azure credential, that its HTTP trigger admits exactly the stack's callers
 * (docs/audit.md). Never writes to a flow; never prints a token.
 */
import type { Command } from "commander";
import { sovereignAuthorityHost } from "../../clouds";
import type { Io } from "../../lib/io";
import { addOutputsOptions, maxWaitOption, type OutputsOptions } from "../../lib/options";
import { parser, runCommand, UsageError, type CommandSpec } from "../../lib/runner";
import { FLOW_NAME_PATTERN } from "../../naming";
import type { ClientScope } from "../../lib/azure-http";
import { FileReadError } from "../../lib/bounded-file";
import { VERDICT_EXIT } from "../../lib/exit";
import { renderText, toJson, type AuditJson } from "./render";

/** Default of `--max-wait-s`. */
export const DEFAULT_MAX_WAIT_S = 120;

interface Options extends OutputsOptions {
  flow: string[];
}

const flowName = parser(
  (v) => (FLOW_NAME_PATTERN.test(v) ? v : undefined),
  "must be a flow name as the stack names it: lowercase letters, digits and hyphens",
);

const spec: CommandSpec<Options> = {
  name: "audit",
  examples: [
    "audit --stack dev",
    "audit --outputs prod.json --flow invoice-approval",
    "audit --stack prod --json --quiet",
  ],
  configure(program: Command) {
    program
      .description(
        "Read each flow's definition from Dataverse (one query per environment, with the ambient Azure credential) and " +
          "check that its HTTP trigger admits exactly the stack's callers.",
      )
      .option(
        "--flow <name>",
        "audit only this flow (repeatable; default: every flow in the outputs)",
        (v: string, all: string[]) => [...all, flowName(v)],
        [] as string[],
      );
    addOutputsOptions(program);
    maxWaitOption(program, DEFAULT_MAX_WAIT_S, "Pulumi CLI, Azure tokens, Dataverse, Microsoft Graph");
  },
  async run(o, ctx) {
    const { io } = ctx;
    if (o.sources.length !== 1) {
      throw new UsageError(
        "give one --outputs FILE or --stack NAME: the audit reads one stack's flows at a time",
        "arguments",
      );
    }
    const deadline = ctx.startedAt + o.maxWaitS * 1000;
    // Loaded only here: --help needs none of it.
    const [{ loadOutputs }, { expectationsOf, runAudit }] = await Promise.all([
      import("../../lib/stack-outputs"),
      import("./run"),
    ]);
    const [loaded] = await loadOutputs(o.sources, io, deadline, ctx.progress);
    const expected = expectationsOf(loaded.outputs, loaded.source, o.flow);
    const http = { fetch: io.fetch, timer: io.timer };
    let credential = io.azureCredential;
    let ambientScope: ClientScope | undefined;
    if (!credential) {
      const { ambientCredential } = await import("../../lib/azure-credential");
      // A sovereign cloud's identities sign in at its own authority; in the public cloud (and GCC) the
      // SDK's default, or AZURE_AUTHORITY_HOST, stays in charge.
      try {
        const ambient = await ambientCredential(
          { ...http, env: io.env },
          sovereignAuthorityHost(loaded.outputs.cloud),
        );
        credential = ambient.credential;
        ambientScope = ambient.scope;
      } catch (err) {
        if (err instanceof FileReadError) throw new UsageError(err.message);
        throw err;
      }
    }
    const report = await runAudit(loaded.outputs, expected, loaded.source, {
      ...http,
      now: io.now,
      sleep: io.sleep,
      random: io.random,
      deadline,
      credential,
      onToken: (token) => ctx.secret(token),
      progress: (line) => ctx.progress(line),
    });
    // A credential endpoint that pointed elsewhere, or a credential file that cannot be read with a
    // bound, is the user's to fix (exit 2), not a finding about the flows.
    const problem = ambientScope?.violation ?? ambientScope?.fileProblem;
    if (problem) throw new UsageError(problem.message);
    return { exitCode: VERDICT_EXIT[report.verdict], json: toJson(report), text: renderText(report) };
  },
  failure(kind, message, _ctx, _subject, hint) {
    const json: AuditJson = { verdict: kind === "usage" ? "usage" : "error", flows: [], message };
    return {
      exitCode: VERDICT_EXIT[json.verdict],
      json,
      text: `audit: ${kind === "usage" ? "" : "internal error: "}${message}\n${hint ? `${hint}\n` : ""}`,
      textTo: "stderr",
    };
  },
};

/** `flow-trigger-auth audit <argv>`. */
export function audit(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(spec, argv, io);
}
