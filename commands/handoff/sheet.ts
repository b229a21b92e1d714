/**
 * The flow makers' hand-off sheet (`flow-trigger-auth handoff`): per environment, what to paste into
 * the trigger's *Allowed users* and what each calling system's owner must do, from the stack outputs
 * (already checked by the outputs schema). Pure functions: no I/O, no clock. No secret value is in
 * the sheet, only where secrets live; every value printed is escaped for Markdown, and control and
 * invisible characters in it are shown as escapes (printable.ts), in both formats.
 */
import { flowPortalUrl, type CloudName } from "../../clouds";
import { kindInfo, KINDS, type CallerOutputs } from "../../kinds/registry";
import type { FlowOutputs, StackOutputs } from "../../outputs";
import { printable, printableJson } from "../../printable";
import type { LoadedOutputs } from "../../lib/stack-outputs";

/** First line of every Markdown sheet: how `--out` recognises a sheet it may replace. */
export const SHEET_MARKER = "<!-- flow-trigger-auth hand-off sheet -->";
/** `kind` of every JSON sheet, for the same purpose. */
export const SHEET_KIND = "flow-trigger-auth/handoff";

/** True when `content` is a sheet this command wrote (Markdown or JSON): what `--out` may replace. */
export function isSheet(content: string): boolean {
  if (content.startsWith(SHEET_MARKER)) return true;
  try {
    return (JSON.parse(content) as { kind?: unknown }).kind === SHEET_KIND;
  } catch {
    return false;
  }
}

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

/**
 * One caller in the sheet: its name, its outputs but the app registration's object ID (not for Allowed
 * users, and the caller does not need it), and what the calling system's owner must do.
 */
export type HandoffCaller = { name: string } & SheetFacts<CallerOutputs> & { todo: string };

/** Each kind's outputs without `applicationObjectId`. */
type SheetFacts<C> = C extends unknown ? Omit<C, "applicationObjectId"> : never;

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
  /** The stack's flows, by name (none when it names none). */
  flows: HandoffFlow[];
}

/** One flow in the sheet: what to paste into its Allowed users, which flow that is, and how to check it. */
export interface HandoffFlow {
  name: string;
  /** The Power Platform environment; absent for a legacy trigger URL. */
  environmentId?: string;
  flowId: string;
  /** The flow in Power Automate, when its environment and the portal's address are known. */
  portalUrl?: string;
  dataverseUrl: string;
  triggerUrl: string;
  callers: string[];
  /** Exactly what the flow's Allowed users must hold. */
  allowedUsers: string[];
  /** {@link allowedUsers} as one comma-separated line, ready to paste (as `audit` prints it). */
  allowedUsersLine: string;
  /** The command that checks the flow, e.g. `flow-trigger-auth audit --stack dev --flow invoice-intake`. */
  check: string;
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
        .map((name) => callerOf(name, outputs.callers[name], outputs)),
      flows: Object.keys(outputs.flows ?? {})
        .sort()
        .map((name) => flowOf(name, outputs.flows![name], outputs.cloud, label)),
    })),
  };
}

function flowOf(name: string, f: FlowOutputs, cloud: StackOutputs["cloud"], stack: string): HandoffFlow {
  const portalUrl = f.environmentId && flowPortalUrl(cloud, f.environmentId, f.flowId);
  return {
    name,
    ...(f.environmentId ? { environmentId: f.environmentId } : {}),
    flowId: f.flowId,
    ...(portalUrl ? { portalUrl } : {}),
    dataverseUrl: f.dataverseUrl,
    triggerUrl: f.triggerUrl,
    callers: [...f.callers],
    allowedUsers: [...f.allowedUsers],
    allowedUsersLine: f.allowedUsers.join(","),
    check: `flow-trigger-auth audit --stack ${stack} --flow ${name}`,
  };
}

function callerOf(
  name: string,
  c: CallerOutputs,
  stack: { tenantId: string; cloud: CloudName },
): HandoffCaller {
  // The common facts first, then the kind's own (as its outputs list them).
  const { credential, displayName, servicePrincipalObjectId, clientId, ...facts } = c;
  delete (facts as { applicationObjectId?: string }).applicationObjectId;
  return {
    name,
    credential,
    displayName,
    servicePrincipalObjectId,
    clientId,
    ...facts,
    todo: kindInfo(c.credential).handoff.todo(c, { tenantId: stack.tenantId, cloud: stack.cloud }),
  } as HandoffCaller;
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
    ...(env.flows.length
      ? ["", "Every caller's object ID; a flow listed below takes its own list instead:"]
      : []),
    "",
    "```text",
    env.allowedUsersLine,
    "```",
    "",
    `**${WHICH_ID_HEADLINE}** ${WHICH_ID_REASON}`,
    "",
    ...env.flows.flatMap(flowSection),
    "### Callers",
    "",
  ];
  for (const c of env.callers) {
    const { label, principal = "enterprise application = service principal" } = kindInfo(
      c.credential,
    ).handoff;
    lines.push(
      `#### ${code(c.name)} (${text(c.displayName)}): ${label}`,
      "",
      "| What | Value |",
      "|---|---|",
      // What the caller puts into Allowed users, as its kind says: its principal, or the people who sign in.
      `| **Object ID for Allowed users** (${principal}) | ${allowedOf(c).map(code).join(", ") || "none listed yet"} |`,
      `| Client ID (the caller's \`client_id\`; NOT for Allowed users) | ${code(c.clientId)} |`,
      `| Display name | ${text(c.displayName)} |`,
    );
    if ("keyVaultSecretName" in c) {
      const published = KINDS[c.credential].rotation.published;
      lines.push(
        `| Key Vault secret name | ${code(c.keyVaultSecretName)} |`,
        `| Key Vault secret URI | ${code(c.keyVaultSecretUri)} |`,
        `| ${published[0].toUpperCase()}${published.slice(1)} expires | ${code(c.secretExpiresAt)} |`,
        `| Next rotation | ${code(c.nextRotationAt)} |`,
      );
    }
    if ("certificateThumbprintSha1" in c && c.certificateThumbprintSha1)
      lines.push(
        `| Certificate thumbprint (SHA-1, as the portal shows it) | ${code(c.certificateThumbprintSha1)} |`,
      );
    if ("certificateThumbprintSha256" in c)
      lines.push(`| Certificate thumbprint (SHA-256) | ${code(c.certificateThumbprintSha256)} |`);
    if ("managedIdentityResourceId" in c && c.managedIdentityResourceId)
      lines.push(`| Managed identity resource ID | ${code(c.managedIdentityResourceId)} |`);
    for (const f of "federatedCredentials" in c ? c.federatedCredentials : []) {
      lines.push(
        `| Federated credential | issuer ${code(f.issuer)}, subject ${code(f.subject)}, audience ${code(f.audiences.join(" "))} |`,
      );
    }
    lines.push("", c.todo, "");
  }
  return lines;
}

/** The object IDs `c` puts into Allowed users (kinds/). */
function allowedOf(c: HandoffCaller): string[] {
  return kindInfo(c.credential).allowedUsers(c, c.servicePrincipalObjectId);
}

/** A flow's section: which flow, the exact Allowed users value, and the command that checks it. */
function flowSection(f: HandoffFlow): string[] {
  return [
    `### Flow ${code(f.name)}`,
    "",
    "| What | Value |",
    "|---|---|",
    `| Environment | ${f.environmentId ? code(f.environmentId) : "not in its trigger URL: see the flow's address in Power Automate"} |`,
    `| Flow ID | ${code(f.flowId)} |`,
    // Built from an environment ID and a flow ID the outputs schema checked, on a portal of clouds.ts.
    ...(f.portalUrl ? [`| Open in Power Automate | <${f.portalUrl}> |`] : []),
    `| Dataverse | ${code(f.dataverseUrl)} |`,
    `| Trigger URL | ${code(f.triggerUrl)} |`,
    `| Callers | ${f.callers.map(code).join(", ")} |`,
    "",
    'Paste into this flow\'s trigger, "Specific users in my tenant" → "Allowed users", replacing what is there:',
    "",
    "```text",
    printable(f.allowedUsersLine),
    "```",
    "",
    `Check it: ${code(f.check)} (exit 0 when the trigger admits exactly these callers).`,
    "",
  ];
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
