/**
 * `smoke --credential certificate|federated`: a caller without a client secret gets its token from
 * the stand-in through the real @azure/identity (client assertions signed with the certificate's
 * key, PS256; or the platform's OIDC token exchanged), then the trigger decides by its `oid`.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { smoke } from "./smoke";
import { FakeIo } from "../../test/helpers/fake-io";
import { fakeCredential, fakeVault } from "../../standin/key-vault";
import { callerCertificate, scenarioArgs } from "../../standin/scenario";
import { createStandin, type Standin } from "../../standin/standin";

const BASE = "https://127.0.0.1:8443";
let standin: Standin;

beforeAll(async () => {
  standin = await createStandin(BASE);
});

/** A tenant with one app authenticating as `app` says, and a flow that allows `allowed` (default: the app). */
function world(
  app: { certificatePem?: string; federated?: { issuer: string; subject: string }[] },
  allowed?: string[],
) {
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const servicePrincipalObjectId = randomUUID();
  standin.addTenant({ tenantId, apps: [{ clientId, servicePrincipalObjectId, ...app }] });
  const flowId = randomUUID().replace(/-/g, "");
  const triggerUrl = standin.addFlow({
    flowId,
    tenantId,
    mode: "users",
    allowedOids: allowed ?? [servicePrincipalObjectId],
  });
  return { tenantId, clientId, servicePrincipalObjectId, flowId, triggerUrl };
}

async function run(
  argv: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
  setup: (io: FakeIo) => void = () => {},
) {
  const io = new FakeIo(env);
  io.routes.set("127.0.0.1:8443", standin.fetch);
  setup(io);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(io.cwd, name), text);
  const code = await smoke(argv, io);
  return {
    code,
    io,
    report: () =>
      io.json<{ verdict: string; checks: { name: string; ok: boolean; code?: string; message: string }[] }>(),
  };
}

const base = (w: ReturnType<typeof world>, ...extra: string[]) => [
  ...scenarioArgs(w, BASE),
  "--json",
  ...extra,
];

describe("a certificate caller", () => {
  test("passes with its certificate and key from a PEM file or FLOW_CLIENT_CERTIFICATE, never printing the key", async () => {
    const { pem, certificate } = await callerCertificate();
    const w = world({ certificatePem: certificate });
    const fromFile = await run(
      base(w, "--credential", "certificate", "--certificate-file", "caller.pem"),
      {},
      { "caller.pem": pem },
    );
    expect(fromFile.code, fromFile.io.allText).toBe(0);
    expect(fromFile.report().checks[2].message).toContain(`oid ${w.servicePrincipalObjectId}`);
    const fromEnv = await run(base(w, "--credential", "certificate"), { FLOW_CLIENT_CERTIFICATE: pem });
    expect(fromEnv.code, fromEnv.io.allText).toBe(0);
    for (const r of [fromFile, fromEnv]) expect(r.io.allText).not.toContain("PRIVATE KEY");
  });

  test("--stack and --caller: the kind comes from the outputs and the PEM from the caller's Key Vault secret", async () => {
    const { pem, certificate } = await callerCertificate();
    const w = world({ certificatePem: certificate });
    const vaultUrl = "https://flow-dev-kv.vault.azure.net";
    const vault = fakeVault(vaultUrl, w.tenantId);
    vault.secrets.set("billing-client-certificate", [
      { version: "v1", value: pem, created: "2026-11-01T00:00:00Z" },
    ]);
    const outputs = {
      tenantId: w.tenantId,
      cloud: "public",
      audience: "https://service.flow.microsoft.com/",
      scope: "https://service.flow.microsoft.com//.default",
      tokenEndpoint: `https://login.microsoftonline.com/${w.tenantId}/oauth2/v2.0/token`,
      keyVaultName: "flow-dev-kv",
      keyVaultUri: `${vaultUrl}/`,
      callers: {
        billing: {
          credential: "certificate",
          displayName: "flow-dev-billing",
          clientId: w.clientId,
          applicationObjectId: randomUUID(),
          servicePrincipalObjectId: w.servicePrincipalObjectId,
          keyVaultSecretName: "billing-client-certificate",
          keyVaultSecretUri: `${vaultUrl}/secrets/billing-client-certificate`,
          secretExpiresAt: "2030-01-01T00:00:00Z",
          nextRotationAt: "2029-10-01T00:00:00Z",
          certificateThumbprintSha256: "A".repeat(64),
        },
      },
      allowedUsers: [w.servicePrincipalObjectId],
    };
    const r = await run(
      [
        "--trigger-url",
        w.triggerUrl,
        "--stack",
        "dev",
        "--caller",
        "billing",
        "--authority-host",
        BASE,
        "--json",
      ],
      {},
      {},
      (io) => {
        io.routes.set("flow-dev-kv.vault.azure.net", vault.fetch);
        io.azureCredential = fakeCredential();
        io.pulumi.set("dev", { stdout: JSON.stringify(outputs) });
      },
    );
    expect(r.code, r.io.allText).toBe(0);
    expect(r.report().checks[2].message).toContain(`oid ${w.servicePrincipalObjectId}`);
    expect(r.io.allText).not.toContain("PRIVATE KEY");
    expect(r.io.allText).not.toContain(pem.split("\n")[1]);
  });

  test("a certificate the app does not trust fails with what to check", async () => {
    const trusted = await callerCertificate();
    const other = await callerCertificate();
    const w = world({ certificatePem: trusted.certificate });
    const r = await run(base(w, "--credential", "certificate"), { FLOW_CLIENT_CERTIFICATE: other.pem });
    expect(r.code).toBe(1);
    const token = r.report().checks.find((c) => c.name === "token")!;
    expect(token).toMatchObject({ ok: false, code: "AADSTS700027" });
    expect(token.message).toContain("certificateThumbprintSha1");
  });

  test("a PEM without its private key is a usage error", async () => {
    const { certificate } = await callerCertificate();
    const w = world({ certificatePem: certificate });
    const r = await run(base(w, "--credential", "certificate"), { FLOW_CLIENT_CERTIFICATE: certificate });
    expect(r.code).toBe(2);
    expect(r.report().checks[0].message).toContain("holds no private key");
  });

  describe("a PEM that cannot work is a local error (exit 2 naming where it came from), before any request", () => {
    const keyOf = (pem: string) =>
      /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(pem)![0];
    const certOf = (pem: string) =>
      /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(pem)![0];
    test.each([
      [
        "an encrypted private key",
        (a: string) =>
          `${certOf(a)}\n${createPrivateKey(keyOf(a)).export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" })}`,
        "the private key is encrypted (password-protected)",
      ],
      [
        "a damaged private key",
        (a: string) => `${certOf(a)}\n${keyOf(a).replace(/\n[A-Za-z0-9+/]{10}/, "\n!!!!!!!!!!")}`,
        "the private key is not readable PEM",
      ],
      [
        "a key that is not the certificate's",
        (a: string, b: string) => `${certOf(a)}\n${keyOf(b)}`,
        "the private key does not belong to the certificate",
      ],
      ["a key without any certificate", (a: string) => keyOf(a), "holds no certificate"],
      [
        "an EC key",
        (a: string) =>
          `${certOf(a)}\n${generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" })}`,
        "needs an RSA key",
      ],
    ])("%s", async (_, make, expected) => {
      const a = await callerCertificate();
      const b = await callerCertificate();
      const w = world({ certificatePem: a.certificate });
      const pem = make(a.pem, b.pem);
      const r = await run(
        base(w, "--credential", "certificate", "--certificate-file", "caller.pem"),
        {},
        { "caller.pem": pem },
      );
      expect(r.code).toBe(2);
      expect(r.report().checks).toEqual([
        expect.objectContaining({ name: "secret", ok: false, message: expect.stringContaining(expected) }),
      ]);
      expect(r.report().checks[0].message).toMatch(/^--certificate-file caller\.pem/);
      expect(standin.callsFor({ tenantId: w.tenantId, flowId: w.flowId })).toEqual([]);
      expect(r.io.allText).not.toContain("PRIVATE KEY");
    });
  });
});

describe("a federated caller", () => {
  test("passes with the platform's token from AZURE_FEDERATED_TOKEN_FILE or --federated-token-file", async () => {
    const subject = "repo:contoso/erp-sync:environment:prod";
    const w = world({ federated: [{ issuer: standin.federatedIssuer, subject }] });
    const token = await standin.federatedToken(subject);
    const viaEnv = await run(
      base(w, "--credential", "federated"),
      { AZURE_FEDERATED_TOKEN_FILE: "oidc-token" },
      { "oidc-token": token },
    );
    expect(viaEnv.code, viaEnv.io.allText).toBe(0);
    const viaOption = await run(
      base(w, "--credential", "federated", "--federated-token-file", "t"),
      {},
      { t: `${token}\n` },
    );
    expect(viaOption.code, viaOption.io.allText).toBe(0);
    expect(viaOption.io.allText).not.toContain(token.slice(0, 30));
  });

  test("a subject that differs only in case fails with the exact-match hint", async () => {
    const w = world({
      federated: [{ issuer: standin.federatedIssuer, subject: "repo:contoso/erp-sync:environment:prod" }],
    });
    const token = await standin.federatedToken("repo:Contoso/erp-sync:environment:prod");
    const r = await run(
      base(w, "--credential", "federated"),
      { AZURE_FEDERATED_TOKEN_FILE: "t" },
      { t: token },
    );
    expect(r.code).toBe(1);
    const check = r.report().checks.find((c) => c.name === "token")!;
    expect(check).toMatchObject({ code: "AADSTS70021" });
    expect(check.message).toContain("case included");
  });

  test.each([
    ["an empty token file", "\n", "is empty"],
    ["a token file that is not a JWT", "not-a-jwt", "does not hold a JWT"],
  ])("%s is a local error naming the file (exit 2), before any request", async (_, content, expected) => {
    const w = world({
      federated: [{ issuer: standin.federatedIssuer, subject: "repo:contoso/erp:environment:prod" }],
    });
    const r = await run(
      base(w, "--credential", "federated", "--federated-token-file", "t.jwt"),
      {},
      { "t.jwt": content },
    );
    expect(r.code).toBe(2);
    expect(r.report().checks).toEqual([
      expect.objectContaining({ name: "secret", ok: false, message: expect.stringContaining(expected) }),
    ]);
    expect(r.report().checks[0].message).toContain("the federated token file t.jwt (--federated-token-file)");
    expect(standin.callsFor({ tenantId: w.tenantId, flowId: w.flowId })).toEqual([]);
  });

  test("a token file emptied between two token requests stops the run as a local error (exit 2), not Entra's refusal", async () => {
    const subject = "repo:contoso/erp-sync:environment:prod";
    const w = world({ federated: [{ issuer: standin.federatedIssuer, subject }] });
    standin.failNext({ tenantId: w.tenantId }, 1, { status: 503 });
    const token = await standin.federatedToken(subject);
    const r = await run(
      base(w, "--credential", "federated", "--federated-token-file", "t.jwt"),
      {},
      { "t.jwt": token },
      (io) => {
        const sleep = io.sleep;
        io.sleep = async (ms) => {
          writeFileSync(join(io.cwd, "t.jwt"), "");
          await sleep(ms);
        };
      },
    );
    expect(r.code).toBe(2);
    const check = r.report().checks.find((c) => c.name === "token")!;
    expect(check).toMatchObject({ ok: false, code: "LocalCredential" });
    expect(check.message).toContain("the federated token file t.jwt (--federated-token-file) is empty");
  });

  test("without a token file it says where the token must come from", async () => {
    const w = world({ federated: [] });
    const r = await run(base(w, "--credential", "federated"));
    expect(r.code).toBe(2);
    expect(r.report().checks[0].message).toContain("AZURE_FEDERATED_TOKEN_FILE");
  });
});

describe("any kind, not in Allowed users", () => {
  test("fails with the hint to add the principal's object ID (the token's oid) to Allowed users", async () => {
    const { pem, certificate } = await callerCertificate();
    const w = world({ certificatePem: certificate }, [randomUUID()]);
    const r = await run(base(w, "--credential", "certificate"), { FLOW_CLIENT_CERTIFICATE: pem });
    expect(r.code).toBe(1);
    const invoke = r.report().checks.find((c) => c.name === "invoke")!;
    expect(invoke).toMatchObject({ code: "MisMatchingOAuthClaims" });
    expect(invoke.message).toContain(
      "ENTERPRISE APPLICATION object ID (for a managed identity: its principal ID",
    );
  });
});
