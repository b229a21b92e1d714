/**
 * The optional `flows` of the stack outputs, checked like the rest before the audit uses them: every
 * problem named by key path (trigger URL rules, GUIDs, the cloud's Dataverse domain, the environment
 * of the trigger URL, callers that exist, Allowed users that are exactly theirs); and the per-cloud
 * rules they rest on.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLOUD_NAMES, dataverseOriginOf, DATAVERSE_DOMAIN, GRAPH_HOST, type CloudName } from "../clouds";
import { parseStackOutputs, StackOutputsError } from "../lib/stack-outputs";
import { environmentIdOfTriggerUrl } from "../trigger-url";
import { fixture } from "./helpers/cli";

const FLOWS = () => JSON.parse(readFileSync(fixture("outputs/flows.json"), "utf8"));

/** The problems parsing `outputs` reports, as `key path: message` strings. */
function problems(outputs: unknown): string {
  try {
    parseStackOutputs(outputs, "flows.json");
  } catch (err) {
    expect(err).toBeInstanceOf(StackOutputsError);
    return (err as Error).message;
  }
  return "";
}

/** The fixture with `change` applied to flow `name`. */
function withFlow(name: string, change: (flow: Record<string, unknown>) => void): unknown {
  const o = FLOWS();
  change(o.flows[name]);
  return o;
}

describe("stack outputs with flows", () => {
  it("parse, and outputs without flows still do", () => {
    const parsed = parseStackOutputs(FLOWS(), "flows.json");
    expect(Object.keys(parsed.flows ?? {})).toEqual(["invoice-intake", "customer-sync", "hr-import"]);
    expect(parsed.flows?.["hr-import"].environmentId).toBe("Default-eb4abb67-170c-4ad7-977a-78b7180211ed");
    const { flows: _flows, ...without } = FLOWS();
    expect(parseStackOutputs(without, "dev.json").flows).toBeUndefined();
  });

  it.each([
    [
      "a trigger URL with sig",
      (f: Record<string, unknown>) =>
        (f.triggerUrl = `${f.triggerUrl}&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=abc`),
      'flows.invoice-intake.triggerUrl: carries a "sig" parameter',
    ],
    [
      "a trigger URL on another host",
      (f: Record<string, unknown>) => (f.triggerUrl = "https://flows.example.com/invoke"),
      "flows.invoice-intake.triggerUrl: has a host that is not Power Automate's in cloud public",
    ],
    [
      "a trigger URL over http",
      (f: Record<string, unknown>) => (f.triggerUrl = String(f.triggerUrl).replace("https:", "http:")),
      "flows.invoice-intake.triggerUrl: must be an https:// URL",
    ],
    [
      "a flow ID that is no GUID",
      (f: Record<string, unknown>) => (f.flowId = "invoice-intake"),
      "flows.invoice-intake.flowId: must be a GUID",
    ],
    [
      "an environment ID other than the trigger URL's",
      (f: Record<string, unknown>) => (f.environmentId = "11111111-2222-4333-8444-555555555555"),
      "flows.invoice-intake.environmentId: must be 7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d, the environment of the trigger URL's host",
    ],
    [
      "no environment ID for a trigger URL whose host names one",
      (f: Record<string, unknown>) => delete f.environmentId,
      "flows.invoice-intake.environmentId: must be 7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d, the environment of the trigger URL's host",
    ],
    [
      "a Dataverse URL off the cloud's Dataverse domain",
      (f: Record<string, unknown>) => (f.dataverseUrl = "https://contoso.crm4.dynamics.com.evil.example"),
      "flows.invoice-intake.dataverseUrl: must be a Dataverse organisation URL of cloud public: https://<org>.dynamics.com",
    ],
    [
      "a Dataverse URL with a path",
      (f: Record<string, unknown>) =>
        (f.dataverseUrl = "https://contoso-dev.crm4.dynamics.com/api/data/v9.2"),
      "flows.invoice-intake.dataverseUrl: must be a Dataverse organisation URL",
    ],
    [
      "a caller the stack does not have",
      (f: Record<string, unknown>) => (f.callers = ["erp", "billing"]),
      "flows.invoice-intake.callers.1: billing is not a caller of this stack (callers: erp, crm, hr-sync)",
    ],
    [
      "a caller named twice",
      (f: Record<string, unknown>) => (f.callers = ["erp", "erp"]),
      "flows.invoice-intake.callers.1: names erp twice",
    ],
    [
      "Allowed users other than the callers' object IDs",
      (f: Record<string, unknown>) => (f.allowedUsers = ["d39501b8-7511-4abd-9831-7bd0aed9fc7f"]),
      "flows.invoice-intake.allowedUsers: must list exactly the object IDs the flow's callers put into Allowed users (each caller's servicePrincipalObjectId; for a user caller, its users)",
    ],
    ["no callers", (f: Record<string, unknown>) => (f.callers = []), "flows.invoice-intake.callers:"],
    [
      "an unknown key",
      (f: Record<string, unknown>) => (f.owner = "me"),
      "flows.invoice-intake: Unrecognized key",
    ],
  ])("refuse %s, naming the key", (_name, change, says) => {
    expect(problems(withFlow("invoice-intake", change))).toContain(says);
  });

  it("parse without an environment ID for a legacy trigger URL, whose host names none", () => {
    const o = withFlow("hr-import", (f) => {
      f.triggerUrl =
        "https://prod-27.westeurope.logic.azure.com:443/workflows/0e1d2c3b4a5f46e7a8b9c0d1e2f3a4b5/triggers/manual/paths/invoke?api-version=2016-06-01";
      delete f.environmentId;
    });
    expect(parseStackOutputs(o, "flows.json").flows?.["hr-import"].environmentId).toBeUndefined();
  });

  it("refuse a flow name the config would refuse, and more than 50 flows", () => {
    const o = FLOWS();
    o.flows["Invoice Intake"] = o.flows["invoice-intake"];
    expect(problems(o)).toContain("flows.Invoice Intake: is not a flow name");
    const many = FLOWS();
    for (let i = 0; i < 51; i++) many.flows[`flow-${i}`] = many.flows["invoice-intake"];
    expect(problems(many)).toContain("flows: lists more than 50 flows");
  });
});

describe("per-cloud Dataverse and Graph facts", () => {
  it.each([
    ["public", "https://contoso.crm4.dynamics.com", "https://contoso.crm4.dynamics.com"],
    ["public", "https://Contoso.api.crm.dynamics.com/", "https://contoso.api.crm.dynamics.com"],
    ["public", "https://contoso.crm.dynamics.com:443", "https://contoso.crm.dynamics.com"],
    ["gcc", "https://agency.crm9.dynamics.com", "https://agency.crm9.dynamics.com"],
    ["gcchigh", "https://agency.crm.microsoftdynamics.us", "https://agency.crm.microsoftdynamics.us"],
    ["dod", "https://agency.crm.appsplatform.us", "https://agency.crm.appsplatform.us"],
    ["china", "https://contoso.crm.dynamics.cn", "https://contoso.crm.dynamics.cn"],
  ] as const)("%s: %s is the organisation %s", (cloud, url, origin) => {
    expect(dataverseOriginOf(url, cloud)).toBe(origin);
  });

  it.each([
    ["public", "http://contoso.crm4.dynamics.com"],
    ["public", "https://dynamics.com"],
    ["public", "https://contoso.crm4.dynamics.com.evil.example"],
    ["public", "https://user:pw@contoso.crm4.dynamics.com"],
    ["public", "https://contoso.crm4.dynamics.com/?x=1"],
    ["public", "https://contoso.crm4.dynamics.com:8443"],
    ["gcc", "https://contoso.crm4.dynamics.com"],
    ["gcchigh", "https://contoso.crm.dynamics.com"],
    ["china", "https://contoso.crm.dynamics.com"],
    ["public", "not a url"],
  ] as const)("%s: %s is none", (cloud, url) => {
    expect(dataverseOriginOf(url, cloud)).toBeUndefined();
  });

  it("every cloud has a Dataverse domain and an HTTPS Graph host", () => {
    for (const cloud of CLOUD_NAMES) {
      expect(DATAVERSE_DOMAIN[cloud]).toMatch(/^[a-z0-9.]+\.(com|us|cn)$/);
      expect(GRAPH_HOST[cloud]).toMatch(/^https:\/\/[a-z.-]+$/);
    }
    expect(GRAPH_HOST.gcc).toBe(GRAPH_HOST.public);
  });
});

describe("the environment of a trigger URL", () => {
  const path =
    "/powerautomate/automations/direct/workflows/5f0d1c2b3a4e4f60a1b2c3d4e5f60718/triggers/manual/paths/invoke?api-version=1";
  it.each([
    [
      "public",
      "7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c.6d.environment.api.powerplatform.com",
      "7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d",
    ],
    [
      "public",
      "defaulteb4abb67170c4ad7977a78b7180211.ed.environment.api.powerplatform.com",
      "Default-eb4abb67-170c-4ad7-977a-78b7180211ed",
    ],
    [
      "public",
      "7C1E2D5A3B4F4E6A9D8C1F2E3A4B5C.6D.environment.api.powerplatform.com",
      "7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d",
    ],
    [
      "gcc",
      "7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c6.d.environment.api.gov.powerplatform.microsoft.us",
      "7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d",
    ],
    [
      "dod",
      "7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c6.d.environment.api.appsplatform.us",
      "7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d",
    ],
  ] as const)("%s host %s is environment %s", (cloud, host, env) => {
    expect(environmentIdOfTriggerUrl(`https://${host}:443${path}`, cloud as CloudName)).toBe(env);
  });

  it.each([
    ["public", "prod-27.westeurope.logic.azure.com"],
    ["public", "7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c6.d.environment.api.powerplatform.com"],
    ["gcc", "7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c.6d.environment.api.gov.powerplatform.microsoft.us"],
    ["public", "7c1e2d5a.6d.environment.api.powerplatform.com"],
    ["public", "example.com"],
  ] as const)("%s host %s gives none", (cloud, host) => {
    expect(environmentIdOfTriggerUrl(`https://${host}${path}`, cloud as CloudName)).toBeUndefined();
  });
});
