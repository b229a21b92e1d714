import { describe, expect, it } from "vitest";
import { explainPolicyRefusal } from "../components/credential-policy";
import { isNotFound, stateFromSecret, stateReadFailure } from "../components/rotation-state";
import { encodeState, planRotation, STATE_TAG } from "../rotation";

const CLIENT = "0b8f3c1e-1111-4222-8333-444455556666";
const WHERE = "Key Vault secret erp-client-secret in vault flow-dev-x7k2pq";
const policy = { rotationDays: 90, offsetDays: 0 };
const managed = { "managed-by": "flow-trigger-auth", clientId: CLIENT };

describe("reading the rotation state from the published secret's tags", () => {
  it("decodes the state tag of this caller's own secret", () => {
    const plan = planRotation(policy, Date.parse("2026-11-22T05:17:00Z"));
    const read = stateFromSecret(
      { tags: { ...managed, [STATE_TAG]: encodeState(plan.state) } },
      WHERE,
      CLIENT.toUpperCase(),
      policy,
    );
    expect(read.state).toEqual(plan.state);
    expect(read.note).toBeUndefined();
  });

  it("rebuilds the state of a secret written before rotation state existed, from slot, period and expiry", () => {
    const read = stateFromSecret(
      { tags: { ...managed, slot: "b", period: "231" }, expires: Date.parse("2027-03-03T00:00:00Z") / 1000 },
      WHERE,
      CLIENT,
      policy,
    );
    expect(read.state?.published).toBe("b");
    expect(read.state?.a.period).toBe(230);
    expect(read.note).toContain("rebuilt from tags slot=b, period=231");
  });

  it("starts afresh for a secret left by another app of the same name (removed and added again)", () => {
    const read = stateFromSecret(
      { tags: { ...managed, clientId: "ffffffff-1111-4222-8333-444455556666" } },
      WHERE,
      CLIENT,
      policy,
    );
    expect(read.state).toBeUndefined();
    expect(read.note).toContain("belongs to another app");
  });

  it("refuses a secret that flow-trigger-auth does not manage: it would be overwritten", () => {
    expect(() => stateFromSecret({ tags: { owner: "payments team" } }, WHERE, CLIENT, policy)).toThrow(
      /erp-client-secret .* is not managed by flow-trigger-auth/,
    );
    expect(() => stateFromSecret({}, WHERE, CLIENT, policy)).toThrow("not managed by flow-trigger-auth");
  });

  it("stops on a state tag it cannot read, saying how to recover", () => {
    expect(() =>
      stateFromSecret({ tags: { ...managed, [STATE_TAG]: "v1;pub=a" } }, WHERE, CLIENT, policy),
    ).toThrow(/erp-client-secret .* tag rotation-state cannot be read .* delete the tag to start afresh/);
  });
});

describe("a failed read", () => {
  it("counts as no state only when ARM answered 404", () => {
    const prefix =
      "invocation of azure-native:keyvault:getSecret returned an error: request failed /subscriptions/x/secrets/s: ";
    expect(
      isNotFound(new Error(`${prefix}Status=404 Code="SecretNotFound" Message="Secret not found"`)),
    ).toBe(true);
    expect(isNotFound(new Error(`${prefix}Status=404 Code="ParentResourceNotFound" Message="..."`))).toBe(
      true,
    );
    expect(
      isNotFound(new Error(`${prefix}Status=403 Code="AuthorizationFailed" Message="... secrets/read ..."`)),
    ).toBe(false);
    expect(
      isNotFound(new Error(`${prefix}Status=429 Code="TooManyRequests" Message="retry after 404 ms"`)),
    ).toBe(false);
    expect(isNotFound(new Error("connect ETIMEDOUT 20.50.2.1:443"))).toBe(false);
  });

  it("otherwise stops the run with a message naming the secret and the permission", () => {
    const message = stateReadFailure(WHERE, new Error('Status=403 Code="AuthorizationFailed"'));
    expect(message).toContain("cannot read the rotation state of Key Vault secret erp-client-secret");
    expect(message).toContain("Microsoft.KeyVault/vaults/secrets/read");
    expect(message).toContain("rather than guess");
  });
});

describe("an app management policy refusing a client secret", () => {
  const settings = { rotationDays: 90, maxLifetimeDays: 180 };

  it("names the policy, the lifetime this stack asks for and the settings to change", () => {
    const advice = explainPolicyRefusal(
      [
        'Adding password for Application (Application: "1c6f..."): unexpected status 400 (400 Bad Request) with error: ' +
          "CredentialInvalidLifetimeAsPerAppPolicy: Credential lifetime exceeds the max value allowed as per assigned policy '0f5c0d1e-aaaa-4bbb-8ccc-123456789abc'.",
      ],
      "a credential of erp-secret-a",
      settings,
    );
    expect(advice).toContain("app management policy 0f5c0d1e-aaaa-4bbb-8ccc-123456789abc");
    expect(advice).toContain("1.5 × rotationDays = 135 days");
    expect(advice).toContain("maxLifetimeDays");
    expect(advice).toContain("flow-trigger-auth:rotation");
  });

  it("says when the tenant forbids new client secrets altogether", () => {
    const advice = explainPolicyRefusal(
      [
        "unexpected status 400 with error: CredentialTypeNotAllowedAsPerAppPolicy: Credential type not allowed as per assigned policy",
      ],
      "a credential of erp-secret-b",
      settings,
    );
    expect(advice).toContain("does not allow new client secrets (passwordAddition)");
  });

  it("stays silent about other failures", () => {
    expect(
      explainPolicyRefusal(["unexpected status 503 Service Unavailable"], "x", settings),
    ).toBeUndefined();
  });
});
