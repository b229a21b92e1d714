/**
 * A stand-in for the Dataverse Web API (the Process table, `workflows`) and the Microsoft Graph
 * endpoints the audit calls, answered in-process through a `fetch` (no network), built from
 * Microsoft's documented shapes:
 * - `GET /api/data/v9.2/workflows?$select=...&$filter=...`: OData JSON (`@odata.context`, `value`,
 *   `@odata.etag` per row), `Prefer: odata.maxpagesize` honoured up to 5,000 (the default) with
 *   `Preference-Applied`, `@odata.nextLink` with a `$skiptoken` paging cookie
 *   (learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results); an unknown
 *   column or filter is a 400 in the OData error shape `{"error":{"code","message"}}`.
 * - Access: a token for another resource gets 401 with `WWW-Authenticate` and no body; an identity that
 *   is no application user of the organisation gets 403 0x80072560 "The user is not a member of the
 *   organization."; one without read on the Process table 403 0x80040220 "... is missing
 *   prvReadWorkflow privilege" (learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes).
 * - Graph: `POST /v1.0/directoryObjects/getByIds` (unknown IDs are left out of `value`) and
 *   `GET /v1.0/users/{upn}` (404 `Request_ResourceNotFound`); 403 `Authorization_RequestDenied` when the
 *   identity lacks Directory.Read.All / User.Read.All (learn.microsoft.com/graph/api/directoryobject-getbyids,
 *   learn.microsoft.com/graph/api/user-get).
 * - Whatever a test injects: 401/403/404/429 (Retry-After)/5xx, answers that are no OData JSON, huge
 *   and endless bodies, a next link to another host, endless paging, a request that hangs.
 * Tokens come from {@link DataverseStandin.credential}, bound to the resource they were asked for.
 * Requests are recorded without any token.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { AccessToken, TokenCredential } from "@azure/identity";
import { hang } from "./standin";

/** A row of the Process (workflow) table: a cloud flow. */
export interface StandinWorkflow {
  /** Solution-aware ID, the same in every environment the solution is imported into. */
  workflowid: string;
  /** The ID the portal shows (`.../flows/<resourceid>`). */
  resourceid: string;
  name: string;
  /** 0 Draft (off), 1 Activated (on), 2 Suspended. */
  statecode: number;
  modifiedon: string;
  /** The flow definition as Dataverse keeps it: a JSON string (or anything a test wants). */
  clientdata: string | null;
  /** 5 for a cloud flow. */
  category?: number;
}

/** What the auditing identity may do in an organisation. */
export type OrgAccess = "read" | "not-a-user" | "no-read-privilege";

/** A failure answered instead of the normal answer. */
export type DataverseFailure =
  | { status: 200 | 400 | 401 | 403 | 404 | 429 | 500 | 502 | 503 | 504; retryAfter?: string; body?: unknown }
  | {
      misbehave:
        "not-json" | "endless-body" | "huge-body" | "next-other-host" | "endless-paging" | "redirect";
    }
  | { network: "hang" | "drop" };

/** One request the stand-in received, without any token. */
export interface StandinRequest {
  host: string;
  method: string;
  /** Path and query, decoded. */
  path: string;
  /** An Authorization header was present (its value is not kept). */
  authorized: boolean;
  headers: { accept?: string; odataVersion?: string; odataMaxVersion?: string; prefer?: string };
  status: number;
}

/** The Graph side: directory objects and users, and what the identity may read. */
export interface StandinDirectory {
  /** `https://graph.microsoft.com` unless told otherwise. */
  origin: string;
  /** Directory objects by object ID (lower case). */
  objects: Map<string, { type: "servicePrincipal" | "user" | "group"; displayName: string; appId?: string }>;
  /** Users by UPN (lower case). */
  users: Map<string, { id: string; displayName: string }>;
  /** The identity lacks Directory.Read.All: getByIds answers 403. */
  objectsDenied: boolean;
  /** The identity lacks User.Read.All: users answer 403. */
  usersDenied: boolean;
}

/** A stand-in for Dataverse organisations and Microsoft Graph. */
export interface DataverseStandin {
  /** A drop-in `fetch` for every host below. */
  fetch: typeof fetch;
  /** Hosts it answers (organisations and Graph). */
  readonly hosts: string[];
  /** Routes every host it answers on `io` (a FakeIo's routes). */
  route(io: { routes: Map<string, typeof fetch> }): void;
  /** Registers an organisation at `origin` (e.g. `https://contoso.crm4.dynamics.com`). */
  addOrg(origin: string, access?: OrgAccess): void;
  /** Changes what the identity may do in an organisation. */
  setAccess(origin: string, access: OrgAccess): void;
  /**
   * Makes an organisation page after `rows` rows whatever the client prefers (OData lets a service
   * apply a smaller page size than `odata.maxpagesize` asks).
   */
  setPageSize(origin: string, rows: number): void;
  addWorkflow(origin: string, row: StandinWorkflow): void;
  /** The workflows of an organisation (mutable: tests edit a flow as a maker would). */
  workflows(origin: string): StandinWorkflow[];
  /** The next `count` requests to `target` get `failure`. */
  failNext(target: { origin: string } | "graph", count: number, failure: DataverseFailure): void;
  /** The ambient credential: tokens bound to the resource asked for; records scopes. */
  credential: TokenCredential & { scopes: string[]; failWith?: Error };
  readonly requests: StandinRequest[];
  /** Requests to one host (`https://...` origin or bare host). */
  requestsTo(originOrHost: string): StandinRequest[];
  directory: StandinDirectory;
}

const COLUMNS = new Set([
  "workflowid",
  "resourceid",
  "name",
  "statecode",
  "modifiedon",
  "clientdata",
  "category",
  "type",
  "workflowidunique",
  "description",
]);
const GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
const CONDITION = new RegExp(`^\\(?\\s*(workflowid|resourceid) eq (${GUID})\\s*\\)?$`);

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; odata.metadata=minimal",
      "odata-version": "4.0",
      ...headers,
    },
  });
}

function odataError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return json(status, { error: { code, message } }, headers);
}

function graphError(status: number, code: string, message: string): Response {
  return new Response(
    JSON.stringify({
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString(),
          "request-id": randomUUID(),
          "client-request-id": randomUUID(),
        },
      },
    }),
    { status, headers: { "content-type": "application/json" } },
  );
}

/** Dataverse's answer to a missing or foreign token: 401, no body, where to get one. */
function unauthorized(origin: string): Response {
  return new Response(null, {
    status: 401,
    headers: {
      "www-authenticate": `Bearer authorization_uri=https://login.microsoftonline.com/${randomUUID()}/oauth2/authorize, resource_id=${origin}/`,
    },
  });
}

/** A body that never ends: JSON's opening, then spaces forever, 64 KiB whenever the reader asks. */
function endlessBody(): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let first = true;
  return new ReadableStream({
    pull(controller) {
      controller.enqueue(first ? new TextEncoder().encode('{"value":[') : chunk);
      first = false;
    },
  });
}

/** A paging cookie as Dataverse writes it in `$skiptoken`. */
function skiptoken(page: number): string {
  return `<cookie pagenumber="${page}" istracking="False" />`;
}

/**
 * A stand-in; `onHang` is called when a request starts hanging (in-process, time passes only when
 * someone says so: a test's fake clock then fires the request's timeout).
 */
export function createDataverseStandin(
  options: { graphOrigin?: string; onHang?: () => void } = {},
): DataverseStandin {
  const orgs = new Map<string, { access: OrgAccess; rows: StandinWorkflow[]; pageSize?: number }>();
  const failures = new Map<string, DataverseFailure[]>();
  const tokens = new Map<string, string>();
  const requests: StandinRequest[] = [];
  const directory: StandinDirectory = {
    origin: options.graphOrigin ?? "https://graph.microsoft.com",
    objects: new Map(),
    users: new Map(),
    objectsDenied: false,
    usersDenied: false,
  };

  const credential: DataverseStandin["credential"] = {
    scopes: [],
    async getToken(scope: string | string[]): Promise<AccessToken> {
      const s = [scope].flat()[0];
      credential.scopes.push(s);
      if (credential.failWith) throw credential.failWith;
      const token = `standin-${randomBytes(24).toString("base64url")}`;
      tokens.set(token, s.replace(/\/\.default$/, "").replace(/\/+$/, ""));
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };

  /** The resource a request's token was issued for, or undefined. */
  function audienceOf(request: Request): string | undefined {
    const header = request.headers.get("authorization") ?? "";
    const m = /^Bearer (\S+)$/.exec(header);
    return m ? tokens.get(m[1]) : undefined;
  }

  function takeFailure(key: string): DataverseFailure | undefined {
    return failures.get(key)?.shift();
  }

  async function failureAnswer(
    f: DataverseFailure,
    request: Request,
    url: URL,
  ): Promise<Response | "next-other-host" | "endless-paging" | "huge-body"> {
    if ("network" in f) {
      if (f.network === "drop")
        throw new TypeError("fetch failed", {
          cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
        });
      const hung = hang(request.signal);
      if (options.onHang) queueMicrotask(options.onHang);
      return hung;
    }
    if ("misbehave" in f) {
      switch (f.misbehave) {
        case "not-json":
          return new Response(
            "<html><head><title>Sign in to your account</title></head><body></body></html>",
            {
              status: 200,
              headers: { "content-type": "text/html; charset=utf-8" },
            },
          );
        case "endless-body":
          return new Response(endlessBody(), {
            status: 200,
            headers: { "content-type": "application/json" },
          });
        case "redirect":
          return new Response(null, {
            status: 302,
            headers: { location: "https://login.example.net/collect" },
          });
        default:
          return f.misbehave;
      }
    }
    const headers: Record<string, string> = f.retryAfter ? { "retry-after": f.retryAfter } : {};
    if (f.body !== undefined) return json(f.status, f.body, headers);
    if (f.status === 401) return unauthorized(url.origin);
    if (url.host === new URL(directory.origin).host) {
      return graphError(
        f.status,
        f.status === 429 ? "TooManyRequests" : "ServiceUnavailable",
        `stand-in injected ${f.status}`,
      );
    }
    if (f.status === 429) {
      return odataError(
        429,
        "0x80072322",
        "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
        headers,
      );
    }
    return odataError(
      f.status,
      "0x80040216",
      `An unexpected error occurred (stand-in injected ${f.status}).`,
      headers,
    );
  }

  async function dataverse(request: Request, url: URL): Promise<Response> {
    const org = orgs.get(url.origin)!;
    const injected = takeFailure(url.origin);
    let twist: "next-other-host" | "endless-paging" | "huge-body" | undefined;
    if (injected) {
      const answer = await failureAnswer(injected, request, url);
      if (answer instanceof Response) return answer;
      twist = answer;
    }
    if (audienceOf(request) !== url.origin) return unauthorized(url.origin);
    if (org.access === "not-a-user") {
      return odataError(403, "0x80072560", "The user is not a member of the organization.");
    }
    if (request.method !== "GET") return odataError(405, "0x80060888", "The stand-in only reads.");
    if (url.pathname !== "/api/data/v9.2/workflows") {
      return odataError(
        404,
        "0x80060888",
        `Resource not found for the segment '${url.pathname.split("/").pop()}'.`,
      );
    }
    if (org.access === "no-read-privilege") {
      return odataError(
        403,
        "0x80040220",
        `Principal user (Id=${randomUUID()}, type=8, roleCount=1, privilegeCount=12, accessMode=4), is missing prvReadWorkflow privilege (Id=${randomUUID()}) on OTC=4703 for entity 'workflow'. context.Caller=${randomUUID()}`,
      );
    }
    const select = (url.searchParams.get("$select") ?? "").split(",").filter(Boolean);
    const unknown = select.find((c) => !COLUMNS.has(c));
    if (unknown) {
      return odataError(
        400,
        "0x80060888",
        `Could not find a property named '${unknown}' on type 'Microsoft.Dynamics.CRM.workflow'.`,
      );
    }
    const filter = url.searchParams.get("$filter") ?? "";
    const conditions = filter.split(" or ").map((c) => CONDITION.exec(c.trim()));
    if (!filter || conditions.some((c) => !c)) {
      return odataError(
        400,
        "0x80060888",
        "Syntax error: character at position 0 in the $filter is not valid (stand-in).",
      );
    }
    const matches = (row: StandinWorkflow) =>
      conditions.some(
        (c) => (row[c![1] as "workflowid" | "resourceid"] ?? "").toLowerCase() === c![2].toLowerCase(),
      );
    const all = org.rows.filter(matches);
    const prefer = /odata\.maxpagesize=(\d+)/.exec(request.headers.get("prefer") ?? "");
    const pageSize = Math.min(5000, org.pageSize ?? 5000, prefer ? Number(prefer[1]) || 5000 : 5000);
    const token = url.searchParams.get("$skiptoken");
    const page = token ? Number(/pagenumber="(\d+)"/.exec(token)?.[1] ?? "1") : 1;
    const rows =
      twist === "endless-paging" ? all.slice(0, pageSize) : all.slice((page - 1) * pageSize, page * pageSize);
    const more = twist === "endless-paging" || page * pageSize < all.length;
    const columns = select.length ? select : [...COLUMNS];
    // The next link repeats the query as sent, with the paging cookie percent-encoded.
    const query = url.search
      .slice(1)
      .split("&")
      .filter((p) => p && !p.startsWith("$skiptoken="));
    const next = `${url.origin}${url.pathname}?${[...query, `$skiptoken=${encodeURIComponent(skiptoken(page + 1))}`].join("&")}`;
    const body: Record<string, unknown> = {
      "@odata.context": `${url.origin}/api/data/v9.2/$metadata#workflows(${columns.join(",")})`,
      value: rows.map((r, i) => ({
        "@odata.etag": `W/"${1000 + i}"`,
        ...Object.fromEntries(columns.map((c) => [c, (r as unknown as Record<string, unknown>)[c] ?? null])),
        workflowid: r.workflowid,
      })),
    };
    if (twist === "huge-body") body.padding = "x".repeat(17 * 1024 * 1024);
    if (twist === "next-other-host")
      body["@odata.nextLink"] = `https://elsewhere.example.net/api/data/v9.2/workflows?$skiptoken=1`;
    else if (more) body["@odata.nextLink"] = next;
    return json(200, body, prefer ? { "preference-applied": `odata.maxpagesize=${pageSize}` } : {});
  }

  async function graph(request: Request, url: URL): Promise<Response> {
    const injected = takeFailure("graph");
    if (injected) {
      const answer = await failureAnswer(injected, request, url);
      if (answer instanceof Response) return answer;
    }
    if (audienceOf(request) !== directory.origin) {
      return graphError(
        401,
        "InvalidAuthenticationToken",
        "Access token validation failure. Invalid audience.",
      );
    }
    if (request.method === "POST" && url.pathname === "/v1.0/directoryObjects/getByIds") {
      if (directory.objectsDenied) {
        return graphError(
          403,
          "Authorization_RequestDenied",
          "Insufficient privileges to complete the operation.",
        );
      }
      const body = (await request.json()) as { ids?: unknown };
      if (!Array.isArray(body.ids) || body.ids.length > 1000) {
        return graphError(
          400,
          "Request_BadRequest",
          "Invalid value specified for property 'ids' of resource 'DirectoryObject'.",
        );
      }
      const value = body.ids.flatMap((id) => {
        const o = directory.objects.get(String(id).toLowerCase());
        if (!o) return [];
        return [
          {
            "@odata.type": `#microsoft.graph.${o.type}`,
            id: String(id).toLowerCase(),
            displayName: o.displayName,
            ...(o.appId ? { appId: o.appId } : {}),
          },
        ];
      });
      return json(200, { "@odata.context": `${directory.origin}/v1.0/$metadata#directoryObjects`, value });
    }
    const user = /^\/v1\.0\/users(?:\/([^/]+)|\('([^']+)'\))$/.exec(url.pathname);
    if (request.method === "GET" && user) {
      if (directory.usersDenied) {
        return graphError(
          403,
          "Authorization_RequestDenied",
          "Insufficient privileges to complete the operation.",
        );
      }
      const key = decodeURIComponent(user[1] ?? user[2]).toLowerCase();
      const found = directory.users.get(key) ?? [...directory.users.values()].find((u) => u.id === key);
      if (!found) {
        return graphError(
          404,
          "Request_ResourceNotFound",
          `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
        );
      }
      return json(200, {
        "@odata.context": `${directory.origin}/v1.0/$metadata#users(id,displayName)/$entity`,
        ...found,
      });
    }
    return graphError(400, "BadRequest", `Resource not found for the segment '${url.pathname}'.`);
  }

  const standin: DataverseStandin = {
    credential,
    requests,
    directory,
    get hosts() {
      return [...[...orgs.keys()].map((o) => new URL(o).host), new URL(directory.origin).host];
    },
    route(io) {
      for (const host of standin.hosts) io.routes.set(host, standin.fetch);
    },
    addOrg(origin, access = "read") {
      orgs.set(new URL(origin).origin, { access, rows: [] });
    },
    setAccess(origin, access) {
      orgs.get(new URL(origin).origin)!.access = access;
    },
    setPageSize(origin, rows) {
      orgs.get(new URL(origin).origin)!.pageSize = rows;
    },
    addWorkflow(origin, row) {
      row.category ??= 5;
      orgs.get(new URL(origin).origin)!.rows.push(row);
    },
    workflows(origin) {
      return orgs.get(new URL(origin).origin)!.rows;
    },
    failNext(target, count, failure) {
      const key = target === "graph" ? "graph" : new URL(target.origin).origin;
      const queue = failures.get(key) ?? [];
      for (let i = 0; i < count; i++) queue.push(failure);
      failures.set(key, queue);
    },
    requestsTo(originOrHost) {
      const host = originOrHost.includes("://") ? new URL(originOrHost).host : originOrHost;
      return requests.filter((r) => r.host === host);
    },
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      const record: StandinRequest = {
        host: url.host,
        method: request.method,
        path: decodeURIComponent(url.pathname + url.search),
        authorized: request.headers.has("authorization"),
        headers: {
          ...(request.headers.get("accept") ? { accept: request.headers.get("accept")! } : {}),
          ...(request.headers.get("odata-version")
            ? { odataVersion: request.headers.get("odata-version")! }
            : {}),
          ...(request.headers.get("odata-maxversion")
            ? { odataMaxVersion: request.headers.get("odata-maxversion")! }
            : {}),
          ...(request.headers.get("prefer") ? { prefer: request.headers.get("prefer")! } : {}),
        },
        status: 0,
      };
      requests.push(record);
      const answer =
        url.origin === directory.origin
          ? await graph(request, url)
          : orgs.has(url.origin)
            ? await dataverse(request, url)
            : odataError(404, "NotFound", "no such organisation in the stand-in");
      record.status = answer.status;
      return answer;
    }) as typeof fetch,
  };
  return standin;
}

export {
  auditWorld,
  flowDefinition,
  triggerHost,
  type AuditWorld,
  type TriggerSpec,
  type WorldCaller,
  type WorldFlow,
} from "./audit-world";
