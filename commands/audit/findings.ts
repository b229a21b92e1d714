/**
 * The audit's judgement, as pure functions: from what a flow's definition says (definition.ts) and
 * what the stack outputs expect, the findings of one flow, the verdict and the exit code
 * (docs/audit.md#findings). No I/O here; names resolved through Microsoft Graph come in as
 * {@link Directory}.
 */
import { EMAIL_PATTERN as EMAIL, GUID_PATTERN } from "../../fields/patterns";
import { readTrigger, type TriggerMode } from "./definition";

/** How bad a finding is: `insecure` (callable without the right identity), `fail`, `drift`. */
export type Severity = "insecure" | "fail" | "drift";

/** The finding codes, each with its fixed severity. */
export const SEVERITY = {
  /** The trigger is "Anyone": no token needed. */
  anyone: "insecure",
  /** "Specific users" with no entries: admits every identity in the tenant. */
  "empty-list": "insecure",
  /** "Any user in my tenant". */
  tenant: "drift",
  /** A configured caller's object ID is not in Allowed users: it will be refused. */
  "missing-caller": "fail",
  /** An entry is a caller's client ID (or application object ID) where its object ID belongs. */
  "app-id-entry": "drift",
  /** An entry no caller of the flow has. */
  "unexpected-entry": "drift",
  /** The flow is off (`statecode` is not 1). */
  "flow-off": "drift",
  /** No such workflow in that Dataverse. */
  "not-found": "fail",
  /** The flow has no HTTP request trigger. */
  "no-http-trigger": "fail",
  /** The answer or the definition could not be read. */
  unreadable: "fail",
} as const satisfies Record<string, Severity>;

/** One of the finding codes. */
export type FindingCode = keyof typeof SEVERITY;

/** Something wrong with a flow, and what to do about it. */
export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
  /** The Allowed users entry (or caller object ID) the finding is about. */
  entry?: string;
}

/** The overall result: the worst severity found, `match` when none; `usage`/`error` when the audit could not run. */
export type Verdict = "match" | "drift" | "fail" | "insecure" | "usage" | "error";

/** What the audit knows of one of the stack's callers. */
export interface CallerFacts {
  name: string;
  /** The principal's object ID: what Allowed users must hold. */
  objectId: string;
  /** Client (application) ID: what makers paste by mistake. */
  clientId: string;
  /** The app registration's object ID, the other wrong value (absent for managed identities). */
  applicationObjectId?: string;
  displayName: string;
}

/** What the stack says one flow's trigger must admit. */
export interface FlowExpectation {
  name: string;
  flowId: string;
  dataverseUrl: string;
  /** The flow's callers. */
  callers: CallerFacts[];
  /** Exactly the object IDs Allowed users must hold. */
  allowedUsers: string[];
}

/** A row of Dataverse's `workflows` as selected by the audit (anything may be missing or mistyped). */
export interface WorkflowRow {
  workflowid?: unknown;
  resourceid?: unknown;
  name?: unknown;
  statecode?: unknown;
  modifiedon?: unknown;
  clientdata?: unknown;
}

/** What Dataverse gave for one flow. */
export type FlowSource =
  { kind: "row"; row: WorkflowRow } | { kind: "not-found" } | { kind: "unreadable"; message: string };

/** Directory objects resolved through Microsoft Graph, for naming entries. Keys are lower case. */
export interface Directory {
  /** By object ID: display name and kind (`servicePrincipal`, `user`, `group`...). */
  byId: ReadonlyMap<string, { displayName?: string; type?: string }>;
  /** By e-mail address / UPN: the user's object ID and name, or why it could not be resolved. */
  byName: ReadonlyMap<string, { id: string; displayName?: string } | { error: string }>;
  /** Why object IDs could not be named (Graph refused or was unreachable), if so. */
  unavailable?: string;
}

/** An empty directory: nothing resolved. */
export const NO_DIRECTORY: Directory = { byId: new Map(), byName: new Map() };

/** The audit of one flow. */
export interface FlowReport {
  name: string;
  flowId: string;
  /** "Who can trigger the flow", when the definition could be read. */
  mode?: TriggerMode;
  /** The Allowed users entries as the flow holds them ("Specific users" mode only). */
  allowedUsers?: string[];
  findings: Finding[];
  /** The flow's verdict: its worst severity, `match` when none. */
  verdict: "match" | Severity;
  /**
   * The exact value for Allowed users (comma-separated object IDs), when the trigger's setting or
   * list must change.
   */
  paste?: string;
  /** Display name of the workflow in Dataverse, when found. */
  workflowName?: string;
}

/** True when `entry` is shaped like an object ID (a GUID). */
export function isObjectId(entry: string): boolean {
  return GUID_PATTERN.test(entry);
}

/** True when `entry` is shaped like an e-mail address or UPN. */
export function isEmailEntry(entry: string): boolean {
  return EMAIL.test(entry);
}

const RANK: Record<"match" | Severity, number> = { match: 0, drift: 1, fail: 2, insecure: 3 };

/** The worst of `severities`, `match` when there is none. */
export function worst(severities: readonly ("match" | Severity)[]): "match" | Severity {
  return severities.reduce<"match" | Severity>((w, s) => (RANK[s] > RANK[w] ? s : w), "match");
}

function finding(code: FindingCode, message: string, entry?: string): Finding {
  return { code, severity: SEVERITY[code], message, ...(entry !== undefined ? { entry } : {}) };
}

/** Findings whose fix is the trigger's "Who can trigger" setting or its Allowed users list. */
export const LIST_CODES: ReadonlySet<FindingCode> = new Set<FindingCode>([
  "anyone",
  "empty-list",
  "tenant",
  "missing-caller",
  "app-id-entry",
  "unexpected-entry",
]);

function callerLabel(c: CallerFacts): string {
  return `caller ${c.name} (${c.displayName})`;
}

/** How an entry nobody expects reads, named as far as the directory allows. */
function unexpected(
  entry: string,
  stackCallers: readonly CallerFacts[],
  directory: Directory,
  flowCallers: readonly CallerFacts[] = [],
): Finding {
  const lower = entry.toLowerCase();
  const tail = "is no caller of this flow: remove it unless it is meant to trigger the flow";
  if (isObjectId(entry)) {
    const own = flowCallers.find((c) => c.objectId.toLowerCase() === lower);
    if (own) {
      // A caller of this flow whose object ID the outputs do not expect: one that acts for people.
      return finding(
        "unexpected-entry",
        `${entry} is the object ID of ${callerLabel(own)}, which calls with its people's tokens (their object IDs are the token's oid, never the app's): remove it`,
        entry,
      );
    }
    const other = stackCallers.find((c) => c.objectId.toLowerCase() === lower);
    if (other) {
      return finding(
        "unexpected-entry",
        `${entry} is the object ID of ${callerLabel(other)}, which is not configured for this flow: remove it, or add the caller to the flow's callers`,
        entry,
      );
    }
    const otherApp = stackCallers.find(
      (c) => c.clientId.toLowerCase() === lower || c.applicationObjectId?.toLowerCase() === lower,
    );
    if (otherApp) {
      return finding(
        "unexpected-entry",
        `${entry} is an application ID of ${callerLabel(otherApp)}, which is not configured for this flow: remove it`,
        entry,
      );
    }
    const known = directory.byId.get(lower);
    if (known) {
      const what = [known.displayName, known.type].filter(Boolean).join(", ");
      return finding("unexpected-entry", `${entry} (${what || "a directory object"}) ${tail}`, entry);
    }
    const why = directory.unavailable
      ? `not named: ${directory.unavailable}`
      : "no such object in the directory (deleted?)";
    return finding("unexpected-entry", `${entry} (${why}) ${tail}`, entry);
  }
  if (isEmailEntry(entry)) {
    const user = directory.byName.get(lower);
    if (user && "id" in user) {
      return finding(
        "unexpected-entry",
        `${entry} (user ${user.displayName ?? user.id}, object ID ${user.id}) ${tail}`,
        entry,
      );
    }
    const why = user && "error" in user ? user.error : (directory.unavailable ?? "not looked up");
    return finding("unexpected-entry", `${entry} (could not be resolved: ${why}) ${tail}`, entry);
  }
  return finding(
    "unexpected-entry",
    `${JSON.stringify(entry)} is neither an object ID nor an e-mail address: remove it`,
    entry,
  );
}

function stateMessage(statecode: number): string {
  const label = statecode === 0 ? "Draft, off" : statecode === 2 ? "Suspended" : `statecode ${statecode}`;
  return `the flow is not on (${label}): its trigger runs nothing until it is turned on; turn it on, or remove the flow from the stack's flows`;
}

/**
 * Audits one flow: what its definition (or Dataverse's answer) says against what the stack expects.
 * `stackCallers` are all the stack's callers (to name entries that belong to another caller).
 */
export function auditFlow(
  expected: FlowExpectation,
  source: FlowSource,
  stackCallers: readonly CallerFacts[],
  directory: Directory = NO_DIRECTORY,
): FlowReport {
  const base = { name: expected.name, flowId: expected.flowId };
  const done = (rest: Omit<FlowReport, "name" | "flowId" | "verdict" | "paste">): FlowReport => {
    const needsList = rest.findings.some((f) => LIST_CODES.has(f.code));
    return {
      ...base,
      ...rest,
      verdict: worst(rest.findings.map((f) => f.severity)),
      ...(needsList ? { paste: expected.allowedUsers.join(",") } : {}),
    };
  };
  if (source.kind === "unreadable") return done({ findings: [finding("unreadable", source.message)] });
  if (source.kind === "not-found") {
    return done({
      findings: [
        finding(
          "not-found",
          `no workflow with workflowid or resourceid ${expected.flowId} in ${expected.dataverseUrl}: check the flow ID ` +
            "(the portal's .../flows/<id>, or the solution's workflowid) and the Dataverse URL; a flow under " +
            "My flows, outside any solution, is not supported through Dataverse: add it to a solution",
        ),
      ],
    });
  }
  const { row } = source;
  const findings: Finding[] = [];
  const workflowName = typeof row.name === "string" ? row.name : undefined;
  if (typeof row.statecode === "number" && row.statecode !== 1) {
    findings.push(finding("flow-off", stateMessage(row.statecode)));
  }
  const reading = readTrigger(row.clientdata);
  const named = workflowName ? { workflowName } : {};
  if (!reading.ok) return done({ findings: [...findings, finding(reading.code, reading.message)], ...named });

  if (reading.mode === "anyone") {
    findings.push(
      finding(
        "anyone",
        `"Who can trigger the flow" is Anyone (triggerAuthenticationType ${reading.rawMode ? JSON.stringify(reading.rawMode) : "absent"}): ` +
          'whoever holds the URL can run the flow, no token needed. Set it to "Specific users in my tenant", paste the ' +
          "Allowed users value, then put the new URL in the flow's triggerUrl in the stack and give it to the callers " +
          "(the old one, with sig, must stop being used)",
      ),
    );
    return done({ mode: reading.mode, findings, ...named });
  }
  if (reading.mode === "tenant") {
    findings.push(
      finding(
        "tenant",
        '"Who can trigger the flow" is "Any user in my tenant": every app and managed identity of the tenant can get a ' +
          'token and call it. Set it to "Specific users in my tenant" and paste the Allowed users value; the trigger then ' +
          "has a new URL: put it in the flow's triggerUrl in the stack and give it to the callers",
      ),
    );
    return done({ mode: reading.mode, findings, ...named });
  }
  const entries = reading.entries;
  if (entries.length === 0) {
    findings.push(
      finding(
        "empty-list",
        '"Specific users in my tenant" with an empty Allowed users list admits every identity in the tenant ' +
          "(Microsoft documents a blank list as tenant-wide). Paste the Allowed users value",
      ),
    );
    return done({ mode: reading.mode, allowedUsers: entries, findings, ...named });
  }

  // What each entry stands for: an object ID as written, or the user an e-mail address resolves to.
  const present = new Set<string>();
  const leftover: string[] = [];
  const expectedIds = new Set(expected.allowedUsers.map((u) => u.toLowerCase()));
  const appIdEntries: Finding[] = [];
  for (const entry of entries) {
    const lower = entry.toLowerCase();
    if (isObjectId(entry) && expectedIds.has(lower)) {
      present.add(lower);
      continue;
    }
    if (isEmailEntry(entry)) {
      const user = directory.byName.get(lower);
      if (user && "id" in user && expectedIds.has(user.id.toLowerCase())) {
        present.add(user.id.toLowerCase());
        continue;
      }
    }
    const app = isObjectId(entry)
      ? expected.callers.find(
          (c) => c.clientId.toLowerCase() === lower || c.applicationObjectId?.toLowerCase() === lower,
        )
      : undefined;
    if (app) {
      const which =
        app.clientId.toLowerCase() === lower ? "client (application) ID" : "app registration's object ID";
      appIdEntries.push(
        finding(
          "app-id-entry",
          `${entry} is the ${which} of ${callerLabel(app)}; Allowed users takes the object ID of its enterprise application, ${app.objectId}`,
          entry,
        ),
      );
      continue;
    }
    leftover.push(entry);
  }
  // Each object ID the flow's callers put there (their principals', or, for a kind that acts for
  // people, those people's: the stack outputs say which), named by its caller where it is a principal.
  for (const id of expected.allowedUsers) {
    if (present.has(id.toLowerCase())) continue;
    const caller = expected.callers.find((c) => c.objectId.toLowerCase() === id.toLowerCase());
    findings.push(
      finding(
        "missing-caller",
        caller
          ? `${callerLabel(caller)} is not in Allowed users (object ID ${caller.objectId}): the trigger will refuse its calls`
          : `${id}, an object ID the stack lists for this flow's callers, is not in Allowed users: the trigger will refuse its tokens`,
        caller?.objectId ?? id,
      ),
    );
  }
  findings.push(...appIdEntries);
  for (const entry of leftover) findings.push(unexpected(entry, stackCallers, directory, expected.callers));
  return done({ mode: reading.mode, allowedUsers: entries, findings, ...named });
}

/**
 * The entries of a flow's definition that only Microsoft Graph can name: object IDs that are no
 * caller's (any ID of the stack's callers is named without Graph), and e-mail addresses.
 */
export function entriesToResolve(
  source: FlowSource,
  stackCallers: readonly CallerFacts[],
): { ids: string[]; names: string[] } {
  if (source.kind !== "row") return { ids: [], names: [] };
  const reading = readTrigger(source.row.clientdata);
  if (!reading.ok || reading.mode !== "specific-users") return { ids: [], names: [] };
  const known = new Set(
    stackCallers.flatMap((c) =>
      [c.objectId, c.clientId, c.applicationObjectId]
        .filter((x): x is string => !!x)
        .map((x) => x.toLowerCase()),
    ),
  );
  return {
    ids: reading.entries.filter((e) => isObjectId(e) && !known.has(e.toLowerCase())),
    names: reading.entries.filter((e) => isEmailEntry(e)),
  };
}

/** The overall verdict of flow reports: the worst of theirs. */
export function overallVerdict(flows: readonly FlowReport[]): "match" | Severity {
  return worst(flows.map((f) => f.verdict));
}
