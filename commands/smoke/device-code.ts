/**
 * A signed-in person's delegated token by the device-code flow (RFC 8628, as Entra documents it:
 * learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code): ask for a code, tell the person
 * where to enter it (on stderr, through the command's notes), then poll the token endpoint until they
 * approve, decline, or the code or the run's budget ends.
 *
 * Written here rather than through @azure/identity's DeviceCodeCredential: MSAL Node polls on its own
 * timer (msal-node dist/client/DeviceCodeClient.mjs, `TimeUtils.delay(interval * 1000)`) and stops at
 * `slow_down` as at any other error, so neither the run's budget nor the tool's clock would govern the
 * wait. Every request goes to the authority the run names (never to a URL an answer gives), through the
 * tool's bounded HTTP client.
 */
import { send, type HttpDeps } from "../../lib/http";
import { aadstsCodeOfBody, type TokenAnswer } from "./token";

/** What waiting for a person needs from the command: its clock, its sleep, its notes and its budget. */
export interface DeviceCodeWait {
  /** When the run's budget ends (ms, on {@link now}'s clock). */
  deadline: number;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A line for the person at the terminal (stderr). */
  note(line: string): void;
}

/** What one device-code sign-in needs. */
export interface DeviceCodeRequest {
  tenantId: string;
  clientId: string;
  /** The delegated scope, e.g. `https://service.flow.microsoft.com//User`. */
  scope: string;
  /** Entra authority host, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
  /** One request's timeout (ms). */
  timeoutMs: number;
}

/** Entra's poll interval when the answer names none (RFC 8628 section 3.2: 5 seconds). */
const DEFAULT_INTERVAL_S = 5;

/** `slow_down` adds this much to the interval (RFC 8628 section 3.5). */
const SLOW_DOWN_S = 5;

const FORM = { "content-type": "application/x-www-form-urlencoded" };

/** JSON of an answer, or undefined when it is not a JSON object. */
function jsonOf(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The first line of Entra's error description, without its trace and correlation IDs. */
function described(json: Record<string, unknown> | undefined, fallback: string): string {
  const d = typeof json?.error_description === "string" ? json.error_description : fallback;
  return d.replace(/\s*(Trace ID|Correlation ID|Timestamp):[^]*$/, "").slice(0, 300);
}

/** A person's delegated token by the device-code flow, within `wait.deadline`. Never throws for an answer. */
export async function deviceCodeToken(
  r: DeviceCodeRequest,
  wait: DeviceCodeWait,
  deps: HttpDeps,
): Promise<TokenAnswer> {
  const base = `${r.authorityHost.replace(/\/+$/, "")}/${encodeURIComponent(r.tenantId)}/oauth2/v2.0`;
  const endpoint = `${base}/token`;
  const timeout = () => Math.max(1, Math.min(r.timeoutMs, wait.deadline - wait.now()));
  const failure = (code: string | undefined, message: string, status?: number): TokenAnswer => ({
    ok: false,
    ...(code !== undefined ? { code } : {}),
    ...(status !== undefined ? { status } : {}),
    message,
    endpoint,
  });

  const asked = await send(
    deps,
    `${base}/devicecode`,
    {
      method: "POST",
      headers: FORM,
      body: new URLSearchParams({ client_id: r.clientId, scope: r.scope }).toString(),
    },
    timeout(),
  );
  if (!asked.ok) return failure(asked.code, asked.message);
  const code = jsonOf(asked.text);
  if (asked.status !== 200 || !code) {
    return failure(
      aadstsCodeOfBody(asked.text) ?? (code ? undefined : "NotJson"),
      `the device-code request was refused: ${described(code, `HTTP ${asked.status}`)}`,
      asked.status,
    );
  }
  const { device_code: deviceCode, user_code: userCode, verification_uri: verificationUri } = code;
  if (typeof deviceCode !== "string" || typeof userCode !== "string" || typeof verificationUri !== "string") {
    return failure(
      "NotJson",
      "the device-code answer lacks device_code, user_code or verification_uri",
      asked.status,
    );
  }
  const expiresS = typeof code.expires_in === "number" ? code.expires_in : 900;
  let intervalS = typeof code.interval === "number" && code.interval > 0 ? code.interval : DEFAULT_INTERVAL_S;
  const until = Math.min(wait.deadline, wait.now() + expiresS * 1000);
  wait.note(
    `To sign in, open ${verificationUri} and enter the code ${userCode} ` +
      `(waiting up to ${Math.max(0, Math.round((until - wait.now()) / 1000))} s)`,
  );

  const body = new URLSearchParams({
    grant_type: "urn:ietf:params:oauth:grant-type:device_code",
    client_id: r.clientId,
    device_code: deviceCode,
  }).toString();
  for (;;) {
    if (wait.now() + intervalS * 1000 > until) {
      const expired = until < wait.deadline;
      return failure(
        expired ? "expired_token" : "DeviceCodeNotApproved",
        expired
          ? "the device code expired before anyone approved it: run again and enter the new code"
          : `nobody approved the device code within the budget (--max-wait-s): run again, or raise --max-wait-s`,
      );
    }
    await wait.sleep(intervalS * 1000);
    const polled = await send(deps, endpoint, { method: "POST", headers: FORM, body }, timeout());
    if (!polled.ok) {
      if (polled.code === "OffOrigin") return failure(polled.code, polled.message);
      continue; // a lost poll: the code is still valid, ask again at the next interval
    }
    const json = jsonOf(polled.text);
    if (polled.status === 200 && typeof json?.access_token === "string") {
      return { ok: true, token: json.access_token, endpoint };
    }
    const error = typeof json?.error === "string" ? json.error : undefined;
    if (error === "authorization_pending") continue;
    if (error === "slow_down") {
      intervalS += SLOW_DOWN_S;
      continue;
    }
    if (polled.status === 429 || polled.status >= 500) continue;
    if (error === "authorization_declined") {
      return failure(error, "the person declined the sign-in", polled.status);
    }
    if (error === "expired_token") {
      return failure(error, "the device code expired before anyone approved it: run again", polled.status);
    }
    return failure(
      aadstsCodeOfBody(polled.text) ?? error ?? (json ? undefined : "NotJson"),
      described(json, `HTTP ${polled.status}`),
      polled.status,
    );
  }
}
