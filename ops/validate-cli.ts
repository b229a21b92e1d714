/**
 * `npm run validate -- --stack NAME`: offline, no cloud credentials. Reads `Pulumi.NAME.yaml`, validates
 * it with the program's schema, evaluates the program with the engine mocked and prints the plan.
 * Exit 0: valid; 1: invalid config (every bad key named); 2: usage error or unreadable file.
 */
import { Command, CommanderError } from "commander";
import { isoInstant } from "./cli-common";
import { PlanError, planStack, type PlannedResource } from "./offline-engine";
import { userPath } from "./stack-outputs";
import { readStackFile, StackFileError, validateStackConfig } from "./validate";

const EXIT = { valid: 0, invalid: 1, usage: 2 } as const;

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
  const detail = shown.map(([k, v]) => {
    if (k === "properties.attributes.expires") v = `${v} (${new Date(Number(v) * 1000).toISOString()})`;
    return `      ${k} = ${v.length > 160 ? `${v.slice(0, 157)}...` : v}`;
  });
  return [`  + ${r.type}  ${r.name}`, ...detail].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("npm run validate --")
    .description("Validate Pulumi.<stack>.yaml offline and print the resources the program would declare.")
    .requiredOption("--stack <name>", "stack whose Pulumi.<name>.yaml to check")
    .option(
      "--dir <path>",
      "directory holding the stack file (default: the project root)",
      userPath,
      process.cwd(),
    )
    .option("--now <iso>", "evaluate the rotation schedule at this time instead of now", isoInstant)
    .option("--json", "print one JSON object instead of text")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.valid : EXIT.usage;
    throw err;
  }
  const opts = program.opts<{ stack: string; dir: string; now?: number; json?: boolean }>();

  let input;
  try {
    input = await readStackFile(opts.dir, opts.stack);
  } catch (err) {
    if (err instanceof StackFileError) {
      if (opts.json) console.log(JSON.stringify({ valid: false, error: err.message }));
      else console.error(`error: ${err.message}`);
      return EXIT.usage;
    }
    throw err;
  }
  const result = validateStackConfig(input, opts.stack);
  if (!result.config) {
    if (opts.json) {
      console.log(
        JSON.stringify({
          valid: false,
          file: input.file,
          problems: result.problems,
          unchecked: result.unchecked,
        }),
      );
    } else {
      if (result.problems.length) {
        console.error(`${input.file}: ${result.problems.length} problem(s); nothing would be created:`);
      } else {
        console.error(
          `${input.file} is valid apart from secure values that cannot be checked offline (no plan shown):`,
        );
      }
      for (const p of result.problems) console.error(`  ${p.path}: ${p.message}`);
      for (const p of result.unchecked) console.error(`  ${p.path}: secure value, not checked offline`);
    }
    return result.problems.length ? EXIT.invalid : EXIT.valid;
  }

  let resources: PlannedResource[];
  try {
    let warnings: string[];
    ({ resources, warnings } = await planStack(result.config, opts.now ?? Date.now(), opts.stack));
    for (const w of warnings) console.error(`warning: ${w}`);
  } catch (err) {
    if (!(err instanceof PlanError)) throw err;
    if (opts.json) console.log(JSON.stringify({ valid: false, file: input.file, error: err.message }));
    else
      console.error(
        `${input.file} is valid, but the program refused it when evaluated offline:\n  ${err.message}`,
      );
    return EXIT.invalid;
  }
  const custom = resources.filter((r) => r.custom);
  if (opts.json) {
    console.log(JSON.stringify({ valid: true, file: input.file, resources: custom }));
  } else {
    console.log(
      `${input.file} is valid. Planned resources (${custom.length}), computed values in <angle brackets>:`,
    );
    for (const r of custom) console.log(render(r));
  }
  return EXIT.valid;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = EXIT.usage;
  },
);
