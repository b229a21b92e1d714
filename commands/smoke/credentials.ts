/**
 * Where `smoke` takes each kind of credential from: the environment, a file, Key Vault or the platform,
 * never an argument; every secret value is registered for redaction the moment it is read, and a
 * credential that cannot work is refused before any request (exit 2, naming where it came from). One
 * entry per credential kind.
 */
import path from "node:path";
import { CLOUDS, type CloudName } from "../../clouds";
import { GUID_PATTERN } from "../../fields/patterns";
import { KIND_NAMES, type CredentialKind } from "../../kinds/names";
import { FileReadError, readBoundedText } from "../../lib/bounded-file";
import type { Io } from "../../lib/io";
import { UsageError, type Context } from "../../lib/runner";
import { accessTokenProblem, certificateProblem, federatedTokenProblem } from "./credential-checks";
import { parseKeyVaultSecretUri, readKeyVaultSecret, type ReadSecret } from "./key-vault";
import type { CallerCredential } from "./token";

/** The environment variable holding a client secret. */
export const SECRET_ENV = KIND_NAMES.secret.env;
/** The environment variable holding a certificate and its private key, PEM. */
export const CERTIFICATE_ENV = KIND_NAMES.certificate.env;

/** The options a credential may come from, as commander hands them over. */
export interface CredentialOptions {
  keyVaultSecretUri?: string;
  certificateFile?: string;
  federatedTokenFile?: string;
  accessTokenFile?: string;
}

/** Who the caller is, from the options or the stack outputs. */
export interface Identity {
  tenantId: string;
  clientId?: string;
  cloud: CloudName;
  kind: CredentialKind;
  /** Where the stack keeps the caller's secret or certificate. */
  vaultUri?: string;
}

/** What reading a credential may use besides the options. */
interface ReadContext {
  ctx: Context;
  /** When the run's budget ends (ms, on the io's clock). */
  deadline: number;
}

/** Where one kind of credential comes from. */
interface CredentialSource {
  /** For `--help`: where it comes from. */
  help: string;
  /** The options this kind takes its credential from, by their commander name, with their flag. */
  options?: Partial<Record<keyof CredentialOptions, string>>;
  /** `--client-id` may be left out (a system-assigned managed identity). */
  clientIdOptional?: boolean;
  /** Reads it, registering every secret value with the runner. */
  read(o: CredentialOptions, who: Identity, r: ReadContext): Promise<CallerCredential>;
}

/** Each credential kind's source. */
export const CREDENTIAL_SOURCES: Record<CredentialKind, CredentialSource> = {
  secret: {
    help: `a client secret from env ${SECRET_ENV} or Key Vault`,
    options: { keyVaultSecretUri: "--key-vault-secret-uri" },
    async read(o, who, r) {
      const env = r.ctx.io.env[SECRET_ENV];
      const vaultUri = o.keyVaultSecretUri ?? (env ? undefined : who.vaultUri);
      const read =
        vaultUri !== undefined ? await fromVault(vaultUri, "--key-vault-secret-uri", r) : undefined;
      const secret = read ? read.value : env;
      if (!secret) {
        throw new UsageError(
          `no client secret: set ${SECRET_ENV}, or pass --key-vault-secret-uri URI or --stack NAME --caller NAME (never the secret itself)`,
          "secret",
        );
      }
      r.ctx.secret(secret);
      const problem = secretProblem(secret, vaultUri !== undefined ? "the Key Vault secret" : SECRET_ENV);
      if (problem) throw new UsageError(problem, "secret");
      // Key Vault says when this version was published: an invalid secret older than the replication
      // window is not retried (commands/smoke/checks.ts).
      return {
        kind: "secret",
        secret,
        ...(read?.createdAtMs !== undefined ? { createdAtMs: read.createdAtMs } : {}),
      };
    },
  },
  certificate: {
    help: `a certificate (PEM) from --certificate-file, env ${CERTIFICATE_ENV} or Key Vault`,
    options: { certificateFile: "--certificate-file", keyVaultSecretUri: "--key-vault-secret-uri" },
    async read(o, who, r) {
      const { io } = r.ctx;
      let pem: string | undefined;
      let where = CERTIFICATE_ENV;
      if (o.certificateFile !== undefined) {
        where = `--certificate-file ${o.certificateFile}`;
        pem = await readText(path.resolve(io.cwd, o.certificateFile), where, io, r.deadline);
      } else if (o.keyVaultSecretUri !== undefined) {
        where = "the Key Vault secret (--key-vault-secret-uri)";
        pem = (await fromVault(o.keyVaultSecretUri, "--key-vault-secret-uri", r)).value;
      } else if (io.env[CERTIFICATE_ENV]) pem = io.env[CERTIFICATE_ENV];
      else if (who.vaultUri !== undefined) {
        where = "the caller's Key Vault secret (keyVaultSecretUri)";
        pem = (await fromVault(who.vaultUri, "the caller's keyVaultSecretUri", r)).value;
      }
      if (!pem) {
        throw new UsageError(
          `no certificate: pass --certificate-file PEM, set ${CERTIFICATE_ENV}, or use --key-vault-secret-uri URI or --stack NAME --caller NAME`,
        );
      }
      r.ctx.secret(pem);
      // A certificate that cannot work is a local problem, found before any request.
      const problem = certificateProblem(pem, where);
      if (problem) throw new UsageError(problem, "secret");
      return { kind: "certificate", pem };
    },
  },
  federated: {
    help: "a federated token from --federated-token-file or AZURE_FEDERATED_TOKEN_FILE",
    options: { federatedTokenFile: "--federated-token-file" },
    async read(o, _who, r) {
      const { io } = r.ctx;
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
        const token = (await readText(full, what, io, r.deadline)).trim();
        r.ctx.secret(token);
        const problem = federatedTokenProblem(token, what);
        if (problem) throw new UsageError(problem, "secret");
        return token;
      };
      await read();
      return { kind: "federated", assertion: read };
    },
  },
  managedIdentity: {
    help: "the managed identity of the Azure resource it runs on",
    clientIdOptional: true,
    read: async (_o, who) => ({
      kind: "managedIdentity",
      ...(who.clientId ? { clientId: who.clientId } : {}),
    }),
  },
  // A file the person saved their token in, else the device-code flow.
  user: {
    help: "a signed-in person's token: by the device-code flow (code and URL on stderr), or from --access-token-file",
    options: { accessTokenFile: "--access-token-file" },
    async read(o, who, r) {
      const { io } = r.ctx;
      if (o.accessTokenFile === undefined) {
        return {
          kind: "user",
          deviceCode: {
            deadline: r.deadline,
            now: io.now,
            sleep: io.sleep,
            note: (line) => r.ctx.note(line),
          },
        };
      }
      const what = `the access token file ${o.accessTokenFile} (--access-token-file)`;
      const token = (await readText(path.resolve(io.cwd, o.accessTokenFile), what, io, r.deadline)).trim();
      r.ctx.secret(token);
      const cloud = CLOUDS[who.cloud];
      const problem = accessTokenProblem(token, what, io.now(), cloud.audience, cloud.delegatedScope);
      if (problem) throw new UsageError(problem, "secret");
      return { kind: "user", token };
    },
  },
};

/** A secret read from Key Vault with the ambient Azure credential, within the budget. */
async function fromVault(uri: string, option: string, { ctx, deadline }: ReadContext): Promise<ReadSecret> {
  const { io } = ctx;
  const ref = parseKeyVaultSecretUri(uri, option);
  if ("error" in ref) throw new UsageError(ref.error, "secret");
  ctx.progress(`key vault: reading ${ref.name} from ${ref.vaultUrl}`);
  const read = await readKeyVaultSecret(ref, {
    fetch: io.fetch,
    timer: io.timer,
    env: io.env,
    log: (line) => ctx.note(line),
    now: io.now,
    sleep: io.sleep,
    random: io.random,
    deadline,
    progress: (line) => ctx.progress(line),
    ...(io.azureCredential ? { credential: io.azureCredential } : {}),
  });
  ctx.secret(read.value);
  return read;
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

/** Entra generates client secrets of 40 characters (older ones 32 to 44): anything much shorter is not one. */
export const MIN_SECRET_LENGTH = 16;

/** Why `secret` cannot be an Entra client secret, without repeating it. */
export function secretProblem(secret: string, where: string): string | undefined {
  if (GUID_PATTERN.test(secret.trim())) {
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

/**
 * The options given that the credential kind `kind` does not take (each would be ignored), and two
 * sources given for one certificate: each a problem naming the options.
 */
export function sourceOptionProblems(o: CredentialOptions, kind: CredentialKind): string[] {
  const problems: string[] = [];
  const flags = new Map<keyof CredentialOptions, { flag: string; kinds: CredentialKind[] }>();
  for (const [k, source] of Object.entries(CREDENTIAL_SOURCES) as [CredentialKind, CredentialSource][]) {
    for (const [key, flag] of Object.entries(source.options ?? {}) as [keyof CredentialOptions, string][]) {
      const entry = flags.get(key) ?? { flag, kinds: [] };
      entry.kinds.push(k);
      flags.set(key, entry);
    }
  }
  for (const [key, { flag, kinds }] of flags) {
    if (o[key] !== undefined && !kinds.includes(kind))
      problems.push(`${flag} goes with --credential ${kinds.join(" or ")}`);
  }
  if (kind === "certificate" && o.certificateFile !== undefined && o.keyVaultSecretUri !== undefined)
    problems.push(
      "--certificate-file and --key-vault-secret-uri are both where the certificate comes from: give one",
    );
  return problems;
}
