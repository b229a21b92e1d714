import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { ExpiryAlerts, type ExpiryAlertsArgs } from "./expiry-alerts";
import { isSecretAt, redactSecrets, resolveDeep, type Declared } from "../engine/mock-engine";
import { FakeAzure, SUBSCRIPTION_ID } from "../test/helpers/fake-azure";

const RG = "flow-dev-rg";
const ARM_RG = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${RG}`;
const VAULT_ID = `${ARM_RG}/providers/Microsoft.KeyVault/vaults/flow-dev-k3x9q2`;
const WEBHOOK = "https://contoso-alerts.azurewebsites.net/api/keyvault-expiry?code=Zm9vYmFyYmF6cXV4Cg==";

const T = {
  topic: "azure-native:eventgrid:SystemTopic",
  subscription: "azure-native:eventgrid:SystemTopicEventSubscription",
  actionGroup: "azure-native:monitor:ActionGroup",
  component: "flow-trigger-auth:monitoring:ExpiryAlerts",
};

let declared: Declared[] = [];

async function deploy(extra: Partial<ExpiryAlertsArgs>) {
  const run = await new FakeAzure().run(
    () =>
      new ExpiryAlerts("alerts", {
        vaultId: pulumi.output(VAULT_ID),
        vaultLocation: "westeurope",
        resourceGroupName: RG,
        namePrefix: "flow-dev",
        ...extra,
      }),
  );
  declared = run.declared;
  const alerts = run.result;
  const resolved = (await resolveDeep({
    systemTopicId: alerts.systemTopicId,
    systemTopicName: alerts.systemTopicName,
    actionGroupId: alerts.actionGroupId,
  })) as { systemTopicId: string; systemTopicName: string; actionGroupId?: string };
  return { alerts, resolved };
}

const kinds = () => declared.map((d) => `${d.type} ${d.name}`).sort();
const one = (type: string, name: string) => {
  const found = declared.filter((d) => d.type === type && d.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0];
};
const TOPIC_ID = `${ARM_RG}/providers/Microsoft.EventGrid/systemTopics/flow-dev-secret-expiry`;
const ACTION_GROUP_ID = `${ARM_RG}/providers/microsoft.insights/actionGroups/flow-dev-secret-expiry`;

describe("expiry alerts", () => {
  it("with e-mails only: a system topic on the vault, an action group and one subscription to it", async () => {
    const { resolved } = await deploy({ emails: ["platform-team@contoso.com", "oncall@contoso.com"] });
    expect(kinds()).toEqual(
      [
        `${T.component} alerts`,
        `${T.topic} alerts-topic`,
        `${T.actionGroup} alerts-action-group`,
        `${T.subscription} alerts-to-monitor`,
      ].sort(),
    );
    expect(resolved).toEqual({
      systemTopicId: TOPIC_ID,
      systemTopicName: "flow-dev-secret-expiry",
      actionGroupId: ACTION_GROUP_ID,
    });
  });

  it("with a webhook only: the system topic and one webhook subscription, no action group", async () => {
    const { resolved } = await deploy({ webhookUrl: WEBHOOK });
    expect(kinds()).toEqual(
      [`${T.component} alerts`, `${T.topic} alerts-topic`, `${T.subscription} alerts-to-webhook`].sort(),
    );
    expect(resolved.actionGroupId).toBeUndefined();
  });

  it("with both: one topic feeding the action group and the webhook", async () => {
    await deploy({ emails: ["platform-team@contoso.com"], webhookUrl: pulumi.output(WEBHOOK) });
    expect(kinds()).toEqual(
      [
        `${T.component} alerts`,
        `${T.topic} alerts-topic`,
        `${T.actionGroup} alerts-action-group`,
        `${T.subscription} alerts-to-monitor`,
        `${T.subscription} alerts-to-webhook`,
      ].sort(),
    );
    for (const name of ["alerts-to-monitor", "alerts-to-webhook"]) {
      expect(one(T.subscription, name).inputs.systemTopicName).toBe("flow-dev-secret-expiry");
    }
  });

  it("refuses to create a topic that would alert nobody", () => {
    expect(
      () =>
        new ExpiryAlerts("none", {
          vaultId: VAULT_ID,
          vaultLocation: "westeurope",
          resourceGroupName: RG,
          namePrefix: "flow-dev",
          emails: [],
        }),
    ).toThrow("give emails or webhookUrl");
  });

  it("watches the vault: a Key Vault system topic whose source is the vault, in the vault's region", async () => {
    await deploy({ emails: ["platform-team@contoso.com"] });
    expect(one(T.topic, "alerts-topic").inputs).toEqual({
      resourceGroupName: RG,
      systemTopicName: "flow-dev-secret-expiry",
      location: "westeurope",
      source: VAULT_ID,
      topicType: "Microsoft.KeyVault.vaults",
    });
  });

  it("forwards only near-expiry and expired secret events, to every destination", async () => {
    await deploy({ emails: ["platform-team@contoso.com"], webhookUrl: WEBHOOK });
    for (const name of ["alerts-to-monitor", "alerts-to-webhook"]) {
      expect(one(T.subscription, name).inputs.filter).toEqual({
        includedEventTypes: ["Microsoft.KeyVault.SecretNearExpiry", "Microsoft.KeyVault.SecretExpired"],
        // Provider default, added by the SDK.
        isSubjectCaseSensitive: false,
      });
    }
  });

  it("e-mails every address through the action group, with the common alert schema, wired to the monitor subscription", async () => {
    await deploy({ emails: ["platform-team@contoso.com", "oncall@contoso.com"] });
    expect(one(T.actionGroup, "alerts-action-group").inputs).toEqual({
      resourceGroupName: RG,
      actionGroupName: "flow-dev-secret-expiry",
      location: "Global",
      groupShortName: "flow-dev",
      enabled: true,
      emailReceivers: [
        { name: "email-1", emailAddress: "platform-team@contoso.com", useCommonAlertSchema: true },
        { name: "email-2", emailAddress: "oncall@contoso.com", useCommonAlertSchema: true },
      ],
    });
    const sub = one(T.subscription, "alerts-to-monitor").inputs;
    expect(sub.eventDeliverySchema).toBe("CloudEventSchemaV1_0");
    expect(sub.destination).toMatchObject({
      endpointType: "MonitorAlert",
      actionGroups: [ACTION_GROUP_ID],
      severity: "Sev2",
    });
    expect(sub.destination.description).toContain("rotation-status");
  });

  it("uses the given short name for the action group, else the first 12 characters of the prefix", async () => {
    await deploy({
      namePrefix: "contoso-flows-prod",
      shortName: "contoso-prod",
      emails: ["ops@contoso.com"],
    });
    expect(one(T.actionGroup, "alerts-action-group").inputs.groupShortName).toBe("contoso-prod");
    await deploy({ namePrefix: "contoso-flows-prod", emails: ["ops@contoso.com"] });
    expect(one(T.actionGroup, "alerts-action-group").inputs.groupShortName).toBe("contoso-flow");
  });

  it("treats the webhook URL as a secret, given as plain text or as an output", async () => {
    for (const webhookUrl of [WEBHOOK, pulumi.output(WEBHOOK)]) {
      await deploy({ webhookUrl });
      const sub = one(T.subscription, "alerts-to-webhook");
      expect(sub.inputs.eventDeliverySchema).toBe("EventGridSchema");
      expect(sub.inputs.destination).toEqual({ endpointType: "WebHook", endpointUrl: WEBHOOK });
      expect(isSecretAt(sub, ["destination", "endpointUrl"])).toBe(true);
      expect(JSON.stringify(redactSecrets(sub.rawInputs))).not.toContain("contoso-alerts.azurewebsites.net");
    }
  });

  it("creates every resource as a child of the component", async () => {
    const { alerts } = await deploy({ emails: ["platform-team@contoso.com"], webhookUrl: WEBHOOK });
    const componentUrn = await resolveDeep(alerts.urn);
    expect(componentUrn).toBe(
      "urn:pulumi:dev::flow-trigger-auth::flow-trigger-auth:monitoring:ExpiryAlerts::alerts",
    );
    const children = declared.filter((d) => d.custom);
    expect(children).toHaveLength(4);
    // Children's URNs carry the parent's type: registered under the component, not at the top level.
    const monitor = (pulumi.runtime as any).getMonitor();
    const registered = [...(monitor.getRegisteredResources() as Map<string, unknown>).keys()];
    for (const d of children) {
      expect(registered).toContain(`urn:pulumi:dev::flow-trigger-auth::${T.component}$${d.type}::${d.name}`);
    }
  });
});
