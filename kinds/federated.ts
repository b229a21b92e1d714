/**
 * `credential: federated`: an app registration that trusts tokens of an outside identity provider
 * (GitHub Actions, Kubernetes...) for its subjects: no secret at all.
 */
import { z } from "zod";
import { guid, httpsUrl, text } from "../fields/outputs";
import { callerOutputs, defineKind } from "./kind";

/** A federated identity credential as the stack created it. */
const federatedCredentialOutputs = z.object({
  issuer: httpsUrl,
  subject: text,
  audiences: z.array(text).min(1),
});

export const federated = defineKind({
  name: "federated",
  outputs: z.strictObject({
    credential: z.literal("federated"),
    ...callerOutputs,
    applicationObjectId: guid,
    federatedCredentials: z.array(federatedCredentialOutputs).min(1).max(20),
  }),
  vaulted: false,
  rotation: { nothingToRotate: "federated credential: no secret to rotate" },
  notes: "federated credentials",
  handoff: {
    label: "federated credential (no secret)",
    todo: () =>
      "No secret to keep: the platform's own OIDC token is exchanged for an Entra token. Run the caller where one of the " +
      "federated credentials above matches (issuer and subject exactly, case included), with the tenant ID and client ID " +
      "above (e.g. GitHub Actions: azure/login with client-id and tenant-id, or @azure/identity WorkloadIdentityCredential).",
  },
});
