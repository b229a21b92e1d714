/**
 * The audit's judgement of one flow, its verdict and what it prints, without any I/O: every finding
 * code with its fixed severity, the worst-severity verdict, the exit codes, and the value to paste.
 */
import { describe, expect, it } from "vitest";
import { flowDefinition } from "../../standin/dataverse";
import {
  auditFlow,
  entriesToResolve,
  NO_DIRECTORY,
  overallVerdict,
  SEVERITY,
  type CallerFacts,
  type Directory,
  type FlowExpectation,
  type Verdict,
  type FlowSource,
} from "./findings";
import { renderText, toJson } from "./render";
import { VERDICT_EXIT } from "../../lib/exit";

const erp: CallerFacts = {
  name: "erp",
  objectId: "8cfbd535-b7a8-4037-854e-6d026b3795d6",
  clientId: "d39501b8-7511-4abd-9831-7bd0aed9fc7f",
  applicationObjectId: "c34ebd5e-ddcf-4674-baf0-f0f5ae036760",
  displayName: "flow-dev-erp",
};
const crm: CallerFacts = {
  name: "crm",
  objectId: "a51022d1-0172-4711-a6de-885b7e274a7b",
  clientId: "cdffaa31-54e5-4865-a647-05fa90315433",
  applicationObjectId: "3f1d45a0-8633-4ca7-a3e7-57365824cc1d",
  displayName: "flow-dev-crm",
};
const hr: CallerFacts = {
  name: "hr-sync",
  objectId: "16bc54e7-97ad-47e8-ac22-6c5a39fc3433",
  clientId: "840cd86b-b535-4892-8bb5-f1be2179d510",
  displayName: "flow-dev-hr-sync",
};
const STACK = [erp, crm, hr];
const FLOW: FlowExpectation = {
  name: "customer-sync",
  flowId: "c4d5e6f7-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
  dataverseUrl: "https://contoso-dev.crm4.dynamics.com",
  callers: [erp, crm],
  allowedUsers: [erp.objectId, crm.objectId],
};
const PASTE = `${erp.objectId},${crm.objectId}`;
const STRANGER = "0b944de3-e0fc-4774-a49a-b135213725ef";

/** A found workflow whose trigger is set as given; on unless `statecode` says otherwise. */
function row(trigger: Parameters<typeof flowDefinition>[0], statecode = 1): FlowSource {
  return {
    kind: "row",
    row: { workflowid: FLOW.flowId, name: "Customer sync", statecode, clientdata: flowDefinition(trigger) },
  };
}

const users = (allowedUsers: unknown) => row({ authType: "User", allowedUsers });
const audit = (source: FlowSource, directory: Directory = NO_DIRECTORY) =>
  auditFlow(FLOW, source, STACK, directory);
const codes = (source: FlowSource, directory?: Directory) =>
  audit(source, directory).findings.map((f) => [f.code, f.severity, f.entry]);

describe("a flow that admits exactly its callers", () => {
  it.each([
    ["separated by ;", `${erp.objectId};${crm.objectId}`],
    [
      "separated by , in the other order, upper case, with spaces",
      ` ${crm.objectId.toUpperCase()} , ${erp.objectId} `,
    ],
    ["with the mode spelled SpecificAccounts", undefined],
  ])("matches (%s): no finding, nothing to paste", (_name, entries) => {
    const source =
      entries === undefined ? row({ authType: "SpecificAccounts", allowedUsers: PASTE }) : users(entries);
    const r = audit(source);
    expect(r).toMatchObject({
      verdict: "match",
      findings: [],
      mode: "specific-users",
      workflowName: "Customer sync",
    });
    expect(r.paste).toBeUndefined();
  });

  it("matches when a caller is listed by an e-mail address that Graph resolves to its object ID", () => {
    const directory: Directory = {
      byId: new Map(),
      byName: new Map([["crm-bot@contoso.com", { id: crm.objectId, displayName: "CRM bot" }]]),
    };
    expect(audit(users(`${erp.objectId};CRM-bot@contoso.com`), directory).verdict).toBe("match");
  });
});

describe("findings", () => {
  it("anyone: a trigger without a mode, or All/Anyone, is insecure, with the value to paste", () => {
    for (const authType of [undefined, "All", "Anyone"]) {
      const r = audit(row({ authType, allowedUsers: PASTE }));
      expect(r.findings.map((f) => [f.code, f.severity])).toEqual([["anyone", "insecure"]]);
      expect(r).toMatchObject({ verdict: "insecure", mode: "anyone", paste: PASTE });
      expect(r.allowedUsers).toBeUndefined();
    }
  });

  it("empty-list: Specific users with no entries (absent, empty or only separators) is insecure", () => {
    for (const entries of [undefined, "", " ; "]) {
      const r = audit(users(entries));
      expect(r.findings.map((f) => [f.code, f.severity])).toEqual([["empty-list", "insecure"]]);
      expect(r).toMatchObject({ verdict: "insecure", allowedUsers: [], paste: PASTE });
    }
  });

  it("tenant: Any user in my tenant is drift, whatever list the definition still carries", () => {
    const r = audit(row({ authType: "Tenant", allowedUsers: PASTE }));
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([["tenant", "drift"]]);
    expect(r).toMatchObject({ verdict: "drift", mode: "tenant", paste: PASTE });
  });

  it("missing-caller: each configured caller absent from the list fails, naming its object ID", () => {
    expect(codes(users(erp.objectId))).toEqual([["missing-caller", "fail", crm.objectId]]);
    const r = audit(users(erp.objectId));
    expect(r.findings[0].message).toContain("caller crm (flow-dev-crm) is not in Allowed users");
    expect(r).toMatchObject({ verdict: "fail", paste: PASTE });
  });

  it("missing-caller: judged against the object IDs the outputs list for the flow, which a kind may make its people's", () => {
    // A caller that acts for signed-in people puts their object IDs there, not its principal's.
    const person = "6a1b2c3d-0000-4000-8000-000000000001";
    const flow = { ...FLOW, allowedUsers: [erp.objectId, person] };
    expect(auditFlow(flow, users(`${erp.objectId},${person}`), STACK).verdict).toBe("match");
    const r = auditFlow(flow, users(erp.objectId), STACK);
    expect(r.findings.map((f) => [f.code, f.severity, f.entry])).toEqual([
      ["missing-caller", "fail", person],
    ]);
    expect(r.findings[0].message).toBe(
      `${person}, an object ID the stack lists for this flow's callers, is not in Allowed users: the trigger will refuse its tokens`,
    );
    expect(r.paste).toBe(`${erp.objectId},${person}`);
  });

  it("app-id-entry: a caller's client ID or application object ID where its object ID belongs (and the caller is missing)", () => {
    expect(codes(users(`${erp.objectId};${crm.clientId}`))).toEqual([
      ["missing-caller", "fail", crm.objectId],
      ["app-id-entry", "drift", crm.clientId],
    ]);
    const r = audit(users(`${erp.objectId};${crm.objectId};${erp.applicationObjectId}`));
    expect(r.findings.map((f) => [f.code, f.severity])).toEqual([["app-id-entry", "drift"]]);
    expect(r.findings[0].message).toContain(`app registration's object ID of caller erp (flow-dev-erp)`);
    expect(r.findings[0].message).toContain(erp.objectId);
  });

  it("unexpected-entry: an entry no caller of the flow has is drift, named as far as possible", () => {
    const directory: Directory = {
      byId: new Map([[STRANGER, { displayName: "Old ERP connector", type: "servicePrincipal" }]]),
      byName: new Map<string, { id: string; displayName?: string } | { error: string }>([
        ["bob@contoso.com", { id: "5d6059b6-368d-45f8-91e1-8e07d485f1d0", displayName: "Bob Kelly" }],
        ["gone@contoso.com", { error: "no such user in the directory" }],
      ]),
    };
    const r = audit(
      users(
        [PASTE, STRANGER, hr.objectId, hr.clientId, "bob@contoso.com", "gone@contoso.com", "not an id"].join(
          ";",
        ),
      ),
      directory,
    );
    expect(r.verdict).toBe("drift");
    expect(r.findings.map((f) => [f.code, f.severity, f.entry, f.message])).toEqual([
      [
        "unexpected-entry",
        "drift",
        STRANGER,
        expect.stringContaining(
          `${STRANGER} (Old ERP connector, servicePrincipal) is no caller of this flow`,
        ),
      ],
      [
        "unexpected-entry",
        "drift",
        hr.objectId,
        expect.stringContaining(
          "object ID of caller hr-sync (flow-dev-hr-sync), which is not configured for this flow",
        ),
      ],
      ["unexpected-entry", "drift", hr.clientId, expect.stringContaining("application ID of caller hr-sync")],
      [
        "unexpected-entry",
        "drift",
        "bob@contoso.com",
        expect.stringContaining("(user Bob Kelly, object ID 5d6059b6-368d-45f8-91e1-8e07d485f1d0)"),
      ],
      [
        "unexpected-entry",
        "drift",
        "gone@contoso.com",
        expect.stringContaining("could not be resolved: no such user in the directory"),
      ],
      [
        "unexpected-entry",
        "drift",
        "not an id",
        expect.stringContaining("neither an object ID nor an e-mail address"),
      ],
    ]);
  });

  it("unexpected-entry: when Graph may not read the directory, the entry is reported by ID, saying why", () => {
    const directory: Directory = {
      byId: new Map(),
      byName: new Map(),
      unavailable: "Microsoft Graph refused (403)",
    };
    const r = audit(users(`${PASTE};${STRANGER}`), directory);
    expect(r.findings).toEqual([
      expect.objectContaining({
        code: "unexpected-entry",
        entry: STRANGER,
        message: expect.stringContaining("not named: Microsoft Graph refused (403)"),
      }),
    ]);
  });

  it("flow-off: a flow that is not on is drift, reported beside what its trigger says", () => {
    expect(codes(users(PASTE), undefined).length).toBe(0);
    expect(codes(row({ authType: "User", allowedUsers: PASTE }, 0))).toEqual([
      ["flow-off", "drift", undefined],
    ]);
    expect(audit(row({ authType: "User", allowedUsers: PASTE }, 2)).findings[0].message).toContain(
      "Suspended",
    );
    expect(codes(row({ authType: "All" }, 0)).map((c) => c[0])).toEqual(["flow-off", "anyone"]);
  });

  it("not-found, no-http-trigger and unreadable fail, saying what to check", () => {
    const notFound = audit({ kind: "not-found" });
    expect(notFound.findings.map((f) => [f.code, f.severity])).toEqual([["not-found", "fail"]]);
    expect(notFound.findings[0].message).toContain(
      `no workflow with workflowid or resourceid ${FLOW.flowId} in ${FLOW.dataverseUrl}`,
    );
    expect(notFound.findings[0].message).toContain("My flows");
    expect(codes(row({ kind: "Button" }))).toEqual([["no-http-trigger", "fail", undefined]]);
    expect(codes({ kind: "row", row: { statecode: 1, clientdata: "{oops" } })).toEqual([
      ["unreadable", "fail", undefined],
    ]);
    expect(codes({ kind: "unreadable", message: "Dataverse answered 503" })).toEqual([
      ["unreadable", "fail", undefined],
    ]);
    expect(notFound.paste).toBeUndefined();
  });

  it("give every code the severity the contract fixes", () => {
    const codesOf = (severity: string) =>
      Object.entries(SEVERITY)
        .filter(([, s]) => s === severity)
        .map(([code]) => code)
        .sort();
    expect(Object.keys(SEVERITY)).toHaveLength(10);
    expect(codesOf("insecure")).toEqual(["anyone", "empty-list"]);
    expect(codesOf("fail")).toEqual(["missing-caller", "no-http-trigger", "not-found", "unreadable"]);
    expect(codesOf("drift")).toEqual(["app-id-entry", "flow-off", "tenant", "unexpected-entry"]);
  });
});

describe("the verdict", () => {
  const match = audit(users(PASTE));
  const drift = audit(row({ authType: "Tenant" }));
  const fail = audit({ kind: "not-found" });
  const insecure = audit(row({ authType: "All" }));

  it("is the worst severity found: insecure, then fail, then drift; match when none", () => {
    expect(overallVerdict([match, drift, fail, insecure])).toBe("insecure");
    expect(overallVerdict([drift, fail, match])).toBe("fail");
    expect(overallVerdict([match, drift])).toBe("drift");
    expect(overallVerdict([match])).toBe("match");
  });

  it("gives the exit codes 0 match, 1 drift or fail, 3 insecure, 2 usage, 70 error", () => {
    const codes: Record<Verdict, number> = { match: 0, drift: 1, fail: 1, insecure: 3, usage: 2, error: 70 };
    for (const [verdict, code] of Object.entries(codes)) expect(VERDICT_EXIT[verdict as Verdict]).toBe(code);
  });

  it("--json is one document with exactly the contract's keys; list findings end with the value to paste", () => {
    const json = toJson({ verdict: "insecure", flows: [match, fail, insecure] });
    expect(Object.keys(json)).toEqual(["verdict", "flows"]);
    expect(json.flows.map((f) => Object.keys(f))).toEqual([
      ["name", "flowId", "mode", "allowedUsers", "findings"],
      ["name", "flowId", "findings"],
      ["name", "flowId", "mode", "findings"],
    ]);
    expect(Object.keys(json.flows[2].findings[0])).toEqual(["code", "severity", "message"]);
    expect(json.flows[2].findings[0].message).toMatch(new RegExp(`Allowed users value: ${PASTE}$`));
    expect(json.flows[1].findings[0].message).not.toContain("Allowed users value");
    const missing = toJson({ verdict: "fail", flows: [audit(users(erp.objectId))] }).flows[0].findings[0];
    expect(missing).toMatchObject({ code: "missing-caller", entry: crm.objectId });
  });

  it("the text names each flow's verdict and findings, the value to paste once per flow, then the verdict and counts", () => {
    const text = renderText({
      verdict: "insecure",
      flows: [match, audit(users(erp.objectId)), insecure],
      source: "outputs/dev.json",
      environments: 1,
      requests: { dataverse: 1, graph: 0 },
      durationMs: 12,
      notes: ["entries are reported by ID: Microsoft Graph refused (403)"],
    });
    expect(text).toContain("Flow audit of outputs/dev.json: 3 flows in 1 Dataverse environment\n");
    expect(text).toMatch(/^ {2}customer-sync +MATCH +Specific users in my tenant, 2 entries$/m);
    expect(text).toMatch(/^ {4}fail +missing-caller: caller crm \(flow-dev-crm\) is not in Allowed users/m);
    expect(text.split(`Allowed users value: ${PASTE}`).length - 1).toBe(2);
    expect(text).toContain("note: entries are reported by ID: Microsoft Graph refused (403)");
    expect(text).toMatch(
      /verdict: insecure \(exit 3\): 1 match, 0 drift, 1 fail, 1 insecure; 1 Dataverse request, 0 Graph requests, 12 ms\n$/,
    );
  });
});

describe("what only Graph can name", () => {
  it("is entries that are no ID of any caller of the stack, and e-mail addresses, of Specific users flows only", () => {
    const source = users([PASTE, STRANGER, hr.clientId, "bob@contoso.com"].join(";"));
    expect(entriesToResolve(source, STACK)).toEqual({ ids: [STRANGER], names: ["bob@contoso.com"] });
    expect(entriesToResolve(row({ authType: "Tenant", allowedUsers: STRANGER }), STACK)).toEqual({
      ids: [],
      names: [],
    });
    expect(entriesToResolve({ kind: "not-found" }, STACK)).toEqual({ ids: [], names: [] });
  });
});
