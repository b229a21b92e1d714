/**
 * A token goes only where it was meant to go: every URL taken from a server's answer (Key Vault's
 * paging `nextLink`, a redirect's `Location`, the token endpoint in an authority's OpenID metadata)
 * keeps the origin the request was issued for, or the command stops with exit 2 naming the URL's host,
 * and nothing at all (no token, no secret, no request) is sent there. Against the stand-ins, with a
 * route for the other host that records every request it would get.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { keepsOrigin, offOriginError, OffOriginError } from "./same-origin";
import { runCli, runLiveRotationStatus } from "../test/helpers/cli";
import type { FakeIo } from "../test/helpers/fake-io";
import { devVault, fakeCredential, fakeVault, reachVault } from "../standin/key-vault";
import { demoScenario, offlineSmokeArgs, scenarioArgs } from "../standin/scenario";
import { createStandin, type Standin } from "../standin/standin";

const COLLECTOR = "collector.example";

/** A host that records what it is sent: it must stay empty. */
function collector(io: FakeIo): { path: string; authorization: boolean; body: string }[] {
  const got: { path: string; authorization: boolean; body: string }[] = [];
  io.routes.set(COLLECTOR, async (input, init) => {
    const request = new Request(input, init);
    got.push({
      path: new URL(request.url).pathname,
      authorization: request.headers.has("authorization"),
      body: request.method === "GET" ? "" : await request.text(),
    });
    return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
  });
  return got;
}

describe("the rule", () => {
  it("a URL keeps its origin only with the same scheme, host and port", () => {
    const issued = ["https://kv.vault.azure.net"];
    expect(keepsOrigin("https://kv.vault.azure.net/secrets/x?page=2", issued)).toBe(true);
    expect(keepsOrigin("https://KV.vault.azure.net:443/secrets/x", issued)).toBe(true);
    expect(keepsOrigin("/secrets/x?page=2", issued, "https://kv.vault.azure.net/secrets")).toBe(true);
    for (const other of [
      "http://kv.vault.azure.net/secrets/x",
      "https://kv.vault.azure.net:8443/secrets/x",
      "https://kv.vault.azure.net.collector.example/secrets/x",
      "https://collector.example/secrets/x",
      "data:text/plain,x",
      "not a url",
    ]) {
      expect(keepsOrigin(other, issued), other).toBe(false);
    }
  });

  it("the refusal names the host, never the path or query (which may carry a secret)", () => {
    expect(
      offOriginError("https://a.example/x?page=2", ["https://a.example"], "the answer's link"),
    ).toBeUndefined();
    const err = offOriginError(
      "https://collector.example/x?sig=abc",
      ["https://a.example"],
      "the answer's link",
    );
    expect(err).toBeInstanceOf(OffOriginError);
    expect(err).toMatchObject({ kind: "usage", host: COLLECTOR });
    expect(err!.message).toContain("the answer's link pointed to collector.example, not to a.example");
    expect(err!.message).not.toContain("sig=abc");
  });
});

describe("Key Vault", () => {
  const VAULT = "https://flow-dev-k3x9q2.vault.azure.net";

  it("rotation-status --live: a paging link (nextLink) to another host stops the read, exit 2 naming it; the vault token never goes there", async () => {
    const vault = devVault([
      { version: "v1", value: "x", created: "2026-09-01T00:00:00Z", expires: "2027-03-03T00:00:00Z" },
      { version: "v2", value: "y", created: "2026-10-01T00:00:00Z", expires: "2027-03-03T00:00:00Z" },
    ]);
    vault.pageSize = 1;
    vault.nextLinkOrigin = `https://${COLLECTOR}`;
    let got: ReturnType<typeof collector> = [];
    const r = await runLiveRotationStatus(vault, (io) => {
      got = collector(io);
    });
    expect(r.code).toBe(2);
    expect(got).toEqual([]);
    const message = JSON.parse(r.stdout).error.message as string;
    expect(message).toContain("reading crm-client-secret in https://flow-dev-k3x9q2.vault.azure.net/");
    expect(message).toContain(`pointed to ${COLLECTOR}`);
    expect(message).not.toContain("missing");
  });

  it("smoke --key-vault-secret-uri: a redirect to another host stops the read, exit 2 naming it", async () => {
    const vault = fakeVault(VAULT);
    vault.secrets.set("erp-client-secret", [
      { version: "v1", value: "s".repeat(40), created: "2026-09-01T00:00:00Z" },
    ]);
    vault.failNext(1, { redirect: `https://${COLLECTOR}/secrets/erp-client-secret` });
    let got: ReturnType<typeof collector> = [];
    const r = await runCli(
      "smoke",
      [...offlineSmokeArgs(), "--key-vault-secret-uri", `${VAULT}/secrets/erp-client-secret`, "--json"],
      {
        setup: (io) => {
          reachVault(io, vault);
          got = collector(io);
        },
      },
    );
    expect(r.code).toBe(2);
    expect(got).toEqual([]);
    const report = JSON.parse(r.stdout);
    expect(report.checks).toEqual([
      expect.objectContaining({
        name: "secret",
        ok: false,
        message: expect.stringContaining(`pointed to ${COLLECTOR}`),
      }),
    ]);
  });
});

describe("a Key Vault URI on an IP address or localhost", () => {
  it.each(["https://127.0.0.1:8443", "https://localhost", "https://[::1]:8443", "https://10.0.0.5"])(
    "%s is refused up front with the reason (the SDK's challenge check), before any request",
    async (origin) => {
      const requests: string[] = [];
      const r = await runCli(
        "smoke",
        [...offlineSmokeArgs(), "--key-vault-secret-uri", `${origin}/secrets/erp-client-secret`, "--json"],
        {
          setup: (io) => {
            io.azureCredential = fakeCredential();
            const record = async (input: string | URL | Request) => {
              requests.push(String(input));
              return new Response(null, { status: 500 });
            };
            for (const host of ["127.0.0.1:8443", "localhost", "[::1]:8443", "10.0.0.5"])
              io.routes.set(host, record);
          },
        },
      );
      expect(r.code).toBe(2);
      expect(requests).toEqual([]);
      const message = JSON.parse(r.stdout).checks[0].message as string;
      expect(message).toContain("is an IP address or localhost");
      expect(message).toContain("checks the challenge's resource against the host");
    },
  );
});

describe("Entra and the trigger (smoke against the stand-in)", () => {
  const BASE = "https://127.0.0.1:8443";
  let standin: Standin;
  beforeAll(async () => {
    standin = await createStandin(BASE);
  });
  const run = async (argv: string[], secret: string) => {
    let got: ReturnType<typeof collector> = [];
    const r = await runCli("smoke", [...argv, "--json"], {
      env: { FLOW_CLIENT_SECRET: secret },
      setup: (io) => {
        io.routes.set("127.0.0.1:8443", standin.fetch);
        got = collector(io);
      },
    });
    return { ...r, got, report: JSON.parse(r.stdout) as { verdict: string; checks: any[] } };
  };

  it("OpenID metadata naming a token endpoint on another host: the secret is never posted there (exit 2 naming it)", async () => {
    const s = demoScenario(standin, { tenant: { tokenEndpointOrigin: `https://${COLLECTOR}` } });
    const r = await run(scenarioArgs(s, BASE), s.secret);
    expect(r.code).toBe(2);
    expect(r.got).toEqual([]);
    expect(r.report.verdict).toBe("usage");
    const token = r.report.checks.find((c) => c.name === "token");
    expect(token).toMatchObject({ ok: false, code: "OffOrigin" });
    expect(token.message).toContain(`pointed to ${COLLECTOR}`);
    expect(r.stdout + r.stderr).not.toContain(s.secret);
  });

  it.each(["anonymous", "authenticated"] as const)(
    "a trigger redirecting the %s call to another host: not followed, exit 2 naming the host",
    async (only) => {
      const s = demoScenario(standin, { mode: "users" });
      standin.failNext({ flowId: s.flowId }, 1, { misbehave: "redirect", only });
      const r = await run(
        scenarioArgs(s, BASE).map((a) => a),
        s.secret,
      );
      expect(r.code).toBe(2);
      expect(r.report.verdict).toBe("usage");
      const check = r.report.checks.at(-1);
      expect(check).toMatchObject({
        name: only === "anonymous" ? "anonymous-rejected" : "invoke",
        ok: false,
        code: "OffOrigin",
      });
      expect(check.message).toContain("pointed to elsewhere.example");
    },
  );
});
