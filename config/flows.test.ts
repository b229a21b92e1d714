/**
 * `flow-trigger-auth:flows`: the flows the stack's callers may trigger, checked like the rest of the
 * config (every problem at once, by key path), with the smoke test's rules for trigger URLs and the
 * cloud's Dataverse domain for Dataverse URLs.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from ".";
import { NS, raw, problems } from "../test/helpers/config";

const ENV = "7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d";
const TRIGGER =
  "https://7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c.6d.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/5f0d1c2b3a4e4f60a1b2c3d4e5f60718/triggers/manual/paths/invoke?api-version=1";
const OTHER_TRIGGER =
  "https://0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c.4d.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/9a8b7c6d5e4f40312a1b0c9d8e7f6a5b/triggers/manual/paths/invoke?api-version=1";
const FLOW_ID = "3b1f6a2e-8d4c-4f1a-9e2b-7c6d5e4f3a21";
const DATAVERSE = "https://contoso-dev.crm4.dynamics.com";

/** A valid flow named `name`, with `changes`. */
function flow(name: string, changes: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    triggerUrl: TRIGGER,
    callers: ["erp"],
    flowId: FLOW_ID,
    dataverseUrl: DATAVERSE,
    ...changes,
  };
}

/** The problems of a stack whose flows are `flows` (and `changes`), as `path: message` lines. */
function flowProblems(flows: unknown, changes: Record<string, unknown> = {}): string[] {
  return problems({ [`${NS}:flows`]: flows, ...changes }).map((p) => `${p.path}: ${p.message}`);
}

describe("flows in the stack config", () => {
  it("are none by default, and keep what each names", () => {
    expect(parseStackConfig(raw(), "dev").flows).toEqual([]);
    const c = parseStackConfig(
      raw({
        [`${NS}:flows`]: [
          flow("invoice-intake"),
          flow("customer-sync", {
            callers: ["crm", "erp"],
            flowId: "C4D5E6F7-1A2B-4C3D-8E9F-0A1B2C3D4E5F",
            dataverseUrl: "https://contoso-dev.crm4.dynamics.com/",
          }),
        ],
      }),
      "dev",
    );
    expect(c.flows).toEqual([
      flow("invoice-intake"),
      flow("customer-sync", {
        callers: ["crm", "erp"],
        flowId: "C4D5E6F7-1A2B-4C3D-8E9F-0A1B2C3D4E5F",
        dataverseUrl: "https://contoso-dev.crm4.dynamics.com/",
      }),
    ]);
  });

  it("take up to 50 flows, and the trigger and Dataverse hosts of the stack's cloud", () => {
    const fifty = Array.from({ length: 50 }, (_, i) =>
      flow(`flow-${i}`, { flowId: `${FLOW_ID.slice(0, -2)}${String(i).padStart(2, "0")}` }),
    );
    expect(parseStackConfig(raw({ [`${NS}:flows`]: fifty }), "dev").flows).toHaveLength(50);
    const gcc = parseStackConfig(
      raw({
        [`${NS}:cloud`]: "gcc",
        [`${NS}:flows`]: [
          flow("intake", {
            triggerUrl:
              "https://7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c6.d.environment.api.gov.powerplatform.microsoft.us/powerautomate/automations/direct/workflows/5f0d/triggers/manual/paths/invoke?api-version=1",
            dataverseUrl: "https://contoso.crm9.dynamics.com",
          }),
        ],
      }),
      "dev",
    );
    expect(gcc.flows[0].dataverseUrl).toBe("https://contoso.crm9.dynamics.com");
  });

  it("take a legacy trigger URL, as the smoke test does (sovereign clouds still use them)", () => {
    const c = parseStackConfig(
      raw({
        [`${NS}:cloud`]: "gcchigh",
        [`${NS}:flows`]: [
          flow("intake", {
            triggerUrl:
              "https://prod-01.usgovvirginia.logic.azure.us:443/workflows/5f0d1c2b3a4e4f60a1b2c3d4e5f60718/triggers/manual/paths/invoke?api-version=2016-06-01",
            dataverseUrl: "https://contoso.crm.microsoftdynamics.us",
          }),
        ],
      }),
      "dev",
    );
    expect(c.flows).toHaveLength(1);
  });

  it("leave the smoke test as it was: both at once", () => {
    const c = parseStackConfig(
      raw({
        [`${NS}:smokeTest`]: { triggerUrl: TRIGGER, caller: "erp" },
        [`${NS}:flows`]: [flow("invoice-intake")],
      }),
      "dev",
    );
    expect(c.smokeTest).toEqual({ triggerUrl: TRIGGER, caller: "erp" });
    expect(c.flows.map((f) => f.name)).toEqual(["invoice-intake"]);
  });
});

describe("bad flows are refused, each problem by its key path", () => {
  it.each([
    [
      "an unknown caller, naming the stack's callers",
      [flow("invoice-intake", { callers: ["erp", "billing"] })],
      `${NS}:flows[0].callers[1]: "billing" must name one of the callers: erp, crm`,
    ],
    [
      "a caller listed twice",
      [flow("invoice-intake", { callers: ["erp", "erp"] })],
      `${NS}:flows[0].callers[1]: "erp" is listed twice: list each caller once`,
    ],
    [
      "no callers",
      [flow("invoice-intake", { callers: [] })],
      `${NS}:flows[0].callers: must list at least 1 caller: the callers that may trigger the flow`,
    ],
    [
      "a duplicate flow name",
      [flow("invoice-intake"), flow("invoice-intake", { flowId: "c4d5e6f7-1a2b-4c3d-8e9f-0a1b2c3d4e5f" })],
      `${NS}:flows[1].name: "invoice-intake" is already used by flows[0]; flow names must be unique`,
    ],
    [
      "a malformed flow name",
      [flow("Invoice Intake")],
      `${NS}:flows[0].name: "Invoice Intake" must be lowercase letters, digits and hyphens, start with a letter, at most 40 characters`,
    ],
    [
      "a trigger URL with sig (an Anyone trigger)",
      [flow("invoice-intake", { triggerUrl: `${TRIGGER}&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&SIG=abc` })],
      `${NS}:flows[0].triggerUrl: carries a "sig" parameter: an "Anyone" trigger, callable by whoever holds the URL`,
    ],
    [
      "a trigger URL over http",
      [flow("invoice-intake", { triggerUrl: TRIGGER.replace("https:", "http:") })],
      `${NS}:flows[0].triggerUrl: must be an https:// URL (got http://)`,
    ],
    [
      "a trigger URL on another host",
      [flow("invoice-intake", { triggerUrl: "https://flows.example.com/invoke" })],
      `${NS}:flows[0].triggerUrl: has a host that is not Power Automate's in cloud public`,
    ],
    [
      "a flow ID that is no GUID",
      [flow("invoice-intake", { flowId: "5f0d1c2b3a4e4f60a1b2c3d4e5f60718" })],
      `${NS}:flows[0].flowId: "5f0d1c2b3a4e4f60a1b2c3d4e5f60718" must be the flow's ID, a GUID: the end of its address in Power Automate (.../flows/<flow ID>), or its solution's workflowid`,
    ],
    [
      "a Dataverse URL off the cloud's Dataverse domain",
      [flow("invoice-intake", { dataverseUrl: "https://contoso.crm4.dynamics.com.evil.example" })],
      `${NS}:flows[0].dataverseUrl: "https://contoso.crm4.dynamics.com.evil.example" must be the URL of the environment's Dataverse organisation in cloud public: https://<organisation>.dynamics.com, nothing after the host`,
    ],
    [
      "a Dataverse URL with the Web API path",
      [flow("invoice-intake", { dataverseUrl: `${DATAVERSE}/api/data/v9.2` })],
      `${NS}:flows[0].dataverseUrl: "${DATAVERSE}/api/data/v9.2" must be the URL of the environment's Dataverse organisation`,
    ],
    [
      "a Dataverse URL over http",
      [flow("invoice-intake", { dataverseUrl: DATAVERSE.replace("https:", "http:") })],
      `${NS}:flows[0].dataverseUrl: "http://contoso-dev.crm4.dynamics.com" must be the URL`,
    ],
    [
      "an unknown key",
      [flow("invoice-intake", { environmentId: ENV })],
      `${NS}:flows[0].environmentId: unknown key; allowed keys: name, triggerUrl, callers, flowId, dataverseUrl`,
    ],
    [
      "a flow that is not an object",
      ["invoice-intake"],
      `${NS}:flows[0]: must be an object { name, triggerUrl, callers, flowId, dataverseUrl }`,
    ],
    [
      "flows given as one object",
      flow("invoice-intake"),
      `${NS}:flows: must be a list of 0 to 50 flows, each { name, triggerUrl, callers, flowId, dataverseUrl }`,
    ],
    [
      "more than 50 flows",
      Array.from({ length: 51 }, (_, i) => flow(`flow-${i}`)),
      `${NS}:flows: must list at most 50 flows`,
    ],
    [
      "the same flow twice",
      [flow("invoice-intake"), flow("invoice-intake-2", { flowId: FLOW_ID.toUpperCase(), callers: ["crm"] })],
      `${NS}:flows[1].flowId: is the flow of flows[0] (same flow ID and Dataverse URL): list each flow once, with all its callers`,
    ],
    [
      "one Dataverse URL for trigger URLs of two environments",
      [
        flow("invoice-intake"),
        flow("customer-sync", { triggerUrl: OTHER_TRIGGER, flowId: "c4d5e6f7-1a2b-4c3d-8e9f-0a1b2c3d4e5f" }),
      ],
      `${NS}:flows[1].dataverseUrl: is also the Dataverse URL of flows[0], whose trigger URL is in environment ${ENV}; this flow's trigger URL is in environment 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d`,
    ],
  ])("%s", (_name, flows, says) => {
    const found = flowProblems(flows);
    expect(
      found.some((p) => p.startsWith(says)),
      found.join("\n"),
    ).toBe(true);
  });

  it("names a missing key and what it takes", () => {
    expect(flowProblems([{ name: "invoice-intake", callers: ["erp"] }])).toEqual([
      `${NS}:flows[0].triggerUrl: is missing; it must be the flow's HTTPS trigger URL, as its trigger shows it`,
      `${NS}:flows[0].flowId: is missing; it must be the flow's ID, a GUID: the end of its address in Power Automate (.../flows/<flow ID>), or its solution's workflowid`,
      `${NS}:flows[0].dataverseUrl: is missing; it must be the environment's Dataverse URL, e.g. https://contoso.crm4.dynamics.com`,
    ]);
  });

  it("checks trigger and Dataverse hosts against the stack's cloud", () => {
    expect(flowProblems([flow("invoice-intake")], { [`${NS}:cloud`]: "gcchigh" })).toEqual([
      `${NS}:flows[0].triggerUrl: has a host that is not Power Automate's in cloud gcchigh (expected *.environment.api.high.powerplatform.microsoft.us): the bearer token would be sent to it. Copy the URL from the trigger`,
      `${NS}:flows[0].dataverseUrl: "${DATAVERSE}" must be the URL of the environment's Dataverse organisation in cloud gcchigh: https://<organisation>.crm.microsoftdynamics.us, nothing after the host (Power Platform admin center > Environments > the environment > Environment URL)`,
    ]);
  });

  it("reports every problem of every flow at once, with the rest of the config's", () => {
    const found = problems({
      [`${NS}:flows`]: [
        flow("invoice-intake", { callers: ["billing"], flowId: "nope" }),
        flow("invoice-intake", {
          triggerUrl: `${TRIGGER}&sig=x`,
          dataverseUrl: "https://contoso.example.com",
        }),
      ],
      [`${NS}:rotation`]: { rotationDays: 1 },
    });
    expect(found.map((p) => p.path).sort()).toEqual(
      [
        `${NS}:flows[0].callers[0]`,
        `${NS}:flows[0].flowId`,
        `${NS}:flows[1].name`,
        `${NS}:flows[1].triggerUrl`,
        `${NS}:flows[1].dataverseUrl`,
        `${NS}:rotation.rotationDays`,
      ].sort(),
    );
  });

  it("never repeats a trigger URL in a message (a URL with sig is a secret)", () => {
    const found = flowProblems([flow("invoice-intake", { triggerUrl: `${TRIGGER}&sig=s3cr3t-signature` })]);
    expect(found.join("\n")).not.toContain("s3cr3t-signature");
  });
});
