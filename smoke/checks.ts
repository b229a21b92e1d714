/**
 * The smoke test as a library: does an HTTP-triggered flow refuse anonymous callers and accept a
 * caller's client-credentials token? Checks run in the contract's order (url, anonymous-rejected,
 * token, invoke), retrying what {@link ANSWER_RULES} says is transient within one total budget.
 * No Pulumi here; the CLI (smoke/cli.ts) and the stack's post-deploy check both call {@link runSmoke}.
 */
import { CLOUDS, tokenEndpoint, type CloudName } from "../clouds";
import {
  ANONYMOUS_ACCEPTED_HINT,
  classifyAnswer,
  flowAnsweredHint,
  FLOW_RUN_FAILED_HINT,
  type CheckName,
  type Classification,
  type NetworkCheck,
} from "./hints";
import { redact } from "./redact";
import { DEFAULT_BACKOFF, parseRetryAfter, planRetry, type BackoffPolicy } from "./retry";
import { acquireTokenWithIdentity, type AcquireToken } from "./token";

/** Overall result: exit code 0, 1, 3 and 2 respectively. */
export type Verdict = "pass" | "fail" | "insecure" | "usage";

/** Exit code of each verdict (contract: 0 pass, 1 fail, 2 usage or config error, 3 insecure). */
export const EXIT_CODES: Readonly<Record<Verdict, number>> = { pass: 0, fail: 1, usage: 2, insecure: 3 };

/**
 * Names in a report: the four checks, plus `arguments` (bad options) and `secret` (no client secret
 * could be obtained), which only appear with the verdict `usage`.
 */
export type ReportCheckName = CheckName | "arguments" | "secret";

/** The result of one check. */
export interface CheckResult {
  name: ReportCheckName;
  ok: boolean;
  /** HTTP status of the deciding answer, e.g. `401`. */
  status?: number;
  /** Error code of the deciding answer, e.g. `MisMatchingOAuthClaims`, `AADSTS7000215`, `sig`. */
  code?: string;
  /** What happened, secret-free. */
  message: string;
  /** What to do about a failure. */
  hint?: string;
  /** Requests made (0 for checks without network). */
  attempts: number;
  /** Time spent in this check, retries and waits included. */
  durationMs: number;
}

/** The result of a run. */
export interface SmokeResult {
  verdict: Verdict;
  /** {@link EXIT_CODES} of the verdict. */
  exitCode: number;
  /** The checks that ran, in order; a run stops at the first check that does not pass. */
  checks: CheckResult[];
  /** `x-ms-workflow-run-id` of the run the call started, when the trigger accepted it. */
  runId?: string;
  durationMs: number;
}

/** Inputs of {@link runSmoke}. None of them is printed as is: the secret never, the URL's `sig` never. */
export interface SmokeOptions {
  /** The trigger's URL, copied from the flow, e.g. `https://<env>.environment.api.powerplatform.com:443/powerautomate/...`. */
  triggerUrl: string;
  /** Tenant (directory) ID of the caller and the flow. */
  tenantId: string;
  /** Application (client) ID of the caller's app registration. */
  clientId: string;
  /** The caller's client secret value. */
  clientSecret: string;
  /** Cloud of the tenant; picks audience, scope and authority host. Default `public`. */
  cloud?: CloudName;
  /** A non-standard authority host (sovereign or test endpoint); instance discovery is then off. */
  authorityHost?: string;
  /** Scope to ask for; default the cloud's (`<audience>/.default`, double slash). Only tests change it. */
  scope?: string;
  /** JSON text sent as the request body of both calls. Default `{}`. */
  body?: string;
  /** Status the authenticated call must get (the flow's own Response action); default any 2xx. */
  expectStatus?: number;
  /** Total budget for retries and waits, in ms. Default 300 000 (`--max-wait-s 300`). */
  maxWaitMs?: number;
  /** Timeout of one request, in ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Backoff between retries. Default {@link DEFAULT_BACKOFF}. */
  backoff?: BackoffPolicy;
}

/** What {@link runSmoke} uses from the outside world; tests replace parts of it. */
export interface SmokeDeps {
  fetch: typeof fetch;
  acquireToken: AcquireToken;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

const defaultDeps: SmokeDeps = {
  fetch: (input, init) => fetch(input, init),
  acquireToken: acquireTokenWithIdentity,
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/** Default total budget: 300 s. */
export const DEFAULT_MAX_WAIT_MS = 300_000;
/** Default timeout of one request: 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/**
 * A request gets at least this long when the budget is (nearly) spent, so a check that starts at the
 * very end still gets one short chance: a run overruns --max-wait-s by at most this much per request.
 */
export const MIN_REQUEST_TIMEOUT_MS = 1_000;

/**
 * The client-credentials scope of an audience: audience + `/.default`. The flow audiences end with a
 * slash, hence the double slash (`https://service.flow.microsoft.com//.default`).
 */
export function scopeForAudience(audience: string): string {
  return `${audience}/.default`;
}

/**
 * The `aud` Entra's v2 endpoint puts in a token for a v1 resource: the scope cut at its LAST slash.
 * `https://service.flow.microsoft.com//.default` gives `https://service.flow.microsoft.com/`;
 * the single-slash mistake `https://service.flow.microsoft.com/.default` gives no trailing slash.
 */
export function audienceOfScope(scope: string): string {
  return scope.slice(0, scope.lastIndexOf("/"));
}

/** What check 1 decides about a trigger URL. */
export interface UrlCheck {
  outcome: "pass" | "usage" | "insecure";
  /** `sig` when the URL is an "Anyone" trigger. */
  code?: string;
  message: string;
}

/**
 * Check 1, no network: the URL must be HTTPS and well formed (else a usage error); a `sig` query
 * parameter makes it an "Anyone" trigger, callable by whoever holds the URL (insecure).
 */
export function checkTriggerUrl(raw: string): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return {
      outcome: "usage",
      message: "--trigger-url is not a URL: copy the HTTP URL from the flow's trigger",
    };
  }
  if (url.protocol !== "https:") {
    return {
      outcome: "usage",
      message: `--trigger-url must be an https:// URL (got ${url.protocol}//): copy the HTTP URL from the flow's trigger`,
    };
  }
  if (!url.hostname) {
    return { outcome: "usage", message: "--trigger-url has no host" };
  }
  if (url.username || url.password) {
    return { outcome: "usage", message: "--trigger-url must not carry a user name or password" };
  }
  const hasSig = [...url.searchParams.keys()].some((k) => k.toLowerCase() === "sig");
  if (hasSig) {
    return {
      outcome: "insecure",
      code: "sig",
      message:
        "the URL carries a `sig` query parameter: an 'Anyone' trigger, callable by whoever holds the URL (no call made)",
    };
  }
  return { outcome: "pass", message: `HTTPS URL without sig (${url.host})` };
}

/** The JSON report of the contract: `{ verdict, checks: [{ name, ok, status?, code?, message }], runId?, durationMs }`. */
export interface JsonReport {
  verdict: Verdict;
  checks: { name: ReportCheckName; ok: boolean; status?: number; code?: string; message: string }[];
  runId?: string;
  durationMs: number;
}

/** The contract's `--json` object of a result: each check's hint is appended to its message. */
export function toJsonReport(result: SmokeResult): JsonReport {
  const report: JsonReport = {
    verdict: result.verdict,
    checks: result.checks.map((c) => {
      const check: JsonReport["checks"][number] = { name: c.name, ok: c.ok, message: messageWithHint(c) };
      if (c.status !== undefined) check.status = c.status;
      if (c.code !== undefined) check.code = c.code;
      return check;
    }),
    durationMs: result.durationMs,
  };
  if (result.runId !== undefined) report.runId = result.runId;
  return report;
}

/** A check's message followed by its hint, if any. */
export function messageWithHint(check: CheckResult): string {
  // One period between them: a message's own final period is dropped (an ellipsis is kept).
  return check.hint ? `${check.message.replace(/(?<!\.)\.$/, "")}. Hint: ${check.hint}` : check.message;
}

/** One answer of a server, reduced to what the checks need. */
interface Answer {
  status?: number;
  code?: string;
  message: string;
  retryAfter?: string;
  runId?: string;
}

/** Reads `{"error":{"code","message"}}` (the trigger's error shape), tolerating anything else. */
function describeBody(text: string): { code?: string; message?: string } {
  try {
    const json = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof json.error?.code === "string" ? json.error.code : undefined;
    const message = typeof json.error?.message === "string" ? json.error.message : undefined;
    return { ...(code ? { code } : {}), ...(message ? { message } : {}) };
  } catch {
    return {};
  }
}

function short(text: string, max = 300): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 3)}...` : oneLine;
}

/** Claims worth reporting from a token (not secret themselves); `undefined` if it does not decode. */
function tokenClaims(token: string): { aud?: unknown; tid?: unknown; oid?: unknown } | undefined {
  try {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      aud?: unknown;
      tid?: unknown;
      oid?: unknown;
    };
  } catch {
    return undefined;
  }
}

/** Runs the smoke test. Never throws for what a server answers; the result says what happened. */
export async function runSmoke(options: SmokeOptions, deps: Partial<SmokeDeps> = {}): Promise<SmokeResult> {
  const d: SmokeDeps = { ...defaultDeps, ...deps };
  const start = d.now();
  const deadline = start + (options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const cloud = CLOUDS[options.cloud ?? "public"];
  const scope = options.scope ?? scopeForAudience(cloud.audience);
  const authorityHost = (options.authorityHost ?? cloud.authorityHost).replace(/\/+$/, "");
  const checks: CheckResult[] = [];
  const secrets: string[] = [options.clientSecret];
  let runId: string | undefined;

  const finish = (verdict: Verdict): SmokeResult => {
    const result: SmokeResult = {
      verdict,
      exitCode: EXIT_CODES[verdict],
      checks: checks.map((c) => ({
        ...c,
        message: redact(c.message, secrets),
        ...(c.hint ? { hint: redact(c.hint, secrets) } : {}),
        ...(c.code ? { code: redact(c.code, secrets) } : {}),
      })),
      durationMs: d.now() - start,
    };
    if (runId !== undefined) result.runId = runId;
    return result;
  };
  /** One request's timeout: never past the budget's end, but for the small floor. */
  const timeoutMs = () =>
    Math.max(1, Math.min(requestTimeoutMs, Math.max(deadline - d.now(), MIN_REQUEST_TIMEOUT_MS)));

  // 1. url: no network at all.
  const urlStart = d.now();
  const url = checkTriggerUrl(options.triggerUrl);
  checks.push({
    name: "url",
    ok: url.outcome === "pass",
    ...(url.code ? { code: url.code } : {}),
    message: url.message,
    attempts: 0,
    durationMs: d.now() - urlStart,
  });
  if (url.outcome !== "pass") return finish(url.outcome);

  const body = options.body ?? "{}";
  try {
    JSON.parse(body);
  } catch {
    checks.push({
      name: "arguments",
      ok: false,
      message: "--body must be JSON, e.g. '{}'",
      attempts: 0,
      durationMs: 0,
    });
    return finish("usage");
  }

  /** Repeats `attempt` while the table says "retry" and the budget allows. */
  const untilFinal = async (
    attempt: () => Promise<Answer>,
    classify: (answer: Answer) => Classification,
  ): Promise<{ answer: Answer; classification: Classification; attempts: number; gaveUp?: string }> => {
    for (let n = 1; ; n++) {
      const answer = await attempt();
      const classification = classify(answer);
      if (classification.outcome !== "retry") return { answer, classification, attempts: n };
      const plan = planRetry({
        retry: n,
        retryAfterMs: parseRetryAfter(answer.retryAfter, d.now()),
        remainingMs: deadline - d.now(),
        random: d.random(),
        policy: backoff,
      });
      if (!plan.retry) {
        return {
          answer,
          classification: { outcome: "fail", ...(classification.hint ? { hint: classification.hint } : {}) },
          attempts: n,
          gaveUp: plan.reason,
        };
      }
      await d.sleep(plan.delayMs);
    }
  };

  const post = async (token: string | undefined): Promise<Answer> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const timeoutOfThisMs = timeoutMs();
    try {
      const response = await d.fetch(options.triggerUrl, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutOfThisMs),
      });
      const text = await response.text();
      const described = describeBody(text);
      const answer: Answer = {
        status: response.status,
        message: described.message ? short(described.message) : short(text) || `HTTP ${response.status}`,
      };
      if (described.code) answer.code = described.code;
      const retryAfter = response.headers.get("retry-after");
      if (retryAfter !== null) answer.retryAfter = retryAfter;
      const run = response.headers.get("x-ms-workflow-run-id");
      if (run !== null) answer.runId = run;
      return answer;
    } catch (err) {
      const e = err as { name?: string; message?: string; cause?: { code?: unknown; message?: unknown } };
      if (e.name === "TimeoutError" || e.name === "AbortError") {
        return { code: "TimeoutError", message: `no answer within ${timeoutOfThisMs} ms` };
      }
      const code = typeof e.cause?.code === "string" ? e.cause.code : undefined;
      const causeMessage = typeof e.cause?.message === "string" ? e.cause.message : e.message;
      return {
        ...(code ? { code } : {}),
        message: short(`request failed: ${causeMessage ?? "network error"}`),
      };
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
    () => post(undefined),
    // A run ID means the trigger started a run for the anonymous caller, whatever status the flow's
    // own Response action chose (even 401/403). Insecure, and final: a retry would run it again.
    (a) =>
      a.runId !== undefined
        ? { outcome: "insecure", hint: ANONYMOUS_ACCEPTED_HINT }
        : classifyAnswer("anonymous-rejected", a.status, a.code),
  );
  const anonOk = anon.classification.outcome === "pass";
  checks.push(
    describe(
      "anonymous-rejected",
      anon,
      anonStart,
      (a) => `refused without a token (${[a.status, a.code].filter(Boolean).join(" ")})`,
      anonOk,
    ),
  );
  if (anon.classification.outcome === "insecure") {
    const last = checks[checks.length - 1];
    const ran = anon.answer.runId ? `, run ${anon.answer.runId}` : "";
    last.message = `accepted without a token (${anon.answer.status}${ran}): the flow ran for an anonymous caller`;
    if (anon.answer.runId) runId = anon.answer.runId;
    return finish("insecure");
  }
  if (!anonOk) return finish("fail");

  // 3. token: client credentials for audience + /.default.
  const tokenStart = d.now();
  // The computed endpoint, until MSAL says which one it used (from the tenant's OpenID metadata).
  let endpoint = tokenEndpoint(cloud, options.tenantId, authorityHost);
  let token: string | undefined;
  const tokenOutcome = await untilFinal(
    async () => {
      const answer = await d.acquireToken({
        tenantId: options.tenantId,
        clientId: options.clientId,
        clientSecret: options.clientSecret,
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
  checks.push(
    describe(
      "token",
      tokenOutcome,
      tokenStart,
      () => {
        const claims = token === undefined ? undefined : tokenClaims(token);
        const facts = claims
          ? ` (aud ${String(claims.aud)}, tid ${String(claims.tid)}, oid ${String(claims.oid)})`
          : "";
        return `token for ${scope} from ${endpoint}${facts}`;
      },
      tokenOk,
    ),
  );
  if (!tokenOk) {
    const last = checks[checks.length - 1];
    last.message = `${endpoint}: ${last.message}`;
    return finish("fail");
  }

  // 4. invoke: POST with the bearer token must be accepted.
  const invokeStart = d.now();
  const invoke = await untilFinal(
    () => post(token),
    (a) => {
      if (options.expectStatus !== undefined && a.status === options.expectStatus) return { outcome: "pass" };
      // A non-2xx with a run ID: the flow ran and its Response action answered it. Final: a retry
      // would run the flow again.
      if (a.status !== undefined && (a.status < 200 || a.status > 299) && a.runId !== undefined) {
        return { outcome: "fail", hint: a.status >= 500 ? FLOW_RUN_FAILED_HINT : flowAnsweredHint(a.status) };
      }
      if (options.expectStatus === undefined) return classifyAnswer("invoke", a.status, a.code);
      const c = classifyAnswer("invoke", a.status, a.code);
      if (c.outcome !== "pass") return c;
      return {
        outcome: "fail",
        hint: `the flow answered ${a.status}, not ${options.expectStatus} (--expect-status)`,
      };
    },
  );
  const invokeOk = invoke.classification.outcome === "pass";
  if (invoke.answer.runId) runId = invoke.answer.runId;
  checks.push(
    describe(
      "invoke",
      invoke,
      invokeStart,
      (a) => `accepted with the token (${a.status})${a.runId ? `, run ${a.runId}` : ""}`,
      invokeOk,
    ),
  );
  return finish(invokeOk ? "pass" : "fail");
}

/** The readable report: one line per check (with its hint on the next line), then the verdict. */
export function formatText(result: SmokeResult): string {
  const lines: string[] = [];
  for (const check of result.checks) {
    const tag = check.ok
      ? "PASS"
      : result.verdict === "insecure"
        ? "INSECURE"
        : result.verdict === "usage"
          ? "USAGE"
          : "FAIL";
    lines.push(`${tag.padEnd(8)} ${check.name}: ${check.message}`);
    if (check.hint) lines.push(`${" ".repeat(9)}hint: ${check.hint}`);
  }
  const run = result.runId ? `, run ${result.runId}` : "";
  lines.push(`verdict: ${result.verdict} (exit ${result.exitCode})${run}, ${result.durationMs} ms`);
  return `${lines.join("\n")}\n`;
}
