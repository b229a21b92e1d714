/**
 * Entra app management policies can cap how long a client secret may live (`passwordLifetime`) or
 * forbid new ones (`passwordAddition`), and likewise for certificates (`asymmetricKeyLifetime`,
 * `asymmetricKeyAddition`). When Entra refuses a credential for that reason, the provider's error only
 * quotes Graph; this turns it into what to change in this stack's configuration.
 */
import * as pulumi from "@pulumi/pulumi";

/** What the stack asks of each new secret (`flow-trigger-auth:rotation`). */
export interface LifetimeSettings {
  rotationDays: number;
  maxLifetimeDays: number;
}

/** The kinds of Entra credential the stack rotates, and the policy restrictions that apply to each. */
const RESTRICTIONS = {
  secret: { plural: "client secrets", addition: "passwordAddition" },
  certificate: { plural: "certificates", addition: "asymmetricKeyAddition" },
} as const;

/**
 * The advice for a failed credential operation, or undefined when the errors are not about an app
 * management policy. `errors` are the provider's messages, newest first; `what` names the credential;
 * `kind` says whether it is a client secret (the default) or a certificate.
 */
export function explainPolicyRefusal(
  errors: readonly string[],
  what: string,
  settings: LifetimeSettings,
  kind: keyof typeof RESTRICTIONS = "secret",
): string | undefined {
  const { plural, addition } = RESTRICTIONS[kind];
  const text = errors.join("\n");
  const policy = /policy '([^']+)'/i.exec(text)?.[1];
  const named = policy ? `app management policy ${policy}` : "an app management policy of the tenant";
  if (/CredentialInvalidLifetimeAsPerAppPolicy|lifetime exceeds the max value allowed/i.test(text)) {
    const lifetime = 1.5 * settings.rotationDays;
    return (
      `Entra refused ${what}: ${named} caps how long ${plural} may live. This stack gives each new ` +
      `${kind} 1.5 × rotationDays = ${lifetime} days (up to maxLifetimeDays = ${settings.maxLifetimeDays} while ` +
      "a schedule change settles). Set flow-trigger-auth:rotation.maxLifetimeDays to the policy's limit and " +
      "rotationDays to at most two thirds of it (e.g. a 90-day limit: maxLifetimeDays 90, rotationDays 60), then run pulumi up again"
    );
  }
  if (/CredentialTypeNotAllowedAsPerAppPolicy|Credential type not allowed/i.test(text)) {
    return (
      `Entra refused ${what}: ${named} does not allow new ${plural} (${addition}). Ask a tenant ` +
      "administrator to exempt this app from the policy, or give the caller another credential (flow-trigger-auth:callers[].credential)"
    );
  }
  return undefined;
}

/**
 * An error hook for credential resources: logs {@link explainPolicyRefusal}'s advice next to the
 * provider's error and never retries (a policy does not go away by retrying). Needs the Pulumi CLI
 * 3.245 or later (error hooks that see every provider error).
 */
export function policyRefusalHook(
  settings: LifetimeSettings,
  kind: keyof typeof RESTRICTIONS = "secret",
): pulumi.ErrorHook {
  const hookName =
    kind === "secret" ? "flow-trigger-auth-credential-policy" : `flow-trigger-auth-${kind}-policy`;
  return new pulumi.ErrorHook(hookName, (args) => {
    const advice = explainPolicyRefusal(args.errors, `a credential of ${args.name}`, settings, kind);
    if (advice) pulumi.log.error(advice);
    return false;
  });
}
