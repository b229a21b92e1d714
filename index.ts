/**
 * flow-trigger-auth: Entra identities for callers of HTTP-triggered Power Automate flows.
 * Thin on purpose: read and validate config, compose components (program/), export outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig, type StackConfig } from "./config";
import { defineStack } from "./program";

function loadConfig(): StackConfig {
  try {
    return parseStackConfig(pulumi.runtime.allConfig(), pulumi.getStack());
  } catch (err) {
    // RunError: Pulumi prints the message alone, without a stack trace; nothing has been declared.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const outputs = defineStack(loadConfig(), Date.now());

export const tenantId = outputs.tenantId;
export const cloud = outputs.cloud;
export const audience = outputs.audience;
export const scope = outputs.scope;
export const tokenEndpoint = outputs.tokenEndpoint;
export const keyVaultName = outputs.keyVaultName;
export const keyVaultUri = outputs.keyVaultUri;
export const callers = outputs.callers;
export const allowedUsers = outputs.allowedUsers;
export const flows = outputs.flows;
export const rotationState = outputs.rotationState;
