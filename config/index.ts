/**
 * The stack configuration (docs/configuration.md), parsed and validated once, before any resource is
 * declared: the stack's own keys (schema.ts), each caller by its credential kind (callers.ts, kinds/),
 * and the rules across keys (rules.ts). Every problem is reported at once, each with its key path and
 * what is allowed; unknown keys are errors. Pure: takes the raw config map, never reads Pulumi state
 * itself, so `flow-trigger-auth validate` and the tests use exactly what `pulumi up` uses.
 */
import { ENVIRONMENT_PATTERN } from "../naming";
import { parseCallers } from "./callers";
import { problemsOf } from "./issues";
import { ConfigError, LOCATION_KEY, NAMESPACE, SUBSCRIPTION_KEY, type ConfigProblem } from "./keys";
import { crossChecks } from "./rules";
import { KNOWN_KEYS, stackSchema, type StackConfig } from "./schema";

export {
  ConfigError,
  LOCATION_KEY,
  NAMESPACE,
  SUBSCRIPTION_HOW,
  SUBSCRIPTION_KEY,
  type ConfigProblem,
} from "./keys";
export type { StackConfig } from "./schema";

/** Keys whose values are plain strings; the others arrive as JSON text (lists and objects). */
const STRING_KEYS = new Set(["environment", "cloud", "namePrefix"]);

/** A key's value as the schema takes it: plain strings stay strings, lists and objects are decoded. */
function decode(key: string, value: string, problems: ConfigProblem[]): unknown {
  if (STRING_KEYS.has(key)) return value;
  try {
    return JSON.parse(value);
  } catch {
    problems.push({
      path: `${NAMESPACE}:${key}`,
      message: "must be structured YAML in Pulumi.<stack>.yaml (a list or an object), not a plain string",
    });
    return undefined;
  }
}

/** The raw config map as the schema's input, by short key; problems of keys it cannot take. */
function inputOf(
  raw: Record<string, string>,
  stackName: string,
  problems: ConfigProblem[],
): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const prefix = `${NAMESPACE}:`;
  for (const [fullKey, value] of Object.entries(raw)) {
    if (fullKey === LOCATION_KEY) input.location = value;
    else if (fullKey === SUBSCRIPTION_KEY) input.subscriptionId = value;
    else if (!fullKey.startsWith(prefix)) continue;
    else if (!KNOWN_KEYS.includes(fullKey.slice(prefix.length)))
      problems.push({ path: fullKey, message: `unknown key; allowed keys: ${KNOWN_KEYS.join(", ")}` });
    else input[fullKey.slice(prefix.length)] = decode(fullKey.slice(prefix.length), value, problems);
  }
  if (input.environment === undefined) {
    if (ENVIRONMENT_PATTERN.test(stackName)) input.environment = stackName;
    else {
      problems.push({
        path: `${NAMESPACE}:environment`,
        message: `is not set and the stack name "${stackName}" does not fit [a-z0-9-]{1,16}; set it explicitly`,
      });
      input.environment = "invalid";
    }
  }
  return input;
}

/**
 * Validates the raw config map (as `pulumi.runtime.allConfig()` returns it: full keys, string values,
 * JSON for lists and objects). `stackName` is the default `environment`.
 * @throws {ConfigError} listing every problem.
 */
export function parseStackConfig(raw: Record<string, string>, stackName: string): StackConfig {
  const problems: ConfigProblem[] = [];
  const input = inputOf(raw, stackName, problems);
  const stack = stackSchema.safeParse(input);
  if (!stack.success)
    problems.push(...problemsOf(stack.error.issues, { schema: stackSchema, input, rootKeys: KNOWN_KEYS }));
  const callers = parseCallers(input.callers, stack.data?.consent ?? true);
  problems.push(...callers.problems, ...crossChecks(input, callers.kinds));
  if (problems.length) throw new ConfigError(problems);
  const { consent: _stackConsent, ...config } = stack.data!;
  return { ...config, callers: callers.callers };
}
