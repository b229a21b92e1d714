/**
 * `credential: user`: a client application that signs people in (a single-page app, a desktop or .NET
 * app, a Teams or Copilot agent) and calls flows with their delegated tokens. The app has no secret;
 * the admin-consented delegated `User` permission is what lets it ask for those tokens, and the
 * people in `users` are what the trigger's Allowed users hold (a delegated token's `oid` is the
 * person's, never the app's). docs/configuration.md#signed-in-users.
 */
import { z } from "zod";
import { CLOUDS, type CloudName } from "../clouds";
import { isRecord, objectId, show } from "../fields/config";
import { guid, text } from "../fields/outputs";
import { CONTROL, INVISIBLE } from "../printable";
import { callerKeys, callerOutputs, defineKind, owners } from "./kind";

/** Where the app runs, which decides its Entra platform: `spa` (a browser app) or `publicClient` (desktop, mobile, agent). */
export const PLATFORMS = ["spa", "publicClient"] as const;

/** One of {@link PLATFORMS}. */
export type Platform = (typeof PLATFORMS)[number];

/** At most this many redirect URIs per caller (Entra takes 256 per app; a caller needs a handful). */
export const MAX_REDIRECT_URIS = 20;

/** At most this many people per caller. */
export const MAX_USERS = 100;

/**
 * Why Entra (or the azuread provider before it) would refuse `uri` as a redirect URI of `platform`,
 * or undefined when it takes it. Sources: Learn "Redirect URI (reply URL) restrictions and
 * limitations" (HTTPS but for localhost, at most 256 characters, none of `! $ ' ( ) , ;`, wildcards
 * not for these apps); RFC 6749 section 3.1.2 (no fragment); terraform-provider-azuread
 * internal/helpers/tf/validation/uri.go IsRedirectUriFunc (a host always; a SPA URI without a path
 * must end with `/`; any scheme for a public client).
 */
export function redirectUriProblem(uri: string, platform: Platform | undefined): string | undefined {
  const shown = show(uri);
  if (uri.length > 256) return `${shown.slice(0, 60)}..." is longer than 256 characters, Entra's limit`;
  if (/\s/.test(uri) || INVISIBLE.test(uri) || CONTROL.test(uri))
    return `${shown} contains a space, a control or an invisible character: Entra compares redirect URIs exactly`;
  if (uri.includes("*"))
    return `${shown} has a wildcard: Entra does not take wildcard redirect URIs for this app; list each URI`;
  if (uri.includes("#"))
    return `${shown} has a fragment (#...): a redirect URI must not have one (OAuth 2.0); remove it`;
  if (/[!$'(),;]/.test(uri))
    return `${shown} contains one of ! $ ' ( ) , ; which Entra does not take in redirect URIs`;
  if (/["<>\\^`{|}]/.test(uri))
    return `${shown} contains a character a URI cannot hold unescaped (" < > \\ ^ \` { | }): percent-encode it`;
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)(.*)$/i.exec(uri);
  if (!m || !URL.canParse(uri))
    return `${shown} is not an absolute URI with a host, e.g. https://app.contoso.com/`;
  const [, schemeAnyCase, , rest] = m;
  const scheme = schemeAnyCase.toLowerCase();
  const host = new URL(uri).hostname.toLowerCase();
  if (scheme === "http" && host !== "localhost") {
    return `${shown} uses http: Entra takes http only for localhost; use https://, or http://localhost[:port][/path] while developing`;
  }
  if (platform === "spa") {
    if (scheme !== "https" && scheme !== "http") {
      return `${shown} is not a web address: a spa redirect URI is https:// (or http://localhost while developing)`;
    }
    if (!rest.startsWith("/")) {
      return `${shown} has no path: add the trailing slash (${uri.replace(/([?].*)?$/, "/$1")}), as Entra answers it and the azuread provider requires`;
    }
  }
  if (platform === "publicClient" && scheme === "file") {
    return `${shown} is a file: URI: use https://, http://localhost, ms-appx-web:// or the app's own scheme (e.g. msal<client id>://auth)`;
  }
  return undefined;
}

/** Each problem of a raw list of redirect URIs for `platform`, by index, every one at once. */
function checkRedirectUris(uris: unknown, platform: unknown, ctx: z.RefinementCtx, at: PropertyKey[]): void {
  if (!Array.isArray(uris)) return;
  const known = PLATFORMS.find((p) => p === platform);
  const seen = new Map<string, number>();
  uris.forEach((uri: unknown, i) => {
    if (typeof uri !== "string") return;
    const problem = redirectUriProblem(uri, known);
    if (problem) ctx.addIssue({ code: "custom", path: [...at, i], message: problem });
    const first = seen.get(uri);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [...at, i],
        message: `${show(uri)} is redirectUris[${first}] again; list each URI once`,
      });
    } else seen.set(uri, i);
  });
}

const platform = z.enum(PLATFORMS, {
  error: (i) =>
    i.input === undefined
      ? "is required for credential: user: spa (a browser app: auth code with PKCE) or publicClient (a desktop, mobile or agent app)"
      : `${show(i.input)} must be spa or publicClient`,
});

const redirectUris = z
  .array(z.string({ error: "must be a redirect URI (a string)" }), {
    error: (i) =>
      i.input === undefined
        ? `is required for credential: user: a list of 1 to ${MAX_REDIRECT_URIS} redirect URIs, where Entra sends people back after sign-in`
        : `must be a list of 1 to ${MAX_REDIRECT_URIS} redirect URIs`,
  })
  .min(1, "must list at least 1 redirect URI")
  .max(MAX_REDIRECT_URIS, `must list at most ${MAX_REDIRECT_URIS} redirect URIs`);

/** The delegated scope of the Flow service on `cloud`, e.g. `https://service.flow.microsoft.com//User`. */
export function delegatedScope(cloud: CloudName): string {
  return CLOUDS[cloud].delegatedScope;
}

/** A user caller's outputs. */
const outputs = z
  .strictObject({
    credential: z.literal("user"),
    ...callerOutputs,
    applicationObjectId: guid,
    platform: z.enum(PLATFORMS),
    redirectUris: z.array(text).min(1).max(MAX_REDIRECT_URIS),
    /** The delegated scope the app asks for, e.g. `https://service.flow.microsoft.com//User`. */
    scope: text,
    /** The people's object IDs: what Allowed users holds for this caller. */
    users: z.array(guid).max(MAX_USERS),
  })
  .superRefine((c, ctx) => checkRedirectUris(c.redirectUris, c.platform, ctx, ["redirectUris"]));

export const user = defineKind({
  name: "user",
  config: z
    .strictObject({
      ...callerKeys("user"),
      owners,
      platform,
      redirectUris,
      /** The people who may call, by object ID: they go into Allowed users (none: the flow maker adds them). */
      users: z
        .array(objectId, { error: `must be a list of up to ${MAX_USERS} object IDs (GUIDs) of people` })
        .max(MAX_USERS, `must list at most ${MAX_USERS} people`)
        .default([]),
      /** Always true: a user caller cannot work without admin consent to the delegated permission. */
      consent: z
        .literal(true, {
          error:
            "must be true for credential: user: its delegated tokens need admin consent to the Flow service's User permission " +
            "(without it every person is asked to consent, which most tenants forbid)",
        })
        .optional(),
    })
    .superRefine(
      (c, ctx) => {
        const raw = c as unknown;
        if (isRecord(raw)) checkRedirectUris(raw.redirectUris, raw.platform, ctx, ["redirectUris"]);
      },
      { when: () => true },
    ),
  refuses: {
    secretReaders:
      "a user caller has no secret in Key Vault (its people sign in): remove secretReaders, and list the people in users",
    federatedCredentials:
      "a user caller has no credential of its own (its people sign in with theirs): remove federatedCredentials",
    managedIdentity:
      "a user caller is an app registration people sign in to, not a managed identity: remove managedIdentity",
  },
  outputs,
  outputsProblems: (c, cloud) =>
    c.scope === delegatedScope(cloud)
      ? []
      : [
          {
            path: ["scope"],
            message: `must be ${delegatedScope(cloud)}, the Flow service's User scope on cloud ${cloud}`,
          },
        ],
  vaulted: false,
  rotation: { nothingToRotate: "signed-in users: no secret to rotate" },
  notes: "redirect URIs",
  // A delegated token's `oid` is the signed-in person's: the app's own object ID is never one.
  allowedUsers: (c) => [...c.users],
  handoff: {
    label: "signed-in users (delegated, no secret)",
    principal: "the people who sign in, not the app",
    todo: signInTodo,
  },
});

/** The ready-to-paste sign-in configuration of a user caller (MSAL for the browser or for .NET). */
function signInTodo(c: z.infer<typeof outputs>, stack: { tenantId: string; cloud: CloudName }): string {
  const authority = `${CLOUDS[stack.cloud].authorityHost}/${stack.tenantId}`;
  const redirect = c.redirectUris[0];
  const users = c.users.length
    ? `Allowed users of its flows hold these people's object IDs: ${c.users.join(", ")}.`
    : "No users are listed yet: add each person's object ID to users in the stack config (az ad user show --id <UPN> --query id).";
  const head =
    "No secret to keep: people sign in and the app sends their token for the scope above as `Authorization: Bearer <token>`. " +
    "Admin consent is granted, so nobody is asked to consent; every person of the tenant may sign in to the app, but " +
    `only the listed people pass the trigger. ${users}`;
  const code =
    c.platform === "spa"
      ? [
          "```js",
          'import { PublicClientApplication } from "@azure/msal-browser";',
          "const msal = new PublicClientApplication({",
          `  auth: { clientId: ${JSON.stringify(c.clientId)}, authority: ${JSON.stringify(authority)}, redirectUri: ${JSON.stringify(redirect)} },`,
          "});",
          "await msal.initialize();",
          `const loginRequest = { scopes: [${JSON.stringify(c.scope)}] };`,
          "const { accessToken } = await msal.acquireTokenPopup(loginRequest); // acquireTokenSilent once signed in",
          "```",
        ]
      : [
          "```csharp",
          "using Microsoft.Identity.Client;",
          `var app = PublicClientApplicationBuilder.Create(${JSON.stringify(c.clientId)})`,
          `    .WithAuthority(${JSON.stringify(authority)})`,
          `    .WithRedirectUri(${JSON.stringify(redirect)})`,
          "    .Build();",
          `var result = await app.AcquireTokenInteractive(new[] { ${JSON.stringify(c.scope)} }).ExecuteAsync();`,
          "// result.AccessToken; AcquireTokenWithDeviceCode works too (public client flows are on)",
          "```",
        ];
  return [head, "", ...code].join("\n");
}
