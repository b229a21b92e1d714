/**
 * `flow-trigger-auth validate --stack NAME`: offline, no cloud credentials (docs/configuration.md).
 * Reads `Pulumi.NAME.yaml`, validates it with the program's own schema, evaluates the program with
 * the engine mocked and prints the resources it would declare. Exit 0: valid; 1: the config has
 * problems (every bad key named); 2: bad arguments or an unreadable file.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { printable } from "../../printable";
import type { PlannedResource } from "../../engine/offline-engine";
import type { PlannedFlow } from "./stack-file";
import type { Io } from "../../lib/io";
import { isoInstant, ISO_INSTANT_HELP } from "../../lib/options";
import { EXIT } from "../../lib/exit";
import { parser, runCommand, UsageError, type CommandSpec } from "../../lib/runner";

interface Options {
  /** Required; checked in `run`, so that a mistyped option is named before a missing one. */
  stack?: string;
  dir?: string;
  now?: number;
}

/** Inputs that matter to a reviewer, per resource type; other types show every input. */
const SHOWN: Record<string, string[]> = {
  "azuread:index/application:Application": [
    "displayName",
    "signInAudience",
    "owners",
    "requiredResourceAccesses",
  ],
  "azuread:index/servicePrincipal:ServicePrincipal": ["clientId", "owners"],
  "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": [
    "claimValues",
    "resourceServicePrincipalObjectId",
    "servicePrincipalObjectId",
  ],
  "azuread:index/applicationPassword:ApplicationPassword": ["endDate", "rotateWhenChanged"],
  "azure-native:keyvault:Vault": [
    "vaultName",
    "location",
    "properties.enableRbacAuthorization",
    "properties.enablePurgeProtection",
    "properties.enableSoftDelete",
  ],
  "azure-native:keyvault:Secret": [
    "vaultName",
    "secretName",
    "properties.value",
    "properties.attributes.expires",
    "tags.slot",
    "tags.rotation-state",
  ],
  "azure-native:authorization:RoleAssignment": ["principalId", "principalType", "scope"],
};

function render(r: PlannedResource): string {
  const wanted = SHOWN[r.type];
  const shown = Object.entries(r.inputs).filter(
    ([k]) => !wanted || wanted.some((w) => k === w || k.startsWith(`${w}.`) || k.startsWith(`${w}[`)),
  );
  const detail = shown.map(([k, value]) => {
    let v = String(value);
    if (k === "properties.attributes.expires") v = `${v} (${new Date(Number(v) * 1000).toISOString()})`;
    return `      ${printable(k)} = ${printable(v.length > 160 ? `${v.slice(0, 157)}...` : v)}`;
  });
  return [`  + ${r.type}  ${r.name}`, ...detail].join("\n");
}

/** The flows the stack would output, one line each: name, environment, callers. */
function renderFlows(flows: readonly PlannedFlow[]): string {
  if (!flows.length) return "";
  const width = Math.max(...flows.map((f) => f.name.length));
  const lines = flows.map(
    (f) =>
      `  ${f.name.padEnd(width)}  environment ${f.environmentId ?? "(none in the trigger URL)"}  callers ${f.callers.join(", ")}`,
  );
  return `Flows in the outputs (${flows.length}), each with its callers' object IDs as Allowed users:\n${lines.join("\n")}\n`;
}

const spec: CommandSpec<Options> = {
  name: "validate",
  examples: [
    "validate --stack dev",
    "validate --stack prod --dir infra --now 2027-01-01T00:00:00Z",
    "validate --stack dev --json",
  ],
  configure(program: Command) {
    program
      .description(
        "Validate Pulumi.<stack>.yaml offline (no cloud credentials) and print the resources the program would declare.",
      )
      .option(
        "--stack <name>",
        "stack whose Pulumi.<name>.yaml to check (required)",
        parser(
          (v) => (/^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,199}$/.test(v) ? v : undefined),
          "must be a stack name such as dev",
        ),
      )
      .option("--dir <path>", "directory holding the stack file (default: the project root)")
      .option(
        "--now <iso>",
        `evaluate the rotation schedule at this time instead of now: ${ISO_INSTANT_HELP}`,
        isoInstant,
      );
  },
  async run(o, ctx) {
    const { io } = ctx;
    if (o.stack === undefined)
      throw new UsageError(
        "--stack is required: the stack whose Pulumi.<name>.yaml to check, e.g. dev",
        "arguments",
      );
    const stack = o.stack;
    // Loaded only here: the config schema and the YAML parser are not needed for --help.
    const { plannedFlows, readStackFile, readerWarnings, validateStackConfig } = await import("./stack-file");
    const { placeholders } = await import("./placeholders");
    const input = await readStackFile(
      o.dir === undefined ? projectRoot() : path.resolve(io.cwd, o.dir),
      stack,
    );
    const result = validateStackConfig(input, stack);
    // Encrypted values cannot be read without the stack's secrets provider: listed, never judged.
    const unchecked = input.securePaths.map((p) => ({ path: p, message: UNCHECKED }));
    const uncheckedLines = unchecked.length
      ? [`Not checked offline (${UNCHECKED}):`, ...unchecked.map((u) => `  ${printable(u.path)}`)]
      : [];
    if (!result.config) {
      const lines = [
        result.problems.length
          ? `${input.file}: ${result.problems.length} problem(s); nothing would be created:`
          : `${input.file} is valid apart from secure values that cannot be checked offline (no plan shown).`,
        // Paths and messages can repeat keys and values of the file: each stays on its line, escaped.
        ...result.problems.flatMap((p) => [
          `  ${printable(p.path)}: ${printable(p.message)}`,
          ...(p.excerpt ? p.excerpt.split("\n").map((l) => `      ${printable(l)}`) : []),
        ]),
        ...uncheckedLines,
      ];
      return {
        exitCode: result.problems.length ? EXIT.failed : EXIT.ok,
        json: { valid: result.problems.length === 0, file: input.file, problems: result.problems, unchecked },
        text: `${lines.join("\n")}\n`,
        textTo: "stderr",
      };
    }
    const warnings = [
      ...placeholders(input.raw).map(
        (p) => `${p.path} is a placeholder (${p.value}): replace it with the real value before \`pulumi up\``,
      ),
      ...readerWarnings(result.config),
    ];
    // Loaded only here: the Pulumi SDK and the program are heavy.
    const { planStack, PlanError } = await import("../../engine/offline-engine");
    let resources: PlannedResource[];
    try {
      const plan = await planStack(result.config, o.now ?? io.now(), stack);
      resources = plan.resources;
      warnings.push(...plan.warnings);
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      return {
        exitCode: EXIT.failed,
        json: { valid: false, file: input.file, error: err.message, unchecked },
        text: `${input.file} is valid, but the program refused it when evaluated offline:\n  ${printable(err.message)}\n`,
        textTo: "stderr",
      };
    }
    for (const w of warnings) ctx.note(`warning: ${printable(w)}`);
    const custom = resources.filter((r) => r.custom);
    const flows = plannedFlows(result.config);
    return {
      exitCode: EXIT.ok,
      json: { valid: true, file: input.file, resources: custom, flows, unchecked, warnings },
      text: [
        `${input.file} is valid. Planned resources (${custom.length}), computed values in <angle brackets>:`,
        ...custom.map(render),
        ...(flows.length ? [renderFlows(flows).trimEnd()] : []),
        ...uncheckedLines,
        "",
      ].join("\n"),
    };
  },
};

/** How an encrypted value is listed. */
const UNCHECKED = "secure values, encrypted in the file";

/**
 * The project root, where `Pulumi.<stack>.yaml` files live: the nearest folder above this file holding
 * Pulumi.yaml (this file is commands/validate/ in the sources, under dist/ when built; the demo's
 * bundle, dist/demo.js, resolves it from dist/ too).
 */
export function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, "Pulumi.yaml")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** `flow-trigger-auth validate <argv>`. */
export function validate(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(spec, argv, io);
}
