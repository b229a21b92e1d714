/**
 * `credential: certificate`: two rotating certificates made by the stack, the newest published to Key
 * Vault with its private key (PEM).
 */
import { z } from "zod";
import { text } from "../fields/outputs";
import { secretReaders } from "../fields/config";
import { appKeys, callerKeys, callerOutputs, defineKind, owners, vaultedOutputs, itsPrincipal } from "./kind";

export const certificate = defineKind({
  name: "certificate",
  config: z.strictObject({ ...callerKeys("certificate"), owners, secretReaders, ...appKeys }),
  outputs: z.strictObject({
    credential: z.literal("certificate"),
    ...callerOutputs,
    ...vaultedOutputs,
    /** SHA-256 thumbprint of the published certificate, hex, e.g. for a caller to check what it holds. */
    certificateThumbprintSha256: text.refine(
      (s) => /^[0-9A-F]{64}$/i.test(s),
      "must be a SHA-256 thumbprint (64 hex digits)",
    ),
    /** SHA-1 thumbprint, hex: what the portal and `az ad app credential list` show. Absent in older outputs. */
    certificateThumbprintSha1: text
      .refine((s) => /^[0-9A-F]{40}$/i.test(s), "must be a SHA-1 thumbprint (40 hex digits)")
      .optional(),
  }),
  vaulted: true,
  rotation: { published: "certificate" },
  notes: "certificates",
  allowedUsers: itsPrincipal,
  handoff: {
    label: "certificate",
    todo: () =>
      "Read the certificate and its private key (PEM) from the Key Vault secret above at run time (a new one is " +
      "published at every rotation), authenticate with it as a certificate credential (e.g. @azure/identity " +
      "ClientCertificateCredential) for the scope, and send the token as `Authorization: Bearer <token>`.",
  },
});
