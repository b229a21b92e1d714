/**
 * What `smoke` tells while it works: each wait before a retry on stderr as it begins, in one form
 * (`token: 429 ... from Entra, retrying in 7 s (attempt 2, 300 s of budget left)`), each check as it
 * finishes, `--json` keeping stdout to one document and `--quiet` silencing the progress; and how long
 * an invalid client secret is retried. In-process against the stand-in, on the fake clock.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { smoke } from "./smoke";
import { FakeIo } from "../../test/helpers/fake-io";
import { demoScenario, entraLikeSecret, scenarioArgs, type Scenario } from "../../standin/scenario";
import { createStandin, type Standin } from "../../standin/standin";
import { fakeCredential, fakeVault, type FakeVault } from "../../standin/key-vault";

const BASE = "https://127.0.0.1:8443";
const START = Date.parse("2026-11-22T09:30:00Z");
let standin: Standin;

beforeAll(async () => {
  standin = await createStandin(BASE);
});

async function run(argv: string[], env: Record<string, string | undefined>, setup?: (io: FakeIo) => void) {
  const io = new FakeIo(env);
  io.routes.set("127.0.0.1:8443", standin.fetch);
  setup?.(io);
  const code = await smoke(argv, io);
  return { code, io, elapsedMs: io.nowMs - START };
}

/** A passing scenario whose token request is throttled once (Retry-After 7) and whose trigger fails once with 503. */
function bumpy(): Scenario {
  const s = demoScenario(standin, { mode: "users" });
  standin.failNext({ tenantId: s.tenantId }, 1, { status: 429, retryAfter: "7" });
  standin.failNext({ flowId: s.flowId }, 1, { status: 503, only: "authenticated" });
  return s;
}

const tokenCalls = (s: Scenario) =>
  standin.callsFor({ tenantId: s.tenantId }).filter((c) => c.kind === "token");

describe("progress", () => {
  test("each wait is told on stderr as it begins and each check printed as it finishes, in the order they happen", async () => {
    const s = bumpy();
    const r = await run(scenarioArgs(s, BASE), { FLOW_CLIENT_SECRET: s.secret });
    expect(r.code).toBe(0);
    const lines = r.io.lines.map((l) => l.replace(/ \(aud .*$|, run \d+CU\d+.*$/, ""));
    expect(lines).toEqual([
      "out: PASS     url: HTTPS URL without sig (127.0.0.1:8443)",
      "out: PASS     anonymous-rejected: refused without a token (401 DirectApiAuthorizationRequired)",
      "err: token: 429 AADSTS50196 from Entra, retrying in 7 s (attempt 2, 300 s of budget left)",
      `out: PASS     token: token for https://service.flow.microsoft.com//.default from ${BASE}/${s.tenantId}/oauth2/v2.0/token`,
      "err: invoke: 503 ServiceUnavailable from the trigger, retrying in 0.8 s (attempt 2, 293 s of budget left)",
      "out: PASS     invoke: accepted with the token (202)",
      expect.stringMatching(/^out: verdict: pass \(exit 0\)/),
    ]);
    // The waits were on the command's clock.
    expect(r.io.sleeps).toEqual([7000, 750]);
  });

  test("--json keeps stdout to one JSON document; the waits and finished checks go to stderr", async () => {
    const s = bumpy();
    const r = await run([...scenarioArgs(s, BASE), "--json"], { FLOW_CLIENT_SECRET: s.secret });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.io.stdoutText)).toMatchObject({ verdict: "pass" });
    expect(r.io.writes.filter((w) => w.to === "stdout")).toHaveLength(1);
    expect(
      r.io.stderrText
        .trimEnd()
        .split("\n")
        .map((l) => l.split(":")[0]),
    ).toEqual([
      "PASS     url",
      "PASS     anonymous-rejected",
      "token",
      "PASS     token",
      "invoke",
      "PASS     invoke",
    ]);
  });

  test("--quiet prints no progress: the report alone (stdout), or the JSON document alone", async () => {
    const text = bumpy();
    const quiet = await run([...scenarioArgs(text, BASE), "--quiet"], { FLOW_CLIENT_SECRET: text.secret });
    expect(quiet.code).toBe(0);
    expect(quiet.io.stderrText).toBe("");
    expect(quiet.io.stdoutText).toMatch(/^PASS {5}url:[^]*\nPASS {5}invoke:[^]*\nverdict: pass \(exit 0\)/);
    const json = bumpy();
    const both = await run([...scenarioArgs(json, BASE), "--json", "-q"], {
      FLOW_CLIENT_SECRET: json.secret,
    });
    expect(both.code).toBe(0);
    expect(both.io.stderrText).toBe("");
    expect(JSON.parse(both.io.stdoutText)).toMatchObject({ verdict: "pass" });
  });
});

describe("an invalid client secret (AADSTS7000215) is retried only while a new secret may be replicating", () => {
  test("about a minute from the first token request, then the run ends with the hint; not the whole budget", async () => {
    const s = demoScenario(standin, { mode: "users" });
    const r = await run([...scenarioArgs(s, BASE), "--json"], { FLOW_CLIENT_SECRET: entraLikeSecret() });
    expect(r.code).toBe(1);
    const token = JSON.parse(r.io.stdoutText).checks.find((c: { name: string }) => c.name === "token");
    expect(token).toMatchObject({ ok: false, code: "AADSTS7000215" });
    expect(token.message).toContain(
      "gave up: an invalid secret is retried only while a new one may still be replicating, 60 s from the first token request",
    );
    expect(token.message).toContain("Hint: invalid client secret");
    // Retried, within the minute (of the 300 s budget), on the command's clock.
    expect(tokenCalls(s).length).toBeGreaterThan(2);
    expect(r.elapsedMs).toBeLessThanOrEqual(60_000);
    expect(r.io.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThan(30_000);
    expect(r.io.stderrText).toMatch(
      /^token: 401 AADSTS7000215 from Entra, retrying in [\d.]+ s \(attempt 2, 60 s of the replication window left\)$/m,
    );
  });

  test("a new secret that starts working within the window passes", async () => {
    const s = demoScenario(standin, { mode: "users", app: { secretNotReplicatedForRequests: 3 } });
    const r = await run(scenarioArgs(s, BASE), { FLOW_CLIENT_SECRET: s.secret });
    expect(r.code).toBe(0);
    expect(tokenCalls(s)).toHaveLength(4);
  });

  test("other transient answers keep the whole budget: a throttled token request is retried past the minute", async () => {
    const s = demoScenario(standin, { mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 4, { status: 429, retryAfter: "30" });
    const r = await run(scenarioArgs(s, BASE), { FLOW_CLIENT_SECRET: s.secret });
    expect(r.code).toBe(0);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(120_000);
  });

  describe("with the secret from Key Vault, the window counts from the version's creation (its `created`)", () => {
    /** A vault whose erp secret holds `value`, its version created at `created`. */
    function vaultWith(value: string, created: string): FakeVault {
      const vault = fakeVault("https://flow-dev-kv.vault.azure.net");
      vault.secrets.set("erp-client-secret", [{ version: "v1", value, created }]);
      return vault;
    }
    const argsFor = (s: Scenario, vault: FakeVault) => [
      ...scenarioArgs(s, BASE),
      "--key-vault-secret-uri",
      `${vault.vaultUrl}/secrets/erp-client-secret`,
      "--json",
    ];
    const reach = (vault: FakeVault) => (io: FakeIo) => {
      io.routes.set("flow-dev-kv.vault.azure.net", vault.fetch);
      io.azureCredential = fakeCredential();
    };

    test("a version published half an hour ago that Entra refuses is not retried at all", async () => {
      const s = demoScenario(standin, { mode: "users" });
      const vault = vaultWith(entraLikeSecret(), "2026-11-22T09:00:00Z");
      const r = await run(argsFor(s, vault), {}, reach(vault));
      expect(r.code).toBe(1);
      expect(tokenCalls(s)).toHaveLength(1);
      expect(r.io.sleeps).toEqual([]);
      const token = JSON.parse(r.io.stdoutText).checks.find((c: { name: string }) => c.name === "token");
      expect(token.message).toContain("60 s from its creation (2026-11-22T09:00:00.000Z)");
    });

    test("a version published 30 s ago is retried until a minute after it was created", async () => {
      const s = demoScenario(standin, { mode: "users" });
      const vault = vaultWith(entraLikeSecret(), "2026-11-22T09:29:30Z");
      const r = await run(argsFor(s, vault), {}, reach(vault));
      expect(r.code).toBe(1);
      expect(tokenCalls(s).length).toBeGreaterThan(1);
      expect(r.elapsedMs).toBeLessThanOrEqual(30_000);
      expect(r.io.stderrText).toMatch(
        /^key vault: reading erp-client-secret from https:\/\/flow-dev-kv\.vault\.azure\.net$/m,
      );
    });
  });
});

describe("reading the secret from Key Vault", () => {
  test("a throttled or failing vault is retried on the command's clock, each wait told", async () => {
    const s = demoScenario(standin, { mode: "users" });
    const vault = fakeVault("https://flow-dev-kv.vault.azure.net");
    vault.secrets.set("erp-client-secret", [
      { version: "v1", value: s.secret, created: "2026-11-01T00:00:00Z" },
    ]);
    vault.failNext(1, { status: 429, code: "Throttled" });
    vault.failNext(1, { status: 503, code: "ServiceUnavailable" });
    const r = await run(
      [...scenarioArgs(s, BASE), "--key-vault-secret-uri", `${vault.vaultUrl}/secrets/erp-client-secret`],
      {},
      (io) => {
        io.routes.set("flow-dev-kv.vault.azure.net", vault.fetch);
        io.azureCredential = fakeCredential();
      },
    );
    expect(r.code, r.io.allText).toBe(0);
    const stderr = r.io.stderrText.trimEnd().split("\n");
    expect(stderr).toEqual([
      "key vault: reading erp-client-secret from https://flow-dev-kv.vault.azure.net",
      expect.stringMatching(
        /^key vault: 429 from https:\/\/flow-dev-kv\.vault\.azure\.net, retrying in [\d.]+ s \(attempt 2, 300 s of budget left\)$/,
      ),
      expect.stringMatching(
        /^key vault: 503 from https:\/\/flow-dev-kv\.vault\.azure\.net, retrying in [\d.]+ s \(attempt 3, \d+ s of budget left\)$/,
      ),
    ]);
    expect(r.io.sleeps).toHaveLength(2);
  });
});
