/**
 * `credential: managedIdentity`: the managed identity of an Azure resource, existing or created by the
 * stack: no app registration, no secret, no consent.
 */
import { z } from "zod";
import { text } from "../fields/outputs";
import { callerOutputs, defineKind } from "./kind";

export const managedIdentity = defineKind({
  name: "managedIdentity",
  aliases: ["managed-identity"],
  outputs: z.strictObject({
    credential: z.literal("managedIdentity"),
    ...callerOutputs,
    /** ARM ID of the user-assigned identity the stack created; absent for an existing identity. */
    managedIdentityResourceId: text.optional(),
  }),
  vaulted: false,
  rotation: { nothingToRotate: "managed identity: no secret to rotate" },
  handoff: {
    label: "managed identity (no secret)",
    principal: "managed identity",
    todo: (c) =>
      "No secret to keep: assign the managed identity to the Azure resource that calls the flow" +
      (c.managedIdentityResourceId ? " (the identity's resource ID is above)" : "") +
      ", then get the token with it (e.g. @azure/identity ManagedIdentityCredential with the client ID above) for the scope.",
  },
});
