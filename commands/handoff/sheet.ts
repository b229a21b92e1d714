/**
 * The flow makers' hand-off sheet (`flow-trigger-auth handoff`): per environment, what to paste into
 * the trigger's *Allowed users* and what each calling system's owner must do, from the stack outputs
 * (already checked by the outputs schema). Pure functions: no I/O, no clock. No secret value is in
 * the sheet, only where secrets live; every value printed is escaped for Markdown, and control and
 * invisible characters in it are shown as escapes (printable.ts), in both formats.
 */
import type { CallerOutputs } from "../../outputs";
import { printable, printableJson } from "../../printable";
import type { LoadedOutputs } from "../../lib/stack-outputs";

/** First line of every Markdown sheet: how `--out` recognises a sheet it may replace. */
export const SHEET_MARKER = "<!-- flow-trigger-auth hand-off sheet -->";
/** `kind` of every JSON sheet, for the same purpose. */
export const SHEET_KIND = "flow-trigger-auth/handoff";

/** Where the object IDs go, in the words of the flow designer, and why "Specific users". */
export const ALLOWED_USERS_WHERE =
  'In the flow, open the trigger "When a HTTP request is received" → "Who can trigger the flow": choose ' +
  '"Specific users in my tenant" → "Allowed users", and paste the IDs. Not "Any user in my tenant": that admits ' +
  "every app and managed identity of the tenant. An empty Allowed users list admits the whole tenant too. Changing " +
  '"Who can trigger the flow" gives the trigger a new URL: hand the new URL to the callers.';

/** Which ID that is, and which look-alikes are not. */
const WHICH_ID_HEADLINE =
  "These are principal object IDs: of ENTERPRISE APPLICATIONS (service principals) or managed identities.";
const WHICH_ID_REASON =
  "Not the client (application) ID, and not the app registration's object ID: the trigger compares them with the " +
  "token's `oid` claim, which is the principal's object ID.";
export const ALLOWED_USERS_WHICH_ID = `${WHICH_ID_HEADLINE} ${WHICH_ID_REASON}`;

/** Why the scope has two slashes. */
const SCOPE_HEADLINE = "Copy the scope exactly, double slash included.";
const SCOPE_REASON =
  "The flow's audience ends with a slash; Entra finds the resource by cutting the scope at its last slash, so only " +
  "audience + `/.default` gives a token whose `aud` keeps that trailing slash. With a single slash the trigger refuses " +
  "the token (MisMatchingOAuthClaims).";
export const SCOPE_NOTE = `${SCOPE_HEADLINE} ${SCOPE_REASON}`;

/** What the owner of a calling system does with its kind of credential. */
export function callerTodo(c: CallerOutputs): string {
  switch (c.credential) {
    case "secret":
      return (
        "Read the client secret from the Key Vault secret above at run time (it changes at every rotation; never copy " +
        "the value elsewhere), ask the token endpoint for a token with `grant_type=client_credentials`, the client ID and " +
        "the scope, and send it as `Authorization: Bearer <token>`."
      );
    case "certificate":
      return (
        "Read the certificate and its private key (PEM) from the Key Vault secret above at run time (a new one is " +
        "published at every rotation), authenticate with it as a certificate credential (e.g. @azure/identity " +
        "ClientCertificateCredential) for the scope, and send the token as `Authorization: Bearer <token>`."
      );
    case "federated":
      return (
        "No secret to keep: the platform's own OIDC token is exchanged for an Entra token. Run the caller where one of the " +
        "federated credentials above matches (issuer and subject exactly, case included), with the tenant ID and client ID " +
        "above (e.g. GitHub Actions: azure/login with client-id and tenant-id, or @azure/identity WorkloadIdentityCredential)."
      );
    case "managedIdentity":
      return (
        "No secret to keep: assign the managed identity to the Azure resource that calls the flow" +
        (c.managedIdentityResourceId ? " (the identity's resource ID is above)" : "") +
        ", then get the token with it (e.g. @azure/identity ManagedIdentityCredential with the client ID above) for the scope."
      );
  }
}

/** One caller in the sheet: what the flow maker pastes, and the facts its owner needs. */
export interface HandoffCaller {
  /** Caller name from `flow-trigger-auth:callers`, e.g. `erp`. */
  name: string;
  credential: CallerOutputs["credential"];
  displayName: string;
  /** The value for *Allowed users*: the principal's object ID. */
  servicePrincipalObjectId: string;
  /** The caller's `client_id` for token requests; NOT for *Allowed users*. */
  clientId: string;
  keyVaultSecretName?: string;
  keyVaultSecretUri?: string;
  secretExpiresAt?: string;
  nextRotationAt?: string;
  /** SHA-256 thumbprint of the published certificate (hex). */
  certificateThumbprintSha256?: string;
  /** SHA-1 thumbprint (hex): what the portal and `az ad app credential list` show. */
  certificateThumbprintSha1?: string;
  federatedCredentials?: { issuer: string; subject: string; audiences: string[] }[];
  managedIdentityResourceId?: string;
  /** What the calling system's owner must do. */
  todo: string;
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
  keyVaultName?: string;
  keyVaultUri?: string;
  /** Every caller's principal object ID, as the stack outputs list them. */
  allowedUsers: string[];
  /** {@link allowedUsers} as one comma-separated line, ready to paste. */
  allowedUsersLine: string;
  allowedUsersWhere: string;
  allowedUsersWhichId: string;
  callers: HandoffCaller[];
}

/** The whole sheet, as `--json` prints it. */
export interface HandoffSheet {
  kind: typeof SHEET_KIND;
  environments: HandoffEnvironment[];
}

/** Builds the sheet from loaded outputs, environments in the order given, callers by name. */
export function buildHandoff(loaded: readonly LoadedOutputs[]): HandoffSheet {
  return {
    kind: SHEET_KIND,
    environments: loaded.map(({ label, source, outputs }) => ({
      name: label,
      source,
      tenantId: outputs.tenantId,
      cloud: outputs.cloud,
      audience: outputs.audience,
      tokenEndpoint: outputs.tokenEndpoint,
      scope: outputs.scope,
      scopeNote: SCOPE_NOTE,
      ...(outputs.keyVaultName ? { keyVaultName: outputs.keyVaultName } : {}),
      ...(outputs.keyVaultUri ? { keyVaultUri: outputs.keyVaultUri } : {}),
      allowedUsers: [...outputs.allowedUsers],
      allowedUsersLine: outputs.allowedUsers.join(","),
      allowedUsersWhere: ALLOWED_USERS_WHERE,
      allowedUsersWhichId: ALLOWED_USERS_WHICH_ID,
      callers: Object.keys(outputs.callers)
        .sort()
        .map((name) => callerOf(name, outputs.callers[name])),
    })),
  };
}

function callerOf(name: string, c: CallerOutputs): HandoffCaller {
  const caller: HandoffCaller = {
    name,
    credential: c.credential,
    displayName: c.displayName,
    servicePrincipalObjectId: c.servicePrincipalObjectId,
    clientId: c.clientId,
    todo: callerTodo(c),
  };
  if (c.credential === "secret" || c.credential === "certificate") {
    Object.assign(caller, {
      keyVaultSecretName: c.keyVaultSecretName,
      keyVaultSecretUri: c.keyVaultSecretUri,
      secretExpiresAt: c.secretExpiresAt,
      nextRotationAt: c.nextRotationAt,
    });
  }
  if (c.credential === "certificate") {
    caller.certificateThumbprintSha256 = c.certificateThumbprintSha256;
    if (c.certificateThumbprintSha1) caller.certificateThumbprintSha1 = c.certificateThumbprintSha1;
  }
  if (c.credential === "federated") caller.federatedCredentials = c.federatedCredentials;
  if (c.credential === "managedIdentity" && c.managedIdentityResourceId)
    caller.managedIdentityResourceId = c.managedIdentityResourceId;
  return caller;
}

/** The sheet as JSON (one object, pretty-printed, trailing newline), nothing invisible in the text. */
export function renderJson(sheet: HandoffSheet): string {
  return `${printableJson(sheet, 2)}\n`;
}

/** The sheet as Markdown, one section per environment. */
export function renderMarkdown(sheet: HandoffSheet): string {
  const names = sheet.environments.map((e) => code(e.name)).join(", ");
  const lines: string[] = [
    SHEET_MARKER,
    "# HTTP-triggered flows: hand-off sheet",
    "",
    `Environments: ${names}. Generated from the stack outputs; no secret value is in this sheet, only where ` +
      "each caller's credential is kept.",
    "",
  ];
  for (const env of sheet.environments) lines.push(...environmentSection(env));
  return `${lines.join("\n").trimEnd()}\n`;
}

const KIND_LABEL: Record<CallerOutputs["credential"], string> = {
  secret: "client secret",
  certificate: "certificate",
  federated: "federated credential (no secret)",
  managedIdentity: "managed identity (no secret)",
};

function environmentSection(env: HandoffEnvironment): string[] {
  const lines = [
    `## Environment ${code(env.name)}`,
    "",
    `Source: ${text(env.source)}`,
    "",
    "| What | Value |",
    "|---|---|",
    `| Tenant ID | ${code(env.tenantId)} |`,
    `| Cloud | ${code(env.cloud)} |`,
    `| Token endpoint | ${code(env.tokenEndpoint)} |`,
    `| Scope (client credentials) | ${code(env.scope)} |`,
    `| Audience (\`aud\` the trigger checks) | ${code(env.audience)} |`,
    ...(env.keyVaultName && env.keyVaultUri
      ? [`| Key Vault | ${code(env.keyVaultName)} (${code(env.keyVaultUri)}) |`]
      : []),
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
      `#### ${code(c.name)} (${text(c.displayName)}): ${KIND_LABEL[c.credential]}`,
      "",
      "| What | Value |",
      "|---|---|",
      `| **Object ID for Allowed users** (${c.credential === "managedIdentity" ? "managed identity" : "enterprise application = service principal"}) | ${code(c.servicePrincipalObjectId)} |`,
      `| Client ID (the caller's \`client_id\`; NOT for Allowed users) | ${code(c.clientId)} |`,
      `| Display name | ${text(c.displayName)} |`,
    );
    if (c.keyVaultSecretName && c.keyVaultSecretUri) {
      lines.push(
        `| Key Vault secret name | ${code(c.keyVaultSecretName)} |`,
        `| Key Vault secret URI | ${code(c.keyVaultSecretUri)} |`,
        `| ${c.credential === "certificate" ? "Certificate" : "Secret"} expires | ${code(c.secretExpiresAt ?? "")} |`,
        `| Next rotation | ${code(c.nextRotationAt ?? "")} |`,
      );
    }
    if (c.certificateThumbprintSha1)
      lines.push(
        `| Certificate thumbprint (SHA-1, as the portal shows it) | ${code(c.certificateThumbprintSha1)} |`,
      );
    if (c.certificateThumbprintSha256)
      lines.push(`| Certificate thumbprint (SHA-256) | ${code(c.certificateThumbprintSha256)} |`);
    if (c.managedIdentityResourceId)
      lines.push(`| Managed identity resource ID | ${code(c.managedIdentityResourceId)} |`);
    for (const f of c.federatedCredentials ?? []) {
      lines.push(
        `| Federated credential | issuer ${code(f.issuer)}, subject ${code(f.subject)}, audience ${code(f.audiences.join(" "))} |`,
      );
    }
    lines.push("", c.todo, "");
  }
  return lines;
}

/**
 * A value as inline code: it cannot end the span, break the table row or the line (backticks become
 * `'`, pipes are escaped, line breaks, control and invisible characters are shown as escapes).
 */
export function code(value: string): string {
  return `\`${printable(value).replace(/`/g, "'").replace(/\|/g, "\\|")}\``;
}

/** Free text in a table cell, heading or paragraph: no Markdown markup can get through. */
export function text(value: string): string {
  return printable(value).replace(/([\\`*_{}[\]()#+!|<>~])/g, "\\$1");
}
