/**
 * Naming Allowed users entries through Microsoft Graph, when the auditing identity may read the
 * directory; when it may not, the audit goes on and names entries by ID.
 *
 * - Object IDs: one `POST /v1.0/directoryObjects/getByIds` with `{"ids":[...]}` (up to 1,000 IDs; no
 *   `types` means every kind of directory object); objects that do not exist are simply absent from
 *   `value`. Application permission: Directory.Read.All
 *   (learn.microsoft.com/graph/api/directoryobject-getbyids).
 * - E-mail addresses / UPNs: `GET /v1.0/users/{userPrincipalName}?$select=id,displayName`, 404
 *   `Request_ResourceNotFound` when there is no such user; a UPN that starts with `$` is addressed as
 *   `users('$...')`. Application permission: User.Read.All (learn.microsoft.com/graph/api/user-get).
 * - Errors: `{"error":{"code","message"}}`; 403 `Authorization_RequestDenied` when the permission is
 *   missing (learn.microsoft.com/graph/errors).
 */
import type { TokenCredential } from "@azure/identity";
import type { Directory } from "./findings";
import { odataError } from "./dataverse";
import { sendWithRetry, tokenWithin, type CallDeps } from "./http";

/** Most of a Graph answer read (50 flows' entries name a few hundred objects at most). */
export const MAX_GRAPH_BYTES = 1024 * 1024;
/** getByIds takes up to 1,000 IDs a request. */
export const GET_BY_IDS_MAX = 1000;

/** What resolving gave: the directory, and notes for the report. */
export interface Resolved {
  directory: Directory;
  notes: string[];
}

function said(status: number, text: string): string {
  const e = odataError(text);
  return `${status}${e.code ? ` ${e.code}` : ""}`;
}

/** The path of a user by UPN, as Graph wants it. */
export function userPath(upn: string): string {
  return upn.startsWith("$")
    ? `/v1.0/users('${encodeURIComponent(upn)}')`
    : `/v1.0/users/${encodeURIComponent(upn)}`;
}

/**
 * Names `ids` (object IDs) and `names` (e-mail addresses / UPNs) through Graph at `graphHost` with a
 * token from `credential`. Never throws: what cannot be resolved is said in the directory.
 */
export async function resolveDirectory(
  deps: CallDeps,
  graphHost: string,
  credential: TokenCredential,
  ids: readonly string[],
  names: readonly string[],
  hooks: { count: () => void; token: (value: string) => void },
): Promise<Resolved> {
  const byId = new Map<string, { displayName?: string; type?: string }>();
  const byName = new Map<string, { id: string; displayName?: string } | { error: string }>();
  const uniqueIds = [...new Set(ids.map((i) => i.toLowerCase()))];
  const uniqueNames = [...new Set(names.map((n) => n.toLowerCase()))];
  if (uniqueIds.length === 0 && uniqueNames.length === 0) return { directory: { byId, byName }, notes: [] };
  deps.progress?.(
    `graph: naming ${uniqueIds.length + uniqueNames.length} entr${uniqueIds.length + uniqueNames.length === 1 ? "y" : "ies"} of Allowed users through ${graphHost}`,
  );
  const token = await tokenWithin(credential, `${graphHost}/.default`, deps);
  if (!token.ok) {
    const why = `no Microsoft Graph token (${token.message})`;
    for (const n of uniqueNames) byName.set(n, { error: why });
    return {
      directory: { byId, byName, unavailable: why },
      notes: [`entries are reported by ID: ${why}`],
    };
  }
  hooks.token(token.token);
  const headers = {
    accept: "application/json",
    authorization: `Bearer ${token.token}`,
    "content-type": "application/json",
  };
  const notes: string[] = [];
  let unavailable: string | undefined;

  for (let i = 0; i < uniqueIds.length && !unavailable; i += GET_BY_IDS_MAX) {
    hooks.count();
    const { sent } = await sendWithRetry(
      deps,
      `${graphHost}/v1.0/directoryObjects/getByIds`,
      { method: "POST", headers, body: JSON.stringify({ ids: uniqueIds.slice(i, i + GET_BY_IDS_MAX) }) },
      MAX_GRAPH_BYTES,
      "graph",
    );
    if (!sent.ok) unavailable = `Microsoft Graph gave no answer (${sent.message})`;
    else if (sent.status === 401 || sent.status === 403) {
      unavailable = `Microsoft Graph refused to read directory objects (${said(sent.status, sent.text)}); the application permission Directory.Read.All names them`;
    } else if (sent.status !== 200 || sent.truncated)
      unavailable = `Microsoft Graph answered ${said(sent.status, sent.text)}`;
    else {
      try {
        const value = (JSON.parse(sent.text) as { value?: unknown }).value;
        for (const o of Array.isArray(value) ? value : []) {
          const obj = o as { id?: unknown; displayName?: unknown; "@odata.type"?: unknown };
          if (typeof obj.id !== "string") continue;
          byId.set(obj.id.toLowerCase(), {
            ...(typeof obj.displayName === "string" ? { displayName: obj.displayName } : {}),
            ...(typeof obj["@odata.type"] === "string"
              ? { type: obj["@odata.type"].replace(/^#microsoft\.graph\./, "") }
              : {}),
          });
        }
      } catch {
        unavailable = "Microsoft Graph's answer is not JSON";
      }
    }
  }
  if (unavailable) notes.push(`entries are reported by ID: ${unavailable}`);

  let usersRefused: string | undefined;
  for (const name of uniqueNames) {
    if (usersRefused) {
      byName.set(name, { error: usersRefused });
      continue;
    }
    hooks.count();
    const { sent } = await sendWithRetry(
      deps,
      `${graphHost}${userPath(name)}?$select=id,displayName`,
      { method: "GET", headers: { accept: headers.accept, authorization: headers.authorization } },
      MAX_GRAPH_BYTES,
      "graph",
    );
    if (!sent.ok) byName.set(name, { error: `Microsoft Graph gave no answer (${sent.message})` });
    else if (sent.status === 404) byName.set(name, { error: "no such user in the directory" });
    else if (sent.status === 401 || sent.status === 403) {
      usersRefused = `Microsoft Graph refused to read users (${said(sent.status, sent.text)}); the application permission User.Read.All resolves e-mail entries`;
      byName.set(name, { error: usersRefused });
      notes.push(`e-mail entries are not resolved: ${usersRefused}`);
    } else if (sent.status !== 200 || sent.truncated)
      byName.set(name, { error: `Microsoft Graph answered ${said(sent.status, sent.text)}` });
    else {
      try {
        const user = JSON.parse(sent.text) as { id?: unknown; displayName?: unknown };
        if (typeof user.id !== "string") throw new Error("no id");
        byName.set(name, {
          id: user.id,
          ...(typeof user.displayName === "string" ? { displayName: user.displayName } : {}),
        });
      } catch {
        byName.set(name, { error: "Microsoft Graph's answer is not a user" });
      }
    }
  }
  return { directory: { byId, byName, ...(unavailable ? { unavailable } : {}) }, notes };
}
