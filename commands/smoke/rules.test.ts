/**
 * The smoke test's pure rules: the URL check, the scope and its audience, the answer table with
 * its hints, option validation, and redaction of secrets.
 */
import { describe, expect, test } from "vitest";
import { CLOUD_NAMES, CLOUDS } from "../../clouds";
import { audienceOfScope } from "../../standin/standin";
import { checkTriggerUrl } from "./checks";
import { toJsonReport } from "./report";
import { ANSWER_RULES, classifyAnswer, hintFor } from "./hints";
import { secretOptionNames } from "../../lib/runner";
import { secretProblem } from "./credentials";
import { checkTriggerUrl as checkUrlFor } from "../../trigger-url";
import { aadstsCodeOfBody } from "./token";
import { redact } from "../../lib/redact";
import { parseKeyVaultSecretUri } from "./key-vault";

const NEW_URL =
  "https://0fd3c1e0b5a94e2d8b1f0c9a7e6d5c4b.0f.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/2b7c9d1e3f4a5b6c7d8e9f0a1b2c3d4e/triggers/manual/paths/invoke?api-version=1";
const LEGACY_ANYONE_URL =
  "https://prod-12.westeurope.logic.azure.com:443/workflows/2b7c9d1e/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbC123dEf456";

describe("url check", () => {
  test("accepts an HTTPS trigger URL without sig", () => {
    expect(checkTriggerUrl(NEW_URL)).toMatchObject({ outcome: "pass" });
  });

  test("an 'Anyone' URL carrying sig is insecure, and the message does not repeat the sig", () => {
    const check = checkTriggerUrl(LEGACY_ANYONE_URL);
    expect(check).toMatchObject({ outcome: "insecure", code: "sig" });
    expect(check.message).not.toContain("AbC123dEf456");
    expect(checkTriggerUrl(`${NEW_URL}&SIG=x`).outcome).toBe("insecure");
  });

  test("anything but a well-formed https URL is a usage error naming --trigger-url", () => {
    for (const bad of [NEW_URL.replace("https:", "http:"), "not a url", "", "ftp://example.com/x"]) {
      const check = checkTriggerUrl(bad);
      expect(check.outcome).toBe("usage");
      expect(check.message).toContain("--trigger-url");
    }
    expect(checkTriggerUrl("https://user:pw@example.com/x").outcome).toBe("usage");
  });
});

describe("scope and audience", () => {
  test("every cloud's scope is its audience plus /.default, hence the double slash", () => {
    for (const name of CLOUD_NAMES) {
      const cloud = CLOUDS[name];
      expect(cloud.scope).toBe(`${cloud.audience}/.default`);
      expect(cloud.scope).toMatch(/\/\/\.default$/);
      expect(audienceOfScope(cloud.scope)).toBe(cloud.audience);
    }
  });

  test("a single-slash scope makes Entra issue an audience without the trailing slash", () => {
    expect(audienceOfScope("https://service.flow.microsoft.com/.default")).toBe(
      "https://service.flow.microsoft.com",
    );
    expect(audienceOfScope("https://service.flow.microsoft.com/.default")).not.toBe(CLOUDS.public.audience);
  });
});

describe("answer table", () => {
  test("refusing an anonymous call passes; accepting it is insecure", () => {
    expect(classifyAnswer("anonymous-rejected", 401, "DirectApiAuthorizationRequired").outcome).toBe("pass");
    expect(classifyAnswer("anonymous-rejected", 403, undefined).outcome).toBe("pass");
    expect(classifyAnswer("anonymous-rejected", 202, undefined).outcome).toBe("insecure");
    expect(classifyAnswer("anonymous-rejected", 200, undefined).outcome).toBe("insecure");
  });

  test("throttling, server errors and network errors are retried on every check", () => {
    for (const check of ["anonymous-rejected", "token", "invoke"] as const) {
      expect(classifyAnswer(check, 429, undefined).outcome).toBe("retry");
      expect(classifyAnswer(check, 503, undefined).outcome).toBe("retry");
      expect(classifyAnswer(check, 500, "ServiceUnavailable").outcome).toBe("retry");
      expect(classifyAnswer(check, undefined, "ECONNRESET").outcome).toBe("retry");
      expect(classifyAnswer(check, undefined, "TimeoutError").outcome).toBe("retry");
    }
  });

  test("a 429 or 5xx from the OIDC metadata (MSAL's endpoints_resolution_error) is retried; other answers are final", () => {
    expect(classifyAnswer("token", 429, "endpoints_resolution_error").outcome).toBe("retry");
    expect(classifyAnswer("token", 503, "endpoints_resolution_error").outcome).toBe("retry");
    expect(classifyAnswer("token", 500, "endpoints_resolution_error").outcome).toBe("retry");
    for (const status of [200, 400, 404]) {
      const c = classifyAnswer("token", status, "endpoints_resolution_error");
      expect(c.outcome).toBe("fail");
      expect(c.hint).toContain("OpenID configuration");
    }
  });

  test("an AADSTS code is read from error_codes when the text does not carry it", () => {
    expect(aadstsCodeOfBody('{"error_description":"AADSTS7000215: Invalid client secret provided."}')).toBe(
      "AADSTS7000215",
    );
    expect(
      aadstsCodeOfBody(
        '{"error":"invalid_client","error_description":"Invalid client secret provided.","error_codes":[7000215]}',
      ),
    ).toBe("AADSTS7000215");
    expect(aadstsCodeOfBody('{"error":"x","error_codes":["700016"]}')).toBe("AADSTS700016");
    for (const body of [
      "",
      "Service Unavailable",
      '{"error":"x"}',
      '{"error_codes":[]}',
      '{"error_codes":["x"]}',
    ]) {
      expect(aadstsCodeOfBody(body)).toBeUndefined();
    }
  });

  test("an untrusted certificate is final, with a hint about NODE_EXTRA_CA_CERTS", () => {
    const c = classifyAnswer("anonymous-rejected", undefined, "SELF_SIGNED_CERT_IN_CHAIN");
    expect(c.outcome).toBe("fail");
    expect(c.hint).toContain("NODE_EXTRA_CA_CERTS");
  });

  test("replication delays of a new app or secret are retried; other Entra errors are final", () => {
    expect(classifyAnswer("token", 400, "AADSTS700016").outcome).toBe("retry");
    expect(classifyAnswer("token", 401, "AADSTS7000215").outcome).toBe("retry");
    for (const code of ["AADSTS90002", "AADSTS500011", "AADSTS7000222", "AADSTS650057", "AADSTS7000229"]) {
      expect(classifyAnswer("token", 400, code).outcome).toBe("fail");
    }
  });

  test("each final Entra error comes with what to do", () => {
    expect(hintFor("token", 401, "AADSTS7000215")).toContain("secret VALUE, not its ID");
    expect(hintFor("token", 400, "AADSTS700016")).toContain("replicate");
    expect(hintFor("token", 400, "AADSTS90002")).toContain("--tenant-id");
    expect(hintFor("token", 400, "AADSTS500011")).toContain(
      "az ad sp create --id 7df0a125-d3be-4c96-aa54-591f83ff541c",
    );
    expect(hintFor("token", 401, "AADSTS7000222")).toContain("pulumi up");
  });

  test("each final trigger error comes with what to do", () => {
    const mismatch = hintFor("invoke", 403, "MisMatchingOAuthClaims") ?? "";
    expect(mismatch).toContain("double slash");
    expect(mismatch).toContain("ENTERPRISE APPLICATION object ID");
    expect(mismatch).toContain("tenant");
    expect(hintFor("invoke", 401, "MisMatchingOAuthClaims")).toBe(mismatch);
    expect(hintFor("invoke", 401, "DirectApiAuthorizationRequired")).toContain("Specific users in my tenant");
    expect(hintFor("invoke", 401, "OAuthAccessPolicyNotFound")).toContain("'Anyone'");
    expect(hintFor("invoke", 404, "WorkflowNotFound")).toContain("flow not found");
    expect(hintFor("invoke", 404, undefined)).toContain("flow not found");
  });

  test("an accepted authenticated call passes; an unknown refusal fails with a generic hint", () => {
    expect(classifyAnswer("invoke", 202, undefined).outcome).toBe("pass");
    expect(classifyAnswer("invoke", 200, undefined).outcome).toBe("pass");
    const other = classifyAnswer("invoke", 409, "Conflict");
    expect(other.outcome).toBe("fail");
    expect(other.hint).toBeTruthy();
  });

  test("every final rule has a hint, and the table ends with a catch-all per check", () => {
    for (const rule of ANSWER_RULES) {
      if (rule.outcome === "fail" || rule.outcome === "insecure")
        expect(rule.hint, JSON.stringify(rule)).toBeTruthy();
    }
    for (const check of ["anonymous-rejected", "token", "invoke"] as const) {
      const last = [...ANSWER_RULES].reverse().find((r) => r.check === check);
      expect(last).toMatchObject({ check, outcome: "fail" });
      expect(last?.status).toBeUndefined();
      expect(last?.code).toBeUndefined();
    }
  });
});

describe("trigger hosts per cloud", () => {
  const path = "/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1";
  test.each([
    ["public", "https://0fd3.0f.environment.api.powerplatform.com"],
    ["gcc", "https://default66cf.b.environment.api.gov.powerplatform.microsoft.us:443"],
    ["gcchigh", "https://0fd3.b.environment.api.high.powerplatform.microsoft.us"],
    ["dod", "https://0fd3.b.environment.api.appsplatform.us"],
    ["china", "https://0fd3.b.environment.api.powerplatform.partner.microsoftonline.cn"],
    ["gcchigh", "https://prod-58.usgovtexas.logic.azure.us"],
    ["china", "https://prod-05.chinaeast2.logic.azure.cn"],
  ] as const)("%s accepts %s", (cloud, origin) => {
    expect(checkUrlFor(`${origin}${path}`, { cloud }).outcome).toBe("ok");
  });

  test("another cloud's host, a look-alike or a bare suffix is refused; loopback only where allowed", () => {
    expect(
      checkUrlFor(`https://0fd3.b.environment.api.powerplatform.com${path}`, { cloud: "gcchigh" }).outcome,
    ).toBe("invalid");
    expect(checkUrlFor(`https://prod.lоgic.azure.com${path}`, { cloud: "public" }).outcome).toBe("invalid");
    expect(checkUrlFor(`https://environment.api.powerplatform.com${path}`, { cloud: "public" }).outcome).toBe(
      "invalid",
    );
    expect(checkUrlFor(`https://127.0.0.1:8443${path}`, { cloud: "public" }).outcome).toBe("invalid");
    expect(
      checkUrlFor(`https://127.0.0.1:8443${path}`, { cloud: "public", allowLoopback: true }).outcome,
    ).toBe("ok");
    expect(
      checkUrlFor(`https://flows.contoso.com${path}`, { trustedHosts: ["flows.contoso.com"] }).outcome,
    ).toBe("ok");
  });

  test("messages never repeat the URL (it may carry a secret)", () => {
    const url = `https://user:hunter2hunter2@flows.contoso.com${path}&token=abc`;
    const check = checkUrlFor(url, { cloud: "public" });
    expect(check.outcome).toBe("invalid");
    if (check.outcome === "invalid") expect(check.message).not.toContain("hunter2");
  });
});

describe("secrets on the command line and in the environment", () => {
  test("spots options that would carry the secret, whatever their spelling, without keeping a glued value", () => {
    expect(
      secretOptionNames([
        "--client-secret",
        "x",
        "--secret=y",
        "--key-vault-secret-uri",
        "u",
        "--password",
        "--tenant-id",
        "--federated-token-file",
        "f",
      ]),
    ).toEqual(["--client-secret", "--secret", "--password"]);
    expect(secretOptionNames(["--assertion=abc"])).toEqual(["--assertion"]);
  });

  test("refuses values that cannot be Entra client secrets, never repeating them", () => {
    expect(secretProblem("Xy8Q~abcDEF.ghi_jkl-mnoPQRstuVWX0123456", "FLOW_CLIENT_SECRET")).toBeUndefined();
    for (const bad of [
      "p",
      "0f1e2d3c-4b5a-4968-8776-655443322110",
      "with space in it 0123456789",
      "x".repeat(2000),
    ]) {
      const problem = secretProblem(bad, "FLOW_CLIENT_SECRET");
      expect(problem).toMatch(/^FLOW_CLIENT_SECRET /);
      if (bad.length >= 8) expect(problem).not.toContain(bad.slice(0, 8));
    }
  });

  test("takes any cloud's Key Vault secret URI, with or without a version; nothing else", () => {
    expect(parseKeyVaultSecretUri("https://flow-dev.vault.azure.net/secrets/erp-client-secret")).toEqual({
      vaultUrl: "https://flow-dev.vault.azure.net",
      name: "erp-client-secret",
    });
    expect(
      parseKeyVaultSecretUri("https://flow-dev.vault.usgovcloudapi.net/secrets/erp/0123abcd"),
    ).toMatchObject({
      name: "erp",
      version: "0123abcd",
    });
    for (const bad of [
      "http://flow-dev.vault.azure.net/secrets/x",
      "https://flow-dev.vault.azure.net/keys/k",
      "https://evil.example/secrets/x",
      "https://flow-dev.vault.azure.net.evil.example/secrets/x",
      "file:///etc/passwd",
    ]) {
      expect(parseKeyVaultSecretUri(bad)).toHaveProperty("error");
    }
  });
});

describe("redaction", () => {
  const secret = "Xy8Q~abcDEF.ghi_jkl-mnoPQRstuVWX0123456";
  const jwt =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL3NlcnZpY2UuZmxvdy5taWNyb3NvZnQuY29tLyJ9.c2lnbmF0dXJl";

  test("scrubs the secret, also URL- or JSON-encoded", () => {
    const text = `client_id=a&client_secret=${encodeURIComponent(secret)} ${JSON.stringify({ s: secret })} ${secret}`;
    const out = redact(text, [secret]);
    expect(out).not.toContain(secret);
    expect(out).not.toContain(encodeURIComponent(secret));
    expect(out).toContain("client_id=a");
  });

  test("scrubs token shapes before secret values, so a short secret cannot leave a token readable", () => {
    const out = redact(`Authorization: Bearer ${jwt}`, ["a"]);
    expect(out).not.toContain("eyJ");
    expect(out).not.toContain(jwt.slice(20, 40));
  });

  test("scrubs a private key in PEM", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    expect(redact(`key: ${pem} done`)).toBe("key: *** done");
  });

  test("scrubs anything shaped like a token, and bearer credentials", () => {
    const out = redact(`token ${jwt} / Authorization: Bearer abc.def`);
    expect(out).not.toContain("eyJ");
    expect(out).not.toContain("abc.def");
    expect(out).toContain("Bearer ***");
  });

  test("leaves a placeholder such as `Bearer <token>` in advice readable", () => {
    expect(redact("send it as `Authorization: Bearer <token>`.")).toBe(
      "send it as `Authorization: Bearer <token>`.",
    );
    expect(redact("Authorization: Bearer a+b/c_d-e.f~g==")).toBe("Authorization: Bearer ***");
  });

  test("scrubs the sig of a trigger URL but keeps the rest readable", () => {
    const out = redact(LEGACY_ANYONE_URL);
    expect(out).not.toContain("AbC123dEf456");
    expect(out).toContain("sig=***");
    expect(out).toContain("prod-12.westeurope.logic.azure.com");
  });

  test("leaves ordinary text alone", () => {
    const text = "403 MisMatchingOAuthClaims: One or more claims either missing or does not match";
    expect(redact(text, [secret, "", undefined])).toBe(text);
  });

  test("the JSON report holds only the documented fields, hints folded into messages", () => {
    const report = toJsonReport({
      verdict: "fail",
      exitCode: 1,
      checks: [
        { name: "url", ok: true, message: "fine", attempts: 0, durationMs: 1 },
        {
          name: "invoke",
          ok: false,
          status: 403,
          code: "X",
          message: "no",
          hint: "do this",
          attempts: 2,
          durationMs: 9,
        },
      ],
      durationMs: 12,
    });
    expect(report).toEqual({
      verdict: "fail",
      checks: [
        { name: "url", ok: true, message: "fine" },
        { name: "invoke", ok: false, status: 403, code: "X", message: "no. Hint: do this" },
      ],
      durationMs: 12,
    });
  });
});
