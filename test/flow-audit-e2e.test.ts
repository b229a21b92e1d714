/**
 * The whole loop of a flow, in-process: a stack config with flows, the program's outputs under the
 * mocked engine, saved as `pulumi stack output --json` saves them, the hand-off sheet's value pasted
 * by the flow maker into the flow (the Dataverse stand-in), then `audit` against that flow: a match;
 * and after a maker's edit (a client ID pasted in place of an object ID), the right findings and the
 * exact value to paste back.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../cli/main";
import type { AuditJson } from "../commands/audit/render";
import type { HandoffSheet } from "../commands/handoff/sheet";
import { parseStackConfig } from "../config";
import { resolveDeep } from "../engine/mock-engine";
import { defineStack } from "../program";
import { FakeAzure, SUBSCRIPTION_ID } from "./helpers/fake-azure";
import { FakeIo } from "./helpers/fake-io";
import { createDataverseStandin, flowDefinition, type StandinWorkflow } from "../standin/dataverse";

const NOW = Date.parse("2026-11-22T09:30:00Z");
const PRINCIPAL = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c";
const DEV_ORG = "https://contoso-dev.crm4.dynamics.com";
const HR_ORG = "https://contoso-hr.crm4.dynamics.com";
const path =
  "/powerautomate/automations/direct/workflows/5f0d1c2b3a4e4f60a1b2c3d4e5f60718/triggers/manual/paths/invoke?api-version=1";

const FLOWS = [
  {
    name: "invoice-intake",
    triggerUrl: `https://7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c.6d.environment.api.powerplatform.com:443${path}`,
    callers: ["erp", "deploy-bot"],
    flowId: "3b1f6a2e-8d4c-4f1a-9e2b-7c6d5e4f3a21",
    dataverseUrl: DEV_ORG,
  },
  {
    name: "customer-sync",
    triggerUrl: `https://7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c.6d.environment.api.powerplatform.com:443${path}`,
    callers: ["logic-app", "erp"],
    flowId: "c4d5e6f7-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
    dataverseUrl: DEV_ORG,
  },
  {
    name: "hr-import",
    triggerUrl: `https://0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c.4d.environment.api.powerplatform.com:443${path}`,
    callers: ["deploy-bot"],
    flowId: "e8f7a6b5-c4d3-4e2f-9a1b-2c3d4e5f6a7b",
    dataverseUrl: HR_ORG,
  },
];

/** `pulumi up` of a stack with flows, then `pulumi stack output --json > dev.json`; the folder. */
async function deployAndSaveOutputs(): Promise<{ dir: string; outputs: any }> {
  const config = parseStackConfig(
    {
      "azure-native:location": "westeurope",
      "azure-native:subscriptionId": SUBSCRIPTION_ID,
      "flow-trigger-auth:callers": JSON.stringify([
        { name: "erp" },
        {
          name: "deploy-bot",
          credential: "federated",
          federatedCredentials: [{ github: { repository: "contoso/erp-sync", environment: "prod" } }],
        },
        { name: "logic-app", credential: "managedIdentity", managedIdentity: { principalId: PRINCIPAL } },
      ]),
      "flow-trigger-auth:flows": JSON.stringify(FLOWS),
    },
    "dev",
  );
  const fake = new FakeAzure({
    principals: {
      [PRINCIPAL]: { clientId: "5b1e0a2c-1111-4222-8333-444455556666", displayName: "logic-app-prod" },
    },
  });
  const run = await fake.run(() => defineStack(config, NOW, "dev"), "dev", NOW);
  expect(run.failures).toEqual([]);
  // What `pulumi stack output --json` prints: the exports' plain values.
  const outputs = JSON.parse(JSON.stringify(await resolveDeep(run.result)));
  const dir = mkdtempSync(join(tmpdir(), "fta-flow-loop-"));
  writeFileSync(join(dir, "dev.json"), JSON.stringify(outputs, null, 2));
  return { dir, outputs };
}

describe("a flow from the stack config to the audit", () => {
  it("matches once the maker pasted the sheet's value, and after a client ID is pasted says what is wrong and what to paste", async () => {
    const { dir, outputs } = await deployAndSaveOutputs();

    // The hand-off sheet, from the saved outputs.
    const sheetIo = new FakeIo({}, dir);
    expect(await main(["handoff", "--outputs", "dev.json", "--format", "json"], sheetIo)).toBe(0);
    const sheet = JSON.parse(sheetIo.stdoutText) as HandoffSheet;
    const byName = new Map(sheet.environments[0].flows.map((f) => [f.name, f]));
    expect([...byName.keys()].sort()).toEqual(["customer-sync", "hr-import", "invoice-intake"]);
    const erp = outputs.callers.erp;
    const bot = outputs.callers["deploy-bot"];
    expect(byName.get("customer-sync")!.allowedUsersLine).toBe(
      `${PRINCIPAL},${erp.servicePrincipalObjectId}`,
    );

    // Each flow in its environment's Dataverse, its trigger set as the sheet says.
    let current: FakeIo | undefined;
    const standin = createDataverseStandin({ onHang: () => current?.expireEarliestTimer() });
    standin.addOrg(DEV_ORG);
    standin.addOrg(HR_ORG);
    const rows = new Map<string, StandinWorkflow>();
    for (const f of FLOWS) {
      const row: StandinWorkflow = {
        workflowid: crypto.randomUUID(),
        resourceid: f.flowId,
        name: f.name,
        statecode: 1,
        modifiedon: "2026-11-22T08:00:00Z",
        clientdata: flowDefinition({ authType: "User", allowedUsers: byName.get(f.name)!.allowedUsersLine }),
      };
      standin.addWorkflow(f.dataverseUrl, row);
      rows.set(f.name, row);
    }
    const audit = async (args: string[] = []) => {
      const io = new FakeIo({}, dir);
      standin.route(io);
      io.azureCredential = standin.credential;
      current = io;
      const code = await main(["audit", "--outputs", "dev.json", "--json", ...args], io);
      return { code, json: io.json<AuditJson>(), io };
    };

    const clean = await audit();
    expect(clean.code).toBe(0);
    expect(clean.json.verdict).toBe("match");
    expect(clean.json.flows.map((f) => [f.name, f.mode, f.findings])).toEqual([
      ["invoice-intake", "specific-users", []],
      ["customer-sync", "specific-users", []],
      ["hr-import", "specific-users", []],
    ]);
    // One query per Dataverse environment.
    expect(standin.requests.map((r) => r.host).sort()).toEqual([
      "contoso-dev.crm4.dynamics.com",
      "contoso-hr.crm4.dynamics.com",
    ]);

    // A maker pastes the federated caller's client ID where its object ID belongs.
    rows.get("invoice-intake")!.clientdata = flowDefinition({
      authType: "User",
      allowedUsers: `${erp.servicePrincipalObjectId}; ${bot.clientId}`,
    });
    const drifted = await audit(["--flow", "invoice-intake"]);
    expect(drifted.code).toBe(1);
    expect(drifted.json.verdict).toBe("fail");
    const [flow] = drifted.json.flows;
    expect(flow.findings.map((f) => [f.code, f.severity, f.entry])).toEqual([
      ["missing-caller", "fail", bot.servicePrincipalObjectId],
      ["app-id-entry", "drift", bot.clientId],
    ]);
    const value = `${erp.servicePrincipalObjectId},${bot.servicePrincipalObjectId}`;
    expect(value).toBe(byName.get("invoice-intake")!.allowedUsersLine);
    for (const f of flow.findings) expect(f.message).toMatch(new RegExp(`Allowed users value: ${value}$`));
    expect(flow.findings[1].message).toContain(
      `${bot.clientId} is the client (application) ID of caller deploy-bot (flow-dev-deploy-bot); Allowed users takes the object ID of its enterprise application, ${bot.servicePrincipalObjectId}`,
    );

    // The text report prints the same value on its own line.
    const text = new FakeIo({}, dir);
    standin.route(text);
    text.azureCredential = standin.credential;
    expect(await main(["audit", "--outputs", "dev.json", "--flow", "invoice-intake"], text)).toBe(1);
    expect(text.stdoutText.split("\n")).toContain(`    Allowed users value: ${value}`);
  });
});

describe("a flow called by a user caller, from the stack config to the audit", () => {
  it("expects the people, not the app: a match with them, a missing person and the app's object ID found after an edit", async () => {
    const lisa = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d";
    const omar = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9";
    const flow = { ...FLOWS[0], name: "portal-submit", callers: ["portal"] };
    const config = parseStackConfig(
      {
        "flow-trigger-auth:callers": JSON.stringify([
          {
            name: "portal",
            credential: "user",
            platform: "spa",
            redirectUris: ["https://portal.contoso.com/"],
            users: [lisa, omar],
          },
        ]),
        "flow-trigger-auth:flows": JSON.stringify([flow]),
      },
      "dev",
    );
    const run = await new FakeAzure().run(() => defineStack(config, NOW, "dev"), "dev", NOW);
    expect(run.failures).toEqual([]);
    const outputs = JSON.parse(JSON.stringify(await resolveDeep(run.result)));
    expect(outputs.flows["portal-submit"].allowedUsers).toEqual([lisa, omar]);
    const dir = mkdtempSync(join(tmpdir(), "fta-user-flow-"));
    writeFileSync(join(dir, "dev.json"), JSON.stringify(outputs, null, 2));

    const sheetIo = new FakeIo({}, dir);
    expect(await main(["handoff", "--outputs", "dev.json", "--format", "json"], sheetIo)).toBe(0);
    const line = (JSON.parse(sheetIo.stdoutText) as HandoffSheet).environments[0].flows[0].allowedUsersLine;
    expect(line).toBe(`${lisa},${omar}`);

    let current: FakeIo | undefined;
    const standin = createDataverseStandin({ onHang: () => current?.expireEarliestTimer() });
    standin.addOrg(DEV_ORG);
    const row: StandinWorkflow = {
      workflowid: crypto.randomUUID(),
      resourceid: flow.flowId,
      name: flow.name,
      statecode: 1,
      modifiedon: "2026-11-22T08:00:00Z",
      clientdata: flowDefinition({ authType: "User", allowedUsers: line }),
    };
    standin.addWorkflow(DEV_ORG, row);
    const audit = async () => {
      const io = new FakeIo({}, dir);
      standin.route(io);
      io.azureCredential = standin.credential;
      current = io;
      const code = await main(["audit", "--outputs", "dev.json", "--json"], io);
      return { code, json: io.json<AuditJson>() };
    };
    const clean = await audit();
    expect(clean.code).toBe(0);
    expect(clean.json.flows[0].findings).toEqual([]);

    // A maker lists the app's enterprise application instead of Omar: Omar will be refused.
    const app = outputs.callers.portal.servicePrincipalObjectId;
    row.clientdata = flowDefinition({ authType: "User", allowedUsers: `${lisa};${app}` });
    const edited = await audit();
    expect(edited.code).toBe(1);
    expect(edited.json.flows[0].findings.map((f) => [f.code, f.entry])).toEqual([
      ["missing-caller", omar],
      ["unexpected-entry", app],
    ]);
    expect(edited.json.flows[0].findings[1].message).toContain(
      `${app} is the object ID of caller portal (flow-dev-portal), which calls with its people's tokens`,
    );
  });
});
