/**
 * The flow makers' hand-off sheet (`npm run handoff`): per environment, what to paste into the
 * trigger's *Allowed users* and what a caller needs to get a token, from the stack outputs.
 * Pure functions of the outputs: no I/O, no clock. Outputs never hold secret values, and neither
 * does the sheet (only where the secret lives).
 */
import type { LoadedOutputs } from "./cli-common";

/** Where the object IDs go, in the words of the flow designer. */
export const ALLOWED_USERS_WHERE =
  'In the flow, open the trigger "When a HTTP request is received" → "Who can trigger the flow": ' +
  'choose "Specific users in my tenant" → "Allowed users", and paste the IDs.';

/** Which ID that is, and which look-alikes are not. */
const WHICH_ID_HEADLINE = "These are the object IDs of the ENTERPRISE APPLICATIONS (service principals).";
const WHICH_ID_REASON =
  "Not the client (application) ID, and not the app registration's object ID: the trigger compares " +
  "them with the token's `oid` claim, which is the service principal's object ID.";
export const ALLOWED_USERS_WHICH_ID = `${WHICH_ID_HEADLINE} ${WHICH_ID_REASON}`;

/** Why the scope has two slashes. */
const SCOPE_HEADLINE = "Copy the scope exactly, double slash included.";
const SCOPE_REASON =
  "The flow's audience ends with a slash; Entra finds the resource by cutting the scope at its last " +
  "slash, so only audience + `/.default` gives a token whose `aud` keeps that trailing slash. With a " +
  "single slash the trigger refuses the token (MisMatchingOAuthClaims).";
export const SCOPE_NOTE = `${SCOPE_HEADLINE} ${SCOPE_REASON}`;

/** One caller in the sheet. */
export interface HandoffCaller {
  /** Caller name from `flow-trigger-auth:callers`, e.g. `erp`. */
  name: string;
  displayName: string;
  /** The value for *Allowed users*: the enterprise application's object ID. */
  servicePrincipalObjectId: string;
  /** The caller's `client_id` for token requests; NOT for *Allowed users*. */
  clientId: string;
  keyVaultSecretName: string;
  keyVaultSecretUri: string;
  secretExpiresAt: string;
  nextRotationAt: string;
}

/** One environment (stack) in the sheet. */
export interface HandoffEnvironment {
  /** `dev` for `--stack dev`, the file name without `.json` for `--outputs`. */
  name: string;
  /** Where the outputs came from: `stack dev` or a file path. */
  source: string;
  tenantId: string;
  cloud: string;
  audience: string;
  tokenEndpoint: string;
  scope: string;
  scopeNote: string;
  keyVaultName: string;
  keyVaultUri: string;
  /** Every caller's enterprise application object ID, as the stack outputs list them. */
  allowedUsers: string[];
  /** {@link allowedUsers} as one comma-separated line, ready to paste. */
  allowedUsersLine: string;
  allowedUsersWhere: string;
  allowedUsersWhichId: string;
  callers: HandoffCaller[];
}

/** The whole sheet, as `--format json` prints it. */
export interface HandoffSheet {
  environments: HandoffEnvironment[];
}

/** Builds the sheet from loaded outputs, environments in the order given, callers by name. */
export function buildHandoff(loaded: readonly LoadedOutputs[]): HandoffSheet {
  return {
    environments: loaded.map(({ label, source, outputs }) => ({
      name: label,
      source,
      tenantId: outputs.tenantId,
      cloud: outputs.cloud,
      audience: outputs.audience,
      tokenEndpoint: outputs.tokenEndpoint,
      scope: outputs.scope,
      scopeNote: SCOPE_NOTE,
      keyVaultName: outputs.keyVaultName,
      keyVaultUri: outputs.keyVaultUri,
      allowedUsers: [...outputs.allowedUsers],
      allowedUsersLine: outputs.allowedUsers.join(","),
      allowedUsersWhere: ALLOWED_USERS_WHERE,
      allowedUsersWhichId: ALLOWED_USERS_WHICH_ID,
      callers: Object.entries(outputs.callers)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, c]) => ({
          name,
          displayName: c.displayName,
          servicePrincipalObjectId: c.servicePrincipalObjectId,
          clientId: c.clientId,
          keyVaultSecretName: c.keyVaultSecretName,
          keyVaultSecretUri: c.keyVaultSecretUri,
          secretExpiresAt: c.secretExpiresAt,
          nextRotationAt: c.nextRotationAt,
        })),
    })),
  };
}

/** The sheet as JSON (one object, pretty-printed, trailing newline). */
export function renderJson(sheet: HandoffSheet): string {
  return `${JSON.stringify(sheet, null, 2)}\n`;
}

/** The sheet as Markdown, one section per environment. */
export function renderMarkdown(sheet: HandoffSheet): string {
  const names = sheet.environments.map((e) => `\`${e.name}\``).join(", ");
  const lines: string[] = [
    "# HTTP-triggered flows: hand-off sheet",
    "",
    `Environments: ${names}. Generated from the stack outputs; no secret value is in this sheet, ` +
      "only where each caller's client secret is kept (Azure Key Vault).",
    "",
  ];
  for (const env of sheet.environments) lines.push(...environmentSection(env));
  return `${lines.join("\n").trimEnd()}\n`;
}

function environmentSection(env: HandoffEnvironment): string[] {
  const lines = [
    `## Environment \`${env.name}\``,
    "",
    `Source: ${cell(env.source)}`,
    "",
    "| What | Value |",
    "|---|---|",
    `| Tenant ID | ${code(env.tenantId)} |`,
    `| Cloud | ${code(env.cloud)} |`,
    `| Token endpoint | ${code(env.tokenEndpoint)} |`,
    `| Scope (client credentials) | ${code(env.scope)} |`,
    `| Audience (\`aud\` the trigger checks) | ${code(env.audience)} |`,
    `| Key Vault | ${code(env.keyVaultName)} (${code(env.keyVaultUri)}) |`,
    "",
    `> **${SCOPE_HEADLINE}** ${SCOPE_REASON}`,
    "",
    "### Allowed users",
    "",
    ALLOWED_USERS_WHERE,
    "",
    "```text",
    env.allowedUsersLine,
    "```",
    "",
    `**${WHICH_ID_HEADLINE}** ${WHICH_ID_REASON}`,
    "",
    "### Callers",
    "",
  ];
  for (const c of env.callers) {
    lines.push(
      `#### \`${c.name}\` (${cell(c.displayName)})`,
      "",
      "| What | Value |",
      "|---|---|",
      `| **Object ID for Allowed users** (enterprise application = service principal) | ${code(c.servicePrincipalObjectId)} |`,
      `| Client ID (the caller's \`client_id\`; NOT for Allowed users) | ${code(c.clientId)} |`,
      `| Display name | ${cell(c.displayName)} |`,
      `| Key Vault secret name | ${code(c.keyVaultSecretName)} |`,
      `| Key Vault secret URI | ${code(c.keyVaultSecretUri)} |`,
      `| Secret expires | ${code(c.secretExpiresAt)} |`,
      `| Next rotation | ${code(c.nextRotationAt)} |`,
      "",
    );
  }
  lines.push(
    "The caller reads its client secret from the Key Vault secret above at run time (it changes at every " +
      "rotation; never copy the value elsewhere), then asks the token endpoint for a token with " +
      "`grant_type=client_credentials`, its client ID and the scope above, and sends it as " +
      "`Authorization: Bearer <token>`.",
    "",
  );
  return lines;
}

/** A value in a table cell, as code; backticks and pipes cannot break the table. */
function code(value: string): string {
  return `\`${value.replace(/`/g, "'").replace(/\|/g, "\\|")}\``;
}

/** Free text in a table cell or heading. */
function cell(value: string): string {
  return value.replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ");
}
