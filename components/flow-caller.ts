import { createHash } from "node:crypto";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import type { FederatedCredentialConfig } from "../kinds/federated";
import { isGitHubIssuer } from "../kinds/github-subject";
import type { FlowService } from "./flow-service";
import { RotatingCertificate, type RotatingCertificateArgs } from "./rotating-certificate";
import { RotatingClientSecret, type RotatingClientSecretArgs } from "./rotating-secret";

/** What a rotating credential takes that the caller does not fill in itself (its app and its name). */
type Rotating<T> = Omit<T, "applicationId" | "clientId" | "caller">;

/** How a caller authenticates, and what that needs. */
export type CallerCredentialArgs =
  | ({ kind: "secret" } & Rotating<RotatingClientSecretArgs>)
  | ({ kind: "certificate" } & Rotating<RotatingCertificateArgs>)
  | {
      kind: "federated";
      /** External tokens the app trusts, e.g. GitHub Actions jobs of one environment. */
      federatedCredentials: FederatedCredentialConfig[];
    }
  | {
      /** No credential of its own: people sign in to it and it calls with their delegated tokens. */
      kind: "user";
      /** `spa`: a browser app (auth code with PKCE); `publicClient`: a desktop, mobile or agent app. */
      platform: "spa" | "publicClient";
      /** Where Entra sends people back after sign-in, e.g. `https://app.contoso.com/`. */
      redirectUris: string[];
    };

/**
 * The app registration's settings for people signing in on `platform`: its redirect URIs on that
 * platform (azuread updates them in place: no input of these is ForceNew in
 * terraform-provider-azuread internal/services/applications/application_resource.go), never the
 * implicit grant (set for every kind). A public client also allows public client flows
 * (`isFallbackPublicClient`), which the device-code flow needs (AADSTS7000218 without it); a SPA
 * does not, so nobody can run device code or ROPC against a browser app's client ID.
 */
function signInSettings(
  c: Extract<CallerCredentialArgs, { kind: "user" }>,
): Partial<azuread.ApplicationArgs> {
  return c.platform === "spa"
    ? { singlePageApplication: { redirectUris: c.redirectUris } }
    : { publicClient: { redirectUris: c.redirectUris }, fallbackPublicClientEnabled: true };
}

/** What every caller's component gives the stack: the principal for Allowed users, and what it signs in as. */
export interface CallerPrincipal {
  /** Client ID the caller asks tokens for, e.g. `0b8f3c1e-…`. */
  readonly clientId: pulumi.Output<string>;
  /** Object ID of its service principal: the value for the trigger's *Allowed users*. */
  readonly servicePrincipalObjectId: pulumi.Output<string>;
  /** Its display name, e.g. `flow-dev-erp`. */
  readonly displayName: pulumi.Output<string>;
}

/** The outputs a caller's component registers for its principal. */
export function principalOutputs(c: CallerPrincipal): pulumi.Inputs {
  return {
    clientId: c.clientId,
    servicePrincipalObjectId: c.servicePrincipalObjectId,
    displayName: c.displayName,
  };
}

/** Arguments of {@link FlowCaller}. */
export interface FlowCallerArgs {
  /** Display name of the app registration and enterprise app, e.g. `flow-dev-erp`. */
  displayName: string;
  /** What the calling system is, shown in the portal, e.g. `SAP ERP posting invoices`. */
  description?: string;
  /**
   * Object IDs of the owners of the app registration and enterprise app, e.g. the deploying identity
   * and a team's group of admins. Exactly these: the provider removes any other owner it finds.
   */
  owners: pulumi.Input<string[]>;
  /** The Flow service principal and its `User` scope, from `lookupFlowService()`. */
  flowService: FlowService;
  /** The caller's credential: a rotating client secret or certificate, federated credentials, or people signing in. */
  credential: CallerCredentialArgs;
  /** Text stored in the app's notes, e.g. which stack manages it. */
  notes?: string;
  /**
   * Whether the app asks for the Flow service's delegated `User` permission with admin consent (default
   * true). False: no `requiredResourceAccesses` entry and no grant; app-only tokens are issued all the same.
   */
  consent?: boolean;
}

/** Longest display name of a federated identity credential. */
const FEDERATED_NAME_MAX = 120;

/**
 * Display name of the federated credential for `issuer` and `subject`, e.g.
 * `github-repo-contoso-erp-sync-environment-prod-3f9a1c2b`: derived from what it trusts (never from
 * its place in the list, since the name cannot change without replacing the credential), unique per
 * app (issuer and subject are), 3 to 120 characters of letters, digits, `-` and `_`, starting with a
 * letter or digit, as Entra requires.
 */
export function federatedCredentialName(issuer: string, subject: string): string {
  const hash = createHash("sha256").update(`${issuer}\n${subject}`).digest("hex").slice(0, 8);
  const source = isGitHubIssuer(issuer)
    ? "github"
    : URL.canParse(issuer)
      ? new URL(issuer).hostname
      : "issuer";
  const slug = `${source}-${subject}`
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-_]+/, "")
    .slice(0, FEDERATED_NAME_MAX - hash.length - 1)
    .replace(/[-_]+$/, "");
  return `${slug || "federated"}-${hash}`;
}

/**
 * An Entra app registration allowed to call HTTP-triggered flows: single tenant, no redirect URIs, the
 * Flow service's delegated `User` permission with admin consent, its enterprise application (the
 * object ID flow makers paste into *Allowed users*) and its credential: a rotating client secret or
 * certificate in Key Vault, or federated identity credentials (no secret at all).
 */
export class FlowCaller extends pulumi.ComponentResource implements CallerPrincipal {
  /** Client (application) ID the caller authenticates with, e.g. `0b8f3c1e-…`. */
  public readonly clientId: pulumi.Output<string>;
  /** Object ID of the app registration (not for *Allowed users*). */
  public readonly applicationObjectId: pulumi.Output<string>;
  /** Object ID of the enterprise application: the value for the trigger's *Allowed users*. */
  public readonly servicePrincipalObjectId: pulumi.Output<string>;
  /** Display name, e.g. `flow-dev-erp`. */
  public readonly displayName: pulumi.Output<string>;
  /** The rotating client secret and its vault entry (secret callers). */
  public readonly secret?: RotatingClientSecret;
  /** The rotating certificate and its vault entry (certificate callers). */
  public readonly certificate?: RotatingCertificate;
  /** The federated identity credentials, in the configured order (federated callers; else empty). */
  public readonly federatedCredentials: azuread.ApplicationFederatedIdentityCredential[];

  constructor(name: string, args: FlowCallerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flow-trigger-auth:entra:FlowCaller", name, {}, opts);
    const consent = args.consent ?? true;

    const app = new azuread.Application(
      name,
      {
        displayName: args.displayName,
        description: args.description,
        notes: args.notes,
        owners: args.owners,
        signInAudience: "AzureADMyOrg",
        preventDuplicateNames: true,
        web: { implicitGrant: { accessTokenIssuanceEnabled: false, idTokenIssuanceEnabled: false } },
        ...(args.credential.kind === "user" ? signInSettings(args.credential) : {}),
        // Updated in place when it changes (terraform-provider-azuread application_resource.go: not ForceNew).
        requiredResourceAccesses: consent
          ? [
              {
                resourceAppId: args.flowService.appId,
                resourceAccesses: [{ id: args.flowService.userScopeId, type: "Scope" }],
              },
            ]
          : [],
      },
      { parent: this },
    );

    const sp = new azuread.ServicePrincipal(
      `${name}-sp`,
      { clientId: app.clientId, owners: args.owners, description: args.description, notes: args.notes },
      { parent: this },
    );

    if (consent) {
      new azuread.ServicePrincipalDelegatedPermissionGrant(
        `${name}-consent`,
        {
          servicePrincipalObjectId: sp.objectId,
          resourceServicePrincipalObjectId: args.flowService.objectId,
          claimValues: ["User"],
        },
        { parent: this },
      );
    }

    const credential = args.credential;
    const filled = { applicationId: app.id, clientId: app.clientId, caller: name };
    if (credential.kind === "secret") {
      const { kind: _, ...rotating } = credential;
      this.secret = new RotatingClientSecret(`${name}-secret`, { ...rotating, ...filled }, { parent: this });
    } else if (credential.kind === "certificate") {
      const { kind: _, ...rotating } = credential;
      this.certificate = new RotatingCertificate(
        `${name}-certificate`,
        { ...rotating, ...filled },
        { parent: this },
      );
    }
    this.federatedCredentials =
      credential.kind === "federated"
        ? credential.federatedCredentials.map((f) => {
            const displayName = federatedCredentialName(f.issuer, f.subject);
            return new azuread.ApplicationFederatedIdentityCredential(
              `${name}-${displayName}`,
              {
                applicationId: app.id,
                displayName,
                issuer: f.issuer,
                subject: f.subject,
                audiences: f.audiences,
                description: "Managed by flow-trigger-auth",
              },
              { parent: this },
            );
          })
        : [];

    this.clientId = app.clientId;
    this.applicationObjectId = app.objectId;
    this.servicePrincipalObjectId = sp.objectId;
    this.displayName = app.displayName;

    this.registerOutputs({ ...principalOutputs(this), applicationObjectId: this.applicationObjectId });
  }
}
