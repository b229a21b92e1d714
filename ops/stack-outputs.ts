/**
 * The stack outputs of flow-trigger-auth (contract: "Stack outputs"), as the commands that run after
 * `pulumi up` read them: from a file saved with `pulumi stack output --json`, or from the Pulumi CLI.
 * No Pulumi SDK here: this module runs outside the engine.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { z } from "zod";

/** How `pulumi stack output --json` shows a secret output (without `--show-secrets`). */
const SECRET_MARKER = "[secret]";
const SECRET_MESSAGE =
  'is shown as "[secret]": it is a secret output; run `pulumi up` with this version, or add --show-secrets';

/**
 * A plain output value. `pulumi stack output --json` shows a secret output as "[secret]": none of
 * this stack's outputs should be secret, so that marker means the outputs cannot be used as they are.
 */
const text = z
  .string()
  .min(1, "is empty")
  .refine((s) => s !== SECRET_MARKER, { error: SECRET_MESSAGE });

/** An ISO 8601 instant as the stack writes it, e.g. `2027-03-03T00:00:00Z` (offset or `Z` required). */
const isoTime = text.refine(
  (s) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) &&
    !Number.isNaN(Date.parse(s)),
  "must be an ISO 8601 time such as 2027-03-03T00:00:00Z",
);

/** One caller's outputs: everything a flow maker or a pipeline needs, no secret value. */
export const callerOutputsSchema = z.object({
  displayName: text,
  clientId: text,
  applicationObjectId: text,
  servicePrincipalObjectId: text,
  keyVaultSecretName: text,
  keyVaultSecretUri: text,
  secretExpiresAt: isoTime,
  nextRotationAt: isoTime,
});

/** The whole set of stack outputs. Outputs this version does not know are kept, not refused. */
export const stackOutputsSchema = z
  .looseObject({
    tenantId: text,
    cloud: text,
    audience: text,
    scope: text,
    tokenEndpoint: text,
    keyVaultName: text,
    keyVaultUri: text,
    callers: z
      .record(z.string(), callerOutputsSchema)
      .refine((c) => Object.keys(c).length > 0, "lists no caller (a stack has 1 to 100)"),
    allowedUsers: z.array(text),
  })
  .refine(
    (o) =>
      [...o.allowedUsers].sort().join() ===
      Object.values(o.callers)
        .map((c) => c.servicePrincipalObjectId)
        .sort()
        .join(),
    { path: ["allowedUsers"], error: "must list exactly the callers' servicePrincipalObjectId values" },
  );

export type CallerOutputs = z.infer<typeof callerOutputsSchema>;
export type StackOutputs = z.infer<typeof stackOutputsSchema>;

/**
 * A path as the user typed it, resolved where they typed it: `npm run` starts commands in the package
 * root and keeps the caller's directory in `INIT_CWD`.
 */
export function userPath(p: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

/** Input that is not flow-trigger-auth stack outputs (a usage error: exit 2). */
export class StackOutputsError extends Error {
  override readonly name = "StackOutputsError";
}

/** How to get outputs into a file, for messages about `--outputs FILE`. */
const SAVE_HINT = "save them with `pulumi stack output --json > FILE`";

/** The value at `path` in decoded JSON, or undefined. */
function valueAt(json: unknown, path: readonly PropertyKey[]): unknown {
  let value = json;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Parses already-decoded JSON; `source` names where it came from and `hint` what to do, for the
 * error message.
 */
export function parseStackOutputs(json: unknown, source: string, hint: string = SAVE_HINT): StackOutputs {
  // `pulumi stack output --json` prints `{}` for a stack that has never been deployed.
  if (json !== null && typeof json === "object" && !Array.isArray(json) && Object.keys(json).length === 0) {
    throw new StackOutputsError(
      `${source} holds no stack outputs: the stack has not been deployed yet (run \`pulumi up\` first)`,
    );
  }
  const result = stackOutputsSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 5)
      .map((i) => {
        // A whole object output shown as "[secret]" fails as "expected record": say why instead.
        const message = valueAt(json, i.path) === SECRET_MARKER ? SECRET_MESSAGE : i.message;
        return `${i.path.length ? i.path.join(".") : "(top level)"}: ${message}`;
      })
      .join("; ");
    throw new StackOutputsError(`${source} is not flow-trigger-auth stack outputs (${hint}): ${problems}`);
  }
  return result.data;
}

/** Reads outputs saved by `pulumi stack output --json > FILE`. */
export async function readStackOutputsFile(file: string): Promise<StackOutputs> {
  let text: string;
  try {
    text = await readFile(userPath(file), "utf8");
  } catch (err) {
    throw new StackOutputsError(
      `cannot read --outputs ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StackOutputsError(
      `${file} is not JSON; save the outputs with \`pulumi stack output --json > FILE\``,
    );
  }
  return parseStackOutputs(json, file);
}

const run = promisify(execFile);

/** Asks the Pulumi CLI (`pulumi stack output --json --stack NAME`) for a stack's outputs. */
export async function readStackOutputsFromPulumi(stack: string, pulumiBin = "pulumi"): Promise<StackOutputs> {
  let stdout: string;
  try {
    ({ stdout } = await run(pulumiBin, ["stack", "output", "--json", "--stack", stack], {
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") {
      throw new StackOutputsError(
        `--stack ${stack}: the Pulumi CLI (${pulumiBin}) is not installed; use --outputs FILE instead`,
      );
    }
    const said = (e.stderr ?? "").trim() || `exit code ${String(e.code)}, no message`;
    throw new StackOutputsError(`--stack ${stack}: pulumi stack output failed: ${said}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new StackOutputsError(`--stack ${stack}: pulumi stack output did not print JSON`);
  }
  return parseStackOutputs(
    json,
    `stack ${stack}`,
    "is it a flow-trigger-auth stack, deployed with `pulumi up`?",
  );
}
