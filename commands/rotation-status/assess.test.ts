import {
  type AccessToken,
  CredentialUnavailableError,
  type GetTokenOptions,
  type TokenCredential,
} from "@azure/identity";
import { describe, expect, it } from "vitest";
import type { LoadedOutputs } from "../../lib/stack-outputs";
import { assessRotation, classifyCaller, type LiveSecret, type SecretRef } from "./assess";
import { keyVaultReader, LiveReadError } from "./live";
import { parseStackOutputs } from "../../lib/stack-outputs";
import { DAY_MS, planRotation } from "../../rotation";
import dev from "../../test/fixtures/outputs/dev.json";

const NOW = Date.parse("2026-11-22T09:30:00Z");
const EXPIRES = Date.parse("2027-03-03T00:00:00Z");
const NEXT = Date.parse("2026-12-03T00:00:00Z");

const devOutputs: LoadedOutputs = {
  label: "dev",
  source: "dev.json",
  outputs: parseStackOutputs(dev, "dev.json"),
};

describe("classifying a caller", () => {
  const at = (nowMs: number, warnDays = 30) =>
    classifyCaller({ expiresAtMs: EXPIRES, nextRotationAtMs: NEXT, nowMs, warnDays });

  it("is ok while the secret has more than the warning window left and the rotation is not late", () => {
    expect(at(NOW)).toEqual({ status: "ok", problems: [] });
  });

  it("is expiring from the moment the secret has the warning window or less left", () => {
    expect(at(EXPIRES - 30 * DAY_MS - 1, 30).status).not.toBe("expiring");
    expect(at(EXPIRES - 30 * DAY_MS, 30).problems[0]).toBe(
      "published secret expires 2027-03-03T00:00:00Z, in 30 day(s) (within 30 days)",
    );
    expect(at(EXPIRES - 5 * DAY_MS, 0).problems.some((p) => p.startsWith("published secret expires"))).toBe(
      false,
    );
  });

  it("is overdue once the rotation is more than a day late, not before", () => {
    expect(at(NEXT + DAY_MS).status).toBe("ok");
    const late = at(NEXT + DAY_MS + 1);
    expect(late.status).toBe("overdue");
    // A day begun counts as a whole day (docs/commands.md#rotation-status): 1 day and 1 ms is the second day.
    expect(late.problems).toEqual([
      "rotation overdue by 2 day(s) (was due 2026-12-03T00:00:00Z): the scheduled `pulumi up` has stopped or is failing",
    ]);
  });

  it("lists every problem and takes the worst as the status: expired over expiring over overdue", () => {
    const expiring = at(EXPIRES - 10 * DAY_MS);
    expect(expiring.status).toBe("expiring");
    expect(expiring.problems).toHaveLength(2);
    const expired = at(EXPIRES);
    expect(expired.status).toBe("expired");
    expect(expired.problems[0]).toBe("published secret expired 2027-03-03T00:00:00Z (0 day(s) ago)");
    expect(at(EXPIRES + 3_600_000).problems[0]).toBe(
      "published secret expired 2027-03-03T00:00:00Z (1 day(s) ago)",
    );
    const missing = classifyCaller({
      expiresAtMs: EXPIRES,
      nextRotationAtMs: NEXT,
      nowMs: NOW,
      warnDays: 30,
      missingReason: "gone",
    });
    expect(missing).toEqual({ status: "missing", problems: ["gone"] });
  });

  it("never raises an alarm over years of daily on-time runs, for any rotation period above the warning window", () => {
    for (const policy of [
      { rotationDays: 31, offsetDays: 0 },
      { rotationDays: 90, offsetDays: 0 },
      { rotationDays: 90, offsetDays: 45 },
      { rotationDays: 365, offsetDays: 100 },
    ]) {
      for (let t = Date.parse("2026-01-01T06:00:00Z"); t < Date.parse("2029-01-01T00:00:00Z"); t += DAY_MS) {
        // What the daily `pulumi up` publishes, judged right after it.
        const plan = planRotation(policy, t);
        const result = classifyCaller({
          expiresAtMs: plan.published.endMs,
          nextRotationAtMs: plan.nextRotationMs,
          nowMs: t,
          warnDays: 30,
        });
        expect(result, `${JSON.stringify(policy)} at ${new Date(t).toISOString()}`).toEqual({
          status: "ok",
          problems: [],
        });
      }
    }
  });
});

describe("--live: Key Vault as the source of truth (reader injected, no network)", () => {
  const reader = (answers: Record<string, LiveSecret | undefined>) => {
    const asked: SecretRef[] = [];
    return {
      asked,
      read: async (ref: SecretRef) => {
        asked.push(ref);
        return answers[ref.secretName];
      },
    };
  };
  const fresh: LiveSecret = {
    expiresAt: "2027-03-03T00:00:00Z",
    enabled: true,
    version: "4f1c0d2e9a7b4c3d8e6f5a4b3c2d1e0f",
  };

  it("reads each caller's secret from the vault named in the outputs", async () => {
    const r = reader({
      "erp-client-secret": fresh,
      "crm-client-secret": fresh,
      "hr-sync-client-secret": fresh,
    });
    const report = await assessRotation([devOutputs], { nowMs: NOW, warnDays: 30, readLive: r.read });
    expect(r.asked.map((a) => `${a.vaultUri}${a.secretName}`).sort()).toEqual([
      "https://flow-dev-k3x9q2.vault.azure.net/crm-client-secret",
      "https://flow-dev-k3x9q2.vault.azure.net/erp-client-secret",
      "https://flow-dev-k3x9q2.vault.azure.net/hr-sync-client-secret",
    ]);
    expect(report.live).toBe(true);
    expect(report.exitCode).toBe(0);
    expect(report.callers.every((c) => c.expirySource === "key-vault" && c.expiryDiffers === false)).toBe(
      true,
    );
  });

  it("judges by Key Vault's expiry when it differs from the outputs, and says so", async () => {
    const r = reader({
      "erp-client-secret": { ...fresh, expiresAt: "2026-12-01T00:00:00Z" },
      "crm-client-secret": fresh,
      "hr-sync-client-secret": fresh,
    });
    const report = await assessRotation([devOutputs], { nowMs: NOW, warnDays: 30, readLive: r.read });
    expect(report.atRisk).toEqual(["dev/erp"]);
    expect(report.exitCode).toBe(1);
    const erp = report.callers.find((c) => c.caller === "erp")!;
    expect(erp).toMatchObject({
      status: "expiring",
      expiresAt: "2026-12-01T00:00:00Z",
      liveExpiresAt: "2026-12-01T00:00:00Z",
      publishedExpiresAt: "2027-03-03T00:00:00Z",
      expirySource: "key-vault",
      expiryDiffers: true,
      daysUntilExpiry: 9,
    });
    expect(erp.notes[0]).toContain(
      "Key Vault says the secret expires 2026-12-01T00:00:00Z, the outputs say 2027-03-03T00:00:00Z",
    );
  });

  it("a later expiry in Key Vault is reported as a difference but is not a risk", async () => {
    const r = reader({
      "erp-client-secret": { ...fresh, expiresAt: "2027-04-01T00:00:00Z" },
      "crm-client-secret": fresh,
      "hr-sync-client-secret": fresh,
    });
    const report = await assessRotation([devOutputs], { nowMs: NOW, warnDays: 30, readLive: r.read });
    expect(report.exitCode).toBe(0);
    expect(report.callers.find((c) => c.caller === "erp")).toMatchObject({
      status: "ok",
      expiryDiffers: true,
    });
  });

  it("a secret missing from Key Vault, or disabled, puts its caller at risk", async () => {
    const r = reader({
      "erp-client-secret": undefined,
      "crm-client-secret": { ...fresh, enabled: false },
      "hr-sync-client-secret": fresh,
    });
    const report = await assessRotation([devOutputs], { nowMs: NOW, warnDays: 30, readLive: r.read });
    expect(report.atRisk).toEqual(["dev/crm", "dev/erp"]);
    const byName = Object.fromEntries(report.callers.map((c) => [c.caller, c]));
    expect(byName.erp.status).toBe("missing");
    expect(byName.erp.problems[0]).toBe(
      "Key Vault has no secret erp-client-secret (https://flow-dev-k3x9q2.vault.azure.net/secrets/erp-client-secret): callers cannot fetch their credential",
    );
    expect(byName.crm.status).toBe("missing");
    expect(byName.crm.problems[0]).toContain("disabled in Key Vault");
  });

  it("a Key Vault secret without an expiry falls back to the outputs' expiry, noting the difference", async () => {
    const r = reader({
      "erp-client-secret": { enabled: true },
      "crm-client-secret": fresh,
      "hr-sync-client-secret": fresh,
    });
    const report = await assessRotation([devOutputs], {
      nowMs: EXPIRES - 3 * DAY_MS,
      warnDays: 30,
      readLive: r.read,
    });
    const erp = report.callers.find((c) => c.caller === "erp")!;
    expect(erp).toMatchObject({
      liveExpiresAt: null,
      expiresAt: "2027-03-03T00:00:00Z",
      expirySource: "outputs",
      status: "expiring",
    });
    expect(erp.notes[0]).toContain("no expiry date");
  });

  it("a failed Key Vault read fails the whole check instead of reporting a guess", async () => {
    const failing = async () => {
      throw new Error("cannot read secret erp-client-secret: access denied (403)");
    };
    await expect(
      assessRotation([devOutputs], { nowMs: NOW, warnDays: 30, readLive: failing }),
    ).rejects.toThrow("access denied (403)");
  });

  it("without --live, Key Vault is not consulted and the outputs decide", async () => {
    const report = await assessRotation([devOutputs], { nowMs: NOW, warnDays: 30 });
    expect(report.live).toBe(false);
    expect(report.callers[0]).not.toHaveProperty("liveExpiresAt");
    expect(report.callers.every((c) => c.expirySource === "outputs")).toBe(true);
  });
});

/**
 * Key Vault's data-plane REST API as `@azure/keyvault-secrets` sees it, answered in-process (no
 * network): the challenge (401 with WWW-Authenticate), then the secret's version list, paged.
 */
function fakeKeyVault(routes: Record<string, { status: number; body: unknown }[]>) {
  const requests: { method: string; url: string; authorization: string | null }[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const authorization = request.headers.get("authorization");
    requests.push({ method: request.method, url: request.url, authorization });
    const respond = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...headers },
      });
    if (!authorization) {
      const resource = `https://${url.hostname.split(".").slice(1).join(".")}`;
      return respond(
        401,
        { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer token." } },
        {
          "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="${resource}"`,
        },
      );
    }
    const pages = routes[url.pathname] ?? [{ status: 404, body: NOT_FOUND }];
    const page = Number(url.searchParams.get("page") ?? "0");
    return respond(pages[page].status, pages[page].body);
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

/** The reader's deps over the fake vault: real timers are never started (a budget of a day). */
function deps(vault: { fetch: typeof globalThis.fetch }) {
  let now = NOW;
  return {
    fetch: vault.fetch,
    timer: () => ({ signal: new AbortController().signal, cancel: () => undefined }),
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    random: () => 0.5,
    deadline: NOW + DAY_MS,
    env: {},
  };
}

const TENANT = "eb4abb67-170c-4ad7-977a-78b7180211ed";
const NOT_FOUND = {
  error: { code: "SecretNotFound", message: "A secret with (name/id) x was not found in this key vault." },
};
const VAULT = "https://flow-dev-k3x9q2.vault.azure.net/";
const secs = (iso: string) => Date.parse(iso) / 1000;
const version = (id: string, created: string, attributes: Record<string, unknown> = {}) => ({
  id: `${VAULT}secrets/erp-client-secret/${id}`,
  attributes: {
    enabled: true,
    created: secs(created),
    updated: secs(created),
    recoveryLevel: "Recoverable",
    ...attributes,
  },
  contentType: "text/plain; client secret of flow-dev-erp",
  tags: { slot: "b" },
});

/** erp-client-secret's versions, answered in pages as Key Vault pages them: each page but the last links to the next. */
const erpVersions = (...pages: ReturnType<typeof version>[][]) => ({
  "/secrets/erp-client-secret/versions": pages.map((value, page) => ({
    status: 200,
    body: {
      value,
      nextLink:
        page < pages.length - 1
          ? `${VAULT}secrets/erp-client-secret/versions?api-version=7.6&page=${page + 1}`
          : null,
    },
  })),
});

/** A credential that hands out a fixed token and records the scopes asked for. */
function fakeCredential(fail?: Error): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    async getToken(scope: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
      scopes.push(...[scope].flat());
      if (fail) throw fail;
      return { token: "fake-access-token", expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

describe("--live reads Key Vault through @azure/keyvault-secrets (in-process HTTP client, no network)", () => {
  const ref = { vaultUri: VAULT, secretName: "erp-client-secret" };

  it("takes the newest version across pages as the current one, reading attributes only, never the value", async () => {
    const vault = fakeKeyVault(
      erpVersions(
        [
          version("0aa", "2026-07-20T00:00:00Z", { exp: secs("2026-12-03T00:00:00Z") }),
          version("2cc", "2026-10-18T00:00:00Z", { exp: secs("2027-03-03T00:00:00Z") }),
        ],
        [version("1bb", "2026-09-03T00:00:00Z", { exp: secs("2027-01-17T00:00:00Z") })],
      ),
    );
    const credential = fakeCredential();
    const read = keyVaultReader(deps(vault), credential);
    expect(await read(ref)).toEqual({ expiresAt: "2027-03-03T00:00:00Z", enabled: true, version: "2cc" });
    expect(credential.scopes).toEqual(["https://vault.azure.net/.default"]);
    const paths = vault.requests.filter((r) => r.authorization).map((r) => new URL(r.url).pathname);
    expect(paths).toEqual(["/secrets/erp-client-secret/versions", "/secrets/erp-client-secret/versions"]);
    expect(vault.requests.every((r) => r.method === "GET")).toBe(true);
  });

  it("reports a disabled current version and one without an expiry as Key Vault has them", async () => {
    const vault = fakeKeyVault(
      erpVersions([
        version("0aa", "2026-07-20T00:00:00Z", { exp: secs("2026-12-03T00:00:00Z") }),
        version("3dd", "2026-11-01T00:00:00Z", { enabled: false }),
      ]),
    );
    const read = keyVaultReader(deps(vault), fakeCredential());
    expect(await read(ref)).toEqual({ expiresAt: undefined, enabled: false, version: "3dd" });
  });

  it("a secret that does not exist, or has no version, is missing rather than an error", async () => {
    const vault = fakeKeyVault({
      "/secrets/empty-client-secret/versions": [{ status: 200, body: { value: [] } }],
    });
    const read = keyVaultReader(deps(vault), fakeCredential());
    expect(await read(ref)).toBeUndefined();
    expect(await read({ vaultUri: VAULT, secretName: "empty-client-secret" })).toBeUndefined();
  });

  it("access denied fails with the role to grant, naming the secret and the vault", async () => {
    const vault = fakeKeyVault({
      "/secrets/erp-client-secret/versions": [
        {
          status: 403,
          body: {
            error: {
              code: "Forbidden",
              message: "Caller is not authorized to perform action on resource.",
              innererror: { code: "ForbiddenByRbac" },
            },
          },
        },
      ],
    });
    const read = keyVaultReader(deps(vault), fakeCredential());
    const err = await read(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LiveReadError);
    expect((err as Error).message).toBe(
      `cannot read secret erp-client-secret in ${VAULT}: access denied (403). The signed-in identity needs the ` +
        "Key Vault Reader role on the vault (or Key Vault Secrets User on the secret), and the vault's firewall must let it in.",
    );
  });

  it("no Azure credential fails with what to run, and never shows a token", async () => {
    const vault = fakeKeyVault({});
    const read = keyVaultReader(
      deps(vault),
      fakeCredential(new CredentialUnavailableError("Azure CLI could not be found.")),
    );
    const err = await read(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LiveReadError);
    expect((err as Error).message).toBe(
      `cannot read secret erp-client-secret in ${VAULT}: no Azure credential found; run \`az login\` (or set up workload identity) and retry`,
    );
  });

  it("asks a sovereign-cloud vault's own audience for the token", async () => {
    const gov = "https://flow-gov-zz99yy.vault.usgovcloudapi.net/";
    const vault = fakeKeyVault(
      erpVersions([version("0aa", "2026-07-20T00:00:00Z", { exp: secs("2027-03-03T00:00:00Z") })]),
    );
    const credential = fakeCredential();
    const read = keyVaultReader(deps(vault), credential);
    expect((await read({ vaultUri: gov, secretName: "erp-client-secret" }))?.expiresAt).toBe(
      "2027-03-03T00:00:00Z",
    );
    expect(credential.scopes).toEqual(["https://vault.usgovcloudapi.net/.default"]);
  });
});
