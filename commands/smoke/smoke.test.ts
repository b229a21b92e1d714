/**
 * `flow-trigger-auth smoke`, run in-process against the stand-in for Entra ID and Power Automate
 * (standin/) with a fake clock: every retry, back-off and budget is checked on that clock, never
 * on the wall clock. The real @azure/identity (MSAL) gets its tokens through the command's fetch.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { smoke } from "./smoke";
import { FakeIo } from "../../test/helpers/fake-io";
import {
  entraLikeSecret,
  demoScenario,
  scenarioArgs,
  type Scenario,
  type ScenarioOptions,
} from "../../standin/scenario";
import { createStandin, type Standin } from "../../standin/standin";
import { fakeCredential, fakeVault } from "../../standin/key-vault";

const BASE = "https://127.0.0.1:8443";
let standin: Standin;
let current: FakeIo | undefined;

beforeAll(async () => {
  standin = await createStandin(BASE, { onHang: () => current?.expireEarliestTimer() });
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
  return [...scenarioArgs(s, BASE), ...extra];
}

/** Runs the command in-process; `env` replaces the default FLOW_CLIENT_SECRET. */
async function run(
  argv: string[],
  s?: Scenario,
  env: Record<string, string | undefined> = {},
  setup?: (io: FakeIo) => void,
) {
  const io = new FakeIo({ FLOW_CLIENT_SECRET: s?.secret, ...env });
  io.routes.set("127.0.0.1:8443", standin.fetch);
  setup?.(io);
  current = io;
  const code = await smoke(argv, io);
  return {
    code,
    io,
    report: () => io.json<Report>(),
    elapsedMs: io.nowMs - Date.parse("2026-11-22T09:30:00Z"),
  };
}

function check(r: Report, name: string): Report["checks"][number] {
  const found = r.checks.find((c) => c.name === name);
  expect(found, `check ${name} in ${JSON.stringify(r)}`).toBeDefined();
  return found as Report["checks"][number];
}

/** Neither the client secret nor anything shaped like a token (JWT) appears in any output. */
function expectNothingSecret(io: FakeIo, ...secrets: string[]): void {
  for (const secret of secrets) expect(io.allText.includes(secret), "output contains a secret").toBe(false);
  expect(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.test(io.allText), "output contains a JWT").toBe(false);
}

const tokenCalls = (s: Scenario) =>
  standin.callsFor({ tenantId: s.tenantId }).filter((c) => c.kind === "token");

describe("a passing, failing and insecure trigger", () => {
  test("passes for 'Any user in my tenant', reporting the run ID and the token's facts", async () => {
    const s = scenario({ mode: "tenant" });
    const r = await run(args(s, "--json"), s);
    expect(r.code).toBe(0);
    const report = r.report();
    expect(report.verdict).toBe("pass");
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ["url", true],
      ["anonymous-rejected", true],
      ["token", true],
      ["invoke", true],
    ]);
    expect(check(report, "anonymous-rejected")).toMatchObject({
      status: 401,
      code: "DirectApiAuthorizationRequired",
    });
    expect(check(report, "token").message).toContain(
      `aud https://service.flow.microsoft.com/, tid ${s.tenantId}, oid ${s.servicePrincipalObjectId}, idtyp app`,
    );
    expect(report.runId).toMatch(/^0858\d+CU\d\d$/);
    expect(standin.callsFor({ flowId: s.flowId }).map((c) => [c.method, c.authorization, c.status])).toEqual([
      ["POST", false, 401],
      ["POST", true, 202],
    ]);
    expect(tokenCalls(s).map((c) => c.scope)).toEqual(["https://service.flow.microsoft.com//.default"]);
    expectNothingSecret(r.io, s.secret);
  });

  test("fails with the Allowed users hint when the caller's object ID is not allowed", async () => {
    const s = scenario({ mode: "users", flow: { allowedOids: [randomUUID()], mismatchStatus: 401 } });
    const r = await run(args(s, "--json"), s);
    expect(r.code).toBe(1);
    const invoke = check(r.report(), "invoke");
    expect(invoke).toMatchObject({ ok: false, status: 401, code: "MisMatchingOAuthClaims" });
    expect(invoke.message).toContain("ENTERPRISE APPLICATION object ID");
    expect(invoke.message).toContain("//.default");
    expectNothingSecret(r.io, s.secret);
  });

  test("a trigger that runs the flow without any token is insecure (exit 3), even when the flow answers 401", async () => {
    for (const response of [
      undefined,
      { status: 401, body: { error: { code: "NotYou", message: "the flow says no" } } },
    ]) {
      const s = scenario({
        mode: "tenant",
        flow: { acceptAnonymous: true, ...(response ? { response } : {}) },
      });
      const r = await run(args(s, "--json"), s);
      expect(r.code).toBe(3);
      expect(r.report().verdict).toBe("insecure");
      expect(r.report().checks.map((c) => c.name)).toEqual(["url", "anonymous-rejected"]);
      expect(r.report().runId).toMatch(/^0858/);
      // The flow ran once and is not run again; no token is asked for.
      expect(standin.callsFor({ flowId: s.flowId })).toHaveLength(1);
      expect(standin.callsFor({ tenantId: s.tenantId })).toHaveLength(0);
    }
  });

  test("a URL with sig (any case) is an 'Anyone' trigger: insecure without a single call, the sig never printed", async () => {
    const s = scenario({ mode: "anyone" });
    for (const url of [s.triggerUrl, s.triggerUrl.replace("&sig=", "&SIG=")]) {
      const r = await run(args({ ...s, triggerUrl: url }, "--json"), s);
      expect(r.code).toBe(3);
      expect(r.report().checks).toEqual([expect.objectContaining({ name: "url", ok: false, code: "sig" })]);
      expect(r.io.allText).not.toContain(new URL(s.triggerUrl).searchParams.get("sig") as string);
    }
    expect(standin.callsFor({ flowId: s.flowId, tenantId: s.tenantId })).toHaveLength(0);
  });

  test("prints a readable line per check and the verdict without --json", async () => {
    const s = scenario({ mode: "users" });
    const r = await run(args(s), s);
    expect(r.code).toBe(0);
    const lines = r.io.stdoutText.trim().split("\n");
    expect(lines.map((l) => l.split(":")[0])).toEqual([
      "PASS     url",
      "PASS     anonymous-rejected",
      "PASS     token",
      "PASS     invoke",
      "verdict",
    ]);
    expect(lines[4]).toMatch(/^verdict: pass \(exit 0\), run 0858/);
  });
});

describe("transient failures are retried on the budget, on the command's own clock", () => {
  test("an app not replicated yet (AADSTS700016) passes after retries", async () => {
    const s = scenario({ mode: "users", app: { notReplicatedForRequests: 2 } });
    const r = await run(args(s, "--json"), s);
    expect(r.code).toBe(0);
    expect(check(r.report(), "token").message).toContain("[3 attempts]");
    expect(tokenCalls(s).map((c) => c.status)).toEqual([400, 400, 200]);
    expect(r.io.sleeps).toHaveLength(2);
  });

  test("a wrong secret fails within --max-wait-s, with the invalid-secret hint and no secret printed", async () => {
    const s = scenario({ mode: "users" });
    const wrong = entraLikeSecret();
    const r = await run(args(s, "--json", "--max-wait-s", "30"), s, { FLOW_CLIENT_SECRET: wrong });
    expect(r.code).toBe(1);
    const token = check(r.report(), "token");
    expect(token).toMatchObject({ ok: false, status: 401, code: "AADSTS7000215" });
    expect(token.message).toContain("secret VALUE, not its ID");
    expect(token.message).toMatch(/gave up: the retry budget \(--max-wait-s\) is spent/);
    // Every wait fits the budget on the command's clock.
    expect(r.io.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30_000);
    expectNothingSecret(r.io, wrong, s.secret);
  });

  test("a 429 from the trigger waits its Retry-After (never less than the back-off), then passes", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1, { status: 429, retryAfter: "7" });
    const r = await run(args(s, "--json"), s);
    expect(r.code).toBe(0);
    expect(r.io.sleeps).toEqual([7000]);
    expect(standin.callsFor({ flowId: s.flowId }).map((c) => c.status)).toEqual([429, 401, 202]);
  });

  test("Retry-After: 0 answered forever ends within --max-wait-s with few calls", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1000, { status: 429, retryAfter: "0" });
    const r = await run(args(s, "--json", "--max-wait-s", "10"), s);
    expect(r.code).toBe(1);
    expect(check(r.report(), "anonymous-rejected")).toMatchObject({ ok: false, status: 429 });
    // durationMs is measured on the injected clock (FakeIo), which moves only when the tool waits.
    expect(r.report().durationMs).toBeLessThanOrEqual(10_000);
    expect(standin.callsFor({ flowId: s.flowId }).length).toBeLessThanOrEqual(6);
  });

  test("a Retry-After longer than the budget ends the run at once", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1, { status: 429, retryAfter: "120" });
    const r = await run(args(s, "--json", "--max-wait-s", "5"), s);
    expect(r.code).toBe(1);
    expect(check(r.report(), "anonymous-rejected").message).toContain("Retry-After");
    expect(r.io.sleeps).toEqual([]);
  });

  test("503s from the trigger, the token endpoint and the OIDC metadata are retried, then pass", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1, { status: 503, only: "authenticated" });
    standin.failNext({ tenantId: s.tenantId }, 1, { status: 429, retryAfter: "2" });
    standin.failNext({ metadataTenantId: s.tenantId }, 1, { status: 503 });
    const r = await run(args(s, "--json"), s);
    expect(r.code).toBe(0);
    expect(check(r.report(), "invoke").message).toContain("[2 attempts]");
    expect(standin.callsFor({ flowId: s.flowId }).map((c) => c.status)).toEqual([401, 503, 202]);
  });

  test("a dropped connection to the token endpoint is retried, then passes", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 1, { network: "drop" });
    const r = await run(args(s, "--json"), s);
    expect(r.code).toBe(0);
    expect(check(r.report(), "token").message).toContain("[2 attempts]");
  });

  test("a trigger that never answers ends the run at --max-wait-s with a timeout", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1000, { network: "hang" });
    const r = await run(args(s, "--json", "--max-wait-s", "60"), s);
    expect(r.code).toBe(1);
    expect(check(r.report(), "anonymous-rejected")).toMatchObject({ ok: false, code: "TimeoutError" });
    // durationMs is measured on the injected clock (FakeIo), which moves only when the tool waits.
    expect(r.report().durationMs).toBeLessThanOrEqual(60_000 + 1000);
  });

  test("an authority that never answers ends the token check at --max-wait-s with a timeout", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 1000, { network: "hang" });
    const r = await run(args(s, "--json", "--max-wait-s", "60"), s);
    expect(r.code).toBe(1);
    expect(check(r.report(), "token")).toMatchObject({ ok: false, code: "TimeoutError" });
    expect(check(r.report(), "token").message).toContain("no answer from the authority within");
    expect(r.report().durationMs).toBeLessThanOrEqual(60_000 + 1000);
  });

  test("a flow that ran and answered 500 (run ID present) is not run again, with a flow-failed hint", async () => {
    const s = scenario({
      mode: "users",
      flow: { response: { status: 500, body: { error: { code: "ActionFailed", message: "boom" } } } },
    });
    const r = await run(args(s, "--json"), s);
    expect(r.code).toBe(1);
    expect(check(r.report(), "invoke").message).toContain("the flow itself failed");
    expect(standin.callsFor({ flowId: s.flowId }).filter((c) => c.authorization)).toHaveLength(1);
  });
});

describe("answers that are final, with what to do", () => {
  test.each([
    ["a flow that is off or gone", { flow: { enabled: false } }, "anonymous-rejected", /flow not found/],
    [
      "a tenant without the Power Automate service principal",
      { tenant: { flowServicePrincipal: false } },
      "token",
      /az ad sp create --id 7df0a125/,
    ],
  ] as const)("%s", async (_, options, name, hint) => {
    const s = scenario({ mode: "users", ...options });
    const r = await run(args(s, "--json"), s);
    expect(r.code).toBe(1);
    expect(check(r.report(), name).message).toMatch(hint);
  });

  test("an unknown tenant fails with the tenant-not-found hint", async () => {
    const s = scenario({ mode: "users" });
    const r = await run(args({ ...s, tenantId: randomUUID() }, "--json"), s);
    expect(check(r.report(), "token")).toMatchObject({ code: "AADSTS90002" });
    expect(check(r.report(), "token").message).toContain("tenant not found");
  });

  test("--expect-status pins the flow's own status; a 2xx other than it fails", async () => {
    const s = scenario({ mode: "users", flow: { response: { status: 200, body: { accepted: true } } } });
    expect((await run(args(s, "--json", "--expect-status", "200"), s)).code).toBe(0);
    const other = await run(args(s, "--json", "--expect-status", "202"), s);
    expect(other.code).toBe(1);
    expect(check(other.report(), "invoke").message).toContain("--expect-status");
  });

  test("--expect-status 403 never passes a caller the trigger refused (its error code is final)", async () => {
    const s = scenario({ mode: "users", flow: { allowedOids: [randomUUID()], mismatchStatus: 403 } });
    const r = await run(args(s, "--json", "--expect-status", "403"), s);
    expect(r.code).toBe(1);
    expect(check(r.report(), "invoke")).toMatchObject({
      ok: false,
      status: 403,
      code: "MisMatchingOAuthClaims",
    });
  });

  test("a non-2xx --expect-status passes only when the flow itself answered it (a run ID)", async () => {
    const s = scenario({
      mode: "users",
      flow: { response: { status: 409, body: { error: { code: "Duplicate", message: "seen" } } } },
    });
    expect((await run(args(s, "--json", "--expect-status", "409"), s)).code).toBe(0);
    const noRun = scenario({ mode: "users" });
    standin.failNext({ flowId: noRun.flowId }, 1, {
      status: 400,
      only: "authenticated",
      body: { error: { code: "BadRequest", message: "schema" } },
    });
    const r = await run(args(noRun, "--json", "--expect-status", "400"), noRun);
    expect(r.code).toBe(1);
  });
});

describe("misbehaving servers (bounded reads, no redirects, clear messages)", () => {
  test("an endless body from the trigger is read only up to its cap, then cancelled", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1, { misbehave: "endless-body", only: "anonymous" });
    const before = process.memoryUsage().heapUsed;
    const r = await run(args(s, "--json"), s);
    expect(r.code).toBe(3); // a 200 to an anonymous call: insecure
    expect(check(r.report(), "anonymous-rejected").message.length).toBeLessThan(1000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });

  test("an endless body from the token endpoint is cut and reported as not Entra ID", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 1000, { misbehave: "endless-body" });
    const r = await run(args(s, "--json", "--max-wait-s", "5"), s);
    expect(r.code).toBe(1);
    const token = check(r.report(), "token");
    expect(token.ok).toBe(false);
    expect(token.code).toMatch(/TooLarge|NotJson/);
  });

  test("a redirect from the token endpoint to another host is not followed: the run stops naming that host (exit 2)", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 1000, { misbehave: "redirect" });
    const elsewhere: string[] = [];
    const r = await run(args(s, "--json", "--max-wait-s", "5"), s, {}, (io) =>
      io.routes.set("elsewhere.example", async (input) => {
        elsewhere.push(String(input));
        return new Response(null, { status: 200 });
      }),
    );
    expect(r.code).toBe(2);
    expect(r.report().verdict).toBe("usage");
    const token = check(r.report(), "token");
    expect(token).toMatchObject({ ok: false, code: "OffOrigin" });
    expect(token.message).toContain("redirect (HTTP 302, Location) pointed to elsewhere.example");
    expect(elsewhere).toEqual([]);
    expect(tokenCalls(s)).toHaveLength(1);
    expect(r.io.allText).not.toContain("Cannot set properties");
  });

  test("a 200 answer from the token endpoint that is not JSON says what it is", async () => {
    const s = scenario({ mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 1000, { misbehave: "not-json" });
    const r = await run(args(s, "--json", "--max-wait-s", "5"), s);
    const token = check(r.report(), "token");
    expect(token).toMatchObject({ ok: false, code: "NotJson" });
    expect(token.message).toContain("not JSON");
  });
});

describe("the trigger's host: the token goes only to Power Automate", () => {
  const elsewhere = (s: Scenario, host: string) => s.triggerUrl.replace("127.0.0.1:8443", host);

  test.each([
    ["a look-alike host (Cyrillic о)", "prod.lоgic.azure.com"],
    ["another service", "flows.contoso.com"],
    ["a host with credentials", "user:pass@127.0.0.1:8443"],
  ])("refuses %s before any call (exit 2)", async (_, host) => {
    const s = scenario({ mode: "users" });
    const r = await run(args({ ...s, triggerUrl: elsewhere(s, host) }, "--json"), s);
    expect(r.code).toBe(2);
    expect(r.report().verdict).toBe("usage");
    expect(standin.callsFor({ flowId: s.flowId, tenantId: s.tenantId })).toHaveLength(0);
  });

  test("accepts a host trusted explicitly with --trust-host, and notes an internationalised name", async () => {
    const s = scenario({ mode: "users" });
    const url = elsewhere(s, "xn--flws-6ta.contoso.com");
    const r = await run(
      args({ ...s, triggerUrl: url }, "--json", "--trust-host", "xn--flws-6ta.contoso.com"),
      s,
      {},
      (io) => io.routes.set("xn--flws-6ta.contoso.com", standin.fetch),
    );
    expect(check(r.report(), "url").message).toContain("internationalised");
  });

  test("a *.logic.azure.com URL in the commercial cloud is flagged as retired since 2025-11-30", async () => {
    const s = scenario({ mode: "users" });
    const url = s.triggerUrl.replace("https://127.0.0.1:8443", "https://prod-01.westeurope.logic.azure.com");
    const r = await run(args({ ...s, triggerUrl: url }, "--json"), s, {}, (io) =>
      io.routes.set("prod-01.westeurope.logic.azure.com", standin.fetch),
    );
    expect(check(r.report(), "url").message).toContain("stopped working on 2025-11-30");
  });
});

describe("usage errors: exit 2, one JSON object, no call made, no value echoed", () => {
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
      /--cloud: must be one of public, gcc, gcchigh, dod, china/,
    ],
    ["a --body that is not JSON", (s) => args(s, "--body", "{ping}"), /--body must be JSON/],
    [
      "a negative --max-wait-s",
      (s) => args(s, "--max-wait-s", "-1"),
      /--max-wait-s: must be a number of seconds/,
    ],
    [
      "an --expect-status that is no HTTP status",
      (s) => args(s, "--expect-status", "2000"),
      /--expect-status: must be an HTTP status/,
    ],
    ["an unknown option", (s) => args(s, "--tenant", "x"), /unknown option --tenant/],
    ["--caller without --stack", (s) => args(s, "--caller", "erp"), /--caller needs --stack/],
    [
      "a --caller that is no caller name",
      (s) => args(s, "--outputs", "x.json", "--caller", "__proto__"),
      /--caller must be a caller name/,
    ],
  ];
  test.each(cases)("refuses %s", async (_, argv, message) => {
    const s = scenario();
    const r = await run([...argv(s), "--json"], s);
    expect(r.code).toBe(2);
    expect(r.report().verdict).toBe("usage");
    expect(
      r.report().checks.some((c) => !c.ok && message.test(c.message)),
      JSON.stringify(r.report()),
    ).toBe(true);
    expect(standin.callsFor({ flowId: s.flowId, tenantId: s.tenantId })).toHaveLength(0);
  });

  test("a secret glued to an option or passed as one is refused without being echoed", async () => {
    const s = scenario();
    const secret = entraLikeSecret();
    for (const argv of [
      [...args(s), "--client-secret", secret, "--json"],
      [...args(s), `--client-secret=${secret}`],
      [...args(s), `-p${secret}`, "--json"],
      [...args(s), "--cloud", secret, "--json"],
      [...args(s), "--tenant-id", secret],
    ]) {
      const r = await run(argv, s, { FLOW_CLIENT_SECRET: undefined });
      expect(r.code).toBe(2);
      expect(r.io.allText).not.toContain(secret);
      expect(r.io.allText).not.toContain(secret.slice(0, 12));
    }
  });

  test.each([
    ["too short", "p", /1 characters long: an Entra client secret has about 40/],
    ["the secret's ID instead of its value", randomUUID(), /looks like the secret's ID/],
    ["with a line break", `${entraLikeSecret()}\n`, /spaces or control characters/],
  ])("refuses a FLOW_CLIENT_SECRET %s, saying why", async (_, secret, message) => {
    const s = scenario({ mode: "users" });
    const r = await run(args(s, "--json"), s, { FLOW_CLIENT_SECRET: secret });
    expect(r.code).toBe(2);
    expect(check(r.report(), "secret").message).toMatch(message);
    expect(tokenCalls(s)).toHaveLength(0);
  });

  test("without any secret source it says where the secret must come from", async () => {
    const s = scenario();
    const r = await run(args(s, "--json"), s, { FLOW_CLIENT_SECRET: undefined });
    expect(r.code).toBe(2);
    expect(r.report().checks).toEqual([expect.objectContaining({ name: "secret", ok: false })]);
    expect(r.report().checks[0].message).toContain("FLOW_CLIENT_SECRET");
  });

  test("the --json object has exactly the documented fields (docs/smoke-test.md), whatever happens", async () => {
    const s = scenario({ mode: "users", flow: { allowedOids: [randomUUID()] } });
    for (const argv of [
      args(s, "--json"),
      args(s, "--json", "--cloud", "mars"),
      ["--json", "--help"].slice(0, 1),
    ]) {
      const r = (await run(argv, s)).report();
      expect(Object.keys(r).every((k) => ["verdict", "checks", "runId", "durationMs"].includes(k))).toBe(
        true,
      );
      expect(["pass", "fail", "insecure", "usage"]).toContain(r.verdict);
      for (const c of r.checks) {
        expect(Object.keys(c).every((k) => ["name", "ok", "status", "code", "message"].includes(k))).toBe(
          true,
        );
      }
    }
  });

  test("--help lists every option and exits 0; with --json, as one JSON object", async () => {
    const text = await run(["--help"]);
    expect(text.code).toBe(0);
    for (const option of [
      "--trigger-url",
      "--credential",
      "--trust-host",
      "--key-vault-secret-uri",
      "--stack",
      "--max-wait-s",
      "--json",
    ]) {
      expect(text.io.stdoutText).toContain(option);
    }
    const json = await run(["--help", "--json"]);
    expect(json.io.json().help).toContain("--trigger-url");
  });
});

describe("identity and credential from stack outputs", () => {
  function outputsFor(s: Scenario, vault = "https://flow-dev-kv.vault.azure.net") {
    return {
      tenantId: s.tenantId,
      cloud: "public",
      audience: "https://service.flow.microsoft.com/",
      scope: "https://service.flow.microsoft.com//.default",
      tokenEndpoint: `https://login.microsoftonline.com/${s.tenantId}/oauth2/v2.0/token`,
      keyVaultName: "flow-dev-kv",
      keyVaultUri: `${vault}/`,
      callers: {
        erp: {
          displayName: "flow-dev-erp",
          clientId: s.clientId,
          applicationObjectId: randomUUID(),
          servicePrincipalObjectId: s.servicePrincipalObjectId,
          keyVaultSecretName: "erp-client-secret",
          keyVaultSecretUri: `${vault}/secrets/erp-client-secret`,
          secretExpiresAt: "2030-01-01T00:00:00Z",
          nextRotationAt: "2029-10-01T00:00:00Z",
        },
      },
      allowedUsers: [s.servicePrincipalObjectId],
    };
  }

  test("--outputs FILE and --stack NAME give tenant, client ID and the Key Vault secret of --caller", async () => {
    const s = scenario({ mode: "users" });
    const vault = fakeVault("https://flow-dev-kv.vault.azure.net");
    vault.secrets.set("erp-client-secret", [
      { version: "v1", value: s.secret, created: "2026-11-01T00:00:00Z" },
    ]);
    const setup = (io: FakeIo) => {
      io.routes.set("flow-dev-kv.vault.azure.net", vault.fetch);
      io.azureCredential = fakeCredential();
      writeFileSync(join(io.cwd, "dev.json"), JSON.stringify(outputsFor(s)));
      io.pulumi.set("dev", { stdout: JSON.stringify(outputsFor(s)) });
    };
    const caller = (...source: string[]) =>
      run(
        ["--trigger-url", s.triggerUrl, ...source, "--caller", "erp", "--authority-host", BASE, "--json"],
        undefined,
        {},
        setup,
      );
    const viaFile = await caller("--outputs", "dev.json");
    expect(viaFile.code, viaFile.io.allText).toBe(0);
    const viaStack = await caller("--stack", "dev");
    expect(viaStack.code, viaStack.io.allText).toBe(0);
    expect(viaStack.io.execs).toEqual([["pulumi", "stack", "output", "--json", "--stack", "dev"]]);
    expectNothingSecret(viaStack.io, s.secret);
  });

  test.each(["crm", "constructor", "toString", "hasOwnProperty"])(
    "--caller %s that the stack does not have is a usage error",
    async (caller) => {
      const s = scenario();
      const r = await run(
        ["--trigger-url", s.triggerUrl, "--outputs", "dev.json", "--caller", caller, "--json"],
        s,
        {},
        (io) => writeFileSync(join(io.cwd, "dev.json"), JSON.stringify(outputsFor(s))),
      );
      expect(r.code).toBe(2);
      expect(r.report().checks[0].message).toMatch(
        /--caller must (name a caller of this stack; its callers: erp|be a caller name)/,
      );
    },
  );

  test("a Key Vault that never answers ends at --max-wait-s, saying what timed out", async () => {
    const s = scenario({ mode: "users" });
    const vault = fakeVault("https://flow-dev-kv.vault.azure.net");
    vault.failNext(1000, "hang");
    const r = await run(
      [
        "--trigger-url",
        s.triggerUrl,
        "--key-vault-secret-uri",
        `${vault.vaultUrl}/secrets/erp-client-secret`,
        "--tenant-id",
        s.tenantId,
        "--client-id",
        s.clientId,
        "--json",
        "--max-wait-s",
        "20",
      ],
      undefined,
      {},
      (io) => {
        io.routes.set("flow-dev-kv.vault.azure.net", (input, init) => {
          const p = vault.fetch(input, init);
          void Promise.resolve().then(() => io.expireEarliestTimer());
          return p;
        });
        io.azureCredential = fakeCredential();
      },
    );
    expect(r.code).toBe(2);
    expect(check(r.report(), "secret").message).toMatch(/timed out after \d+ s \(--max-wait-s\)/);
  });

  test("a `pulumi` that never answers ends at --max-wait-s, saying what timed out", async () => {
    const s = scenario();
    const r = await run(
      ["--trigger-url", s.triggerUrl, "--stack", "dev", "--caller", "erp", "--json", "--max-wait-s", "15"],
      s,
      {},
      (io) => io.pulumi.set("dev", { code: null, failure: "timeout" }),
    );
    expect(r.code).toBe(2);
    expect(check(r.report(), "outputs").message).toContain("gave no answer within 15 s (--max-wait-s)");
  });
});
