/**
 * The trigger's side of the smoke test: the POST sent to an HTTP-triggered flow, its answer reduced to
 * what the checks need, and what that answer means for the anonymous-rejected and invoke checks
 * (on top of {@link classifyAnswer}'s table). The order of the checks, the budget and the retries are
 * checks.ts's.
 */
import { send, type HttpDeps } from "../../lib/http";
import {
  ANONYMOUS_ACCEPTED_HINT,
  classifyAnswer,
  flowAnsweredHint,
  FLOW_RUN_FAILED_HINT,
  type Classification,
} from "./hints";

/** One answer of a server, reduced to what the checks need. */
export interface Answer {
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

/** POSTs `body` (JSON) to the trigger, with `token` as bearer if given, and reduces the answer. */
export async function postToTrigger(
  d: HttpDeps,
  triggerUrl: string,
  body: string,
  token: string | undefined,
  timeoutMs: number,
): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const sent = await send(d, triggerUrl, { method: "POST", headers, body }, timeoutMs);
  if (!sent.ok) return { code: sent.code, message: short(sent.message) };
  const described = describeBody(sent.text);
  const answer: Answer = {
    status: sent.status,
    message: described.message
      ? short(described.message)
      : sent.truncated
        ? `HTTP ${sent.status} with a body larger than 64 KiB (not read further)`
        : short(sent.text) || `HTTP ${sent.status}`,
  };
  if (described.code) answer.code = described.code;
  const retryAfter = sent.headers.get("retry-after");
  if (retryAfter !== null) answer.retryAfter = retryAfter;
  const run = sent.headers.get("x-ms-workflow-run-id");
  if (run !== null) answer.runId = run;
  return answer;
}

/** The trigger's own authorization error codes: an answer carrying one never passes. */
const TRIGGER_AUTH_CODES = new Set(
  [
    "MisMatchingOAuthClaims",
    "DirectApiAuthorizationRequired",
    "OAuthAccessPolicyNotFound",
    "InvalidAuthenticationToken",
  ].map((c) => c.toLowerCase()),
);

/** What the answer to the POST without a token means. */
export function classifyAnonymous(a: Answer): Classification {
  // A run ID means the trigger started a run for the anonymous caller, whatever status the flow's
  // own Response action chose (even 401/403). Insecure, and final: a retry would run it again.
  return a.runId !== undefined
    ? { outcome: "insecure", hint: ANONYMOUS_ACCEPTED_HINT }
    : classifyAnswer("anonymous-rejected", a.status, a.code);
}

/** What the answer to the POST with the caller's token means; `expectStatus` is `--expect-status`. */
export function classifyInvoke(a: Answer, expectStatus: number | undefined): Classification {
  const ranTheFlow = a.runId !== undefined;
  // The trigger refused the caller: never a pass, whatever --expect-status says.
  if (a.code !== undefined && TRIGGER_AUTH_CODES.has(a.code.toLowerCase()))
    return classifyAnswer("invoke", a.status, a.code);
  if (expectStatus !== undefined && a.status === expectStatus) {
    const is2xx = a.status >= 200 && a.status < 300;
    if (is2xx || ranTheFlow) return { outcome: "pass" };
  }
  // A non-2xx with a run ID: the flow ran and its Response action answered it. Final: a retry
  // would run the flow again.
  if (a.status !== undefined && (a.status < 200 || a.status > 299) && ranTheFlow) {
    return { outcome: "fail", hint: a.status >= 500 ? FLOW_RUN_FAILED_HINT : flowAnsweredHint(a.status) };
  }
  if (expectStatus === undefined) return classifyAnswer("invoke", a.status, a.code);
  const classified = classifyAnswer("invoke", a.status, a.code);
  if (classified.outcome !== "pass") return classified;
  return {
    outcome: "fail",
    hint: `the flow answered ${a.status}, not ${expectStatus} (--expect-status)`,
  };
}
