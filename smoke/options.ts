/**
 * The smoke test's command-line options, validated as plain data (no I/O), so every usage error is
 * found at once and names the option and what is allowed.
 */
import { CLOUD_NAMES, isCloudName, type CloudName } from "../clouds";
import { SECRET_ENV, parseKeyVaultSecretUri } from "./secret";

/** Options as commander hands them over: strings, unvalidated. */
export interface RawOptions {
  triggerUrl?: string;
  tenantId?: string;
  clientId?: string;
  cloud?: string;
  authorityHost?: string;
  keyVaultSecretUri?: string;
  stack?: string;
  outputs?: string;
  caller?: string;
  body?: string;
  expectStatus?: string;
  maxWaitS?: string;
  json?: boolean;
}

/** Validated options; identity fields may still come from stack outputs. */
export interface ValidOptions {
  triggerUrl: string;
  tenantId?: string;
  clientId?: string;
  cloud?: CloudName;
  authorityHost?: string;
  keyVaultSecretUri?: string;
  stack?: string;
  outputs?: string;
  caller?: string;
  body: string;
  expectStatus?: number;
  maxWaitMs: number;
  json: boolean;
}

/**
 * Command-line options that would carry the secret itself: refused, whatever their value. The
 * secret comes from the environment or Key Vault only.
 */
export function secretArguments(argv: readonly string[]): string[] {
  return argv
    .filter((a) => a.startsWith("-"))
    .map((a) => a.split("=")[0])
    .filter(
      (name) => /secret|password|passwd|client-?key|token/i.test(name) && name !== "--key-vault-secret-uri",
    );
}

/** The message for {@link secretArguments}; names the option only, never its value. */
export function secretArgumentMessage(option: string): string {
  return `${option}: the client secret is never taken from the command line (it would show in process lists, shell history and CI logs); set ${SECRET_ENV}, or use --key-vault-secret-uri URI or --stack NAME --caller NAME`;
}

const MAX_WAIT_S_LIMIT = 86_400;

/** Checks everything that can be checked without I/O; returns all problems, each naming its option. */
export function validateOptions(raw: RawOptions): { options?: ValidOptions; problems: string[] } {
  const problems: string[] = [];
  if (!raw.triggerUrl)
    problems.push("--trigger-url is required: the HTTP URL copied from the flow's trigger");

  let cloud: CloudName | undefined;
  if (raw.cloud !== undefined) {
    if (isCloudName(raw.cloud)) cloud = raw.cloud;
    else problems.push(`--cloud must be one of ${CLOUD_NAMES.join(", ")} (got "${raw.cloud}")`);
  }

  if (raw.authorityHost !== undefined) {
    let ok = false;
    try {
      const u = new URL(raw.authorityHost);
      ok = u.protocol === "https:" && !u.search && !u.hash;
    } catch {
      ok = false;
    }
    if (!ok)
      problems.push(
        "--authority-host must be an https:// URL without query, e.g. https://login.microsoftonline.us",
      );
  }

  if (raw.keyVaultSecretUri !== undefined) {
    const parsed = parseKeyVaultSecretUri(raw.keyVaultSecretUri);
    if ("error" in parsed) problems.push(parsed.error);
  }

  const body = raw.body ?? "{}";
  try {
    JSON.parse(body);
  } catch {
    problems.push(`--body must be JSON, e.g. '{"ping":true}' (default {})`);
  }

  let expectStatus: number | undefined;
  if (raw.expectStatus !== undefined) {
    const n = Number(raw.expectStatus);
    if (!/^\d{3}$/.test(raw.expectStatus) || n < 100 || n > 599) {
      problems.push(
        `--expect-status must be an HTTP status between 100 and 599, e.g. 200 (got "${raw.expectStatus}")`,
      );
    } else {
      expectStatus = n;
    }
  }

  let maxWaitMs = 300_000;
  if (raw.maxWaitS !== undefined) {
    const n = Number(raw.maxWaitS);
    if (!/^\d+(\.\d+)?$/.test(raw.maxWaitS) || n > MAX_WAIT_S_LIMIT) {
      problems.push(
        `--max-wait-s must be a number of seconds from 0 to ${MAX_WAIT_S_LIMIT} (got "${raw.maxWaitS}")`,
      );
    } else {
      maxWaitMs = Math.round(n * 1000);
    }
  }

  if (raw.stack !== undefined && raw.outputs !== undefined) {
    problems.push("--stack and --outputs are alternatives: give one");
  }
  const fromStack = raw.stack !== undefined || raw.outputs !== undefined;
  if (fromStack && !raw.caller)
    problems.push("--caller is required with --stack/--outputs: the caller's name in the stack config");
  if (raw.caller !== undefined && !fromStack) problems.push("--caller needs --stack NAME or --outputs FILE");
  if (!fromStack) {
    if (!raw.tenantId) problems.push("--tenant-id is required (or --stack NAME --caller NAME)");
    if (!raw.clientId) problems.push("--client-id is required (or --stack NAME --caller NAME)");
  }

  if (problems.length > 0) return { problems };
  const options: ValidOptions = {
    triggerUrl: raw.triggerUrl as string,
    body,
    maxWaitMs,
    json: raw.json === true,
  };
  if (raw.tenantId) options.tenantId = raw.tenantId;
  if (raw.clientId) options.clientId = raw.clientId;
  if (cloud) options.cloud = cloud;
  if (raw.authorityHost) options.authorityHost = raw.authorityHost;
  if (raw.keyVaultSecretUri) options.keyVaultSecretUri = raw.keyVaultSecretUri;
  if (raw.stack) options.stack = raw.stack;
  if (raw.outputs) options.outputs = raw.outputs;
  if (raw.caller) options.caller = raw.caller;
  if (expectStatus !== undefined) options.expectStatus = expectStatus;
  return { options, problems };
}
