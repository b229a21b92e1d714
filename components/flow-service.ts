/**
 * Look-up of Microsoft's "Microsoft Flow Service" service principal in the tenant. Never created
 * here: a stack that owned it would delete Microsoft's service principal on destroy (pulumi-azuread #2045).
 */
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { FLOW_SERVICE_APP_ID, FLOW_USER_SCOPE } from "../clouds";

/** What callers are granted on: the Flow service principal and its delegated `User` scope. */
export interface FlowService {
  /** Application (client) ID of the Flow service, `7df0a125-d3be-4c96-aa54-591f83ff541c`. */
  appId: string;
  /** Object ID of its service principal in this tenant: the resource of every consent grant. */
  objectId: pulumi.Output<string>;
  /** ID of its delegated `User` scope, requested by every caller's app registration. */
  userScopeId: pulumi.Output<string>;
}

/** The command an administrator runs once per tenant when the look-up fails. */
export const PROVISION_FLOW_SP_HINT =
  `az ad sp create --id ${FLOW_SERVICE_APP_ID}` +
  ` (or: New-MgServicePrincipal -AppId ${FLOW_SERVICE_APP_ID}), run by an administrator of the tenant`;

/** What to tell the operator when the look-up fails: provision it if it is missing, else grant read access. */
export function flowLookupFailure(detail: string): string {
  if (/not found|no service principal|could not find|does not exist|no matching/i.test(detail) || !detail) {
    return (
      `the Microsoft Flow Service service principal (app ID ${FLOW_SERVICE_APP_ID}) was not found in this tenant` +
      (detail ? ` (${detail})` : "") +
      `. Provision it once with: ${PROVISION_FLOW_SP_HINT}. Do not add it to this stack.`
    );
  }
  return (
    `looking up the Microsoft Flow Service service principal (app ID ${FLOW_SERVICE_APP_ID}) failed: ${detail}. ` +
    "The deploying identity needs to read service principals (Microsoft Graph Application.Read.All or Directory.Read.All); " +
    `if the tenant lacks it, provision it with: ${PROVISION_FLOW_SP_HINT}.`
  );
}

/**
 * Finds the Flow service principal and its `User` scope ID.
 * @throws an error carrying the provisioning command when the tenant lacks it.
 */
export async function findFlowService(
  opts?: pulumi.InvokeOptions,
): Promise<{ objectId: string; userScopeId: string }> {
  let sp: azuread.GetServicePrincipalResult;
  try {
    sp = await azuread.getServicePrincipal({ clientId: FLOW_SERVICE_APP_ID }, opts);
  } catch (err) {
    throw new Error(flowLookupFailure(err instanceof Error ? err.message : String(err)));
  }
  const userScopeId = sp.oauth2PermissionScopeIds?.[FLOW_USER_SCOPE];
  if (!userScopeId) {
    throw new Error(
      `the Microsoft Flow Service service principal (${FLOW_SERVICE_APP_ID}) has no delegated "${FLOW_USER_SCOPE}" scope in this tenant; ` +
        "check the tenant's Power Automate licensing, then re-run",
    );
  }
  return { objectId: sp.objectId, userScopeId };
}

/** The Flow service for the stack; a missing service principal fails the deployment with {@link findFlowService}'s error. */
export function lookupFlowService(opts?: pulumi.InvokeOptions): FlowService {
  const found = pulumi.output(findFlowService(opts));
  return { appId: FLOW_SERVICE_APP_ID, objectId: found.objectId, userScopeId: found.userScopeId };
}
