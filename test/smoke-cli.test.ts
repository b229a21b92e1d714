/**
 * The smoke CLI end to end: the real `smoke/cli.ts` process against the HTTPS stand-in for Entra ID
 * and Power Automate (test/standin), trusting its CA only through NODE_EXTRA_CA_CERTS.
 * Each test gets its own tenant, caller and flow on one shared stand-in, so tests run concurrently.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startStandin, type Standin } from "./standin/standin";
import { demoScenario, type Scenario, type ScenarioOptions } from "./standin/scenario";
import { runSmokeCli, runTsScript, type ProcessRun } from "./standin/run-cli";

let standin: Standin;

beforeAll(async () => {
  standin = await startStandin();
});

afterAll(async () => {
  await standin?.close();
});

interface Report {
  verdict: string;
  checks: { name: string; ok: boolean; status?: number; code?: string; message: string }[];
  runId?: string;
  durationMs: number;
}

function scenario(options: ScenarioOptions = {}): Scenario {
  return demoScenario(standin, options);
}

/** The usual arguments for a scenario, plus `extra`. */
function args(s: Scenario, ...extra: string[]): string[] {
  return [
    "--trigger-url",
    s.triggerUrl,
    "--tenant-id",
    s.tenantId,
    "--client-id",
    s.clientId,
    "--authority-host",
    standin.baseUrl,
    ...extra,
  ];
}

function env(s: Scenario, more: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { NODE_EXTRA_CA_CERTS: standin.caFile, FLOW_CLIENT_SECRET: s.secret, ...more };
}

/** Parses stdout as the one JSON object the contract promises (and fails the test otherwise). */
function report(run: ProcessRun): Report {
  const lines = run.stdout.trim().split("\n");
  expect(lines, `stdout must be one JSON line; stderr: ${run.stderr}`).toHaveLength(1);
  return JSON.parse(lines[0]) as Report;
}

function check(r: Report, name: string): Report["checks"][number] {
  const found = r.checks.find((c) => c.name === name);
  expect(found, `check ${name} in ${JSON.stringify(r)}`).toBeDefined();
  return found as Report["checks"][number];
}

/** Neither the client secret nor anything shaped like a token (JWT) appears in any output. */
function expectNothingSecret(run: ProcessRun, secret: string): void {
  for (const [stream, text] of [
    ["stdout", run.stdout],
    ["stderr", run.stderr],
  ] as const) {
    expect(text.includes(secret), `${stream} contains the client secret`).toBe(false);
    expect(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.test(text), `${stream} contains a JWT`).toBe(false);
  }
}

describe.concurrent("smoke CLI against the stand-in", () => {
  test("passes for a flow set to 'Any user in my tenant', reporting the run ID", async ({ expect }) => {
    const s = scenario({ mode: "tenant" });
    const run = await runSmokeCli(args(s, "--json"), env(s));
    const r = report(run);
    expect(run.code).toBe(0);
    expect(r.verdict).toBe("pass");
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
      ["url", true],
      ["anonymous-rejected", true],
      ["token", true],
      ["invoke", true],
    ]);
    expect(check(r, "anonymous-rejected")).toMatchObject({
      status: 401,
      code: "DirectApiAuthorizationRequired",
    });
    expect(check(r, "invoke").status).toBe(202);
    expect(r.runId).toMatch(/^0858\d+CU\d\d$/);
    const triggerCalls = standin.callsFor({ flowId: s.flowId });
    expect(triggerCalls.map((c) => [c.method, c.authorization, c.status])).toEqual([
      ["POST", false, 401],
      ["POST", true, 202],
    ]);
    const tokenCalls = standin.callsFor({ tenantId: s.tenantId }).filter((c) => c.kind === "token");
    expect(tokenCalls).toHaveLength(1);
    expect(tokenCalls[0].scope).toBe("https://service.flow.microsoft.com//.default");
    expectNothingSecret(run, s.secret);
  });

  test("passes for a flow set to 'Specific users' with the caller's enterprise app in Allowed users", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users" });
    const run = await runSmokeCli(args(s, "--json"), env(s));
    const r = report(run);
    expect(run.code).toBe(0);
    expect(r.verdict).toBe("pass");
    expect(check(r, "token").message).toContain(`oid ${s.servicePrincipalObjectId}`);
  });

  test("fails with the Allowed users hint when the caller's object ID is not allowed", async ({ expect }) => {
    const s = scenario({ mode: "users", flow: { allowedOids: [randomUUID()], mismatchStatus: 401 } });
    const run = await runSmokeCli(args(s, "--json"), env(s));
    const r = report(run);
    expect(run.code).toBe(1);
    expect(r.verdict).toBe("fail");
    const invoke = check(r, "invoke");
    expect(invoke).toMatchObject({ ok: false, status: 401, code: "MisMatchingOAuthClaims" });
    expect(invoke.message).toContain("ENTERPRISE APPLICATION object ID");
    expect(invoke.message).toContain("//.default");
    expect(r.runId).toBeUndefined();
    expectNothingSecret(run, s.secret);
  });

  test("a single-slash scope yields a token without the audience's trailing slash, refused with the double-slash hint", async ({
    expect,
  }) => {
    const s = scenario({ mode: "tenant" });
    const options = {
      triggerUrl: s.triggerUrl,
      tenantId: s.tenantId,
      clientId: s.clientId,
      authorityHost: standin.baseUrl,
      scope: "https://service.flow.microsoft.com/.default",
      maxWaitMs: 5000,
    };
    const run = await runTsScript("test/standin/library-runner.ts", [JSON.stringify(options)], env(s));
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      verdict: string;
      checks: { name: string; code?: string; message: string; hint?: string }[];
    };
    expect(result.verdict).toBe("fail");
    const token = result.checks.find((c) => c.name === "token");
    expect(token?.message).toContain("(aud https://service.flow.microsoft.com,");
    const invoke = result.checks.find((c) => c.name === "invoke");
    expect(invoke?.code).toBe("MisMatchingOAuthClaims");
    expect(invoke?.hint).toContain("double slash");
    expectNothingSecret(run, s.secret);
  });

  test("a trigger that runs the flow without any token is insecure (exit 3)", async ({ expect }) => {
    const s = scenario({ mode: "tenant", flow: { acceptAnonymous: true } });
    const run = await runSmokeCli(args(s, "--json"), env(s));
    const r = report(run);
    expect(run.code).toBe(3);
    expect(r.verdict).toBe("insecure");
    expect(r.checks.map((c) => c.name)).toEqual(["url", "anonymous-rejected"]);
    expect(check(r, "anonymous-rejected")).toMatchObject({ ok: false, status: 202 });
    expect(r.runId).toBeDefined();
    // No token is asked for once the trigger is known to be open.
    expect(standin.callsFor({ tenantId: s.tenantId })).toHaveLength(0);
  });

  test("a trigger that runs the flow without any token is insecure even when the flow answers 401", async ({
    expect,
  }) => {
    const s = scenario({
      mode: "tenant",
      flow: {
        acceptAnonymous: true,
        response: { status: 401, body: { error: { code: "NotYou", message: "the flow says no" } } },
      },
    });
    const run = await runSmokeCli(args(s, "--json"), env(s));
    const r = report(run);
    expect(run.code).toBe(3);
    expect(r.verdict).toBe("insecure");
    expect(check(r, "anonymous-rejected")).toMatchObject({ ok: false, status: 401 });
    expect(r.runId).toMatch(/^0858\d+CU\d\d$/);
    // The flow ran once; it is not run again, and no token is asked for.
    expect(standin.callsFor({ flowId: s.flowId })).toHaveLength(1);
    expect(standin.callsFor({ tenantId: s.tenantId })).toHaveLength(0);
  });

  test("a URL with sig is an 'Anyone' trigger: insecure (exit 3) without a single call", async ({
    expect,
  }) => {
    const s = scenario({ mode: "anyone" });
    expect(s.triggerUrl).toContain("sig=");
    const run = await runSmokeCli(args(s, "--json"), env(s));
    const r = report(run);
    expect(run.code).toBe(3);
    expect(r.verdict).toBe("insecure");
    expect(r.checks).toEqual([expect.objectContaining({ name: "url", ok: false, code: "sig" })]);
    expect(standin.callsFor({ flowId: s.flowId, tenantId: s.tenantId })).toHaveLength(0);
    // The sig is the secret of such a URL: never printed.
    const sig = new URL(s.triggerUrl).searchParams.get("sig") as string;
    expect(run.stdout + run.stderr).not.toContain(sig);
  });

  test("an 'Anyone' trigger without its sig refuses the token with the OAuthAccessPolicyNotFound hint", async ({
    expect,
  }) => {
    const s = scenario({ mode: "anyone" });
    const withoutSig = s.triggerUrl.replace(/&sp=.*$/, "");
    const run = await runSmokeCli(args({ ...s, triggerUrl: withoutSig }, "--json"), env(s));
    const r = report(run);
    expect(run.code).toBe(1);
    const invoke = check(r, "invoke");
    expect(invoke).toMatchObject({ status: 401, code: "OAuthAccessPolicyNotFound" });
    expect(invoke.message).toContain("Specific users in my tenant");
  });

  test("a wrong secret fails within the budget, with the invalid-secret hint and no secret printed", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users" });
    const wrong = `${s.secret.slice(0, 20)}WRONG${s.secret.slice(25)}`;
    const run = await runSmokeCli(
      args(s, "--json", "--max-wait-s", "3"),
      env(s, { FLOW_CLIENT_SECRET: wrong }),
    );
    const r = report(run);
    expect(run.code).toBe(1);
    const token = check(r, "token");
    expect(token).toMatchObject({ ok: false, status: 401, code: "AADSTS7000215" });
    expect(token.message).toContain("secret VALUE, not its ID");
    expect(token.message).toMatch(/\[\d+ attempts\]/);
    // The budget bounds the retries: the run ends by the budget plus one last request.
    expect(r.durationMs).toBeLessThanOrEqual(3000 + 2000);
    expect(run.elapsedMs).toBeLessThan(3000 + 7000);
    expectNothingSecret(run, wrong);
    expectNothingSecret(run, s.secret);
  });

  test("an app not replicated yet (AADSTS700016) passes after retries", async ({ expect }) => {
    const s = scenario({ mode: "users", app: { notReplicatedForRequests: 2 } });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "30"), env(s));
    const r = report(run);
    expect(run.code).toBe(0);
    expect(check(r, "token").message).toContain("[3 attempts]");
    const tokenCalls = standin.callsFor({ tenantId: s.tenantId }).filter((c) => c.kind === "token");
    expect(tokenCalls.map((c) => c.status)).toEqual([400, 400, 200]);
  });

  test("a just-created secret (AADSTS7000215 at first) passes after a retry", async ({ expect }) => {
    const s = scenario({ mode: "users", app: { secretNotReplicatedForRequests: 1 } });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "30"), env(s));
    expect(report(run).verdict).toBe("pass");
    expect(run.code).toBe(0);
  });

  test("a 429 from the trigger is retried after its Retry-After, then passes", async ({ expect }) => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1, { status: 429, retryAfter: "1" });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "30"), env(s));
    expect(report(run).verdict).toBe("pass");
    const triggerCalls = standin.callsFor({ flowId: s.flowId });
    expect(triggerCalls.map((c) => c.status)).toEqual([429, 401, 202]);
    expect(triggerCalls[1].at - triggerCalls[0].at).toBeGreaterThanOrEqual(1000);
  });

  test("a 503 from the authenticated call is retried, then passes with the run ID", async ({ expect }) => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1, { status: 503, only: "authenticated" });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "30"), env(s));
    const r = report(run);
    expect(r.verdict).toBe("pass");
    expect(check(r, "invoke").message).toContain("[2 attempts]");
    expect(r.runId).toBeDefined();
    expect(standin.callsFor({ flowId: s.flowId }).map((c) => c.status)).toEqual([401, 503, 202]);
  });

  test("503s before the anonymous call is answered are retried too", async ({ expect }) => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 2, { status: 503 });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "30"), env(s));
    const r = report(run);
    expect(run.code).toBe(0);
    expect(check(r, "anonymous-rejected").message).toContain("[3 attempts]");
    expect(standin.callsFor({ flowId: s.flowId }).map((c) => c.status)).toEqual([503, 503, 401, 202]);
  });

  test("a 429 from the token endpoint is retried, then passes", async ({ expect }) => {
    const s = scenario({ mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 1, { status: 429, retryAfter: "1" });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "30"), env(s));
    expect(report(run).verdict).toBe("pass");
    const tokenCalls = standin.callsFor({ tenantId: s.tenantId }).filter((c) => c.kind === "token");
    expect(tokenCalls.map((c) => c.status)).toEqual([429, 200]);
    expect(tokenCalls[1].at - tokenCalls[0].at).toBeGreaterThanOrEqual(1000);
  });

  test("a Retry-After longer than the budget ends the run at once instead of sleeping past it", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1, { status: 429, retryAfter: "120" });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "5"), env(s));
    const r = report(run);
    expect(run.code).toBe(1);
    expect(check(r, "anonymous-rejected").message).toContain("Retry-After");
    expect(r.durationMs).toBeLessThan(5000);
  });

  test("a flow that is off or gone (404) fails with the flow-not-found hint", async ({ expect }) => {
    const s = scenario({ mode: "users", flow: { enabled: false } });
    const run = await runSmokeCli(args(s, "--json"), env(s));
    const r = report(run);
    expect(run.code).toBe(1);
    const anon = check(r, "anonymous-rejected");
    expect(anon).toMatchObject({ ok: false, status: 404 });
    expect(anon.message).toContain("flow not found");
  });

  test("a flow answering 200 with its own body passes, and --expect-status pins that status", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users", flow: { response: { status: 200, body: { accepted: true } } } });
    const plain = await runSmokeCli(args(s, "--json"), env(s));
    expect(plain.code).toBe(0);
    expect(check(report(plain), "invoke").status).toBe(200);
    const pinned = await runSmokeCli(args(s, "--json", "--expect-status", "200"), env(s));
    expect(pinned.code).toBe(0);
    const other = await runSmokeCli(args(s, "--json", "--expect-status", "202"), env(s));
    expect(other.code).toBe(1);
    expect(check(report(other), "invoke").message).toContain("--expect-status");
  });

  test("sends --body as application/json to the trigger", async ({ expect }) => {
    const s = scenario({ mode: "users", flow: { response: { status: 200 } } });
    const run = await runSmokeCli(args(s, "--json", "--body", '{"ping":true}'), env(s));
    expect(run.code).toBe(0);
  });

  test("a tenant without the Power Automate service principal fails with the command that provisions it", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users", tenant: { flowServicePrincipal: false } });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "3"), env(s));
    const r = report(run);
    expect(run.code).toBe(1);
    const token = check(r, "token");
    expect(token.code).toBe("AADSTS500011");
    expect(token.message).toContain("az ad sp create --id 7df0a125-d3be-4c96-aa54-591f83ff541c");
  });

  test("an unknown tenant fails with the tenant-not-found hint", async ({ expect }) => {
    const s = scenario({ mode: "users" });
    const run = await runSmokeCli(
      args({ ...s, tenantId: randomUUID() }, "--json", "--max-wait-s", "3"),
      env(s),
    );
    const r = report(run);
    expect(run.code).toBe(1);
    const token = check(r, "token");
    expect(token.code).toBe("AADSTS90002");
    expect(token.message).toContain("tenant not found");
  });

  test("takes tenant, client ID and cloud from stack outputs (--outputs FILE or --stack NAME) for --caller", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users" });
    const dir = mkdtempSync(join(tmpdir(), "smoke-outputs-"));
    const file = join(dir, "outputs.json");
    writeFileSync(
      file,
      JSON.stringify({
        tenantId: s.tenantId,
        cloud: "public",
        audience: "https://service.flow.microsoft.com/",
        scope: "https://service.flow.microsoft.com//.default",
        tokenEndpoint: `https://login.microsoftonline.com/${s.tenantId}/oauth2/v2.0/token`,
        keyVaultName: "flow-dev-kv",
        keyVaultUri: "https://flow-dev-kv.vault.azure.net/",
        callers: {
          erp: {
            displayName: "flow-dev-erp",
            clientId: s.clientId,
            applicationObjectId: randomUUID(),
            servicePrincipalObjectId: s.servicePrincipalObjectId,
            keyVaultSecretName: "erp-client-secret",
            keyVaultSecretUri: "https://flow-dev-kv.vault.azure.net/secrets/erp-client-secret",
            secretExpiresAt: "2030-01-01T00:00:00Z",
            nextRotationAt: "2029-10-01T00:00:00Z",
          },
        },
        allowedUsers: [s.servicePrincipalObjectId],
      }),
    );
    const run = await runSmokeCli(
      [
        "--trigger-url",
        s.triggerUrl,
        "--outputs",
        file,
        "--caller",
        "erp",
        "--authority-host",
        standin.baseUrl,
        "--json",
      ],
      env(s),
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // --stack asks the Pulumi CLI: a stand-in `pulumi` on PATH answers with the same outputs.
    const pulumi = join(dir, "pulumi");
    writeFileSync(
      pulumi,
      `#!/bin/sh\n[ "$*" = "stack output --json --stack dev" ] || { echo "unexpected: $*" >&2; exit 1; }\ncat '${file}'\n`,
      { mode: 0o755 },
    );
    const viaStack = await runSmokeCli(
      [
        "--trigger-url",
        s.triggerUrl,
        "--stack",
        "dev",
        "--caller",
        "erp",
        "--authority-host",
        standin.baseUrl,
        "--json",
      ],
      env(s, { PATH: `${dir}:${process.env.PATH}` }),
    );
    expect(viaStack.code, viaStack.stdout + viaStack.stderr).toBe(0);
    expect(report(viaStack).verdict).toBe("pass");
    const unknown = await runSmokeCli(
      ["--trigger-url", s.triggerUrl, "--outputs", file, "--caller", "crm", "--json"],
      env(s),
    );
    expect(unknown.code).toBe(2);
    expect(report(unknown).checks[0].message).toContain("its callers: erp");
  });

  test("without NODE_EXTRA_CA_CERTS the stand-in's certificate is refused, with a hint naming it", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users" });
    const run = await runSmokeCli(
      args(s, "--json", "--max-wait-s", "3"),
      env(s, { NODE_EXTRA_CA_CERTS: undefined }),
    );
    const r = report(run);
    expect(run.code).toBe(1);
    const anon = check(r, "anonymous-rejected");
    expect(anon.ok).toBe(false);
    expect(anon.code).toMatch(/CERT|SIGNATURE/);
    expect(anon.message).toContain("NODE_EXTRA_CA_CERTS");
    expect(standin.callsFor({ flowId: s.flowId })).toHaveLength(0);
  });

  test("prints a readable line per check and the verdict without --json", async ({ expect }) => {
    const s = scenario({ mode: "users" });
    const run = await runSmokeCli(args(s), env(s));
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(":")[0])).toEqual([
      "PASS     url",
      "PASS     anonymous-rejected",
      "PASS     token",
      "PASS     invoke",
      "verdict",
    ]);
    expect(lines[4]).toMatch(/^verdict: pass \(exit 0\), run 0858/);
  });

  test("debug logging of the Azure SDK (AZURE_LOG_LEVEL=verbose) leaks neither secret nor token", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users", flow: { allowedOids: [randomUUID()] } });
    const run = await runSmokeCli(args(s, "--json"), env(s, { AZURE_LOG_LEVEL: "verbose" }));
    expect(run.code).toBe(1);
    expect(report(run).verdict).toBe("fail");
    expectNothingSecret(run, s.secret);
  });
});

describe.concurrent("smoke CLI: transient failures, budgets and output (review findings)", () => {
  const tokenCalls = (s: Scenario) =>
    standin.callsFor({ tenantId: s.tenantId }).filter((c) => c.kind === "token");
  const metadataCalls = (s: Scenario) =>
    standin.callsFor({ tenantId: s.tenantId }).filter((c) => c.kind === "metadata");

  test("Retry-After: 0 (or a past date) answered forever ends within --max-wait-s with few calls", async ({
    expect,
  }) => {
    const zero = scenario({ mode: "users" });
    standin.failNext({ flowId: zero.flowId }, 1000, { status: 429, retryAfter: "0" });
    const past = scenario({ mode: "users" });
    standin.failNext({ tenantId: past.tenantId }, 1000, {
      status: 429,
      retryAfter: "Thu, 01 Jan 1970 00:00:00 GMT",
    });
    const [zeroRun, pastRun] = await Promise.all([
      runSmokeCli(args(zero, "--json", "--max-wait-s", "2"), env(zero), 20_000),
      runSmokeCli(args(past, "--json", "--max-wait-s", "2"), env(past), 20_000),
    ]);
    for (const [run, check, calls] of [
      [zeroRun, "anonymous-rejected", standin.callsFor({ flowId: zero.flowId })],
      [pastRun, "token", tokenCalls(past)],
    ] as const) {
      expect(run.code, run.stdout + run.stderr).toBe(1);
      const r = report(run);
      expect(r.verdict).toBe("fail");
      expect(r.checks.find((c) => c.name === check)).toMatchObject({ ok: false, status: 429 });
      expect(r.durationMs).toBeLessThan(3500);
      expect(calls.length).toBeGreaterThanOrEqual(2);
      expect(calls.length).toBeLessThanOrEqual(6);
    }
  });

  test("a 503, then a 429 with Retry-After, from the OIDC metadata endpoint are retried, then pass", async ({
    expect,
  }) => {
    const unavailable = scenario({ mode: "users" });
    standin.failNext({ metadataTenantId: unavailable.tenantId }, 1, { status: 503 });
    const throttled = scenario({ mode: "users" });
    standin.failNext({ metadataTenantId: throttled.tenantId }, 1, { status: 429, retryAfter: "1" });
    const [unavailableRun, throttledRun] = await Promise.all([
      runSmokeCli(args(unavailable, "--json", "--max-wait-s", "30"), env(unavailable)),
      runSmokeCli(args(throttled, "--json", "--max-wait-s", "30"), env(throttled)),
    ]);
    expect(unavailableRun.code, unavailableRun.stdout).toBe(0);
    expect(check(report(unavailableRun), "token").message).toContain("[2 attempts]");
    expect(metadataCalls(unavailable).map((c) => c.status)).toEqual([503, 200]);
    expect(throttledRun.code, throttledRun.stdout).toBe(0);
    const calls = metadataCalls(throttled);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(1000);
  });

  test("a connection dropped by the token endpoint is retried, then passes", async ({ expect }) => {
    const s = scenario({ mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 1, { network: "drop" });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "30"), env(s));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(check(report(run), "token").message).toContain("[2 attempts]");
    expect(tokenCalls(s).map((c) => c.status)).toEqual([0, 200]);
    expectNothingSecret(run, s.secret);
  });

  test("a dropped token request that stays dropped fails without the metadata's stale 200", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 1000, { network: "drop" });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "2"), env(s), 20_000);
    expect(run.code).toBe(1);
    const token = check(report(run), "token");
    expect(token.ok).toBe(false);
    expect(token.status).toBeUndefined();
    expect(token.message).toContain("gave up");
  });

  test("AADSTS7000215 given only in error_codes (no AADSTS prefix in the text) is retried, then passes", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 1, {
      status: 401,
      body: {
        error: "invalid_client",
        error_description: "Invalid client secret provided.",
        error_codes: [7000215],
      },
    });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "30"), env(s));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(tokenCalls(s).map((c) => c.status)).toEqual([401, 200]);
    // The same answer for good: reported with the code from error_codes and the invalid-secret hint.
    const stays = scenario({ mode: "users" });
    standin.failNext({ tenantId: stays.tenantId }, 1000, {
      status: 401,
      body: {
        error: "invalid_client",
        error_description: "Invalid client secret provided.",
        error_codes: [7000215],
      },
    });
    const failing = await runSmokeCli(args(stays, "--json", "--max-wait-s", "2"), env(stays), 20_000);
    expect(failing.code).toBe(1);
    const token = check(report(failing), "token");
    expect(token).toMatchObject({ ok: false, status: 401, code: "AADSTS7000215" });
    expect(token.message).toContain("secret VALUE, not its ID");
  });

  test("a short or numeric secret does not corrupt the --json report's keys and check names", async ({
    expect,
  }) => {
    for (const secret of ["ok", "12345678"]) {
      const s = scenario({ mode: "users", secret });
      const run = await runSmokeCli(args(s, "--json"), env(s));
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const r = report(run);
      expect(Object.keys(r).sort()).toEqual(["checks", "durationMs", "runId", "verdict"]);
      expect(r.verdict).toBe("pass");
      expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
        ["url", true],
        ["anonymous-rejected", true],
        ["token", true],
        ["invoke", true],
      ]);
      for (const c of r.checks) expect(Object.keys(c)).toContain("message");
      // Free text is still scrubbed of the secret.
      for (const c of r.checks) expect(c.message).not.toContain(secret);
    }
  });

  test("a trigger that never answers ends the run at --max-wait-s, not a request timeout later", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1000, { network: "hang" });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "2"), env(s), 20_000);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const r = report(run);
    expect(check(r, "anonymous-rejected")).toMatchObject({ ok: false, code: "TimeoutError" });
    expect(r.durationMs).toBeLessThan(3000);
  });

  test("the token check names the token endpoint MSAL used (from the metadata), not a computed one", async ({
    expect,
  }) => {
    const s = scenario({ mode: "users", tenant: { regionalTokenEndpoint: true } });
    const run = await runSmokeCli(args(s, "--json"), env(s));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const used = `${standin.baseUrl}/${s.tenantId}/regional/oauth2/v2.0/token`;
    expect(check(report(run), "token").message).toContain(`from ${used} `);
    expect(tokenCalls(s).map((c) => c.path.split("?")[0])).toEqual([
      `/${s.tenantId}/regional/oauth2/v2.0/token`,
    ]);
  });

  test("a flow that ran and answered 500 (run ID present) is not run again, with a flow-failed hint", async ({
    expect,
  }) => {
    const s = scenario({
      mode: "users",
      flow: { response: { status: 500, body: { error: { code: "ActionFailed", message: "boom" } } } },
    });
    const run = await runSmokeCli(args(s, "--json", "--max-wait-s", "30"), env(s));
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const r = report(run);
    expect(r.runId).toMatch(/^0858\d+CU\d\d$/);
    const invoke = check(r, "invoke");
    expect(invoke).toMatchObject({ ok: false, status: 500 });
    expect(invoke.message).toContain("the flow itself failed");
    expect(standin.callsFor({ flowId: s.flowId }).filter((c) => c.authorization)).toHaveLength(1);
  });
});

describe.concurrent("smoke CLI usage errors (exit 2, one JSON object, no call made)", () => {
  const cases: [string, (s: Scenario) => string[], RegExp][] = [
    [
      "missing --tenant-id",
      (s) => ["--trigger-url", s.triggerUrl, "--client-id", s.clientId],
      /--tenant-id is required/,
    ],
    [
      "an http:// trigger URL",
      (s) => args({ ...s, triggerUrl: s.triggerUrl.replace("https:", "http:") }),
      /must be an https:\/\/ URL/,
    ],
    [
      "a --cloud that does not exist",
      (s) => args(s, "--cloud", "azure"),
      /--cloud must be one of public, gcc, gcchigh, dod, china/,
    ],
    ["a --body that is not JSON", (s) => args(s, "--body", "{ping}"), /--body must be JSON/],
    [
      "a negative --max-wait-s",
      (s) => args(s, "--max-wait-s", "-1"),
      /--max-wait-s must be a number of seconds/,
    ],
    [
      "an --expect-status that is no HTTP status",
      (s) => args(s, "--expect-status", "2000"),
      /--expect-status must be/,
    ],
    ["an unknown option", (s) => args(s, "--tenant", "x"), /unknown option '--tenant'/],
    ["--caller without --stack", (s) => args(s, "--caller", "erp"), /--caller needs --stack/],
  ];
  for (const [what, argv, message] of cases) {
    test(`refuses ${what}`, async ({ expect }) => {
      const s = scenario();
      const run = await runSmokeCli([...argv(s), "--json"], env(s));
      const r = report(run);
      expect(run.code).toBe(2);
      expect(r.verdict).toBe("usage");
      expect(
        r.checks.some((c) => !c.ok && message.test(c.message)),
        JSON.stringify(r),
      ).toBe(true);
      expect(standin.callsFor({ flowId: s.flowId, tenantId: s.tenantId })).toHaveLength(0);
    });
  }

  test("refuses the secret passed as an argument, without echoing it", async ({ expect }) => {
    const s = scenario();
    for (const argv of [
      [...args(s), "--client-secret", s.secret, "--json"],
      [...args(s), `--client-secret=${s.secret}`, "--json"],
      [...args(s), `--secret=${s.secret}`],
    ]) {
      const run = await runSmokeCli(argv, env(s, { FLOW_CLIENT_SECRET: undefined }));
      expect(run.code).toBe(2);
      expect(run.stdout + run.stderr).toContain("never taken from the command line");
      expectNothingSecret(run, s.secret);
    }
    expect(standin.callsFor({ flowId: s.flowId, tenantId: s.tenantId })).toHaveLength(0);
  });

  test("without FLOW_CLIENT_SECRET or another secret source it says where the secret must come from", async ({
    expect,
  }) => {
    const s = scenario();
    const run = await runSmokeCli(args(s, "--json"), env(s, { FLOW_CLIENT_SECRET: undefined }));
    const r = report(run);
    expect(run.code).toBe(2);
    expect(r.checks).toEqual([expect.objectContaining({ name: "secret", ok: false })]);
    expect(r.checks[0].message).toContain("FLOW_CLIENT_SECRET");
  });

  test("the --json object has exactly the contract's fields", async ({ expect }) => {
    const s = scenario({ mode: "users", flow: { allowedOids: [randomUUID()] } });
    for (const argv of [args(s, "--json"), args(s, "--json", "--cloud", "mars")]) {
      const r = report(await runSmokeCli(argv, env(s)));
      expect(Object.keys(r).every((k) => ["verdict", "checks", "runId", "durationMs"].includes(k))).toBe(
        true,
      );
      for (const required of ["verdict", "checks", "durationMs"]) expect(r).toHaveProperty(required);
      expect(["pass", "fail", "insecure", "usage"]).toContain(r.verdict);
      expect(Array.isArray(r.checks)).toBe(true);
      expect(r.checks.length).toBeGreaterThan(0);
      expect(typeof r.durationMs).toBe("number");
      for (const c of r.checks) {
        expect(Object.keys(c).every((k) => ["name", "ok", "status", "code", "message"].includes(k))).toBe(
          true,
        );
        expect(typeof c.name).toBe("string");
        expect(typeof c.ok).toBe("boolean");
        expect(typeof c.message).toBe("string");
      }
    }
  });

  test("--help prints the options and exits 0", async ({ expect }) => {
    const run = await runSmokeCli(["--help"], {});
    expect(run.code).toBe(0);
    for (const option of [
      "--trigger-url",
      "--tenant-id",
      "--client-id",
      "--cloud",
      "--authority-host",
      "--key-vault-secret-uri",
      "--stack",
      "--caller",
      "--body",
      "--expect-status",
      "--max-wait-s",
      "--json",
    ]) {
      expect(run.stdout).toContain(option);
    }
  });
});
