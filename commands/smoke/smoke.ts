/**
 * `flow-trigger-auth smoke`: does an HTTP-triggered flow refuse anonymous callers and accept the
 * caller's token? (docs/smoke-test.md). The credential comes from the environment, a file, Key Vault
 * or the platform (federated token, managed identity), never from an argument, and is never printed.
 */
import path from "node:path";
import type { Command } from "commander";
import { CLOUD_NAMES, isCloudName, type CloudName } from "../../clouds";
import { GUID_EXAMPLE, GUID_PATTERN as GUID } from "../../fields/patterns";
import type { CallerOutputs } from "../../kinds/registry";
import { CALLER_NAME_PATTERN, STACK_NAME_PATTERN } from "../../naming";
import {
  checkTriggerUrl,
  VERDICT_EXIT,
  formatText,
  runSmoke,
  toJsonReport,
  type CheckResult,
  type ReportCheckName,
  type SmokeResult,
  type Verdict,
} from "./checks";
import { FileReadError, readBoundedText } from "../../lib/bounded-file";
import { certificateProblem, federatedTokenProblem } from "./credential-checks";
import { tlsVerificationProblem } from "../../lib/http";
import { CERTIFICATE_ENV, parseKeyVaultSecretUri, readKeyVaultSecret, SECRET_ENV } from "./key-vault";
import { identityTokenSource, type CallerCredential } from "./token";
import { interruptExitCode } from "../../lib/exit";
import type { Io } from "../../lib/io";
import {
  parser,
  runCommand,
  UsageError,
  type CommandSpec,
  type Context,
  type Outcome,
} from "../../lib/runner";

/** The credential kinds `--credential` takes. */
export const CREDENTIAL_OPTIONS = ["secret", "certificate", "federated", "managed-identity"] as const;
type CredentialOption = (typeof CREDENTIAL_OPTIONS)[number];

/** Options as commander hands them over (values parsed where a parser is given). */
interface Options {
  triggerUrl?: string;
  tenantId?: string;
  clientId?: string;
  cloud?: CloudName;
  authorityHost?: string;
  credential?: CredentialOption;
  keyVaultSecretUri?: string;
  certificateFile?: string;
  federatedTokenFile?: string;
  stack?: string;
  outputs?: string;
  caller?: string;
  body: string;
  expectStatus?: number;
  maxWaitS: number;
  trustHost: string[];
}

const MAX_WAIT_S_LIMIT = 86_400;
/** Entra generates client secrets of 40 characters (older ones 32 to 44): anything much shorter is not one. */
export const MIN_SECRET_LENGTH = 16;

const guid = (what: string) =>
  parser(
    (v) => (GUID.test(v) ? v.toLowerCase() : undefined),
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
  summary: "check that a flow refuses anonymous calls and accepts the caller's token",
  configure(program: Command) {
    program
      .description(
        "Check that an HTTP-triggered Power Automate flow refuses anonymous calls and accepts the caller's Entra token.\n" +
          `Credential: a client secret from env ${SECRET_ENV} or Key Vault; a certificate (PEM) from --certificate-file, env ${CERTIFICATE_ENV} or Key Vault;\n` +
          "a federated token from --federated-token-file or AZURE_FEDERATED_TOKEN_FILE; the managed identity of the Azure resource it runs on.\n" +
          "Never from an argument. Exit codes: 0 pass, 1 fail, 2 usage or config error, 3 insecure trigger, 70 internal error.",
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
        `${CREDENTIAL_OPTIONS.join(" | ")} (default secret, or the caller's in the stack)`,
        parser(
          (v) =>
            (CREDENTIAL_OPTIONS as readonly string[]).includes(v) ? (v as CredentialOption) : undefined,
          `must be one of ${CREDENTIAL_OPTIONS.join(", ")}`,
        ),
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
  failure(kind, message, ctx, subject) {
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
    return usage(message, ctx, name);
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

function usage(
  message: string,
  ctx: Context,
  name: ReportCheckName = "arguments",
  before: CheckResult[] = [],
): Outcome {
  const outcome = report(ctx, "usage", [...before, failedCheck(name, message)]);
  return { ...outcome, text: `${outcome.text}run with --help for the options\n`, textTo: "stderr" };
}

function outcomeOf(result: SmokeResult): Outcome {
  return {
    exitCode: result.exitCode,
    json: toJsonReport(result),
    text: formatText(result),
    textTo: result.verdict === "usage" ? "stderr" : "stdout",
  };
}

/** What the caller is, from the options or the stack outputs. */
interface Identity {
  tenantId: string;
  clientId?: string;
  cloud: CloudName;
  kind: CredentialOption;
  /** Where the stack keeps the caller's secret or certificate. */
  vaultUri?: string;
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
  if (tls) return usage(tls, ctx);

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
      kind: o.credential ?? kindOf(caller),
      ...("keyVaultSecretUri" in caller ? { vaultUri: caller.keyVaultSecretUri } : {}),
    };
  } else {
    identity = {
      tenantId: o.tenantId as string,
      clientId: o.clientId,
      cloud: o.cloud ?? "public",
      kind: o.credential ?? "secret",
    };
  }

  const url = checkTriggerUrl(o.triggerUrl as string, identity.cloud, o.trustHost);
  if (url.outcome === "usage") return usage(url.message, ctx, "url");

  const credential = await credentialOf(o, identity, ctx, deadline);
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
      acquireToken: identityTokenSource({
        fetch: io.fetch,
        timer: io.timer,
        env: io.env,
        log: (line) => ctx.note(line),
      }),
    },
  );
  return outcomeOf(result);
}

function kindOf(caller: CallerOutputs): CredentialOption {
  return caller.credential === "managedIdentity" ? "managed-identity" : caller.credential;
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
  if (!fromStack && !o.clientId && o.credential !== "managed-identity") {
    problems.push("--client-id is required (or --stack NAME --caller NAME)");
  }
  if (o.keyVaultSecretUri !== undefined) {
    const parsed = parseKeyVaultSecretUri(o.keyVaultSecretUri);
    if ("error" in parsed) problems.push(parsed.error);
  }
  if (o.certificateFile !== undefined && o.credential !== undefined && o.credential !== "certificate") {
    problems.push("--certificate-file goes with --credential certificate");
  }
  if (o.federatedTokenFile !== undefined && o.credential !== undefined && o.credential !== "federated") {
    problems.push("--federated-token-file goes with --credential federated");
  }
  return problems;
}

/** The caller's credential, from where its kind takes it; registered for redaction. */
async function credentialOf(
  o: Options,
  who: Identity,
  ctx: Context,
  deadline: number,
): Promise<CallerCredential> {
  const { io } = ctx;
  const fromVault = async (uri: string, option: string): Promise<string> => {
    const ref = parseKeyVaultSecretUri(uri, option);
    if ("error" in ref) throw new UsageError(ref.error, "secret");
    const value = await readKeyVaultSecret(ref, {
      fetch: io.fetch,
      timer: io.timer,
      env: io.env,
      log: (line) => ctx.note(line),
      timeoutMs: Math.max(1000, deadline - io.now()),
      ...(io.azureCredential ? { credential: io.azureCredential } : {}),
    });
    ctx.secret(value);
    return value;
  };
  switch (who.kind) {
    case "secret": {
      const env = io.env[SECRET_ENV];
      const vaultUri = o.keyVaultSecretUri ?? (env ? undefined : who.vaultUri);
      const secret = vaultUri !== undefined ? await fromVault(vaultUri, "--key-vault-secret-uri") : env;
      if (!secret) {
        throw new UsageError(
          `no client secret: set ${SECRET_ENV}, or pass --key-vault-secret-uri URI or --stack NAME --caller NAME (never the secret itself)`,
          "secret",
        );
      }
      ctx.secret(secret);
      const problem = secretProblem(secret, vaultUri !== undefined ? "the Key Vault secret" : SECRET_ENV);
      if (problem) throw new UsageError(problem, "secret");
      return { kind: "secret", secret };
    }
    case "certificate": {
      let pem: string | undefined;
      let where = CERTIFICATE_ENV;
      if (o.certificateFile !== undefined) {
        where = `--certificate-file ${o.certificateFile}`;
        pem = await readText(path.resolve(io.cwd, o.certificateFile), where, io, deadline);
      } else if (o.keyVaultSecretUri !== undefined) {
        where = "the Key Vault secret (--key-vault-secret-uri)";
        pem = await fromVault(o.keyVaultSecretUri, "--key-vault-secret-uri");
      } else if (io.env[CERTIFICATE_ENV]) pem = io.env[CERTIFICATE_ENV];
      else if (who.vaultUri !== undefined) {
        where = "the caller's Key Vault secret (keyVaultSecretUri)";
        pem = await fromVault(who.vaultUri, "the caller's keyVaultSecretUri");
      }
      if (!pem) {
        throw new UsageError(
          `no certificate: pass --certificate-file PEM, set ${CERTIFICATE_ENV}, or use --key-vault-secret-uri URI or --stack NAME --caller NAME`,
        );
      }
      ctx.secret(pem);
      // A certificate that cannot work is a local problem, found before any request.
      const problem = certificateProblem(pem, where);
      if (problem) throw new UsageError(problem, "secret");
      return { kind: "certificate", pem };
    }
    case "federated": {
      const file = o.federatedTokenFile ?? io.env.AZURE_FEDERATED_TOKEN_FILE;
      if (!file) {
        throw new UsageError(
          "no federated token: pass --federated-token-file FILE or set AZURE_FEDERATED_TOKEN_FILE (the platform's OIDC token, e.g. from GitHub Actions)",
        );
      }
      const full = path.resolve(io.cwd, file);
      const what = `the federated token file ${file} (${o.federatedTokenFile !== undefined ? "--federated-token-file" : "AZURE_FEDERATED_TOKEN_FILE"})`;
      /** The token as the file holds it now (the platform renews it), checked before it is sent. */
      const read = async () => {
        const token = (await readText(full, what, io, deadline)).trim();
        ctx.secret(token);
        const problem = federatedTokenProblem(token, what);
        if (problem) throw new UsageError(problem, "secret");
        return token;
      };
      await read();
      return { kind: "federated", assertion: read };
    }
    case "managed-identity":
      return { kind: "managedIdentity", ...(who.clientId ? { clientId: who.clientId } : {}) };
  }
}

/** Largest certificate or token file read: a PEM chain or an OIDC token is a few KiB. */
export const MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024;

/** A credential file as UTF-8 text: a regular file, read with a bound and within the run's budget. */
async function readText(file: string, what: string, io: Io, deadline: number): Promise<string> {
  const timer = io.timer(Math.max(1000, deadline - io.now()));
  try {
    return await readBoundedText(file, { what, maxBytes: MAX_CREDENTIAL_FILE_BYTES, signal: timer.signal });
  } catch (err) {
    // Reported as the credential's problem (the `secret` check), before any request.
    if (err instanceof FileReadError) throw new UsageError(err.message, "secret");
    throw err;
  } finally {
    timer.cancel();
  }
}

/** Why `secret` cannot be an Entra client secret, without repeating it. */
export function secretProblem(secret: string, where: string): string | undefined {
  if (GUID.test(secret.trim())) {
    return `${where} looks like the secret's ID (a GUID): use the secret's Value, shown once when it was created (or read it from Key Vault)`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(secret))
    return `${where} contains spaces or control characters: an Entra client secret has none`;
  if (secret.length < MIN_SECRET_LENGTH) {
    return `${where} is ${secret.length} characters long: an Entra client secret has about 40; copy the whole Value`;
  }
  if (secret.length > 1024)
    return `${where} is longer than 1024 characters: it is not an Entra client secret`;
  return undefined;
}
