/**
 * `credential: managedIdentity`: the managed identity of an Azure resource, existing or created by the
 * stack: no app registration, no secret, no consent (docs/credentials.md#managed-identity).
 */
import { z } from "zod";
import { isRecord, patterned } from "../fields/config";
import { text } from "../fields/outputs";
import { GUID_PATTERN } from "../fields/patterns";
import { callerKeys, callerOutputs, defineKind, itsPrincipal } from "./kind";

/** Which managed identity a caller is: an existing one by object ID, or one the stack creates. */
const managedIdentityKey = z
  .strictObject(
    {
      principalId: patterned(
        GUID_PATTERN,
        "must be the object (principal) ID of an existing managed identity, a GUID (az identity show --query principalId)",
      ).optional(),
      create: z
        .literal(true, { error: "must be true (to use an existing identity, give principalId instead)" })
        .optional(),
    },
    {
      error: (i) =>
        i.input === undefined
          ? "is required for credential: managedIdentity: { principalId: <object ID of an existing identity> } or { create: true }"
          : undefined,
    },
  )
  .superRefine((m, ctx) => {
    if (m.principalId !== undefined && m.create !== undefined) {
      ctx.addIssue({ code: "custom", message: "give principalId or create: true, not both" });
    } else if (m.principalId === undefined && m.create === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "give principalId (the object ID of an existing managed identity) or create: true",
      });
    }
  })
  .transform((m): { principalId: string } | { create: true } =>
    m.principalId !== undefined ? { principalId: m.principalId } : { create: true },
  );

export const managedIdentity = defineKind({
  name: "managedIdentity",
  config: z.strictObject({ ...callerKeys("managedIdentity"), managedIdentity: managedIdentityKey }),
  refuses: {
    owners:
      "a managed identity has no app registration to own: remove owners (the identity is managed through Azure RBAC)",
    consent: "a managed identity has no app registration and asks for no permission: remove consent",
  },
  createsIdentity: (raw) =>
    isRecord(raw.managedIdentity) && raw.managedIdentity.create === true
      ? "managedIdentity.create"
      : undefined,
  outputs: z.strictObject({
    credential: z.literal("managedIdentity"),
    ...callerOutputs,
    /** ARM ID of the user-assigned identity the stack created; absent for an existing identity. */
    managedIdentityResourceId: text.optional(),
  }),
  vaulted: false,
  rotation: { nothingToRotate: "managed identity: no secret to rotate" },
  allowedUsers: itsPrincipal,
  handoff: {
    label: "managed identity (no secret)",
    principal: "managed identity",
    todo: (c) =>
      "No secret to keep: assign the managed identity to the Azure resource that calls the flow" +
      (c.managedIdentityResourceId ? " (the identity's resource ID is above)" : "") +
      ", then get the token with it (e.g. @azure/identity ManagedIdentityCredential with the client ID above) for the scope.",
  },
});
