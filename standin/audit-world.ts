/**
 * Ready-made worlds for the audit: flow definitions as Dataverse keeps them, trigger hosts, and a
 * generated stack whose flows and callers are registered in a Dataverse stand-in (./dataverse.ts).
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { DataverseStandin, StandinWorkflow } from "./dataverse";

/** How a flow's trigger is set in a definition built by {@link flowDefinition}. */
export interface TriggerSpec {
  /** The trigger's name; `manual` as the designer names it. */
  name?: string;
  type?: string;
  kind?: string;
  /** `triggerAuthenticationType`; absent when undefined. */
  authType?: string;
  /** `triggerAllowedUsers`; absent when undefined. */
  allowedUsers?: unknown;
}

/**
 * A flow definition as Dataverse keeps it in `clientdata` (a JSON string): connection references, the
 * Logic Apps workflow definition schema, one trigger and a Response action, as a solution export has them.
 */
export function flowDefinition(trigger: TriggerSpec = {}): string {
  const inputs: Record<string, unknown> = {
    schema: { type: "object", properties: { invoice: { type: "integer" } } },
    method: "POST",
  };
  if (trigger.authType !== undefined) inputs.triggerAuthenticationType = trigger.authType;
  if (trigger.allowedUsers !== undefined) inputs.triggerAllowedUsers = trigger.allowedUsers;
  return JSON.stringify({
    properties: {
      connectionReferences: {
        shared_commondataserviceforapps: {
          runtimeSource: "embedded",
          connection: { connectionReferenceLogicalName: "cr2a1_sharedcommondataserviceforapps_4b2e1" },
          api: { name: "shared_commondataserviceforapps" },
        },
      },
      definition: {
        $schema:
          "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
        contentVersion: "1.0.0.0",
        parameters: {
          $connections: { defaultValue: {}, type: "Object" },
          $authentication: { defaultValue: {}, type: "SecureObject" },
        },
        triggers: {
          [trigger.name ?? "manual"]: {
            metadata: { operationMetadataId: randomUUID() },
            type: trigger.type ?? "Request",
            kind: trigger.kind ?? "Http",
            inputs,
          },
        },
        actions: {
          Response: {
            runAfter: {},
            type: "Response",
            kind: "Http",
            inputs: { statusCode: 202, body: { accepted: true } },
          },
        },
      },
    },
    schemaVersion: "1.0.0.0",
  });
}

/** The host of a public-cloud trigger URL for environment `envId` (the ID without dashes, a dot before its last 2 characters). */
export function triggerHost(envId: string): string {
  const hex = envId.toLowerCase().replace(/-/g, "");
  return `${hex.slice(0, -2)}.${hex.slice(-2)}.environment.api.powerplatform.com`;
}

/** One caller of a generated stack. */
export interface WorldCaller {
  name: string;
  displayName: string;
  clientId: string;
  applicationObjectId: string;
  servicePrincipalObjectId: string;
}

/** One flow of a generated stack, registered in the stand-in. */
export interface WorldFlow {
  name: string;
  /** The ID in the outputs: the portal's (resourceid) or the solution's (workflowid). */
  flowId: string;
  origin: string;
  environmentId: string;
  callers: string[];
  /** The row in the stand-in (edit it to make the flow drift). */
  row: StandinWorkflow;
}

/** A generated stack: its outputs (as `pulumi stack output --json` prints them), callers and flows. */
export interface AuditWorld {
  outputs: Record<string, unknown>;
  callers: WorldCaller[];
  flows: WorldFlow[];
  tenantId: string;
}

/**
 * A stack with `callers` secret callers and `flowsPerEnvironment` flows in each of `environments`
 * Dataverse organisations, every flow registered in the stand-in with a definition that admits exactly
 * its callers (entries joined by `;`), on. Flow i has callers i mod n and (i + 1) mod n; every other
 * flow is named by its workflowid instead of its portal ID. Directory objects for the callers exist.
 */
export function auditWorld(
  standin: DataverseStandin,
  options: { environments?: number; flowsPerEnvironment?: number; callers?: number } = {},
): AuditWorld {
  const tenantId = randomUUID();
  const vault = `flow-dev-${randomBytes(3).toString("hex")}`;
  const callers: WorldCaller[] = Array.from({ length: options.callers ?? 3 }, (_, i) => {
    const name = `caller-${i + 1}`;
    return {
      name,
      displayName: `flow-dev-${name}`,
      clientId: randomUUID(),
      applicationObjectId: randomUUID(),
      servicePrincipalObjectId: randomUUID(),
    };
  });
  for (const c of callers) {
    standin.directory.objects.set(c.servicePrincipalObjectId, {
      type: "servicePrincipal",
      displayName: c.displayName,
      appId: c.clientId,
    });
  }
  const flows: WorldFlow[] = [];
  for (let e = 0; e < (options.environments ?? 2); e++) {
    const origin = `https://org${randomBytes(4).toString("hex")}.crm4.dynamics.com`;
    const environmentId = randomUUID();
    standin.addOrg(origin);
    for (let k = 0; k < (options.flowsPerEnvironment ?? 2); k++) {
      const i = flows.length;
      const mine = [...new Set([callers[i % callers.length], callers[(i + 1) % callers.length]])];
      const row: StandinWorkflow = {
        workflowid: randomUUID(),
        resourceid: randomUUID(),
        name: `Intake ${i + 1}`,
        statecode: 1,
        modifiedon: "2026-11-20T08:15:00Z",
        clientdata: flowDefinition({
          authType: "User",
          allowedUsers: mine.map((c) => c.servicePrincipalObjectId).join(";"),
        }),
      };
      standin.addWorkflow(origin, row);
      flows.push({
        name: `flow-${i + 1}`,
        flowId: i % 2 === 0 ? row.resourceid : row.workflowid,
        origin,
        environmentId,
        callers: mine.map((c) => c.name),
        row,
      });
    }
  }
  const outputs = {
    tenantId,
    cloud: "public",
    audience: "https://service.flow.microsoft.com/",
    scope: "https://service.flow.microsoft.com//.default",
    tokenEndpoint: `https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/token`,
    keyVaultName: vault,
    keyVaultUri: `https://${vault}.vault.azure.net/`,
    callers: Object.fromEntries(
      callers.map((c) => [
        c.name,
        {
          credential: "secret",
          displayName: c.displayName,
          clientId: c.clientId,
          applicationObjectId: c.applicationObjectId,
          servicePrincipalObjectId: c.servicePrincipalObjectId,
          keyVaultSecretName: `${c.name}-client-secret`,
          keyVaultSecretUri: `https://${vault}.vault.azure.net/secrets/${c.name}-client-secret`,
          secretExpiresAt: "2027-03-03T00:00:00Z",
          nextRotationAt: "2026-12-03T00:00:00Z",
        },
      ]),
    ),
    allowedUsers: callers.map((c) => c.servicePrincipalObjectId),
    flows: Object.fromEntries(
      flows.map((f) => [
        f.name,
        {
          triggerUrl: `https://${triggerHost(f.environmentId)}:443/powerautomate/automations/direct/workflows/${randomBytes(16).toString("hex")}/triggers/manual/paths/invoke?api-version=1`,
          environmentId: f.environmentId,
          flowId: f.flowId,
          dataverseUrl: f.origin,
          callers: f.callers,
          allowedUsers: f.callers.map((n) => callers.find((c) => c.name === n)!.servicePrincipalObjectId),
        },
      ]),
    ),
  };
  return { outputs, callers, flows, tenantId };
}
