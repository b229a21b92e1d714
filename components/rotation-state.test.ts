import { describe, expect, it } from "vitest";
import { explainPolicyRefusal } from "./credential-policy";
import { isSecretNotFound, stateFromSecret, stateReadFailure, UnreadableRecordError } from "./rotation-state";
import { ARM_ERRORS, SUBSCRIPTION_ID } from "../test/helpers/fake-azure";
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

  it("reports a state tag it cannot read as an unreadable record (the run then follows the stack's outputs)", () => {
    expect(() =>
      stateFromSecret({ tags: { ...managed, [STATE_TAG]: "v1;pub=a" } }, WHERE, CLIENT, policy),
    ).toThrow(UnreadableRecordError);
  });
});

describe("a failed read", () => {
  const prefix =
    "invocation of azure-native:keyvault:getSecret returned an error: request failed /subscriptions/x/secrets/s: ";
  const failed = (text: string) => new Error(prefix + text);
  const place = {
    vaultName: "flow-dev-x7k2pq",
    resourceGroupName: "flow-dev-rg",
    subscriptionId: SUBSCRIPTION_ID,
  };

  it("counts as no record only for the secret-level not-found of a vault that answered", () => {
    expect(
      isSecretNotFound(
        failed(ARM_ERRORS.secretNotFound("flow-dev-rg", "flow-dev-x7k2pq", "erp-client-secret")),
        "flow-dev-x7k2pq",
      ),
    ).toBe(true);
    expect(
      isSecretNotFound(
        failed('Status=404 Code="SecretNotFound" Message="Secret not found: erp"'),
        "flow-dev-x7k2pq",
      ),
    ).toBe(true);
    // Any 404 is not enough: the vault, the group or the subscription missing is not "no secret yet".
    for (const text of [
      ARM_ERRORS.vaultNotFound("flow-dev-rg", "flow-dev-x7k2pq"),
      ARM_ERRORS.resourceGroupNotFound("flow-dev-rg"),
      ARM_ERRORS.subscriptionNotFound(SUBSCRIPTION_ID),
      ARM_ERRORS.authorizationFailed(CLIENT, "Microsoft.KeyVault/vaults/secrets/read", "/subscriptions/x"),
      ARM_ERRORS.expiredToken(),
      ARM_ERRORS.throttled(),
    ]) {
      expect(isSecretNotFound(failed(text), "flow-dev-x7k2pq")).toBe(false);
    }
    expect(isSecretNotFound(new Error("connect ETIMEDOUT 20.50.2.1:443"), "flow-dev-x7k2pq")).toBe(false);
  });

  it.each([
    [
      "a missing vault",
      ARM_ERRORS.vaultNotFound("flow-dev-rg", "flow-dev-x7k2pq"),
      /az keyvault list-deleted/,
    ],
    [
      "a missing resource group",
      ARM_ERRORS.resourceGroupNotFound("flow-dev-rg"),
      /resource group flow-dev-rg does not exist/,
    ],
    [
      "a missing subscription",
      ARM_ERRORS.subscriptionNotFound(SUBSCRIPTION_ID),
      /is not visible to the deploying identity/,
    ],
    [
      "403",
      ARM_ERRORS.authorizationFailed(CLIENT, "Microsoft.KeyVault/vaults/read", "/x"),
      /grant it Reader on the vault/,
    ],
    ["401", ARM_ERRORS.expiredToken(), /sign in again/],
    ["429", ARM_ERRORS.throttled(), /throttled/],
  ])("%s stops the run naming the vault, the subscription and what to check", (_, text, check) => {
    const message = stateReadFailure(
      "Key Vault secret erp-client-secret",
      place,
      failed(text),
      "read the vault",
    );
    expect(message).toContain(
      "vault flow-dev-x7k2pq, resource group flow-dev-rg, subscription " + SUBSCRIPTION_ID,
    );
    expect(message).toMatch(check);
    expect(message).toContain("stops before anything is replaced");
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
