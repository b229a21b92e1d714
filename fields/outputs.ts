/**
 * The values stack outputs are made of, as zod schemas: one-line text, GUIDs, ISO 8601 times, HTTPS
 * URLs. The callers' outputs (kinds/) and the whole outputs (outputs.ts) are built from them, so that
 * every reader checks each value the same way before printing or calling it.
 */
import { z } from "zod";
import { parseIsoInstant } from "../dates";
import { GUID_EXAMPLE, GUID_PATTERN, isHttpsUrl } from "./patterns";

/** How `pulumi stack output --json` shows a secret output (without `--show-secrets`). */
export const SECRET_MARKER = "[secret]";

/** What to do about an output shown as {@link SECRET_MARKER}. */
export const SECRET_MESSAGE =
  'is shown as "[secret]": it is a secret output; run `pulumi up` with this version, or add --show-secrets';

/** A plain, one-line output value: no control characters (they would break a sheet or a terminal). */
export const text = z
  .string()
  .min(1, "is empty")
  .refine((s) => s !== SECRET_MARKER, { error: SECRET_MESSAGE })
  // eslint-disable-next-line no-control-regex
  .refine((s) => !/[\u0000-\u001f\u007f\u2028\u2029]/.test(s), "must be one line without control characters")
  .refine((s) => s.length <= 1024, "is longer than 1024 characters");

/** A GUID, e.g. a client or object ID. */
export const guid = text.refine((s) => GUID_PATTERN.test(s), `must be a GUID such as ${GUID_EXAMPLE}`);

/**
 * An ISO 8601 instant as the stack writes it, e.g. `2027-03-03T00:00:00Z` (offset or `Z` required); a
 * day or time that does not exist (`2027-02-30T00:00:00Z`) is refused, not rolled over.
 */
export const isoTime = text.refine(
  (s) => parseIsoInstant(s, { dateOnly: false }) !== undefined,
  "must be an existing ISO 8601 time such as 2027-03-03T00:00:00Z",
);

/** An absolute `https:` URL. */
export const httpsUrl = text.refine(isHttpsUrl, "must be an https:// URL");
