/**
 * Which answers the smoke test retries and which are final, with what to do about each final one:
 * a table (data), read top to bottom, first match wins. Sources: the trigger's answers as seen in the field
 * (community evidence; docs/troubleshooting.md) and Microsoft's AADSTS error code reference
 * (learn.microsoft.com/entra/identity-platform/reference-error-codes).
 */
import { FLOW_SERVICE_APP_ID } from "../../clouds";

/** The checks of the smoke test, in the order they run (docs/smoke-test.md). */
export const CHECK_NAMES = ["url", "anonymous-rejected", "token", "invoke"] as const;

/** One of {@link CHECK_NAMES}. */
export type CheckName = (typeof CHECK_NAMES)[number];

/** The checks that talk to the network and whose answers {@link ANSWER_RULES} classify. */
export type NetworkCheck = Exclude<CheckName, "url">;

/**
 * What an answer means: the check passed, try again, the check failed, the trigger is insecure, or
 * `usage`: the run cannot go on as given (a server pointed to another origin), exit 2.
 */
export type Outcome = "pass" | "retry" | "fail" | "insecure" | "usage";

/** One row of the table. */
export interface AnswerRule {
  check: NetworkCheck;
  /**
   * HTTP status it matches: exact (`401`), a class (`"2xx"`, `"5xx"`), or `"none"` when no HTTP answer
   * came back (network error, timeout). Absent: any.
   */
  status?: number | "2xx" | "5xx" | "none";
  /**
   * Error code it matches: the trigger's `error.code` (`MisMatchingOAuthClaims`), Entra's
   * `AADSTS<n>`, or a network error code (`ECONNRESET`, `TimeoutError`). Absent: any.
   */
  code?: string;
  outcome: Outcome;
  /** What to do about it, for the person reading the report. */
  hint?: string;
}

/** TLS errors that mean "this certificate is not trusted here", not "try later". */
const CERTIFICATE_ERRORS = [
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_UNTRUSTED",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
];

/**
 * The hint when a call without any token was accepted: a 2xx, or any answer carrying
 * `x-ms-workflow-run-id` (the trigger started a run; a Response action may answer even 401 or 403).
 */
export const ANONYMOUS_ACCEPTED_HINT =
  "the trigger ran the flow for a caller without any credential: set 'Who can trigger the flow' to 'Specific users in my tenant' (Allowed users = the callers' enterprise application object IDs) and use the new URL";

const HINT = {
  certificate:
    "the server's TLS certificate is not trusted: if a proxy or a private CA is in the way, point NODE_EXTRA_CA_CERTS at its CA certificate (PEM)",
  hostNotFound: "the host name does not resolve: check the URL (--trigger-url, --authority-host)",
  flowNotFound:
    "flow not found: it is turned off or deleted, or the URL is wrong or outdated (saving the trigger with another 'Who can trigger the flow' gives it a new URL): copy the URL again from the trigger",
  anonymousAccepted: ANONYMOUS_ACCEPTED_HINT,
  mismatchingClaims:
    "the token does not match the trigger's policy; check in this order: (1) the scope needs the double slash, e.g. `https://service.flow.microsoft.com//.default`, so the token's aud keeps its trailing slash; (2) in 'Specific users' mode, Allowed users must contain the caller's ENTERPRISE APPLICATION object ID (for a managed identity: its principal ID; stack output callers.<name>.servicePrincipalObjectId, the token's oid above), not its client ID nor its application object ID; (3) the token must come from the flow's tenant and cloud (--tenant-id, --cloud)",
  certificateRefused:
    "Entra does not accept the certificate: it is not (or no longer) registered on the app, or the PEM's key does not belong to it; read the published certificate from Key Vault (callers.<name>.keyVaultSecretUri) and compare its thumbprint with callers.<name>.certificateThumbprintSha1 (as the portal shows it) or certificateThumbprintSha256",
  federatedMismatch:
    "no federated credential of the app matches the presented token: issuer, subject and audience must match exactly, case included (e.g. repo:contoso/erp-sync:environment:prod); compare them with callers.<name>.federatedCredentials and the token the platform issued",
  assertionExpired:
    "the client assertion is expired or not yet valid: the platform's token (AZURE_FEDERATED_TOKEN_FILE) is stale, or this machine's clock is off",
  directApiAuthorizationRequired:
    "the trigger did not take the access token (Authorization header) as its authentication: if it is set to 'Anyone' it only accepts its URL with sig (insecure); set 'Who can trigger the flow' to 'Specific users in my tenant' and use the new URL; make sure no proxy strips the Authorization header",
  oauthPolicyNotFound:
    "the trigger is set to 'Anyone' and refuses tokens: set 'Who can trigger the flow' to 'Specific users in my tenant' (or 'Any user in my tenant'), save, and use the new URL",
  badRequest:
    "the flow refused the request body: check --body against the trigger's request body JSON schema",
  appNotFound:
    "the app was not found in the tenant: a just-created app can take minutes to replicate; otherwise check --client-id and --tenant-id (a token from the wrong tenant or cloud)",
  invalidSecret:
    "invalid client secret: a just-created secret can take a minute to work; otherwise the secret is wrong (use the secret VALUE, not its ID) or outdated: read the published one from Key Vault (callers.<name>.keyVaultSecretUri)",
  secretExpired:
    "the client secret has expired: run `pulumi up` (rotation publishes a new one) and use the secret now in Key Vault; `npm run rotation-status` shows each caller's expiry",
  tenantNotFound:
    "tenant not found: check --tenant-id and --cloud (a tenant exists in one cloud only; --authority-host overrides the cloud's)",
  flowServiceMissing: `the Power Automate service principal (app ${FLOW_SERVICE_APP_ID}) is missing from this tenant, or the scope names another cloud: a tenant admin can provision it with \`az ad sp create --id ${FLOW_SERVICE_APP_ID}\`; check --cloud`,
  permissionNotListed:
    "the caller's app registration does not list the Power Automate permission it asks for: run `pulumi up` again (it declares the delegated User permission and admin consent)",
  callerSpMissing:
    "the caller's enterprise application (service principal) is missing from the tenant: run `pulumi up` again to recreate it",
  invalidScope:
    "the scope is not valid for client credentials: it must be the Power Automate audience followed by `/.default` (double slash for public cloud)",
  endpoints:
    "could not read the tenant's OpenID configuration from the authority: check --tenant-id, --cloud and --authority-host",
  throttled: "throttled or unavailable until the budget ran out: try again later or raise --max-wait-s",
  identityUpdating:
    "the managed-identity endpoint is updating (IMDS answers 404 or 410 for up to 70 s): retried until the budget ran out; try again later or raise --max-wait-s",
  identityRefused:
    "the managed-identity endpoint refused: the identity is not assigned to this Azure resource, or the client ID is wrong (--client-id, or the stack's clientId, is the user-assigned identity's client ID, not its principal ID; without it the system-assigned identity is asked for)",
  identityUnreachable:
    "no managed-identity endpoint answers here: run on the Azure resource the identity is assigned to (App Service, Functions, Container Apps, a VM, AKS, Azure Arc); elsewhere use another --credential",
  noPublicClientFlows:
    "the app does not allow public client flows, which the device-code flow needs: a spa caller never does (a browser app signs in with PKCE); sign in with the app and pass its token with --access-token-file, or test a publicClient caller",
  deviceCodeWait:
    "the device-code sign-in did not finish: open the URL above, enter the code and sign in as one of the caller's users before the code or --max-wait-s runs out",
  offOrigin:
    "a token or secret goes only to the origin it was issued for: check --trigger-url and --authority-host, and whether a proxy rewrites answers",
} as const;

const network = (check: NetworkCheck): AnswerRule[] => [
  // A server pointed to another origin (a redirect, a token endpoint in OpenID metadata): nothing was
  // sent there, and the run stops (lib/same-origin.ts).
  { check, code: "OffOrigin", outcome: "usage", hint: HINT.offOrigin },
  // A file the credential needs cannot be read here (e.g. Azure Arc's secret file): a local problem.
  { check, code: "LocalCredential", outcome: "usage" },
  ...CERTIFICATE_ERRORS.map((code) => ({ check, code, outcome: "fail" as const, hint: HINT.certificate })),
  { check, status: "none", code: "ENOTFOUND", outcome: "fail", hint: HINT.hostNotFound },
  {
    check,
    status: "none",
    outcome: "retry",
    hint: "the server could not be reached until the budget ran out",
  },
  { check, status: 429, outcome: "retry", hint: HINT.throttled },
  { check, status: "5xx", outcome: "retry", hint: HINT.throttled },
];

/**
 * The hint of a 5xx from the authenticated call that carries `x-ms-workflow-run-id`: the flow ran and
 * its own Response action answered 5xx. Final, not retried: a retry would run the flow again.
 */
export const FLOW_RUN_FAILED_HINT =
  "the flow itself failed: the trigger accepted the call and started the run, whose Response action answered 5xx; see the run (its ID is in the report) in the flow's run history. Not retried, so the flow does not run twice";

/**
 * The hint of a non-2xx, non-5xx answer to the authenticated call that carries `x-ms-workflow-run-id`:
 * the trigger accepted the caller and the flow's own Response action answered `status`. Final.
 */
export function flowAnsweredHint(status: number): string {
  return `the trigger accepted the caller and started the run, whose Response action answered ${status}: see the run (its ID is in the report) in the flow's run history, or pass --expect-status ${status} if that is the flow's intended answer. Not retried, so the flow does not run twice`;
}

/** The table: which answer of which check passes, is retried, fails or means "insecure". */
export const ANSWER_RULES: readonly AnswerRule[] = [
  // 2. A POST without a token must be refused.
  { check: "anonymous-rejected", status: 401, outcome: "pass" },
  { check: "anonymous-rejected", status: 403, outcome: "pass" },
  { check: "anonymous-rejected", status: "2xx", outcome: "insecure", hint: HINT.anonymousAccepted },
  { check: "anonymous-rejected", status: 404, outcome: "fail", hint: HINT.flowNotFound },
  ...network("anonymous-rejected"),
  {
    check: "anonymous-rejected",
    outcome: "fail",
    hint: "a call without a token should get 401 or 403 from an OAuth trigger: check --trigger-url",
  },

  // 3. Client-credentials token from Entra ID. Right after creation the app and its secret may not be
  //    replicated yet (AADSTS700016, AADSTS7000215): retried within the budget, then final.
  { check: "token", code: "AADSTS700016", outcome: "retry", hint: HINT.appNotFound },
  { check: "token", code: "AADSTS7000215", outcome: "retry", hint: HINT.invalidSecret },
  { check: "token", code: "AADSTS7000222", outcome: "fail", hint: HINT.secretExpired },
  { check: "token", code: "AADSTS90002", outcome: "fail", hint: HINT.tenantNotFound },
  { check: "token", code: "AADSTS500011", outcome: "fail", hint: HINT.flowServiceMissing },
  { check: "token", code: "AADSTS650052", outcome: "fail", hint: HINT.flowServiceMissing },
  { check: "token", code: "AADSTS650057", outcome: "fail", hint: HINT.permissionNotListed },
  { check: "token", code: "AADSTS7000229", outcome: "fail", hint: HINT.callerSpMissing },
  { check: "token", code: "AADSTS70011", outcome: "fail", hint: HINT.invalidScope },
  { check: "token", code: "AADSTS700027", outcome: "fail", hint: HINT.certificateRefused },
  { check: "token", code: "AADSTS70021", outcome: "fail", hint: HINT.federatedMismatch },
  { check: "token", code: "AADSTS700211", outcome: "fail", hint: HINT.federatedMismatch },
  { check: "token", code: "AADSTS700213", outcome: "fail", hint: HINT.federatedMismatch },
  { check: "token", code: "AADSTS700024", outcome: "fail", hint: HINT.assertionExpired },
  { check: "token", code: "AADSTS1002012", outcome: "fail", hint: HINT.invalidScope },
  // The device-code flow of a user caller (learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code).
  { check: "token", code: "AADSTS7000218", outcome: "fail", hint: HINT.noPublicClientFlows },
  { check: "token", code: "authorization_declined", outcome: "fail", hint: HINT.deviceCodeWait },
  { check: "token", code: "expired_token", outcome: "fail", hint: HINT.deviceCodeWait },
  { check: "token", code: "DeviceCodeNotApproved", outcome: "fail", hint: HINT.deviceCodeWait },
  // A managed identity's endpoint (Learn: how-to-use-vm-token, Error handling): 404 and 410 while IMDS
  // updates are retried (429 and 5xx below, with every check); any other error answer is final, and so
  // is no answer at all (no identity endpoint on this machine): nothing to wait for.
  { check: "token", code: "ManagedIdentityUpdating", outcome: "retry", hint: HINT.identityUpdating },
  { check: "token", code: "ManagedIdentityRefused", outcome: "fail", hint: HINT.identityRefused },
  { check: "token", code: "ManagedIdentityUnreachable", outcome: "fail", hint: HINT.identityUnreachable },
  // 429, 5xx and network errors come before MSAL's endpoints_resolution_error: MSAL reports a 429 or
  // 5xx from the OIDC metadata endpoint with that code, and those are transient like any other.
  ...network("token"),
  { check: "token", code: "endpoints_resolution_error", outcome: "fail", hint: HINT.endpoints },
  {
    check: "token",
    outcome: "fail",
    hint: "Entra ID refused the token request: check --tenant-id, --client-id, --cloud and the secret",
  },

  // 4. POST with the bearer token must be accepted (2xx, or --expect-status).
  { check: "invoke", status: "2xx", outcome: "pass" },
  { check: "invoke", code: "MisMatchingOAuthClaims", outcome: "fail", hint: HINT.mismatchingClaims },
  {
    check: "invoke",
    code: "DirectApiAuthorizationRequired",
    outcome: "fail",
    hint: HINT.directApiAuthorizationRequired,
  },
  { check: "invoke", code: "OAuthAccessPolicyNotFound", outcome: "fail", hint: HINT.oauthPolicyNotFound },
  { check: "invoke", status: 404, outcome: "fail", hint: HINT.flowNotFound },
  { check: "invoke", status: 400, outcome: "fail", hint: HINT.badRequest },
  ...network("invoke"),
  {
    check: "invoke",
    outcome: "fail",
    hint: "the trigger refused the authenticated call: see the status and error code",
  },
];

function statusMatches(rule: AnswerRule["status"], status: number | undefined): boolean {
  if (rule === undefined) return true;
  if (rule === "none") return status === undefined;
  if (status === undefined) return false;
  if (rule === "2xx") return status >= 200 && status < 300;
  if (rule === "5xx") return status >= 500 && status < 600;
  return rule === status;
}

/** What an answer means, and the hint when it is final. */
export interface Classification {
  outcome: Outcome;
  hint?: string;
}

/**
 * Looks an answer up in `rules` (default {@link ANSWER_RULES}): `status` is the HTTP status
 * (`undefined` when none came back), `code` the error code if any. Codes compare case-insensitively.
 */
export function classifyAnswer(
  check: NetworkCheck,
  status: number | undefined,
  code: string | undefined,
  rules: readonly AnswerRule[] = ANSWER_RULES,
): Classification {
  const lower = code?.toLowerCase();
  for (const rule of rules) {
    if (rule.check !== check) continue;
    if (!statusMatches(rule.status, status)) continue;
    if (rule.code !== undefined && rule.code.toLowerCase() !== lower) continue;
    return rule.hint === undefined ? { outcome: rule.outcome } : { outcome: rule.outcome, hint: rule.hint };
  }
  return { outcome: "fail" };
}

/** The hint for a final answer, e.g. `hintFor("invoke", 403, "MisMatchingOAuthClaims")`. */
export function hintFor(
  check: NetworkCheck,
  status: number | undefined,
  code: string | undefined,
): string | undefined {
  return classifyAnswer(check, status, code).hint;
}
