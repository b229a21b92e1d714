/**
 * The stack outputs, defined once: `program.ts` builds them (its return type is checked against this
 * schema) and every reader (`handoff`, `rotation-status`, `smoke --stack`) parses them with it, so a
 * file that claims to be outputs is checked before anything is printed or called: GUIDs are GUIDs,
 * URIs are HTTPS on the cloud's own hosts, the scope is the audience plus `/.default`.
 * No Pulumi here: readers run outside the engine. No output ever holds a secret value.
 */
import { z } from "zod";
import { CLOUD_NAMES, CLOUDS, tokenEndpoint, VAULT_DNS_SUFFIX, type CloudName } from "./clouds";
import { CALLER_NAME_PATTERN } from "./naming";

/** How each caller authenticates (`flow-trigger-auth:callers[].credential`). */
export const CREDENTIAL_KINDS = ["secret", "certificate", "federated", "managedIdentity"] as const;

/** One of {@link CREDENTIAL_KINDS}. */
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

/** How `pulumi stack output --json` shows a secret output (without `--show-secrets`). */
export const SECRET_MARKER = "[secret]";

/** What to do about an output shown as {@link SECRET_MARKER}. */
export const SECRET_MESSAGE =
  'is shown as "[secret]": it is a secret output; run `pulumi up` with this version, or add --show-secrets';

const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A plain, one-line output value: no control characters (they would break a sheet or a terminal). */
const text = z
  .string()
  .min(1, "is empty")
  .refine((s) => s !== SECRET_MARKER, { error: SECRET_MESSAGE })
  // eslint-disable-next-line no-control-regex
  .refine((s) => !/[\u0000-\u001f\u007f\u2028\u2029]/.test(s), "must be one line without control characters")
  .refine((s) => s.length <= 1024, "is longer than 1024 characters");

const guid = text.refine(
  (s) => GUID_PATTERN.test(s),
  "must be a GUID such as 00000000-0000-0000-0000-000000000000",
);

/** An ISO 8601 instant as the stack writes it, e.g. `2027-03-03T00:00:00Z` (offset or `Z` required). */
const isoTime = text.refine(
  (s) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s) &&
    !Number.isNaN(Date.parse(s)),
  "must be an ISO 8601 time such as 2027-03-03T00:00:00Z",
);

const httpsUrl = text.refine(
  (s) => URL.canParse(s) && new URL(s).protocol === "https:",
  "must be an https:// URL",
);

/** A federated identity credential as the stack created it. */
const federatedCredential = z.object({
  issuer: httpsUrl,
  subject: text,
  audiences: z.array(text).min(1),
});

const common = {
  displayName: text,
  /** Client (application) ID the caller authenticates with; NOT for Allowed users. */
  clientId: guid,
  /** The principal (enterprise application or managed identity) object ID: the value for Allowed users. */
  servicePrincipalObjectId: guid,
};

/** Facts of a caller whose credential is kept in Key Vault (a client secret, or a certificate as PEM). */
const vaulted = {
  applicationObjectId: guid,
  keyVaultSecretName: text,
  keyVaultSecretUri: httpsUrl,
  secretExpiresAt: isoTime,
  nextRotationAt: isoTime,
};

const secretCaller = z.strictObject({ credential: z.literal("secret"), ...common, ...vaulted });
const certificateCaller = z.strictObject({
  credential: z.literal("certificate"),
  ...common,
  ...vaulted,
  /** SHA-256 thumbprint of the published certificate, hex, e.g. for a caller to check what it holds. */
  certificateThumbprintSha256: text.refine(
    (s) => /^[0-9A-F]{64}$/i.test(s),
    "must be a SHA-256 thumbprint (64 hex digits)",
  ),
  /** SHA-1 thumbprint, hex: what the portal and `az ad app credential list` show. Absent in older outputs. */
  certificateThumbprintSha1: text
    .refine((s) => /^[0-9A-F]{40}$/i.test(s), "must be a SHA-1 thumbprint (40 hex digits)")
    .optional(),
});
const federatedCaller = z.strictObject({
  credential: z.literal("federated"),
  ...common,
  applicationObjectId: guid,
  federatedCredentials: z.array(federatedCredential).min(1).max(20),
});
const managedIdentityCaller = z.strictObject({
  credential: z.literal("managedIdentity"),
  ...common,
  /** ARM ID of the user-assigned identity the stack created; absent for an existing identity. */
  managedIdentityResourceId: text.optional(),
});

/**
 * One caller's outputs, in the names this version writes. Outputs written before credential kinds
 * existed have no `credential`: they are secret callers; older certificate outputs call the SHA-256
 * thumbprint `certificateThumbprint`.
 */
function currentNames(v: unknown): unknown {
  if (!v || typeof v !== "object" || Array.isArray(v)) return v;
  const { certificateThumbprint, ...rest } = v as Record<string, unknown>;
  const out: Record<string, unknown> = "credential" in rest ? rest : { credential: "secret", ...rest };
  if (certificateThumbprint !== undefined && out.certificateThumbprintSha256 === undefined) {
    out.certificateThumbprintSha256 = certificateThumbprint;
  } else if (certificateThumbprint !== undefined) {
    out.certificateThumbprint = certificateThumbprint;
  }
  return out;
}

export const callerOutputsSchema = z.preprocess(
  currentNames,
  z.discriminatedUnion(
    "credential",
    [secretCaller, certificateCaller, federatedCaller, managedIdentityCaller],
    {
      error: `must have a credential: one of ${CREDENTIAL_KINDS.join(", ")}`,
    },
  ),
);

/** The callers, by name. Names are own properties checked against the config's rule. */
const callers = z
  .record(z.string().regex(CALLER_NAME_PATTERN, "is not a caller name"), callerOutputsSchema)
  .refine((c) => Object.keys(c).length > 0, "lists no caller (a stack has 1 to 100)");

/** The whole set of stack outputs. Outputs this version does not know are kept, not refused. */
export const stackOutputsSchema = z
  .looseObject({
    tenantId: guid,
    cloud: z.enum(CLOUD_NAMES, { error: `must be one of ${CLOUD_NAMES.join(", ")}` }),
    audience: httpsUrl,
    scope: text,
    tokenEndpoint: httpsUrl,
    /** Absent when no caller keeps a credential in Key Vault. */
    keyVaultName: text.optional(),
    keyVaultUri: httpsUrl.optional(),
    callers,
    allowedUsers: z.array(guid),
  })
  .superRefine((o, ctx) => {
    const cloud = CLOUDS[o.cloud];
    if (o.audience !== cloud.audience) {
      ctx.addIssue({
        code: "custom",
        path: ["audience"],
        message: `must be ${cloud.audience} for cloud ${o.cloud}`,
      });
    }
    if (o.scope !== cloud.scope) {
      ctx.addIssue({
        code: "custom",
        path: ["scope"],
        message: `must be the audience + "/.default": ${cloud.scope}`,
      });
    }
    if (o.tokenEndpoint !== tokenEndpoint(cloud, o.tenantId)) {
      ctx.addIssue({
        code: "custom",
        path: ["tokenEndpoint"],
        message: `must be ${tokenEndpoint(cloud, o.tenantId)} (the cloud's authority and the tenant)`,
      });
    }
    const vaultHost = o.keyVaultUri ? vaultHostOf(o.keyVaultUri, o.cloud) : undefined;
    if (o.keyVaultUri && !vaultHost) {
      ctx.addIssue({
        code: "custom",
        path: ["keyVaultUri"],
        message: `must be a Key Vault URI of cloud ${o.cloud}: https://<vault>.${VAULT_DNS_SUFFIX[o.cloud]}/`,
      });
    }
    for (const [name, c] of Object.entries(o.callers)) {
      if (c.credential !== "secret" && c.credential !== "certificate") continue;
      const uri = URL.canParse(c.keyVaultSecretUri) ? new URL(c.keyVaultSecretUri) : undefined;
      if (
        !vaultHost ||
        uri?.host !== vaultHost ||
        uri.pathname.replace(/\/+$/, "") !== `/secrets/${c.keyVaultSecretName}`
      ) {
        ctx.addIssue({
          code: "custom",
          path: ["callers", name, "keyVaultSecretUri"],
          message: `must be the stack's vault (keyVaultUri) + secrets/${c.keyVaultSecretName}`,
        });
      }
    }
    const expected = Object.values(o.callers)
      .map((c) => c.servicePrincipalObjectId.toLowerCase())
      .sort();
    const listed = o.allowedUsers.map((u) => u.toLowerCase()).sort();
    if (expected.join() !== listed.join()) {
      ctx.addIssue({
        code: "custom",
        path: ["allowedUsers"],
        message: "must list exactly the callers' servicePrincipalObjectId values",
      });
    }
  });

/** One caller's outputs, whatever its credential. */
export type CallerOutputs = z.infer<typeof callerOutputsSchema>;
/** The stack outputs. */
export type StackOutputs = z.infer<typeof stackOutputsSchema>;

/** The host of a vault URI when it is a Key Vault of `cloud`, else undefined. */
export function vaultHostOf(uri: string, cloud: CloudName): string | undefined {
  if (!URL.canParse(uri)) return undefined;
  const url = new URL(uri);
  const suffix = `.${VAULT_DNS_SUFFIX[cloud]}`;
  const name = url.hostname.slice(0, -suffix.length);
  const ok =
    url.protocol === "https:" &&
    url.hostname.endsWith(suffix) &&
    /^[a-z][a-z0-9-]{1,22}[a-z0-9]$/i.test(name) &&
    !url.username &&
    !url.password &&
    !url.search &&
    (url.port === "" || url.port === "443");
  return ok ? url.host : undefined;
}

/** The caller named `name`, looked up as an own property (never `constructor` or `__proto__`). */
export function callerNamed(outputs: StackOutputs, name: string): CallerOutputs | undefined {
  return Object.hasOwn(outputs.callers, name) ? outputs.callers[name] : undefined;
}
