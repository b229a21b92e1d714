/**
 * `flow-trigger-auth audit`, run in-process against the Dataverse and Graph stand-in
 * (standin/dataverse.ts) with a fake clock: every finding code end to end, every bad answer, the
 * budgets (on the injected clock, never the wall clock) and the number of requests.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main";
import { fixture } from "../../test/helpers/cli";
import { FakeIo } from "../../test/helpers/fake-io";
import {
  auditWorld,
  createDataverseStandin,
  flowDefinition,
  type AuditWorld,
  type DataverseStandin,
} from "../../standin/dataverse";
import { MAX_PAGES } from "./dataverse";
import type { AuditJson } from "./render";

const START = Date.parse("2026-11-22T09:30:00Z");
const STRANGER = "0b944de3-e0fc-4774-a49a-b135213725ef";

interface Setup {
  standin: DataverseStandin;
  world: AuditWorld;
  /** The directory holding `dev.json` (the world's outputs). */
  dir: string;
  run(args?: string[], setup?: (io: FakeIo) => void): Promise<Result>;
}

interface Result {
  code: number;
  io: FakeIo;
  json: () => AuditJson;
  elapsedMs: number;
}

/** A world of `options` on a fresh stand-in, and a way to audit it (`--outputs dev.json` plus `args`). */
function setup(options: Parameters<typeof auditWorld>[1] = {}): Setup {
  let current: FakeIo | undefined;
  const standin = createDataverseStandin({ onHang: () => current?.expireEarliestTimer() });
  const world = auditWorld(standin, options);
  const dir = mkdtempSync(join(tmpdir(), "fta-audit-"));
  writeFileSync(join(dir, "dev.json"), JSON.stringify(world.outputs, null, 2));
  return {
    standin,
    world,
    dir,
    async run(args = [], extra) {
      const io = new FakeIo({}, dir);
      standin.route(io);
      io.azureCredential = standin.credential;
      extra?.(io);
      current = io;
      const code = await main(["audit", "--outputs", "dev.json", ...args], io);
      return { code, io, json: () => io.json<AuditJson>(), elapsedMs: io.nowMs - START };
    },
  };
}

/** Each flow's finding codes, by flow name. */
function codesOf(json: AuditJson): Record<string, string[]> {
  return Object.fromEntries(json.flows.map((f) => [f.name, f.findings.map((x) => x.code)]));
}

/** Nothing the stand-in issued as a token appears in anything printed. */
function expectNoToken(io: FakeIo): void {
  expect(io.allText).not.toMatch(/standin-[A-Za-z0-9_-]{20,}/);
}

describe("audit: flows that admit exactly their callers", () => {
  it("exit 0, one GET per Dataverse environment with Microsoft's OData headers and a token for that environment", async () => {
    const s = setup({ environments: 2, flowsPerEnvironment: 2 });
    const r = await s.run(["--json"]);
    expect(r.code).toBe(0);
    // Progress only: one line per environment read.
    expect(r.io.stderrText).toMatch(/^(dataverse: reading 2 flow\(s\) from https:\/\/\S+\n){2}$/);
    const json = r.json();
    expect(json.verdict).toBe("match");
    expect(json.flows.map((f) => [f.name, f.mode, f.findings])).toEqual(
      s.world.flows.map((f) => [f.name, "specific-users", []]),
    );
    const origins = [...new Set(s.world.flows.map((f) => f.origin))];
    expect(s.standin.requests).toHaveLength(2);
    for (const origin of origins) {
      const [req] = s.standin.requestsTo(origin);
      expect(req).toMatchObject({
        method: "GET",
        authorized: true,
        status: 200,
        headers: {
          accept: "application/json",
          odataVersion: "4.0",
          odataMaxVersion: "4.0",
          prefer: "odata.maxpagesize=50",
        },
      });
      const ids = s.world.flows.filter((f) => f.origin === origin).map((f) => f.flowId);
      expect(req.path).toBe(
        `/api/data/v9.2/workflows?$select=workflowid,resourceid,name,statecode,modifiedon,clientdata&$filter=` +
          ids.map((id) => `workflowid eq ${id} or resourceid eq ${id}`).join(" or "),
      );
    }
    expect(s.standin.credential.scopes.sort()).toEqual(origins.map((o) => `${o}/.default`).sort());
    expectNoToken(r.io);
  });

  it("50 flows in 5 environments: 5 Dataverse requests, none to Graph, exit 0", async () => {
    const s = setup({ environments: 5, flowsPerEnvironment: 10, callers: 7 });
    const r = await s.run(["--json"]);
    expect(r.code).toBe(0);
    expect(r.json().flows).toHaveLength(50);
    expect(s.standin.requests.map((q) => q.host)).toHaveLength(5);
    expect(new Set(s.standin.requests.map((q) => q.host)).size).toBe(5);
  });

  it("follows @odata.nextLink on the same origin when the server pages smaller than asked", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 5 });
    s.standin.setPageSize(s.world.flows[0].origin, 2);
    const r = await s.run(["--json"]);
    expect(r.code).toBe(0);
    expect(r.json().flows.every((f) => f.findings.length === 0)).toBe(true);
    const pages = s.standin.requests.map(
      (q) => /\$skiptoken=<cookie pagenumber="(\d)"/.exec(q.path)?.[1] ?? "1",
    );
    expect(pages).toEqual(["1", "2", "3"]);
  });

  it("--flow audits only the flows named, and refuses one the outputs do not have", async () => {
    const s = setup({ environments: 2, flowsPerEnvironment: 2 });
    const r = await s.run(["--flow", "flow-3", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json().flows.map((f) => f.name)).toEqual(["flow-3"]);
    expect(s.standin.requests).toHaveLength(1);
    const bad = await s.run(["--flow", "flow-99", "--json"]);
    expect(bad.code).toBe(2);
    expect(bad.json()).toEqual({
      verdict: "usage",
      flows: [],
      message: "--flow flow-99: no such flow in dev.json (its flows: flow-1, flow-2, flow-3, flow-4)",
    });
  });
});

describe("audit: every finding, end to end", () => {
  it("reports each code on the flow that has it; the verdict is the worst (insecure, exit 3)", async () => {
    const s = setup({ environments: 2, flowsPerEnvironment: 5, callers: 3 });
    const [f1, f2, f3, f4, f5, f6, f7, f8, f9] = s.world.flows;
    const caller = (name: string) => s.world.callers.find((c) => c.name === name)!;
    const ids = (f: (typeof s.world.flows)[number]) =>
      f.callers.map((n) => caller(n).servicePrincipalObjectId);
    f1.row.clientdata = flowDefinition({ authType: "All" });
    f2.row.clientdata = flowDefinition({ authType: "User", allowedUsers: "" });
    f3.row.clientdata = flowDefinition({ authType: "Tenant" });
    f4.row.clientdata = flowDefinition({ authType: "User", allowedUsers: ids(f4)[0] });
    f5.row.clientdata = flowDefinition({
      authType: "User",
      allowedUsers: `${ids(f5)[0]}, ${caller(f5.callers[1]).clientId}`,
    });
    f6.row.clientdata = flowDefinition({
      authType: "User",
      allowedUsers: `${ids(f6).join(";")};${STRANGER}`,
    });
    s.standin.directory.objects.set(STRANGER, { type: "servicePrincipal", displayName: "Old ERP connector" });
    f7.row.statecode = 0;
    s.standin.workflows(f8.origin).splice(s.standin.workflows(f8.origin).indexOf(f8.row), 1);
    f9.row.clientdata = flowDefinition({ kind: "Button" });
    s.world.flows[9].row.clientdata = "{ definitely not json";
    const r = await s.run(["--json"]);
    expect(r.code).toBe(3);
    const json = r.json();
    expect(json.verdict).toBe("insecure");
    expect(codesOf(json)).toEqual({
      "flow-1": ["anyone"],
      "flow-2": ["empty-list"],
      "flow-3": ["tenant"],
      "flow-4": ["missing-caller"],
      "flow-5": ["missing-caller", "app-id-entry"],
      "flow-6": ["unexpected-entry"],
      "flow-7": ["flow-off"],
      "flow-8": ["not-found"],
      "flow-9": ["no-http-trigger"],
      "flow-10": ["unreadable"],
    });
    const f6json = json.flows[5].findings[0];
    expect(f6json).toMatchObject({ severity: "drift", entry: STRANGER });
    expect(f6json.message).toContain(
      `${STRANGER} (Old ERP connector, servicePrincipal) is no caller of this flow`,
    );
    expect(f6json.message).toContain(`Allowed users value: ${ids(f6).join(",")}`);
    // Two environments, one query each; one getByIds for the one entry only Graph can name.
    expect(s.standin.requests.filter((q) => q.host.endsWith(".dynamics.com"))).toHaveLength(2);
    expect(s.standin.requestsTo("graph.microsoft.com").map((q) => `${q.method} ${q.path}`)).toEqual([
      "POST /v1.0/directoryObjects/getByIds",
    ]);
    // It reads: nothing but GETs to Dataverse.
    expect(s.standin.requests.filter((q) => q.host.endsWith(".dynamics.com") && q.method !== "GET")).toEqual(
      [],
    );
    expectNoToken(r.io);
  });

  it("prints, for a flow that drifted, the exact value to paste into Allowed users", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 2 });
    const [f1] = s.world.flows;
    const expected = f1.callers.map(
      (n) => s.world.callers.find((c) => c.name === n)!.servicePrincipalObjectId,
    );
    f1.row.clientdata = flowDefinition({ authType: "User", allowedUsers: `${expected[0]};${STRANGER}` });
    const r = await s.run();
    expect(r.code).toBe(1);
    expect(r.io.stdoutText).toContain(`  flow-1    FAIL      Specific users in my tenant, 2 entries\n`);
    expect(r.io.stdoutText).toContain(`\n    Allowed users value: ${expected.join(",")}\n`);
    expect(r.io.stdoutText).toMatch(
      /^verdict: fail \(exit 1\): 1 match, 0 drift, 1 fail, 0 insecure; 1 Dataverse request, 1 Graph request, \d+ ms$/m,
    );
  });

  it("exit 1 for drift alone (a flow turned off)", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 2 });
    s.world.flows[1].row.statecode = 2;
    const r = await s.run(["--json"]);
    expect(r.code).toBe(1);
    expect(r.json().verdict).toBe("drift");
  });

  it("matches the readable sheet of the fixture stack: a match, an app ID pasted by mistake, an Anyone trigger", async () => {
    const standin = createDataverseStandin();
    const outputs = JSON.parse(readFileSync(fixture("outputs/flows.json"), "utf8"));
    const flows = outputs.flows as Record<
      string,
      { flowId: string; dataverseUrl: string; allowedUsers: string[] }
    >;
    for (const origin of ["https://contoso-dev.crm4.dynamics.com", "https://contoso.crm4.dynamics.com"])
      standin.addOrg(origin);
    const add = (name: string, clientdata: string, workflowid = flows[name].flowId) =>
      standin.addWorkflow(flows[name].dataverseUrl, {
        workflowid,
        resourceid: name === "hr-import" ? flows[name].flowId : "00000000-0000-4000-8000-000000000001",
        name,
        statecode: 1,
        modifiedon: "2026-11-20T08:15:00Z",
        clientdata,
      });
    add(
      "invoice-intake",
      flowDefinition({ authType: "User", allowedUsers: flows["invoice-intake"].allowedUsers[0] }),
    );
    add(
      "customer-sync",
      flowDefinition({
        authType: "User",
        allowedUsers: `${flows["customer-sync"].allowedUsers[1]}; ${outputs.callers.crm.clientId}`,
      }),
    );
    add("hr-import", flowDefinition({ authType: "All" }), "f1e2d3c4-b5a6-4978-8877-665544332211");
    const io = new FakeIo({});
    standin.route(io);
    io.azureCredential = standin.credential;
    const code = await main(["audit", "--outputs", fixture("outputs/flows.json")], io);
    expect(code).toBe(3);
    const lines = io.stdoutText.split("\n");
    expect(lines.slice(0, 2)).toEqual([
      `Flow audit of ${fixture("outputs/flows.json")}: 3 flows in 2 Dataverse environments`,
      "",
    ]);
    expect(lines.slice(2, 11)).toEqual([
      "  invoice-intake  MATCH     Specific users in my tenant, 1 entry",
      "  customer-sync   FAIL      Specific users in my tenant, 2 entries",
      "    fail      missing-caller: caller crm (flow-dev-crm) is not in Allowed users (object ID a51022d1-0172-4711-a6de-885b7e274a7b): the trigger will refuse its calls",
      "    drift     app-id-entry: cdffaa31-54e5-4865-a647-05fa90315433 is the client (application) ID of caller crm (flow-dev-crm); Allowed users takes the object ID of its enterprise application, a51022d1-0172-4711-a6de-885b7e274a7b",
      "    Allowed users value: a51022d1-0172-4711-a6de-885b7e274a7b,8cfbd535-b7a8-4037-854e-6d026b3795d6",
      "  hr-import       INSECURE  Anyone",
      '    insecure  anyone: "Who can trigger the flow" is Anyone (triggerAuthenticationType "All"): whoever holds the URL can run the flow, no token needed. Set it to "Specific users in my tenant", paste the Allowed users value, then put the new URL in the flow\'s triggerUrl in the stack and give it to the callers (the old one, with sig, must stop being used)',
      "    Allowed users value: 16bc54e7-97ad-47e8-ac22-6c5a39fc3433",
      "",
    ]);
  });
});

describe("audit: Microsoft Graph", () => {
  it("resolves e-mail entries through Graph by UPN: a user is named, an unknown address said unresolved", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 1 });
    const [f1] = s.world.flows;
    const ids = f1.callers.map((n) => s.world.callers.find((c) => c.name === n)!.servicePrincipalObjectId);
    s.standin.directory.users.set("ada@contoso.com", {
      id: "5d6059b6-368d-45f8-91e1-8e07d485f1d0",
      displayName: "Ada Lovelace",
    });
    f1.row.clientdata = flowDefinition({
      authType: "User",
      allowedUsers: `${ids.join(";")};Ada@Contoso.com;nobody@contoso.com`,
    });
    const r = await s.run(["--json"]);
    expect(r.code).toBe(1);
    expect(r.json().flows[0].findings.map((f) => f.message.split(" is no caller")[0])).toEqual([
      "Ada@Contoso.com (user Ada Lovelace, object ID 5d6059b6-368d-45f8-91e1-8e07d485f1d0)",
      "nobody@contoso.com (could not be resolved: no such user in the directory)",
    ]);
    expect(s.standin.requestsTo("graph.microsoft.com").map((q) => `${q.method} ${q.path}`)).toEqual([
      "GET /v1.0/users/ada@contoso.com?$select=id,displayName",
      "GET /v1.0/users/nobody@contoso.com?$select=id,displayName",
    ]);
    expect(s.standin.credential.scopes).toContain("https://graph.microsoft.com/.default");
  });

  it("goes on by ID when the identity may not read the directory (403), saying so once", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 1 });
    const [f1] = s.world.flows;
    const ids = f1.callers.map((n) => s.world.callers.find((c) => c.name === n)!.servicePrincipalObjectId);
    s.standin.directory.objectsDenied = true;
    s.standin.directory.usersDenied = true;
    f1.row.clientdata = flowDefinition({
      authType: "User",
      allowedUsers: `${ids.join(";")};${STRANGER};a@contoso.com;b@contoso.com`,
    });
    const r = await s.run();
    expect(r.code).toBe(1);
    expect(r.io.stdoutText).toContain(
      `${STRANGER} (not named: Microsoft Graph refused to read directory objects (403 Authorization_RequestDenied); the application permission Directory.Read.All names them) is no caller`,
    );
    expect(r.io.stdoutText).toContain(
      "a@contoso.com (could not be resolved: Microsoft Graph refused to read users (403 Authorization_RequestDenied)",
    );
    expect(r.io.stdoutText).toContain(
      "note: entries are reported by ID: Microsoft Graph refused to read directory objects",
    );
    // After the first refusal of users, the others are not asked.
    expect(s.standin.requestsTo("graph.microsoft.com")).toHaveLength(2);
  });
});

describe("audit: what Dataverse answers", () => {
  /** One environment of two flows, the other of two that answer normally. */
  const twoEnvironments = () => {
    const s = setup({ environments: 2, flowsPerEnvironment: 2 });
    const [bad, good] = [s.world.flows[0].origin, s.world.flows[2].origin];
    return { s, bad, good };
  };

  it.each([
    ["401: the token is refused", { status: 401 as const }, "Dataverse refused the token (401"],
    [
      "403 0x80072560: the identity is no user of the environment",
      "not-a-user",
      "Dataverse says the identity is no user of this environment (403 0x80072560 The user is not a member of the organization.)",
    ],
    [
      "403 0x80040220: no read on the Process table",
      "no-read-privilege",
      "application user may not read flows (403 0x80040220 Principal user",
    ],
  ] as const)(
    "%s: the environment's flows are unreadable with a hint naming the application user and the read privilege, not retried",
    async (_name, failure, says) => {
      const { s, bad, good } = twoEnvironments();
      if (typeof failure === "string") s.standin.setAccess(bad, failure);
      else s.standin.failNext({ origin: bad }, 1, failure);
      const r = await s.run(["--json"]);
      expect(r.code).toBe(1);
      const json = r.json();
      for (const f of json.flows.slice(0, 2)) {
        expect(f.findings).toHaveLength(1);
        expect(f.findings[0]).toMatchObject({ code: "unreadable", severity: "fail" });
        expect(f.findings[0].message).toContain(says);
        expect(f.findings[0].message).toMatch(/application user|Process \(workflow\) table/);
        expect(f.findings[0].message).toContain("Process (workflow) table");
      }
      expect(json.flows.slice(2).every((f) => f.findings.length === 0)).toBe(true);
      expect(s.standin.requestsTo(bad)).toHaveLength(1);
      expect(s.standin.requestsTo(good)).toHaveLength(1);
    },
  );

  it("404: the Dataverse URL is not the environment's", async () => {
    const { s, bad } = twoEnvironments();
    s.standin.failNext({ origin: bad }, 1, { status: 404 });
    const r = await s.run(["--json"]);
    expect(r.json().flows[0].findings[0].message).toContain(`is ${bad} the environment's Dataverse URL`);
  });

  it("429 with Retry-After and 5xx are retried within the budget, honouring Retry-After, on the injected clock", async () => {
    const { s, bad } = twoEnvironments();
    s.standin.failNext({ origin: bad }, 2, { status: 429, retryAfter: "7" });
    s.standin.failNext({ origin: bad }, 1, { status: 503 });
    const r = await s.run(["--json"]);
    expect(r.code).toBe(0);
    expect(s.standin.requestsTo(bad).map((q) => q.status)).toEqual([429, 429, 503, 200]);
    expect(r.io.sleeps.slice(0, 2)).toEqual([7000, 7000]);
    expect(r.io.sleeps[2]).toBeGreaterThanOrEqual(2000);
    expect(r.elapsedMs).toBe(r.io.sleeps.reduce((a, b) => a + b, 0));
  });

  it("tells each environment read and each wait on stderr as it begins; --quiet tells nothing, with the same result", async () => {
    const { s, bad } = twoEnvironments();
    s.standin.failNext({ origin: bad }, 1, { status: 429, retryAfter: "7" });
    const r = await s.run(["--json"]);
    expect(r.code).toBe(0);
    const host = new URL(bad).host;
    expect(r.io.stderrText.trimEnd().split("\n")).toEqual([
      `dataverse: reading 2 flow(s) from ${bad}`,
      `dataverse: 429 from ${host}, retrying in 7 s (attempt 2, 120 s of budget left)`,
      expect.stringMatching(/^dataverse: reading 2 flow\(s\) from https:\/\/\S+$/),
    ]);
    s.standin.failNext({ origin: bad }, 1, { status: 429, retryAfter: "7" });
    const quiet = await s.run(["--json", "--quiet"]);
    expect(quiet.code).toBe(0);
    expect(quiet.io.stderrText).toBe("");
    expect(quiet.json().verdict).toBe(r.json().verdict);
  });

  it("gives up within --max-wait-s when throttling lasts, reporting the flows unreadable", async () => {
    const { s, bad, good } = twoEnvironments();
    s.standin.failNext({ origin: bad }, 1000, { status: 429, retryAfter: "25" });
    const r = await s.run(["--json", "--max-wait-s", "60"]);
    expect(r.code).toBe(1);
    expect(r.elapsedMs).toBeLessThanOrEqual(60_000);
    expect(s.standin.requestsTo(bad)).toHaveLength(3);
    expect(r.json().flows[0].findings[0].message).toMatch(
      /^Dataverse answered 429 after 3 attempts: 0x80072322: Number of requests exceeded .*\(gave up: the server asked to wait 25 s \(Retry-After\), more than the 10 s left of --max-wait-s\)$/,
    );
    expect(s.standin.requestsTo(good)).toHaveLength(1);
  });

  it("a request that never answers times out and is retried within the budget", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 2 });
    s.standin.failNext({ origin: s.world.flows[0].origin }, 1000, { network: "hang" });
    const r = await s.run(["--json", "--max-wait-s", "45"]);
    expect(r.code).toBe(1);
    expect(r.elapsedMs).toBeLessThanOrEqual(45_000 + 1_000);
    expect(r.json().flows[0].findings[0].message).toMatch(
      /^no answer from Dataverse after \d attempts: no answer within \d+ ms \(gave up: /,
    );
  });

  it.each([
    [
      "an HTML page instead of OData JSON",
      { misbehave: "not-json" as const },
      "with text/html; charset=utf-8 that is not OData JSON",
    ],
    [
      "JSON without the value array",
      { status: 200 as const, body: { d: { results: [] } } },
      'JSON without the OData "value" array',
    ],
    [
      "a 400 in the OData error shape",
      { status: 400 as const, body: { error: { code: "0x80060888", message: "Syntax error" } } },
      "Dataverse answered 400: 0x80060888: Syntax error",
    ],
  ])("%s: that environment's flows are unreadable, the other's read", async (_name, failure, says) => {
    const { s, bad } = twoEnvironments();
    s.standin.failNext({ origin: bad }, 1, failure);
    const r = await s.run(["--json"]);
    expect(r.code).toBe(1);
    expect(codesOf(r.json())).toEqual({
      "flow-1": ["unreadable"],
      "flow-2": ["unreadable"],
      "flow-3": [],
      "flow-4": [],
    });
    expect(r.json().flows[0].findings[0].message).toContain(says);
  });

  it("an answer too large to read is read again flow by flow: only the flow whose definition is huge is unreadable", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 3 });
    s.world.flows[1].row.clientdata = flowDefinition({
      authType: "User",
      allowedUsers: "x".repeat(17 * 1024 * 1024),
    });
    const r = await s.run(["--json"]);
    expect(r.code).toBe(1);
    expect(codesOf(r.json())).toEqual({ "flow-1": [], "flow-2": ["unreadable"], "flow-3": [] });
    expect(r.json().flows[1].findings[0].message).toBe(
      "Dataverse's answer for this flow is larger than 16 MiB: not read",
    );
    expect(s.standin.requests).toHaveLength(1 + 3);
  });

  it("a huge answer once, then normal ones: every flow is read, one request more per flow", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 2 });
    s.standin.failNext({ origin: s.world.flows[0].origin }, 1, { misbehave: "huge-body" });
    const r = await s.run(["--json"]);
    expect(r.code).toBe(0);
    expect(s.standin.requests).toHaveLength(3);
  });

  it("an endless body is cut at the cap, never read whole: the flows are unreadable, the audit ends", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 2 });
    s.standin.failNext({ origin: s.world.flows[0].origin }, 1000, { misbehave: "endless-body" });
    const r = await s.run(["--json"]);
    expect(r.code).toBe(1);
    expect(r.json().flows.map((f) => f.findings[0].message)).toEqual([
      "Dataverse's answer for this flow is larger than 16 MiB: not read",
      "Dataverse's answer for this flow is larger than 16 MiB: not read",
    ]);
  });

  it("endless paging stops after a bounded number of pages", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 2 });
    s.standin.failNext({ origin: s.world.flows[0].origin }, 1000, { misbehave: "endless-paging" });
    const r = await s.run(["--json"]);
    expect(r.code).toBe(1);
    expect(r.json().flows[0].findings[0].message).toContain(
      `kept answering next pages (more than ${MAX_PAGES})`,
    );
    expect(s.standin.requests).toHaveLength(MAX_PAGES);
  });

  it("a redirect to another host: exit 2 naming the host, never followed, no token sent there", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 2 });
    s.standin.failNext({ origin: s.world.flows[0].origin }, 1, { misbehave: "redirect" });
    const elsewhere: string[] = [];
    const r = await s.run(["--json"], (io) =>
      io.routes.set("login.example.net", (async (input: string | URL | Request) => {
        elsewhere.push(String(input));
        return new Response("{}");
      }) as typeof fetch),
    );
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ verdict: "usage", flows: [] });
    expect(r.json().message).toContain("login.example.net");
    expect(elsewhere).toEqual([]);
    expect(s.standin.requests).toHaveLength(1);
  });

  it("a next-page link to another host: exit 2 naming the host, and no request (no token) goes there", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 2 });
    s.standin.failNext({ origin: s.world.flows[0].origin }, 1, { misbehave: "next-other-host" });
    const elsewhere: string[] = [];
    const r = await s.run(["--json"], (io) =>
      io.routes.set("elsewhere.example.net", (async (input: string | URL | Request) => {
        elsewhere.push(String(input));
        return new Response("{}");
      }) as typeof fetch),
    );
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ verdict: "usage", flows: [] });
    expect(r.json().message).toContain(
      "a next-page link to another host (elsewhere.example.net): not followed, and no token was sent there",
    );
    expect(elsewhere).toEqual([]);
  });
});

describe("audit: bad input and setup", () => {
  it("outputs without flows: exit 2 saying how to add them", async () => {
    const io = new FakeIo({});
    const code = await main(["audit", "--outputs", fixture("outputs/dev.json")], io);
    expect(code).toBe(2);
    expect(io.stdoutText).toBe("");
    expect(io.stderrText).toContain(
      "has no flows to audit: list the flows the stack's callers may trigger in the stack configuration (`flow-trigger-auth:flows`",
    );
    expect(io.stderrText).toContain("run `pulumi up`, then save the outputs again");
    const json = new FakeIo({});
    expect(await main(["audit", "--outputs", fixture("outputs/dev.json"), "--json"], json)).toBe(2);
    expect(json.json()).toMatchObject({ verdict: "usage", flows: [] });
  });

  it("more than one stack at a time, or a flow name that cannot be one: exit 2", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 1 });
    const two = await s.run(["--outputs", "dev.json"]);
    expect(two.code).toBe(2);
    expect(two.io.stderrText).toContain("give one --outputs FILE or --stack NAME");
    const bad = await s.run(["--flow", "Invoice Intake"]);
    expect(bad.code).toBe(2);
    expect(bad.io.stderrText).toContain("audit: --flow: must be a flow name");
    expect(s.standin.requests).toEqual([]);
  });

  it("outputs whose flows are inconsistent are refused before any request (exit 2), naming the key", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 1 });
    const outputs = structuredClone(s.world.outputs) as { flows: Record<string, { dataverseUrl: string }> };
    outputs.flows["flow-1"].dataverseUrl = "https://contoso.example.com";
    writeFileSync(join(s.dir, "dev.json"), JSON.stringify(outputs));
    const r = await s.run();
    expect(r.code).toBe(2);
    expect(r.io.stderrText).toContain(
      "flows.flow-1.dataverseUrl: must be a Dataverse organisation URL of cloud public",
    );
    expect(s.standin.requests).toEqual([]);
  });

  it("no Azure credential on the machine: exit 2 saying how to sign in", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 1 });
    s.standin.credential.failWith = Object.assign(
      new Error("EnvironmentCredential is unavailable.\nManagedIdentityCredential: ..."),
      {
        name: "CredentialUnavailableError",
      },
    );
    const r = await s.run();
    expect(r.code).toBe(2);
    expect(r.io.stderrText).toContain("no Azure credential to read");
    expect(r.io.stderrText).toContain("`az login`");
    expect(r.io.stderrText).toContain("(EnvironmentCredential is unavailable.)");
  });

  it("a failure of the tool itself: exit 70 and one JSON document with verdict error", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 1 });
    const r = await s.run(["--json"], (io) =>
      Object.defineProperty(io, "azureCredential", {
        get: () => {
          throw new Error("credential store is corrupt");
        },
      }),
    );
    expect(r.code).toBe(70);
    expect(r.json()).toEqual({ verdict: "error", flows: [], message: "credential store is corrupt" });
  });

  it("a token the identity cannot get for one environment: its flows are unreadable, saying why", async () => {
    const s = setup({ environments: 1, flowsPerEnvironment: 1 });
    s.standin.credential.failWith = Object.assign(
      new Error(
        "AADSTS500011: The resource principal named https://orgx.crm4.dynamics.com was not found in the tenant.",
      ),
      { name: "AuthenticationError" },
    );
    const r = await s.run(["--json"]);
    expect(r.code).toBe(1);
    expect(r.json().flows[0].findings[0]).toMatchObject({
      code: "unreadable",
      message: expect.stringContaining("AADSTS500011"),
    });
  });
});
