import * as eventgrid from "@pulumi/azure-native/eventgrid";
import * as monitor from "@pulumi/azure-native/monitor";
import * as pulumi from "@pulumi/pulumi";

/** The Key Vault events this component forwards: 30 days before a secret's `expires`, and at it. */
export const SECRET_EXPIRY_EVENT_TYPES = [
  "Microsoft.KeyVault.SecretNearExpiry",
  "Microsoft.KeyVault.SecretExpired",
] as const;

/** Arguments of {@link ExpiryAlerts}. */
export interface ExpiryAlertsArgs {
  /**
   * ARM ID of the vault to watch, e.g.
   * `/subscriptions/<sub>/resourceGroups/flow-dev-rg/providers/Microsoft.KeyVault/vaults/flow-dev-k3x9q2`.
   * Azure allows one Event Grid system topic per vault: a vault that already has one cannot get another.
   */
  vaultId: pulumi.Input<string>;
  /** Region of the vault, e.g. `westeurope`; a system topic must live where its source does. */
  vaultLocation: pulumi.Input<string>;
  /** Resource group for the system topic and the action group, e.g. the vault's. */
  resourceGroupName: pulumi.Input<string>;
  /**
   * Start of every Azure name made here, e.g. `flow-dev`: the topic is `flow-dev-secret-expiry`, the
   * action group's short name defaults to its first 12 characters.
   */
  namePrefix: string;
  /** The action group's short name, at most 12 characters, shown in alert e-mails, e.g. `flow-prod`. */
  shortName?: string;
  /**
   * E-mail addresses told when a secret nears expiry or expires, e.g. `["platform-team@contoso.com"]`;
   * delivered through an Azure Monitor action group as alerts (common alert schema).
   */
  emails?: string[];
  /**
   * HTTPS endpoint that receives the Event Grid events (Event Grid schema), e.g. an Azure Function
   * or Logic App `https://alerts-fn.azurewebsites.net/api/keyvault-expiry?code=...`. It must answer Event
   * Grid's subscription validation handshake (echo `validationCode`), or creating the subscription
   * fails; a plain chat incoming webhook cannot. Treated as a secret: such URLs often embed a key.
   */
  webhookUrl?: pulumi.Input<string>;
}

/**
 * Alerts when a caller's Key Vault secret is about to expire or has expired: the signal that the
 * scheduled rotation has stopped. An Event Grid system topic on the vault, and event subscriptions
 * filtered to {@link SECRET_EXPIRY_EVENT_TYPES}: to an Azure Monitor action group that e-mails `emails`,
 * and/or to `webhookUrl`.
 */
export class ExpiryAlerts extends pulumi.ComponentResource {
  /** ARM ID of the Event Grid system topic on the vault. */
  public readonly systemTopicId: pulumi.Output<string>;
  /** Name of the system topic, e.g. `flow-dev-secret-expiry`. */
  public readonly systemTopicName: pulumi.Output<string>;
  /** ARM ID of the action group that e-mails `emails`; undefined without `emails`. */
  public readonly actionGroupId: pulumi.Output<string | undefined>;
  /** The event types forwarded: {@link SECRET_EXPIRY_EVENT_TYPES}. */
  public readonly eventTypes: readonly string[];

  constructor(name: string, args: ExpiryAlertsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered: a refused component leaves nothing behind.
    const emails = args.emails ?? [];
    if (emails.length === 0 && args.webhookUrl === undefined) {
      throw new Error(
        `ExpiryAlerts ${name}: give emails or webhookUrl (flow-trigger-auth:alerts), or leave alerts off`,
      );
    }
    super("flow-trigger-auth:monitoring:ExpiryAlerts", name, {}, opts);

    const filter = { includedEventTypes: [...SECRET_EXPIRY_EVENT_TYPES] };

    const topic = new eventgrid.SystemTopic(
      `${name}-topic`,
      {
        resourceGroupName: args.resourceGroupName,
        systemTopicName: `${args.namePrefix}-secret-expiry`,
        location: args.vaultLocation,
        source: args.vaultId,
        topicType: "Microsoft.KeyVault.vaults",
      },
      { parent: this },
    );

    /** The topic's expiry events to `to`, e.g. `${name}-to-monitor`. */
    const subscribe = (
      to: string,
      eventDeliverySchema: eventgrid.EventDeliverySchema,
      destination: eventgrid.SystemTopicEventSubscriptionArgs["destination"],
      options: pulumi.CustomResourceOptions = {},
    ) =>
      new eventgrid.SystemTopicEventSubscription(
        `${name}-to-${to}`,
        {
          resourceGroupName: args.resourceGroupName,
          systemTopicName: topic.name,
          eventSubscriptionName: `${args.namePrefix}-to-${to}`,
          eventDeliverySchema,
          filter,
          destination,
        },
        { parent: this, ...options },
      );

    let actionGroup: monitor.ActionGroup | undefined;
    if (emails.length > 0) {
      actionGroup = new monitor.ActionGroup(
        `${name}-action-group`,
        {
          resourceGroupName: args.resourceGroupName,
          actionGroupName: `${args.namePrefix}-secret-expiry`,
          location: "Global",
          groupShortName: args.shortName ?? args.namePrefix.slice(0, 12),
          enabled: true,
          emailReceivers: emails.map((emailAddress, i) => ({
            name: `email-${i + 1}`,
            emailAddress,
            useCommonAlertSchema: true,
          })),
        },
        { parent: this },
      );
      // Azure Monitor alert destinations accept only the CloudEvents v1.0 schema.
      subscribe("monitor", eventgrid.EventDeliverySchema.CloudEventSchemaV1_0, {
        endpointType: "MonitorAlert",
        actionGroups: [actionGroup.id],
        severity: eventgrid.MonitorAlertSeverity.Sev2,
        description:
          "A flow caller's client secret or certificate in Key Vault is near expiry or expired: the scheduled " +
          "rotation (pulumi up) has stopped or is failing. Run `npm run rotation-status -- --stack <stack>` and " +
          "see docs/operations.md in the flow-trigger-auth repository.",
      });
    }

    if (args.webhookUrl !== undefined) {
      subscribe(
        "webhook",
        eventgrid.EventDeliverySchema.EventGridSchema,
        { endpointType: "WebHook", endpointUrl: pulumi.secret(args.webhookUrl) },
        // The destination carries the URL: keep it encrypted in state whatever the provider returns.
        { additionalSecretOutputs: ["destination"] },
      );
    }

    this.systemTopicId = topic.id;
    this.systemTopicName = topic.name;
    this.actionGroupId = actionGroup ? actionGroup.id : pulumi.output(undefined);
    this.eventTypes = SECRET_EXPIRY_EVENT_TYPES;
    this.registerOutputs({
      systemTopicId: this.systemTopicId,
      systemTopicName: this.systemTopicName,
      actionGroupId: this.actionGroupId,
    });
  }
}
