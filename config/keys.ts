/** Where the stack's settings live, and how a problem names the one it is about. */

/** Config namespace of this project. */
export const NAMESPACE = "flow-trigger-auth";

/** The region azure-native creates resources in; required when the stack creates a vault or an identity. */
export const LOCATION_KEY = "azure-native:location";

/** The subscription azure-native deploys to; required whenever the stack creates or uses a vault or creates an identity. */
export const SUBSCRIPTION_KEY = "azure-native:subscriptionId";

/** How to find and set {@link SUBSCRIPTION_KEY}. */
export const SUBSCRIPTION_HOW =
  "find it with `az account show --query id -o tsv` (the subscription you are signed in to) and set it with " +
  "`pulumi config set azure-native:subscriptionId <id>`";

/** One problem: where (`flow-trigger-auth:callers[1].name`) and what is allowed. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** A config that must not be deployed; lists every problem. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  ${p.path}: ${p.message}`).join("\n"),
    );
  }
}

/**
 * The key path of a place in the config, as `pulumi config` names it: `["callers", 1, "name"]` is
 * `flow-trigger-auth:callers[1].name`; `location` and `subscriptionId` are azure-native's keys.
 */
export function keyPath(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path;
  if (head === "location") return LOCATION_KEY;
  if (head === "subscriptionId") return SUBSCRIPTION_KEY;
  let out = head === undefined ? NAMESPACE : `${NAMESPACE}:${String(head)}`;
  for (const part of rest) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}
