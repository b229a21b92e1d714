/**
 * `npm run smoke -- --trigger-url URL --tenant-id ID --client-id ID [options]`: checks that an
 * HTTP-triggered flow refuses anonymous callers and accepts the caller's token (contract: "Smoke test").
 * Exit 0 pass, 1 fail, 2 usage or config error, 3 insecure trigger. `--json`: exactly one JSON object.
 * The client secret comes from FLOW_CLIENT_SECRET, Key Vault or stack outputs, never from an argument,
 * and is never printed. No Pulumi here (stack outputs are read as JSON).
 */
import { Command, CommanderError } from "commander";
import { CLOUD_NAMES, isCloudName, type CloudName } from "../clouds";
import {
  readStackOutputsFile,
  readStackOutputsFromPulumi,
  StackOutputsError,
  type StackOutputs,
} from "../ops/stack-outputs";
import {
  checkTriggerUrl,
  EXIT_CODES,
  formatText,
  runSmoke,
  toJsonReport,
  type CheckResult,
  type JsonReport,
  type SmokeResult,
  type Verdict,
} from "./checks";
import { secretArgumentMessage, secretArguments, validateOptions, type RawOptions } from "./options";
import { guardProcessOutput, redact, writeUnguarded } from "./redact";
import { SECRET_ENV, parseKeyVaultSecretUri, readKeyVaultSecret } from "./secret";

/** Secrets known so far; every byte written to stdout/stderr is scrubbed of them. */
const knownSecrets: string[] = [];
/** Environment variables of the ambient Azure credential (`EnvironmentCredential`) that hold secrets. */
const AMBIENT_SECRET_ENVS = ["AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_PASSWORD"];
/** Set once the report is printed: `--json` prints exactly one object, even if something fails later. */
let printed = false;
const startedAt = Date.now();
let jsonMode = process.argv.includes("--json");

function report(verdict: Verdict, checks: CheckResult[], extra: Partial<SmokeResult> = {}): SmokeResult {
  return {
    verdict,
    exitCode: EXIT_CODES[verdict],
    checks: checks.map((c) => ({ ...c, message: redact(c.message, knownSecrets) })),
    durationMs: Date.now() - startedAt,
    ...extra,
  };
}

function usage(
  message: string,
  name: CheckResult["name"] = "arguments",
  extra: CheckResult[] = [],
): SmokeResult {
  return report("usage", [...extra, { name, ok: false, message, attempts: 0, durationMs: 0 }]);
}

/**
 * The `--json` report with every free-text value (message, code, run ID) scrubbed of the known
 * secrets and of anything token-shaped. Keys, verdict and check names are fixed words, left as they are.
 */
function redactedJsonReport(result: SmokeResult): JsonReport {
  const json = toJsonReport(result);
  return {
    ...json,
    checks: json.checks.map((c) => ({
      ...c,
      message: redact(c.message, knownSecrets),
      ...(c.code !== undefined ? { code: redact(c.code, knownSecrets) } : {}),
    })),
    ...(json.runId !== undefined ? { runId: redact(json.runId, knownSecrets) } : {}),
  };
}

function print(result: SmokeResult): void {
  if (printed) return;
  printed = true;
  if (jsonMode) {
    // Redacted structurally above: the text guard would mangle keys and names for a short secret.
    writeUnguarded(process.stdout, `${JSON.stringify(redactedJsonReport(result))}\n`);
    return;
  }
  const text = formatText(result);
  if (result.verdict === "usage") {
    process.stderr.write(text);
    process.stderr.write("run with --help for the options\n");
  } else {
    process.stdout.write(text);
  }
}

function buildProgram(): Command {
  return new Command("smoke")
    .description(
      "Check that an HTTP-triggered Power Automate flow refuses anonymous calls and accepts the caller's Entra token.\n" +
        `The client secret comes from env ${SECRET_ENV}, --key-vault-secret-uri, or --stack/--outputs with --caller; never from an argument.\n` +
        "Exit codes: 0 pass, 1 fail, 2 usage or config error, 3 insecure trigger.",
    )
    .option("--trigger-url <url>", "the trigger's HTTP URL, copied from the flow (https, without sig)")
    .option("--tenant-id <id>", "tenant (directory) ID of the caller and the flow")
    .option("--client-id <id>", "application (client) ID of the caller's app registration")
    .option("--cloud <name>", `${CLOUD_NAMES.join(" | ")} (default public, or the stack's)`)
    .option(
      "--authority-host <url>",
      "non-standard Entra authority (sovereign or test endpoint); turns instance discovery off",
    )
    .option(
      "--key-vault-secret-uri <uri>",
      "read the client secret from this Key Vault secret with the ambient Azure credential",
    )
    .option(
      "--stack <name>",
      "take tenant, client ID, cloud and secret URI from `pulumi stack output --json --stack NAME`",
    )
    .option(
      "--outputs <file>",
      "same as --stack, from outputs saved with `pulumi stack output --json > FILE`",
    )
    .option("--caller <name>", "the caller (from the stack config) to test, with --stack or --outputs")
    .option("--body <json>", "JSON request body sent to the trigger", "{}")
    .option("--expect-status <n>", "HTTP status the authenticated call must get (default: any 2xx)")
    .option("--max-wait-s <n>", "total time budget for retries, in seconds", "300")
    .option("--json", "print exactly one JSON object on stdout")
    .helpOption("-h, --help", "show this help")
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: () => undefined,
      outputError: () => undefined,
    });
}

/** Commander's message without any `=value` it may have echoed. */
function commanderMessage(err: CommanderError): string {
  return err.message.replace(/^error:\s*/, "").replace(/'(-[^'=]+)=[^']*'/g, "'$1'");
}

interface Identity {
  tenantId: string;
  clientId: string;
  cloud: CloudName;
  secretUri?: string;
}

async function main(argv: string[]): Promise<SmokeResult | "help"> {
  const envSecret = process.env[SECRET_ENV];
  if (envSecret) knownSecrets.push(envSecret);
  // The ambient Azure credential's own secrets (Key Vault reads): never printed either.
  for (const name of AMBIENT_SECRET_ENVS) {
    const value = process.env[name];
    if (value) knownSecrets.push(value);
  }

  const secretArgs = secretArguments(argv);
  if (secretArgs.length > 0) return usage(secretArgs.map(secretArgumentMessage).join("; "));

  const program = buildProgram();
  try {
    program.parse(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.help") return "help";
      return usage(commanderMessage(err));
    }
    throw err;
  }
  const raw = program.opts<RawOptions>();
  jsonMode = raw.json === true;

  // Check 1 first: an "Anyone" URL is reported as insecure whatever else is wrong, with no call made.
  const url = raw.triggerUrl !== undefined ? checkTriggerUrl(raw.triggerUrl) : undefined;
  if (url?.outcome === "insecure") {
    return report("insecure", [
      { name: "url", ok: false, code: url.code, message: url.message, attempts: 0, durationMs: 0 },
    ]);
  }
  const urlChecks: CheckResult[] =
    url?.outcome === "usage"
      ? [{ name: "url", ok: false, message: url.message, attempts: 0, durationMs: 0 }]
      : [];
  const { options, problems } = validateOptions(raw);
  if (!options || urlChecks.length > 0) {
    if (problems.length === 0) return report("usage", urlChecks);
    return usage(problems.join("; "), "arguments", urlChecks);
  }

  // Identity: options, else stack outputs.
  let outputs: StackOutputs | undefined;
  if (options.stack !== undefined || options.outputs !== undefined) {
    try {
      outputs =
        options.outputs !== undefined
          ? await readStackOutputsFile(options.outputs)
          : await readStackOutputsFromPulumi(options.stack as string);
    } catch (err) {
      if (err instanceof StackOutputsError) return usage(err.message);
      throw err;
    }
  }
  let identity: Identity;
  if (outputs) {
    const caller = outputs.callers[options.caller as string];
    if (!caller) {
      const names = Object.keys(outputs.callers).join(", ") || "(none)";
      return usage(`--caller ${options.caller} is not a caller of this stack; its callers: ${names}`);
    }
    const stackCloud = outputs.cloud;
    if (!options.cloud && !isCloudName(stackCloud)) {
      return usage(`the stack's cloud "${stackCloud}" is not one of ${CLOUD_NAMES.join(", ")}; pass --cloud`);
    }
    identity = {
      tenantId: options.tenantId ?? outputs.tenantId,
      clientId: options.clientId ?? caller.clientId,
      cloud: options.cloud ?? (stackCloud as CloudName),
      secretUri: caller.keyVaultSecretUri,
    };
  } else {
    identity = {
      tenantId: options.tenantId as string,
      clientId: options.clientId as string,
      cloud: options.cloud ?? "public",
    };
  }

  // The secret: --key-vault-secret-uri, else FLOW_CLIENT_SECRET, else the stack's Key Vault secret.
  let clientSecret: string;
  const vaultUri = options.keyVaultSecretUri ?? (envSecret ? undefined : identity.secretUri);
  if (vaultUri !== undefined) {
    const ref = parseKeyVaultSecretUri(vaultUri);
    if ("error" in ref) return usage(ref.error, "secret");
    try {
      clientSecret = await readKeyVaultSecret(ref);
    } catch (err) {
      return usage(err instanceof Error ? err.message : "cannot read the secret from Key Vault", "secret");
    }
    knownSecrets.push(clientSecret);
  } else if (envSecret) {
    clientSecret = envSecret;
  } else {
    return usage(
      `no client secret: set ${SECRET_ENV}, or pass --key-vault-secret-uri URI or --stack NAME --caller NAME (never the secret itself)`,
      "secret",
    );
  }

  const result = await runSmoke({
    triggerUrl: options.triggerUrl,
    tenantId: identity.tenantId,
    clientId: identity.clientId,
    clientSecret,
    cloud: identity.cloud,
    ...(options.authorityHost ? { authorityHost: options.authorityHost } : {}),
    body: options.body,
    ...(options.expectStatus !== undefined ? { expectStatus: options.expectStatus } : {}),
    maxWaitMs: options.maxWaitMs,
  });
  return { ...result, durationMs: Date.now() - startedAt };
}

function exit(code: number): void {
  // Flush before exiting: stdout may be a pipe read by `pulumi up` or CI.
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

function crash(err: unknown): void {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const result = report("fail", []);
  process.stderr.write(`smoke test crashed: ${redact(message, knownSecrets)}\n`);
  print(result);
  exit(EXIT_CODES.fail);
}

guardProcessOutput(() => knownSecrets);
process.on("uncaughtException", crash);
process.on("unhandledRejection", crash);

main(process.argv.slice(2)).then((result) => {
  if (result === "help") return exit(0);
  print(result);
  exit(result.exitCode);
}, crash);
