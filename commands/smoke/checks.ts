/**
 * The smoke test as a library: does an HTTP-triggered flow refuse anonymous callers and accept the
 * caller's token? Checks run in order (url, anonymous-rejected, token, invoke), retrying what
 * {@link ANSWER_RULES} says is transient within one total budget (docs/smoke-test.md).
 * No Pulumi here; the `smoke` command calls {@link runSmoke}, also inside `pulumi up`.
 */
import { CLOUDS, tokenEndpoint, type CloudName } from "../../clouds";
import { checkTriggerUrl as checkUrl } from "../../trigger-url";
import { classifyAnswer, type Classification, type NetworkCheck } from "./hints";
import type { HttpDeps } from "../../lib/http";
import { classifyAnonymous, classifyInvoke, postToTrigger, type Answer } from "./trigger";
import { redact } from "../../lib/redact";
import { DEFAULT_BACKOFF, parseRetryAfter, planRetry, type BackoffPolicy } from "../../lib/retry";
import { retryLine, seconds } from "../../lib/progress";
import { VERDICT_EXIT } from "../../lib/exit";
import type { CheckResult, SmokeResult, Verdict } from "./report";
import { scopeOf, secretsOf, type AcquireToken, type CallerCredential } from "./token";

/** Inputs of {@link runSmoke}. None of them is printed as is: no credential ever, the URL's `sig` never. */
export interface SmokeOptions {
  /** The trigger's URL, copied from the flow, e.g. `https://<env>.environment.api.powerplatform.com:443/powerautomate/...`. */
  triggerUrl: string;
  /** Tenant (directory) ID of the caller and the flow. */
  tenantId: string;
  /** Application (client) ID of the caller (for a managed identity: its client ID, if user-assigned). */
  clientId: string;
  /** How the caller proves who it is. */
  credential: CallerCredential;
  /** Cloud of the tenant; picks audience, scope, authority host and trigger hosts. Default `public`. */
  cloud?: CloudName;
  /** A non-standard authority host (sovereign or test endpoint); instance discovery is then off. */
  authorityHost?: string;
  /** Host names the bearer token may go to besides Power Automate's (`--trust-host`), lower case. */
  trustedHosts?: string[];
  /** Scope to ask for; default the cloud's (`<audience>/.default`, double slash). Only tests change it. */
  scope?: string;
  /** JSON text sent as the request body of both calls. Default `{}`. */
  body?: string;
  /**
   * Status the authenticated call must get (the flow's own Response action); default any 2xx. A
   * non-2xx status passes only when the flow answered it (the answer carries a run ID).
   */
  expectStatus?: number;
  /** Total budget for retries and waits, in ms. Default 300 000 (`--max-wait-s 300`). */
  maxWaitMs?: number;
  /** Timeout of one request, in ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Backoff between retries. Default {@link DEFAULT_BACKOFF}. */
  backoff?: BackoffPolicy;
  /** When the run's budget started (ms, the deps' clock); default when runSmoke is called. */
  startedAtMs?: number;
  /**
   * How long a new client secret may take to work everywhere, in ms (default
   * {@link SECRET_REPLICATION_WINDOW_MS}): an invalid secret (AADSTS7000215) is retried only within
   * it, counted from the secret's creation when known (`credential.createdAtMs`), else from the first
   * token request. The budget (`maxWaitMs`) still bounds it.
   */
  replicationWindowMs?: number;
}

/** What {@link runSmoke} uses from the outside world; tests replace it. */
export interface SmokeDeps extends HttpDeps {
  acquireToken: AcquireToken;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /**
   * Told of each check as it finishes, in its final form (redacted, with its hint); `ends` is the
   * verdict when it ends the run. The command prints it at once.
   */
  onCheck?: (check: CheckResult, ends?: Verdict) => void;
  /** Told of each wait before a retry, as a progress line (lib/progress.ts), e.g. `token: 429 from Entra, retrying in 7 s (...)`. */
  progress?: (line: string) => void;
}

/** Default total budget: 300 s. */
export const DEFAULT_MAX_WAIT_MS = 300_000;
/**
 * How long an invalid client secret (AADSTS7000215) is retried: a new secret can take about a minute
 * to work everywhere in Entra ID; after that, the secret is wrong and waiting the whole budget helps
 * nobody.
 */
export const SECRET_REPLICATION_WINDOW_MS = 60_000;
/** Default timeout of one request: 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * A request gets at least this long when the budget is (nearly) spent, so a check that starts at the
 * very end still gets one short chance: a run overruns --max-wait-s by at most this much per request.
 */
export const MIN_REQUEST_TIMEOUT_MS = 1_000;

/** What check 1 decides about a trigger URL. */
export interface UrlCheck {
  outcome: "pass" | "usage" | "insecure";
  /** `sig` when the URL is an "Anyone" trigger. */
  code?: string;
  message: string;
  /** Facts about the URL worth repeating when a later check fails (e.g. a retired legacy host). */
  notes?: string[];
}

/**
 * Check 1, no network: the URL must be HTTPS, well formed, without user name or password, on a
 * Power Automate host of the cloud (or loopback, or a host trusted with `--trust-host`), else a usage
 * error; a `sig` query parameter makes it an "Anyone" trigger, callable by whoever holds the URL
 * (insecure).
 */
export function checkTriggerUrl(raw: string, cloud?: CloudName, trustedHosts: string[] = []): UrlCheck {
  const checked = checkUrl(raw, {
    cloud,
    trustedHosts,
    allowLoopback: true,
    trustOption: "--trust-host HOST",
  });
  if (checked.outcome === "insecure") {
    return {
      outcome: "insecure",
      code: "sig",
      message:
        "the URL carries a `sig` query parameter: an 'Anyone' trigger, callable by whoever holds the URL (no call made)",
    };
  }
  if (checked.outcome === "invalid") return { outcome: "usage", message: `--trigger-url ${checked.message}` };
  const notes = checked.notes;
  const message = `HTTPS URL without sig (${checked.url.host})${notes.length ? `; note: ${notes.join("; ")}` : ""}`;
  return { outcome: "pass", message, ...(notes.length ? { notes } : {}) };
}

/** The claims a flow maker compares with the trigger's settings; `undefined` if the token does not decode. */
export interface TokenFacts {
  aud?: unknown;
  tid?: unknown;
  oid?: unknown;
  idtyp?: unknown;
}

/** {@link TokenFacts} of a JWT access token (not secret themselves). */
export function tokenClaims(token: string): TokenFacts | undefined {
  try {
    const claims = JSON.parse(
      Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"),
    ) as TokenFacts;
    return claims && typeof claims === "object" ? claims : undefined;
  } catch {
    return undefined;
  }
}

/** Entra's "invalid client secret", also the answer while a new secret is still replicating. */
const INVALID_SECRET = "AADSTS7000215";

/** Who answers a token request, in progress lines. */
const TOKEN_SOURCE_NAMES = { authority: "Entra", platform: "the managed-identity endpoint" } as const;

/** Runs the smoke test. Never throws for what a server answers; the result says what happened. */
export async function runSmoke(options: SmokeOptions, d: SmokeDeps): Promise<SmokeResult> {
  const start = options.startedAtMs ?? d.now();
  const deadline = start + (options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const cloud = CLOUDS[options.cloud ?? "public"];
  const scope = options.scope ?? scopeOf(options.credential, cloud);
  const authorityHost = (options.authorityHost ?? cloud.authorityHost).replace(/\/+$/, "");
  const checks: CheckResult[] = [];
  const c = options.credential;
  const secrets = secretsOf(c);
  let runId: string | undefined;
  let urlNotes: string[] = [];

  /** A check as reported: redacted, and a failure after a URL note carries it in its hint. */
  const final = (check: CheckResult): CheckResult => {
    // A failure after a URL note (a retired legacy host) repeats it where people look: the hint.
    const hint =
      !check.ok && urlNotes.length && check.name !== "url"
        ? [check.hint, ...urlNotes].filter(Boolean).join("; ")
        : check.hint;
    const { hint: _hint, ...rest } = check;
    return {
      ...rest,
      message: redact(check.message, secrets),
      ...(hint ? { hint: redact(hint, secrets) } : {}),
      ...(check.code ? { code: redact(check.code, secrets) } : {}),
    };
  };
  /** Records a finished check and tells the command at once; `ends`: the verdict it ends the run with. */
  const done = (check: CheckResult, ends?: Verdict) => {
    checks.push(check);
    d.onCheck?.(final(check), ends);
  };
  const finish = (verdict: Verdict): SmokeResult => {
    const result: SmokeResult = {
      verdict,
      exitCode: VERDICT_EXIT[verdict],
      checks: checks.map(final),
      durationMs: d.now() - start,
    };
    if (runId !== undefined) result.runId = runId;
    return result;
  };
  /** One request's timeout: never past the budget's end, but for the small floor. */
  const timeoutMs = () =>
    Math.max(1, Math.min(requestTimeoutMs, Math.max(deadline - d.now(), MIN_REQUEST_TIMEOUT_MS)));

  // 1. url: no network at all.
  const url = checkTriggerUrl(options.triggerUrl, options.cloud, options.trustedHosts);
  urlNotes = url.outcome === "pass" ? (url.notes ?? []) : [];
  done(
    {
      name: "url",
      ok: url.outcome === "pass",
      ...(url.code ? { code: url.code } : {}),
      message: url.message,
      attempts: 0,
      durationMs: 0,
    },
    url.outcome === "pass" ? undefined : url.outcome,
  );
  if (url.outcome !== "pass") return finish(url.outcome);

  const body = options.body ?? "{}";
  try {
    JSON.parse(body);
  } catch {
    done(
      { name: "arguments", ok: false, message: "--body must be JSON, e.g. '{}'", attempts: 0, durationMs: 0 },
      "usage",
    );
    return finish("usage");
  }

  /** Until when (ms) an invalid secret is retried: set when the token check begins. */
  let replicationEndsAt: number | undefined = undefined;
  const replicationWindowMs = options.replicationWindowMs ?? SECRET_REPLICATION_WINDOW_MS;
  const createdAtMs = c.kind === "secret" ? c.createdAtMs : undefined;

  /**
   * Repeats `attempt` while the table says "retry" and the budget allows, telling each wait as it
   * begins (`step: <answer> from <from>, retrying in ...`). An invalid client secret is retried only
   * while it may still be replicating.
   */
  const untilFinal = async (
    step: NetworkCheck,
    from: string,
    attempt: () => Promise<Answer>,
    classify: (answer: Answer) => Classification,
  ): Promise<{ answer: Answer; classification: Classification; attempts: number; gaveUp?: string }> => {
    for (let n = 1; ; n++) {
      const answer = await attempt();
      const classification = classify(answer);
      if (classification.outcome !== "retry") return { answer, classification, attempts: n };
      const replicating = answer.code?.toUpperCase() === INVALID_SECRET;
      const endsAt = replicating ? Math.min(deadline, replicationEndsAt ?? deadline) : deadline;
      const plan = planRetry({
        retry: n,
        retryAfterMs: parseRetryAfter(answer.retryAfter, d.now()),
        remainingMs: endsAt - d.now(),
        random: d.random(),
        policy: backoff,
      });
      const windowOver = replicating && endsAt < deadline && !plan.retry;
      if (!plan.retry) {
        return {
          answer,
          classification: { outcome: "fail", ...(classification.hint ? { hint: classification.hint } : {}) },
          attempts: n,
          gaveUp: windowOver
            ? `an invalid secret is retried only while a new one may still be replicating, ${seconds(replicationWindowMs)} from ${createdAtMs !== undefined ? `its creation (${new Date(createdAtMs).toISOString()})` : "the first token request"}`
            : plan.reason,
        };
      }
      const said = [
        answer.status ?? "no answer",
        answer.code && answer.code !== String(answer.status) ? answer.code : undefined,
      ]
        .filter(Boolean)
        .join(" ");
      d.progress?.(
        retryLine({
          step,
          what: `${said} from ${from}`,
          delayMs: plan.delayMs,
          attempt: n + 1,
          leftMs: endsAt - d.now(),
          ...(replicating && endsAt < deadline ? { of: "the replication window" } : {}),
        }),
      );
      await d.sleep(plan.delayMs);
    }
  };

  const describe = (
    check: NetworkCheck,
    outcome: { answer: Answer; classification: Classification; attempts: number; gaveUp?: string },
    checkStart: number,
    okMessage: (a: Answer) => string,
    ok: boolean,
  ): CheckResult => {
    const { answer, classification, attempts, gaveUp } = outcome;
    const repeatsCode = answer.code !== undefined && answer.message.startsWith(answer.code);
    const what = [answer.status ?? "no answer", repeatsCode ? undefined : answer.code]
      .filter(Boolean)
      .join(" ");
    let message = ok ? okMessage(answer) : `${what}: ${answer.message}`;
    if (!ok && gaveUp) message += ` (gave up: ${gaveUp})`;
    if (attempts > 1) message += ` [${attempts} attempts]`;
    const result: CheckResult = { name: check, ok, message, attempts, durationMs: d.now() - checkStart };
    if (answer.status !== undefined) result.status = answer.status;
    if (answer.code !== undefined) result.code = answer.code;
    if (!ok && classification.hint) result.hint = classification.hint;
    return result;
  };

  // 2. anonymous-rejected: a POST without a token must be refused.
  const anonStart = d.now();
  const anon = await untilFinal(
    "anonymous-rejected",
    "the trigger",
    () => postToTrigger(d, options.triggerUrl, body, undefined, timeoutMs()),
    classifyAnonymous,
  );
  if (anon.classification.outcome === "usage") {
    done(
      describe("anonymous-rejected", anon, anonStart, () => "", false),
      "usage",
    );
    return finish("usage");
  }
  const anonOk = anon.classification.outcome === "pass";
  const anonCheck = describe(
    "anonymous-rejected",
    anon,
    anonStart,
    (a) => `refused without a token (${[a.status, a.code].filter(Boolean).join(" ")})`,
    anonOk,
  );
  if (anon.classification.outcome === "insecure") {
    const ran = anon.answer.runId ? `, run ${anon.answer.runId}` : "";
    anonCheck.message = `accepted without a token (${anon.answer.status}${ran}): the flow ran for an anonymous caller`;
    if (anon.answer.runId) runId = anon.answer.runId;
    done(anonCheck, "insecure");
    return finish("insecure");
  }
  done(anonCheck, anonOk ? undefined : "fail");
  if (!anonOk) return finish("fail");

  // 3. token: client credentials for audience + /.default.
  const tokenStart = d.now();
  // The computed endpoint, until MSAL says which one it used (from the tenant's OpenID metadata).
  let endpoint = tokenEndpoint(cloud, options.tenantId, authorityHost);
  let token: string | undefined;
  replicationEndsAt = (createdAtMs ?? tokenStart) + replicationWindowMs;
  const tokenOutcome = await untilFinal(
    "token",
    TOKEN_SOURCE_NAMES[c.kind === "managedIdentity" ? "platform" : "authority"],
    async () => {
      const answer = await d.acquireToken({
        tenantId: options.tenantId,
        clientId: options.clientId,
        credential: options.credential,
        scope,
        authorityHost,
        disableInstanceDiscovery: options.authorityHost !== undefined,
        timeoutMs: timeoutMs(),
      });
      if (answer.endpoint !== undefined) endpoint = answer.endpoint;
      if (answer.ok) {
        token = answer.token;
        secrets.push(answer.token);
        return { message: "token issued" };
      }
      const { ok: _ok, endpoint: _endpoint, ...rest } = answer;
      return rest;
    },
    (a) => (token !== undefined ? { outcome: "pass" } : classifyAnswer("token", a.status, a.code)),
  );
  const tokenOk = token !== undefined;
  const tokenCheck = describe(
    "token",
    tokenOutcome,
    tokenStart,
    () => {
      const claims = token === undefined ? undefined : tokenClaims(token);
      const facts = claims
        ? ` (aud ${String(claims.aud)}, tid ${String(claims.tid)}, oid ${String(claims.oid)}, idtyp ${String(claims.idtyp ?? "-")})`
        : "";
      return `token for ${scope} from ${endpoint}${facts}`;
    },
    tokenOk,
  );
  if (!tokenOk) {
    tokenCheck.message = `${endpoint}: ${tokenCheck.message}`;
    const verdict = tokenOutcome.classification.outcome === "usage" ? "usage" : "fail";
    done(tokenCheck, verdict);
    return finish(verdict);
  }
  done(tokenCheck);

  // 4. invoke: POST with the bearer token must be accepted.
  const invokeStart = d.now();
  const invoke = await untilFinal(
    "invoke",
    "the trigger",
    () => postToTrigger(d, options.triggerUrl, body, token, timeoutMs()),
    (a) => classifyInvoke(a, options.expectStatus),
  );
  const invokeOk = invoke.classification.outcome === "pass";
  if (invoke.answer.runId) runId = invoke.answer.runId;
  if (invoke.classification.outcome === "usage") {
    done(
      describe("invoke", invoke, invokeStart, () => "", false),
      "usage",
    );
    return finish("usage");
  }
  done(
    describe(
      "invoke",
      invoke,
      invokeStart,
      (a) => `accepted with the token (${a.status})${a.runId ? `, run ${a.runId}` : ""}`,
      invokeOk,
    ),
    invokeOk ? "pass" : "fail",
  );
  return finish(invokeOk ? "pass" : "fail");
}
