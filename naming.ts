/** Names derived from config: pure functions, so their limits are tested without Pulumi. */

/** A caller's name, as the stack config allows it (`flow-trigger-auth:callers[].name`). */
export const CALLER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/** Most callers a stack has. */
export const MAX_CALLERS = 100;

/** An environment, as the stack config allows it (`flow-trigger-auth:environment`, by default the stack name). */
export const ENVIRONMENT_PATTERN = /^[a-z0-9-]{1,16}$/;

/** A name prefix, as the stack config allows it (`flow-trigger-auth:namePrefix`). */
export const NAME_PREFIX_PATTERN = /^[a-z][a-z0-9-]{0,11}$/;

/** A flow's name, as the stack config allows it (`flow-trigger-auth:flows[].name`). */
export const FLOW_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/** Most flows a stack names. */
export const MAX_FLOWS = 50;

/** A stack name as `pulumi --stack` takes it (never an option: it must not start with `-`). */
export const STACK_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,199}$/;

/** The tag that marks what this project creates in Azure (and the secrets it writes), and its value. */
export const MANAGED_BY_TAG = "managed-by";
export const MANAGED_BY = "flow-trigger-auth";

/** The tags of what the stack creates in Azure, e.g. `{ "managed-by": "flow-trigger-auth", environment: "dev" }`. */
export function managedTags(environment: string): Record<string, string> {
  return { [MANAGED_BY_TAG]: MANAGED_BY, environment };
}

/** Display name of a caller's app registration and enterprise app, e.g. `flow-dev-erp`. */
export function callerDisplayName(namePrefix: string, environment: string, caller: string): string {
  return `${namePrefix}-${environment}-${caller}`;
}

/** Name of the caller's secret in Key Vault, e.g. `erp-client-secret`. */
export function vaultSecretName(caller: string): string {
  return `${caller}-client-secret`;
}

/** Length of the random suffix that makes a vault name globally unique. */
export const VAULT_SUFFIX_LENGTH = 6;

/** Longest Key Vault name Azure accepts. */
export const VAULT_NAME_MAX = 24;

/**
 * The readable part of a generated vault name: `<prefix>-<env>` with repeated hyphens folded and cut
 * so that `<base>-<suffix>` fits in 24 characters, starts with a letter and never has `--`.
 */
export function vaultNameBase(namePrefix: string, environment: string): string {
  const room = VAULT_NAME_MAX - 1 - VAULT_SUFFIX_LENGTH;
  return `${namePrefix}-${environment}`.replace(/-+/g, "-").slice(0, room).replace(/-+$/, "");
}

/**
 * Short name of the alerts' action group (at most 12 characters, shown in alert e-mails):
 * `<prefix>-<env>`, the prefix shortened first so that environments never look alike
 * (`contoso-flow` + `test` gives `contoso-test`).
 */
export function actionGroupShortName(namePrefix: string, environment: string): string {
  const room = 12 - environment.length - 1;
  if (room < 1) return environment.slice(0, 12);
  return `${namePrefix.slice(0, room).replace(/-+$/, "")}-${environment}`;
}
