/**
 * `flow-trigger-auth smoke`: does an HTTP-triggered flow refuse anonymous callers and accept the
 * caller's token? (docs/smoke-test.md). The credential comes from the environment, a file, Key Vault
 * or the platform (federated token, managed identity), never from an argument, and is never printed.
 */
import type { Command } from "commander";
import { CLOUD_NAMES, isCloudName, type CloudName } from "../../clouds";
import { GUID_EXAMPLE, GUID_PATTERN } from "../../fields/patterns";
import {
  CREDENTIAL_KINDS,
  DEFAULT_KIND,
  kindNamed,
  kindSpellings,
  type CredentialKind,
} from "../../kinds/names";
import { interruptExitCode, VERDICT_EXIT } from "../../lib/exit";
import { tlsVerificationProblem } from "../../lib/http";
import type { Io } from "../../lib/io";
import {
  helpHint,
  parser,
  runCommand,
  UsageError,
  type CommandSpec,
  type Context,
  type Outcome,
} from "../../lib/runner";
import { CALLER_NAME_PATTERN, STACK_NAME_PATTERN } from "../../naming";
import { checkTriggerUrl, runSmoke } from "./checks";
import {
  CREDENTIAL_SOURCES,
  sourceOptionProblems,
  type CredentialOptions,
  type Identity,
} from "./credentials";
import { parseKeyVaultSecretUri } from "./key-vault";
import {
  formatCheck,
  formatText,
  toJsonReport,
  type CheckResult,
  type ReportCheckName,
  type SmokeResult,
  type Verdict,
} from "./report";
import { identityTokenSource } from "./token";

/** Options as commander hands them over (values parsed where a parser is given). */
interface Options extends CredentialOptions {
  triggerUrl?: string;
  tenantId?: string;
  clientId?: string;
  cloud?: CloudName;
  authorityHost?: string;
  credential?: CredentialKind;
  stack?: string;
  outputs?: string;
  caller?: string;
  body: string;
  expectStatus?: number;
  maxWaitS: number;
  trustHost: string[];
}

const MAX_WAIT_S_LIMIT = 86_400;

const guid = (what: string) =>
  parser(
    (v) => (GUID_PATTERN.test(v) ? v.toLowerCase() : undefined),
    `must be ${what} (a GUID such as ${GUID_EXAMPLE})`,
  );

const httpsUrl = parser((v) => {
  if (!URL.canParse(v)) return undefined;
  const u = new URL(v);
  return u.protocol === "https:" && !u.search && !u.hash && !u.username && !u.password
    ? v.replace(/\/+$/, "")
    : undefined;
}, "must be an https:// URL without query, e.g. https://login.microsoftonline.us");

const hostName = parser(
  (v) => (/^[a-z0-9.-]{1,253}$/i.test(v) && !v.startsWith(".") ? v.toLowerCase() : undefined),
  "must be a host name such as flows.contoso.com",
);

const spec: CommandSpec<Options> = {
  name: "smoke",
  examples: [
    'smoke --stack dev --caller erp --trigger-url "$TRIGGER_URL"',
    'smoke --trigger-url "$TRIGGER_URL" --tenant-id "$TENANT_ID" --client-id "$CLIENT_ID" --key-vault-secret-uri https://flow-dev-x7k2pq.vault.azure.net/secrets/erp-client-secret',
    'smoke --outputs dev.json --caller erp --trigger-url "$TRIGGER_URL" --json --quiet',
  ],
  configure(program: Command) {
    program
      .description(
        [
          "Check that an HTTP-triggered Power Automate flow refuses anonymous calls and accepts the caller's Entra token.",
          "",
          "The credential, never from an argument (--credential):",
          ...CREDENTIAL_KINDS.map((k) => `- ${k}: ${CREDENTIAL_SOURCES[k].help}`),
        ].join("\n"),
      )
      .option("--trigger-url <url>", "the trigger's HTTP URL, copied from the flow (https, without sig)")
      .option("--tenant-id <id>", "tenant (directory) ID of the caller and the flow", guid("a tenant ID"))
      .option(
        "--client-id <id>",
        "client (application) ID of the caller (a managed identity's, if user-assigned)",
        guid("a client ID"),
      )
      .option(
        "--cloud <name>",
        `${CLOUD_NAMES.join(" | ")} (default public, or the stack's)`,
        parser((v) => (isCloudName(v) ? v : undefined), `must be one of ${CLOUD_NAMES.join(", ")}`),
      )
      .option(
        "--credential <kind>",
        `${kindSpellings().join(" | ")} (default ${DEFAULT_KIND}, or the caller's in the stack)`,
        parser(kindNamed, `must be one of ${kindSpellings().join(", ")}`),
      )
      .option(
        "--authority-host <url>",
        "non-standard Entra authority (sovereign or test endpoint); turns instance discovery off",
        httpsUrl,
      )
      .option(
        "--key-vault-secret-uri <uri>",
        "read the client secret (or the certificate PEM) from this Key Vault secret with the ambient Azure credential",
      )
      .option(
        "--certificate-file <path>",
        "PEM file holding the caller's certificate and private key (--credential certificate)",
      )
      .option(
        "--federated-token-file <path>",
        "file holding the platform's OIDC token (--credential federated; default AZURE_FEDERATED_TOKEN_FILE)",
      )
      .option(
        "--access-token-file <path>",
        "file holding a signed-in person's access token (--credential user; default: the device-code flow)",
      )
      .option(
        "--stack <name>",
        "take tenant, client ID, cloud and credential source from `pulumi stack output --json --stack NAME`",
      )
      .option(
        "--outputs <file>",
        "same as --stack, from outputs saved with `pulumi stack output --json > FILE`",
      )
      .option("--caller <name>", "the caller (from the stack config) to test, with --stack or --outputs")
      .option("--body <json>", "JSON request body sent to the trigger", "{}")
      .option(
        "--expect-status <n>",
        "status the authenticated call must get (default any 2xx; another only when the flow answers it)",
        parser(
          (v) => (/^[1-5]\d\d$/.test(v) ? Number(v) : undefined),
          "must be an HTTP status from 100 to 599, e.g. 200",
        ),
      )
      .option(
        "--max-wait-s <n>",
        "total time budget, in seconds, for every call and retry",
        parser(
          (v) => (/^\d+(\.\d+)?$/.test(v) && Number(v) <= MAX_WAIT_S_LIMIT ? Number(v) : undefined),
          `must be a number of seconds from 0 to ${MAX_WAIT_S_LIMIT}`,
        ),
        300,
      )
      .option(
        "--trust-host <host>",
        "send the token to this host too (repeatable); by default only Power Automate's hosts of the cloud, and loopback",
        (v: string, all: string[]) => [...all, hostName(v)],
        [] as string[],
      );
  },
  run,
  failure(kind, message, ctx, subject, hint) {
    if (kind === "internal") return report(ctx, "error", [failedCheck("internal", message)]);
    if (kind === "interrupted") {
      const outcome = report(ctx, "interrupted", [failedCheck("interrupted", message)]);
      const exitCode = interruptExitCode(ctx.io.interrupted?.reason);
      return {
        ...outcome,
        exitCode,
        text: outcome.text.replace(/\(exit \d+\)/, `(exit ${exitCode})`),
        textTo: "stderr",
      };
    }
    const name: ReportCheckName =
      subject === "secret" || subject === "outputs" || subject === "url" ? subject : "arguments";
    // The runner decides the hint of what it caught ("" for none).
    return usage(message, ctx, name, [], hint ?? "");
  },
};

/** `flow-trigger-auth smoke <argv>`. */
export function smoke(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(spec, argv, io);
}

function failedCheck(name: ReportCheckName, message: string, code?: string): CheckResult {
  return { name, ok: false, message, attempts: 0, durationMs: 0, ...(code ? { code } : {}) };
}

function report(ctx: Context, verdict: Verdict, checks: CheckResult[]): Outcome {
  return outcomeOf({
    verdict,
    exitCode: VERDICT_EXIT[verdict],
    checks,
    durationMs: ctx.io.now() - ctx.startedAt,
  });
}

/**
 * A usage verdict: `message` as the check `name`; only a problem with the options (`arguments`)
 * points at the help (one hint: `hint`, else the runner's).
 */
function usage(
  message: string,
  ctx: Context,
  name: ReportCheckName = "arguments",
  before: CheckResult[] = [],
  hint: string | undefined = name === "arguments" ? helpHint("smoke") : undefined,
): Outcome {
  const outcome = report(ctx, "usage", [...before, failedCheck(name, message)]);
  return { ...outcome, text: `${outcome.text}${hint ? `${hint}\n` : ""}`, textTo: "stderr" };
}

/** The outcome of a run whose first `printed` checks were printed as they finished. */
function outcomeOf(result: SmokeResult, printed = 0): Outcome {
  return {
    exitCode: result.exitCode,
    json: toJsonReport(result),
    text: formatText(result, printed),
    textTo: result.verdict === "usage" ? "stderr" : "stdout",
  };
}

async function run(o: Options, ctx: Context): Promise<Outcome> {
  const { io } = ctx;
  const deadline = ctx.startedAt + o.maxWaitS * 1000;
  // An "Anyone" URL is insecure whatever else is wrong, and no call is made.
  if (o.triggerUrl !== undefined) {
    const first = checkTriggerUrl(o.triggerUrl, undefined, o.trustHost);
    if (first.outcome === "insecure")
      return report(ctx, "insecure", [failedCheck("url", first.message, first.code)]);
  }
  const problems = optionProblems(o);
  if (problems.length) return usage(problems.join("; "), ctx);
  // Every run sends a secret or a token (Key Vault, Entra, the trigger): never without TLS checks.
  const tls = tlsVerificationProblem(io.env);
  if (tls) return usage(tls, ctx, "arguments", [], "");

  // Identity: options, else stack outputs.
  let identity: Identity;
  if (o.stack !== undefined || o.outputs !== undefined) {
    // Loaded only here: reading outputs needs their schema (zod), which a plain run does not.
    const { loadOutputs } = await import("../../lib/stack-outputs");
    const { callerNamed } = await import("../../outputs");
    const [loaded] = await loadOutputs(
      [
        o.outputs !== undefined
          ? { kind: "file", file: o.outputs }
          : { kind: "stack", stack: o.stack as string },
      ],
      io,
      deadline,
      ctx.progress,
    );
    const caller = callerNamed(loaded.outputs, o.caller as string);
    if (!caller) {
      const names = Object.keys(loaded.outputs.callers).join(", ");
      throw new UsageError(`--caller must name a caller of this stack; its callers: ${names}`, "outputs");
    }
    identity = {
      tenantId: o.tenantId ?? loaded.outputs.tenantId,
      clientId: o.clientId ?? caller.clientId,
      cloud: o.cloud ?? loaded.outputs.cloud,
      kind: o.credential ?? caller.credential,
      ...("keyVaultSecretUri" in caller ? { vaultUri: caller.keyVaultSecretUri } : {}),
    };
  } else {
    identity = {
      tenantId: o.tenantId as string,
      clientId: o.clientId,
      cloud: o.cloud ?? "public",
      kind: o.credential ?? DEFAULT_KIND,
    };
  }

  const sourceProblems = sourceOptionProblems(o, identity.kind);
  if (sourceProblems.length) return usage(sourceProblems.join("; "), ctx);

  const url = checkTriggerUrl(o.triggerUrl as string, identity.cloud, o.trustHost);
  if (url.outcome === "usage") return usage(url.message, ctx, "url");

  const credential = await CREDENTIAL_SOURCES[identity.kind].read(o, identity, { ctx, deadline });
  // Each check is printed as it finishes, each wait as it begins.
  let printed = 0;
  const result = await runSmoke(
    {
      triggerUrl: o.triggerUrl as string,
      tenantId: identity.tenantId,
      clientId: identity.clientId ?? "",
      credential,
      cloud: identity.cloud,
      ...(o.authorityHost ? { authorityHost: o.authorityHost } : {}),
      trustedHosts: o.trustHost,
      body: o.body,
      ...(o.expectStatus !== undefined ? { expectStatus: o.expectStatus } : {}),
      maxWaitMs: o.maxWaitS * 1000,
      startedAtMs: ctx.startedAt,
    },
    {
      fetch: io.fetch,
      timer: io.timer,
      now: io.now,
      sleep: io.sleep,
      random: io.random,
      onCheck: (check, ends) => {
        printed++;
        ctx.report(formatCheck(check, ends ?? "pass"));
      },
      progress: (line) => ctx.progress(line),
      acquireToken: identityTokenSource({
        fetch: io.fetch,
        timer: io.timer,
        env: io.env,
        log: (line) => ctx.note(line),
      }),
    },
  );
  return outcomeOf(result, printed);
}

/** Every problem with the options that needs no I/O, each naming its option. */
function optionProblems(o: Options): string[] {
  const problems: string[] = [];
  if (!o.triggerUrl) problems.push("--trigger-url is required: the HTTP URL copied from the flow's trigger");
  try {
    JSON.parse(o.body);
  } catch {
    problems.push(`--body must be JSON, e.g. '{"ping":true}' (default {})`);
  }
  if (o.stack !== undefined && o.outputs !== undefined)
    problems.push("--stack and --outputs are alternatives: give one");
  if (o.stack !== undefined && !STACK_NAME_PATTERN.test(o.stack))
    problems.push("--stack must be a stack name such as dev or org/project/dev");
  const fromStack = o.stack !== undefined || o.outputs !== undefined;
  if (fromStack && !o.caller)
    problems.push("--caller is required with --stack/--outputs: the caller's name in the stack config");
  if (o.caller !== undefined && !CALLER_NAME_PATTERN.test(o.caller)) {
    problems.push(
      "--caller must be a caller name: lowercase letters, digits and hyphens, starting with a letter",
    );
  }
  if (o.caller !== undefined && !fromStack) problems.push("--caller needs --stack NAME or --outputs FILE");
  if (!fromStack && !o.tenantId) problems.push("--tenant-id is required (or --stack NAME --caller NAME)");
  if (!fromStack && !o.clientId && !CREDENTIAL_SOURCES[o.credential ?? DEFAULT_KIND].clientIdOptional) {
    problems.push("--client-id is required (or --stack NAME --caller NAME)");
  }
  if (o.keyVaultSecretUri !== undefined) {
    const parsed = parseKeyVaultSecretUri(o.keyVaultSecretUri);
    if ("error" in parsed) problems.push(parsed.error);
  }
  // A credential source of another kind (it would be ignored), or two sources for one credential; with
  // --stack and no --credential, the stack's kind decides, once the outputs are read.
  const kind = o.credential ?? (fromStack ? undefined : DEFAULT_KIND);
  if (kind !== undefined) problems.push(...sourceOptionProblems(o, kind));
  return problems;
}
