/** `credential: secret` (the default): two rotating client secrets, the newest published to Key Vault. */
import { z } from "zod";
import { secretReaders } from "../fields/config";
import { appKeys, callerKeys, callerOutputs, defineKind, owners, vaultedOutputs, itsPrincipal } from "./kind";

export const secret = defineKind({
  name: "secret",
  config: z.strictObject({ ...callerKeys("secret"), owners, secretReaders, ...appKeys }),
  outputs: z.strictObject({ credential: z.literal("secret"), ...callerOutputs, ...vaultedOutputs }),
  vaulted: true,
  rotation: { published: "secret" },
  notes: "client secrets",
  allowedUsers: itsPrincipal,
  handoff: {
    label: "client secret",
    todo: () =>
      "Read the client secret from the Key Vault secret above at run time (it changes at every rotation; never copy " +
      "the value elsewhere), ask the token endpoint for a token with `grant_type=client_credentials`, the client ID and " +
      "the scope, and send it as `Authorization: Bearer <token>`.",
  },
});
