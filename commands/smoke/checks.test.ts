/**
 * The smoke library (`runSmoke`) with its outside world replaced: a scripted trigger, a scripted
 * token endpoint and a fake clock, so budgets and retries are checked to the millisecond.
 */
import { describe, expect, test } from "vitest";
import { runSmoke, type SmokeDeps, type SmokeOptions } from "./checks";
import { toJsonReport } from "./report";
import type { TokenAnswer, TokenRequest } from "./token";

const URL_OK =
  "https://0fd3.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1";
const SECRET = "Xy8Q~abcDEF.ghi_jkl-mnoPQRstuVWX0123456";
const TOKEN =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL3NlcnZpY2UuZmxvdy5taWNyb3NvZnQuY29tLyIsInRpZCI6InQiLCJvaWQiOiJvIn0.c2ln";

const OPTIONS: SmokeOptions = {
  triggerUrl: URL_OK,
  tenantId: "11111111-2222-3333-4444-555555555555",
  clientId: "66666666-7777-8888-9999-000000000000",
  credential: { kind: "secret", secret: SECRET },
};

interface TriggerAnswer {
  status: number;
  code?: string;
  /** The error's message; default `<code> happened`. */
  message?: string;
  headers?: Record<string, string>;
}

/** A world with a fake clock: sleeping advances it; requests take `latencyMs`. */
function world(trigger: (authenticated: boolean) => TriggerAnswer, token: (n: number) => TokenAnswer) {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const triggerCalls: { authenticated: boolean; body: string; contentType: string | null }[] = [];
  const tokenRequests: TokenRequest[] = [];
  const deps: SmokeDeps = {
    timer: () => ({ signal: new AbortController().signal, cancel: () => undefined }),
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0.5,
    fetch: async (_input, init) => {
      const headers = new Headers(init?.headers);
      const authenticated = headers.has("authorization");
      triggerCalls.push({
        authenticated,
        body: String(init?.body),
        contentType: headers.get("content-type"),
      });
      now += 10;
      const a = trigger(authenticated);
      const body = a.code
        ? JSON.stringify({ error: { code: a.code, message: a.message ?? `${a.code} happened` } })
        : "";
      return new Response(a.status === 202 || body === "" ? null : body, {
        status: a.status,
        headers: a.headers,
      });
    },
    acquireToken: async (request) => {
      tokenRequests.push(request);
      now += 20;
      return token(tokenRequests.length);
    },
  };
  return { deps, sleeps, triggerCalls, tokenRequests, elapsed: () => now - 1_000_000 };
}

const refuseAnonymous = (ok: TriggerAnswer) => (authenticated: boolean) =>
  authenticated ? ok : { status: 401, code: "DirectApiAuthorizationRequired" };
const issued = (): TokenAnswer => ({ ok: true, token: TOKEN });

describe("runSmoke", () => {
  test("runs the four checks in order and returns per-check durations and the run ID", async () => {
    const w = world(
      refuseAnonymous({ status: 202, headers: { "x-ms-workflow-run-id": "08584RUN" } }),
      issued,
    );
    const result = await runSmoke({ ...OPTIONS, body: '{"ping":1}' }, w.deps);
    expect(result.verdict).toBe("pass");
    expect(result.exitCode).toBe(0);
    expect(result.runId).toBe("08584RUN");
    expect(result.checks.map((c) => [c.name, c.ok, c.attempts])).toEqual([
      ["url", true, 0],
      ["anonymous-rejected", true, 1],
      ["token", true, 1],
      ["invoke", true, 1],
    ]);
    expect(result.checks.map((c) => c.durationMs)).toEqual([0, 10, 20, 10]);
    expect(w.triggerCalls).toEqual([
      { authenticated: false, body: '{"ping":1}', contentType: "application/json" },
      { authenticated: true, body: '{"ping":1}', contentType: "application/json" },
    ]);
    expect(w.tokenRequests[0]).toMatchObject({
      scope: "https://service.flow.microsoft.com//.default",
      authorityHost: "https://login.microsoftonline.com",
      disableInstanceDiscovery: false,
    });
  });

  test("asks the sovereign cloud's authority for its audience, and turns discovery off for --authority-host", async () => {
    const w = world(refuseAnonymous({ status: 202 }), issued);
    const gccHighUrl = URL_OK.replace(
      "environment.api.powerplatform.com",
      "environment.api.high.powerplatform.microsoft.us",
    );
    await runSmoke({ ...OPTIONS, triggerUrl: gccHighUrl, cloud: "gcchigh" }, w.deps);
    expect(w.tokenRequests[0]).toMatchObject({
      scope: "https://high.service.flow.microsoft.us//.default",
      authorityHost: "https://login.microsoftonline.us",
      disableInstanceDiscovery: false,
    });
    const w2 = world(refuseAnonymous({ status: 202 }), issued);
    await runSmoke({ ...OPTIONS, authorityHost: "https://127.0.0.1:8443/" }, w2.deps);
    expect(w2.tokenRequests[0]).toMatchObject({
      authorityHost: "https://127.0.0.1:8443",
      disableInstanceDiscovery: true,
    });
  });

  test("a URL with sig makes no call at all", async () => {
    const w = world(refuseAnonymous({ status: 202 }), issued);
    const result = await runSmoke({ ...OPTIONS, triggerUrl: `${URL_OK}&sig=abc` }, w.deps);
    expect(result).toMatchObject({ verdict: "insecure", exitCode: 3 });
    expect(w.triggerCalls).toHaveLength(0);
    expect(w.tokenRequests).toHaveLength(0);
  });

  test("an invalid secret is retried with backoff until the budget, never sleeping past it", async () => {
    const w = world(refuseAnonymous({ status: 202 }), () => ({
      ok: false,
      status: 401,
      code: "AADSTS7000215",
      message: "AADSTS7000215: Invalid client secret provided.",
    }));
    const result = await runSmoke({ ...OPTIONS, maxWaitMs: 60_000 }, w.deps);
    expect(result.verdict).toBe("fail");
    const token = result.checks[2];
    expect(token).toMatchObject({ name: "token", ok: false, status: 401, code: "AADSTS7000215" });
    expect(token.hint).toContain("secret VALUE");
    expect(token.message).toContain("gave up");
    expect(w.sleeps).toEqual([750, 1500, 3000, 6000, 12_000, 22_500]);
    expect(w.elapsed()).toBeLessThanOrEqual(60_000);
  });

  test("a Retry-After is honoured exactly", async () => {
    let throttled = 2;
    const w = world((authenticated) => {
      if (authenticated && throttled-- > 0) return { status: 429, headers: { "retry-after": "7" } };
      return refuseAnonymous({ status: 202 })(authenticated);
    }, issued);
    const result = await runSmoke(OPTIONS, w.deps);
    expect(result.verdict).toBe("pass");
    expect(w.sleeps).toEqual([7000, 7000]);
    expect(result.checks[3].attempts).toBe(3);
  });

  test("--expect-status: the flow's own status passes, another 2xx fails", async () => {
    const w = world(refuseAnonymous({ status: 200 }), issued);
    expect((await runSmoke({ ...OPTIONS, expectStatus: 200 }, w.deps)).verdict).toBe("pass");
    const result = await runSmoke({ ...OPTIONS, expectStatus: 201 }, w.deps);
    expect(result.verdict).toBe("fail");
    expect(result.checks[3].hint).toContain("--expect-status");
  });

  test("a network timeout is retried within the budget", async () => {
    let failures = 1;
    const w = world(refuseAnonymous({ status: 202 }), issued);
    const fetchOk = w.deps.fetch;
    w.deps.fetch = async (input, init) => {
      if (failures-- > 0) throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
      return fetchOk(input, init);
    };
    const result = await runSmoke(OPTIONS, w.deps);
    expect(result.verdict).toBe("pass");
    expect(result.checks[1].attempts).toBe(2);
  });

  test("neither the secret nor the token appears in any message, whatever the servers echo", async () => {
    const w = world(
      (authenticated) =>
        authenticated
          ? { status: 403, code: `MisMatchingOAuthClaims` }
          : { status: 401, code: `Echo ${SECRET}` },
      issued,
    );
    const result = await runSmoke(OPTIONS, w.deps);
    expect(result.verdict).toBe("fail");
    const text = JSON.stringify(result);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("eyJ");
    expect(result.checks[2].message).toContain("aud https://service.flow.microsoft.com/");
  });

  test("a body that is not JSON is a usage error before any call", async () => {
    const w = world(refuseAnonymous({ status: 202 }), issued);
    const result = await runSmoke({ ...OPTIONS, body: "{nope" }, w.deps);
    expect(result).toMatchObject({ verdict: "usage", exitCode: 2 });
    expect(w.triggerCalls).toHaveLength(0);
  });

  test("a 5xx carrying a run ID is final after one call (the flow ran); a 5xx without one is retried", async () => {
    const w = world(
      refuseAnonymous({ status: 502, headers: { "x-ms-workflow-run-id": "08584FAILED" } }),
      issued,
    );
    const result = await runSmoke(OPTIONS, w.deps);
    expect(result.verdict).toBe("fail");
    expect(result.runId).toBe("08584FAILED");
    expect(result.checks[3]).toMatchObject({ name: "invoke", ok: false, status: 502, attempts: 1 });
    expect(result.checks[3].hint).toContain("the flow itself failed");
    expect(w.triggerCalls.filter((c) => c.authenticated)).toHaveLength(1);
    expect(w.sleeps).toEqual([]);
    // --expect-status naming that very status still passes.
    const pinned = await runSmoke({ ...OPTIONS, expectStatus: 502 }, w.deps);
    expect(pinned.verdict).toBe("pass");
  });

  test("an anonymous call that started a run is insecure whatever status the flow answered, and is not repeated", async () => {
    for (const status of [401, 403, 400, 503]) {
      const w = world(
        (authenticated) =>
          authenticated
            ? { status: 202 }
            : { status, code: "Custom", headers: { "x-ms-workflow-run-id": "08584ANON" } },
        issued,
      );
      const result = await runSmoke(OPTIONS, w.deps);
      expect(result).toMatchObject({ verdict: "insecure", exitCode: 3, runId: "08584ANON" });
      expect(result.checks[1]).toMatchObject({ name: "anonymous-rejected", ok: false, status });
      expect(result.checks[1].message).toContain("accepted without a token");
      expect(result.checks[1].hint).toContain("Specific users in my tenant");
      expect(w.triggerCalls).toHaveLength(1);
      expect(w.tokenRequests).toHaveLength(0);
    }
  });

  test("a 4xx carrying a run ID is the flow's own answer: fail, with a hint that the caller was accepted", async () => {
    const w = world(
      refuseAnonymous({ status: 409, code: "Conflict", headers: { "x-ms-workflow-run-id": "08584RAN" } }),
      issued,
    );
    const result = await runSmoke(OPTIONS, w.deps);
    expect(result).toMatchObject({ verdict: "fail", runId: "08584RAN" });
    expect(result.checks[3]).toMatchObject({ name: "invoke", ok: false, status: 409, attempts: 1 });
    expect(result.checks[3].hint).toContain("accepted the caller and started the run");
    expect(result.checks[3].hint).toContain("--expect-status 409");
  });

  test("the hint for DirectApiAuthorizationRequired on the authenticated call reads intact after redaction", async () => {
    const w = world(
      refuseAnonymous({
        status: 401,
        code: "DirectApiAuthorizationRequired",
        message: "The OAuth authorization scheme is required.",
      }),
      issued,
    );
    const result = await runSmoke(OPTIONS, w.deps);
    expect(result.verdict).toBe("fail");
    expect(result.checks[3].hint).toContain("did not take the access token");
    expect(result.checks[3].hint).not.toContain("***");
    // The server's sentence ends with a period; the hint follows it once, not after "..".
    const message = toJsonReport(result).checks[3].message;
    expect(message).toContain("scheme is required. Hint: the trigger did not take");
    expect(message).not.toContain("..");
  });

  test("no request is given more time than the budget has left, but for a 1 s floor", async () => {
    const w = world(refuseAnonymous({ status: 202 }), issued);
    const timeouts: number[] = [];
    const acquire = w.deps.acquireToken;
    w.deps.acquireToken = async (request) => {
      timeouts.push(request.timeoutMs);
      return acquire(request);
    };
    await runSmoke({ ...OPTIONS, maxWaitMs: 2000 }, w.deps);
    await runSmoke({ ...OPTIONS, maxWaitMs: 0 }, w.deps);
    await runSmoke({ ...OPTIONS, maxWaitMs: 60_000, requestTimeoutMs: 5000 }, w.deps);
    // 2000 ms budget, 10 ms spent on the anonymous call; a spent budget gets the floor; else the cap.
    expect(timeouts).toEqual([1990, 1000, 5000]);
  });

  test("the token check names the endpoint MSAL used, when the token request reports it", async () => {
    const endpoint = "https://login.example.test/tenant/regional/oauth2/v2.0/token";
    const w = world(refuseAnonymous({ status: 202 }), () => ({ ok: true, token: TOKEN, endpoint }));
    const result = await runSmoke(OPTIONS, w.deps);
    expect(result.checks[2].message).toContain(`from ${endpoint}`);
    const failing = world(refuseAnonymous({ status: 202 }), () => ({
      ok: false,
      status: 400,
      code: "AADSTS90002",
      message: "AADSTS90002: Tenant not found.",
      endpoint,
    }));
    const failed = await runSmoke(OPTIONS, failing.deps);
    expect(failed.checks[2].message.startsWith(`${endpoint}: `)).toBe(true);
  });
});
