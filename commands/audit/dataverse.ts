/**
 * Reading flows from the Dataverse Web API: one query per environment for all its flows, matched by
 * `workflowid` or `resourceid`, read-only.
 *
 * What Microsoft documents and this follows:
 * - The query: `GET [Organization URI]/api/data/v9.2/workflows?$select=...&$filter=...` with
 *   `Accept: application/json`, `OData-MaxVersion: 4.0`, `OData-Version: 4.0`
 *   (learn.microsoft.com/power-apps/developer/data-platform/webapi/query-data-web-api, and
 *   learn.microsoft.com/power-automate/manage-flows-with-code for the workflow table).
 * - Paging: `Prefer: odata.maxpagesize=n` (up to 5,000; without it up to 5,000 rows a page), and an
 *   `@odata.nextLink` to follow while there are more rows
 *   (learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results). A next link is
 *   followed only on the environment's own origin: the token must not travel elsewhere.
 * - Errors: `{"error":{"code":"0x...","message":"..."}}`
 *   (learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors);
 *   0x80072560 "The user is not a member of the organization", 0x80040220 "Principal user is missing
 *   privilege" (learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes).
 * - Service protection limits answer 429 with Retry-After
 *   (learn.microsoft.com/power-apps/developer/data-platform/api-limits): retried within the budget.
 */
import { OffOriginError } from "../../lib/same-origin";
import type { FlowSource, WorkflowRow } from "./findings";
import { sendWithRetry, type CallDeps } from "./http";

/** The Web API path of the Process (workflow) table. */
export const WORKFLOWS_PATH = "/api/data/v9.2/workflows";
/** The columns the audit reads. */
export const WORKFLOW_COLUMNS = "workflowid,resourceid,name,statecode,modifiedon,clientdata";
/** Rows asked for per page: a stack has at most 50 flows, so one page holds them all. */
export const PAGE_SIZE = 50;
/** Most pages followed for one query (a server that keeps paging is not answering the query). */
export const MAX_PAGES = 20;
/** Most of one answer read: far beyond 50 flow definitions; a larger answer is read again flow by flow. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** The query URL for `flowIds` (GUIDs) in the organisation at `origin`. */
export function workflowsQuery(origin: string, flowIds: readonly string[]): string {
  const filter = flowIds.map((id) => `workflowid eq ${id} or resourceid eq ${id}`).join(" or ");
  return `${origin}${WORKFLOWS_PATH}?$select=${WORKFLOW_COLUMNS}&$filter=${encodeURIComponent(filter)}`;
}

/** The OData request headers Microsoft documents, and the token. */
export function odataHeaders(token: string): Record<string, string> {
  return {
    accept: "application/json",
    "odata-maxversion": "4.0",
    "odata-version": "4.0",
    prefer: `odata.maxpagesize=${PAGE_SIZE}`,
    authorization: `Bearer ${token}`,
  };
}

/** What one environment's query gave. */
export type EnvironmentAnswer =
  | { kind: "rows"; rows: WorkflowRow[] }
  | { kind: "failed"; message: string }
  /** An answer larger than {@link MAX_ANSWER_BYTES}: not read. */
  | { kind: "too-large" };

/** `{"error":{"code","message"}}` of an answer, tolerating anything else. */
export function odataError(text: string): { code?: string; message?: string } {
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    return {
      ...(typeof e?.code === "string" ? { code: e.code } : {}),
      ...(typeof e?.message === "string" ? { message: e.message } : {}),
    };
  } catch {
    return {};
  }
}

function short(text: string, max = 240): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

/** The setup an identity needs to read flows, in one sentence (docs/audit.md#read-access). */
export const READ_ACCESS =
  "the identity running the audit needs an application user in this environment with a security role that can read " +
  "the Process (workflow) table (Read at Organization level); see docs/audit.md#read-access";

/** What a 401 or 403 from Dataverse means, and what to do. */
export function accessHint(status: number, text: string): string {
  const e = odataError(text);
  const said = [String(status), e.code, e.message && short(e.message, 160)].filter(Boolean).join(" ");
  if (status === 401) {
    return `Dataverse refused the token (${said}): is the identity in this environment's tenant, and is the Dataverse URL right? Then ${READ_ACCESS}`;
  }
  if (e.code === "0x80072560" || /not a member of the organization/i.test(e.message ?? "")) {
    return `Dataverse says the identity is no user of this environment (${said}): ${READ_ACCESS}`;
  }
  if (e.code === "0x80040220" || /prvReadWorkflow|missing .*privilege/i.test(e.message ?? "")) {
    return `Dataverse says the identity's application user may not read flows (${said}): give its security role Read on the Process (workflow) table (privilege prvReadWorkflow) at Organization level`;
  }
  return `Dataverse denied access (${said}): ${READ_ACCESS}`;
}

/**
 * Runs the query for `flowIds` against the organisation at `origin` with `token`, following next
 * links on the same origin. Never throws for what the server answers, except a next link to another
 * host ({@link OffOriginError}, exit 2). `count` is told of every request sent.
 */
export async function queryWorkflows(
  deps: CallDeps,
  origin: string,
  flowIds: readonly string[],
  token: string,
  count: () => void,
): Promise<EnvironmentAnswer> {
  const rows: WorkflowRow[] = [];
  let url: string | undefined = workflowsQuery(origin, flowIds);
  for (let page = 1; url; page++) {
    if (page > MAX_PAGES) {
      return {
        kind: "failed",
        message: `Dataverse kept answering next pages (more than ${MAX_PAGES}): not read further`,
      };
    }
    count();
    const { sent, attempts, gaveUp } = await sendWithRetry(
      deps,
      url,
      { method: "GET", headers: odataHeaders(token) },
      MAX_ANSWER_BYTES,
      "dataverse",
    );
    const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
    if (!sent.ok) {
      return {
        kind: "failed",
        message: `no answer from Dataverse${tries}: ${short(sent.message)}${gaveUp ? ` (gave up: ${gaveUp})` : ""}`,
      };
    }
    if (sent.status === 401 || sent.status === 403) {
      return { kind: "failed", message: accessHint(sent.status, sent.text) };
    }
    if (sent.status === 404) {
      return {
        kind: "failed",
        message: `Dataverse answered 404 to the workflows query: is ${origin} the environment's Dataverse URL (Power Platform admin center, the environment's "Environment URL")?`,
      };
    }
    if (sent.status < 200 || sent.status > 299) {
      const e = odataError(sent.text);
      const what =
        e.code || e.message
          ? `${[e.code, e.message && short(e.message)].filter(Boolean).join(": ")}`
          : short(sent.text) || "no message";
      const where =
        sent.status >= 300 && sent.status < 400
          ? ` (a redirect${sent.headers.get("location") ? ` to ${hostOf(sent.headers.get("location") ?? "", url)}` : ""}: not followed)`
          : "";
      return {
        kind: "failed",
        message: `Dataverse answered ${sent.status}${where}${tries}: ${what}${gaveUp ? ` (gave up: ${gaveUp})` : ""}`,
      };
    }
    if (sent.truncated) return { kind: "too-large" };
    let json: unknown;
    try {
      json = JSON.parse(sent.text);
    } catch {
      const type = sent.headers.get("content-type") ?? "no content type";
      return {
        kind: "failed",
        message: `Dataverse answered ${sent.status} with ${short(type, 60)} that is not OData JSON (a sign-in page or a proxy in between?)`,
      };
    }
    const value = (json as { value?: unknown } | null)?.value;
    if (!Array.isArray(value)) {
      return {
        kind: "failed",
        message: `Dataverse's answer is JSON without the OData "value" array of rows`,
      };
    }
    for (const row of value)
      if (row && typeof row === "object" && !Array.isArray(row)) rows.push(row as WorkflowRow);
    const next = (json as Record<string, unknown>)["@odata.nextLink"];
    url = undefined;
    if (typeof next === "string" && next) {
      const target = URL.canParse(next, origin) ? new URL(next, origin) : undefined;
      if (!target || target.origin !== origin) {
        throw new OffOriginError(
          `Dataverse at ${origin} answered a next-page link to another host (${target?.host ?? "an unreadable URL"}): ` +
            `not followed, and no token was sent there. Is ${origin} really the environment's Dataverse URL?`,
          target?.host ?? "",
        );
      }
      url = target.href;
    }
  }
  return { kind: "rows", rows };
}

function hostOf(location: string, base: string): string {
  return URL.canParse(location, base) ? new URL(location, base).host : "an unreadable URL";
}

/** The row for `flowId` among `rows`: its `workflowid` first, else its `resourceid` (any case). */
export function rowFor(rows: readonly WorkflowRow[], flowId: string): WorkflowRow | undefined {
  const id = flowId.toLowerCase();
  const is = (v: unknown) => typeof v === "string" && v.toLowerCase() === id;
  return rows.find((r) => is(r.workflowid)) ?? rows.find((r) => is(r.resourceid));
}

/**
 * What Dataverse says about each of `flowIds` in one environment: one query for all of them; when
 * its answer is too large to read, one query per flow, so that only the flow whose definition is
 * too large is reported unreadable.
 */
export async function readEnvironment(
  deps: CallDeps,
  origin: string,
  flowIds: readonly string[],
  token: string,
  count: () => void,
): Promise<Map<string, FlowSource>> {
  const sources = new Map<string, FlowSource>();
  const all = await queryWorkflows(deps, origin, flowIds, token, count);
  const perFlow: [string, EnvironmentAnswer][] =
    all.kind === "too-large" && flowIds.length > 1
      ? await sequential(flowIds, async (id) => [id, await queryWorkflows(deps, origin, [id], token, count)])
      : flowIds.map((id) => [id, all]);
  for (const [id, answer] of perFlow) {
    if (answer.kind === "failed") sources.set(id, { kind: "unreadable", message: answer.message });
    else if (answer.kind === "too-large") {
      sources.set(id, {
        kind: "unreadable",
        message: `Dataverse's answer for this flow is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB: not read`,
      });
    } else {
      const row = rowFor(answer.rows, id);
      sources.set(id, row ? { kind: "row", row } : { kind: "not-found" });
    }
  }
  return sources;
}

async function sequential<T, R>(items: readonly T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await f(item));
  return out;
}
