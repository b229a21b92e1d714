import * as pulumi from "@pulumi/pulumi";
import { randomUUID } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ExpiryAlerts, type ExpiryAlertsArgs } from "../components/expiry-alerts";

const SUBSCRIPTION_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const RG = "flow-dev-rg";
const ARM_RG = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${RG}`;
const VAULT_ID = `${ARM_RG}/providers/Microsoft.KeyVault/vaults/flow-dev-k3x9q2`;
const WEBHOOK =
  "https://contoso.webhook.office.com/webhookb2/3f2d1c0b-9a8f/IncomingWebhook/0a1b2c3d4e5f?sig=Zm9vYmFyYmF6";
// Pulumi's wire form of a secret value: { [SIG_KEY]: SECRET_SIG, value }.
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

const T = {
  topic: "azure-native:eventgrid:SystemTopic",
  subscription: "azure-native:eventgrid:SystemTopicEventSubscription",
  actionGroup: "azure-native:monitor:ActionGroup",
  component: "flow-trigger-auth:monitoring:ExpiryAlerts",
};

/** One resource the component declared, as the engine received it (secrets still wrapped). */
interface Declared {
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, any>;
  id: string;
  state: Record<string, any>;
}

let declared: Declared[];

/** The value inside an Output (under mocks, always known). */
function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** Waits until no more resources are declared (mocks answer at once, so a short quiet spell suffices). */
async function settle(): Promise<void> {
  let last = -1;
  for (let quiet = 0; quiet < 5;) {
    await new Promise((r) => setTimeout(r, 10));
    quiet = declared.length === last ? quiet + 1 : 0;
    last = declared.length;
  }
}

/** Mocks that answer like ARM: resource IDs under the resource group, no write-only webhook URL in state. */
beforeAll(() => {
  void pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const inputs = args.inputs as Record<string, any>;
        let id = `${args.name}-id`;
        let state: Record<string, any> = { ...inputs };
        switch (args.type) {
          case T.topic:
            id = `${ARM_RG}/providers/Microsoft.EventGrid/systemTopics/${inputs.systemTopicName}`;
            state = {
              ...inputs,
              name: inputs.systemTopicName,
              metricResourceId: randomUUID(),
              provisioningState: "Succeeded",
            };
            break;
          case T.actionGroup:
            id = `${ARM_RG}/providers/microsoft.insights/actionGroups/${inputs.actionGroupName}`;
            state = { ...inputs, name: inputs.actionGroupName };
            break;
          case T.subscription: {
            id = `${ARM_RG}/providers/Microsoft.EventGrid/systemTopics/${inputs.systemTopicName}/eventSubscriptions/${inputs.eventSubscriptionName}`;
            const destination = unwrapSecret(inputs.destination);
            const url = unwrapSecret(destination?.endpointUrl);
            state = {
              ...inputs,
              name: inputs.eventSubscriptionName,
              // ARM never returns a webhook's full URL, only its base.
              destination: url
                ? { endpointType: "WebHook", endpointBaseUrl: url.split("?")[0] }
                : destination,
              provisioningState: "Succeeded",
            };
            break;
          }
        }
        declared.push({ type: args.type, name: args.name, custom: args.custom ?? true, inputs, id, state });
        return { id, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        throw new Error(`unexpected call ${args.token}`);
      },
    },
    "flow-trigger-auth",
    "dev",
    false,
  );
});

beforeEach(() => {
  declared = [];
});

function unwrapSecret(v: any): any {
  return v && typeof v === "object" && v[SIG_KEY] === SECRET_SIG ? v.value : v;
}
/** `v` with every secret replaced by a marker: what anyone reading state or logs would see. */
function redacted(v: any): any {
  if (isWireSecret(v)) return "[secret]";
  if (Array.isArray(v)) return v.map(redacted);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redacted(x)]));
  return v;
}
/** `v` with every secret unwrapped. */
function revealed(v: any): any {
  if (isWireSecret(v)) return revealed(v.value);
  if (Array.isArray(v)) return v.map(revealed);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revealed(x)]));
  return v;
}
function isWireSecret(v: any): boolean {
  return Boolean(v && typeof v === "object" && v[SIG_KEY] === SECRET_SIG);
}

async function deploy(extra: Partial<ExpiryAlertsArgs>) {
  const alerts = new ExpiryAlerts("alerts", {
    vaultId: pulumi.output(VAULT_ID),
    vaultLocation: "westeurope",
    resourceGroupName: RG,
    namePrefix: "flow-dev",
    ...extra,
  });
  const resolved = {
    systemTopicId: await valueOf(alerts.systemTopicId),
    systemTopicName: await valueOf(alerts.systemTopicName),
    actionGroupId: await valueOf(alerts.actionGroupId),
  };
  await settle();
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

  it("keeps the action group's short name within Azure's 12 characters", async () => {
    await deploy({ namePrefix: "contoso-flows-prod", emails: ["platform-team@contoso.com"] });
    expect(one(T.actionGroup, "alerts-action-group").inputs.groupShortName).toBe("contoso-flow");
  });

  it("treats the webhook URL as a secret, given as plain text or as an output", async () => {
    for (const webhookUrl of [WEBHOOK, pulumi.output(WEBHOOK)]) {
      declared = [];
      await deploy({ webhookUrl });
      const sub = one(T.subscription, "alerts-to-webhook").inputs;
      expect(sub.eventDeliverySchema).toBe("EventGridSchema");
      expect(revealed(sub.destination)).toEqual({ endpointType: "WebHook", endpointUrl: WEBHOOK });
      expect(JSON.stringify(redacted(sub))).not.toContain("webhook.office.com");
    }
  });

  it("creates every resource as a child of the component", async () => {
    const { alerts } = await deploy({ emails: ["platform-team@contoso.com"], webhookUrl: WEBHOOK });
    const componentUrn = await valueOf(alerts.urn);
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
