import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { CloudName } from "../clouds";
import type { VaultedKind } from "../kinds/registry";
import { DEFAULT_KIND, KIND_NAMES } from "../kinds/names";

/** What the caller signs in with: its published credential, e.g. a client secret or a PEM (key and certificate). */
export interface SmokeCredential {
  /** Its kind: the check takes it from that kind's environment variable (`FLOW_CLIENT_SECRET`...). */
  kind: VaultedKind;
  /** The published value. */
  value: pulumi.Input<string>;
}

/** Arguments of {@link SmokeCheck}. */
export interface SmokeCheckArgs {
  /** The flow's HTTPS trigger URL (no `sig`); handled as a Pulumi secret. */
  triggerUrl: pulumi.Input<string>;
  /** Tenant the caller gets its token from. */
  tenantId: pulumi.Input<string>;
  /** The caller's client ID. */
  clientId: pulumi.Input<string>;
  /** What the caller signs in with; passed to the check in its environment only, never on a command line. */
  credential: SmokeCredential;
  /** Version URI of the published vault secret, e.g. `https://v.vault.azure.net/secrets/erp-client-secret/0f3a...`: the check re-runs when it changes. */
  publishedVersion: pulumi.Input<string>;
  /** Cloud whose audience and authority the check uses. */
  cloud: CloudName;
  /** JSON body to POST, e.g. `{ "ping": true }`; defaults to `{}`. */
  body?: unknown;
  /** Status the flow must answer (a Response action's own status), e.g. `200`; by default any 2xx. */
  expectStatus?: number;
  /** Total seconds the check may spend retrying (new secrets take a while to replicate). */
  maxWaitSeconds?: number;
  /**
   * Set to skip the check in this run, saying why, e.g. the caller was deployed for the first time and
   * cannot be in the flow's Allowed users yet. The next run that has no reason runs it.
   */
  skipReason?: pulumi.Input<string | undefined>;
}

/**
 * Runs the smoke test (`flow-trigger-auth smoke`) inside `pulumi up`, after the published secret is stored, and
 * again whenever the published secret, the URL, the caller, the body or the expected status changes.
 * A failing check fails the update. Runs on the machine that runs `pulumi up`, from the project root.
 */
export class SmokeCheck extends pulumi.ComponentResource {
  /** What the check printed (`--json`): verdict and per-check results, no secret. */
  public readonly report: pulumi.Output<string>;

  constructor(name: string, args: SmokeCheckArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flow-trigger-auth:smoke:SmokeCheck", name, {}, opts);

    const body = JSON.stringify(args.body ?? {});
    const options = [
      `--cloud ${args.cloud}`,
      `--max-wait-s ${args.maxWaitSeconds ?? 300}`,
      ...(args.credential.kind === DEFAULT_KIND ? [] : [`--credential ${args.credential.kind}`]),
      ...(args.expectStatus ? [`--expect-status ${args.expectStatus}`] : []),
    ].join(" ");
    // The built tool directly (npm would add its banner to stdout and its own start-up time).
    const check =
      'node dist/flow-trigger-auth.js smoke --trigger-url "$FLOW_TRIGGER_URL" --tenant-id "$FLOW_TENANT_ID" ' +
      `--client-id "$FLOW_CLIENT_ID" --body "$FLOW_BODY" ${options} --json`;
    const create = pulumi.output(args.skipReason).apply((reason) => {
      if (reason === undefined) return check;
      void pulumi.log.warn(`smoke test skipped: ${reason}`, this);
      return `echo ${shellQuote(JSON.stringify({ verdict: "skipped", reason }))}`;
    });
    const run = new command.local.Command(
      `${name}-run`,
      {
        // A changed command (skipped, then not) runs again in place; new triggers replace the resource.
        create,
        environment: {
          [KIND_NAMES[args.credential.kind].env]: pulumi.secret(args.credential.value),
          FLOW_TRIGGER_URL: pulumi.secret(args.triggerUrl),
          FLOW_TENANT_ID: args.tenantId,
          FLOW_CLIENT_ID: args.clientId,
          FLOW_BODY: body,
        },
        triggers: [args.publishedVersion, pulumi.secret(args.triggerUrl), args.clientId, body, options],
        // Nothing the check prints reaches the deployment's log (pulumi-command provider/pkg/provider/local/
        // commandOutputs.go logs stdout and stderr unless told otherwise); a failing check's error still
        // carries its output, which holds no secret (the tool never prints one).
        logging: command.types.enums.local.Logging.None,
      },
      // The provider stores stdout and stderr in state in clear unless told otherwise.
      { parent: this, additionalSecretOutputs: ["stdout", "stderr"] },
    );

    this.report = run.stdout;
    this.registerOutputs({ report: this.report });
  }
}

/** `text` as one POSIX shell word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
