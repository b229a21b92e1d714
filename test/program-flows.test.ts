/**
 * The flows of a stack, through the whole program under the fake Azure: each flow's outputs hold the
 * object IDs its callers put into Allowed users (as each caller's kind says), for callers of every
 * kind, and parse with the one outputs schema; no output holds `sig` or a secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type StackConfig } from "../config";
import { KINDS } from "../kinds/registry";
import { stackOutputsSchema } from "../outputs";
import { FakeAzure, T, type FakeAzureOptions } from "./helpers/fake-azure";
import {
  CREATED_IDENTITY_CALLER,
  EVERY_KIND_CALLERS,
  LOGIC_APP_PRINCIPAL,
  stackConfig,
  up,
} from "./helpers/stack";

const NOW = Date.parse("2026-11-22T09:30:00Z");
const FAKE: FakeAzureOptions = {
  principals: {
    [LOGIC_APP_PRINCIPAL]: {
      clientId: "5b1e0a2c-1111-4222-8333-444455556666",
      displayName: "logic-app-prod",
    },
  },
};
const ENV = "7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d";
const TENANT_DEFAULT_ENV = "Default-eb4abb67-170c-4ad7-977a-78b7180211ed";
const path =
  "/powerautomate/automations/direct/workflows/5f0d1c2b3a4e4f60a1b2c3d4e5f60718/triggers/manual/paths/invoke?api-version=1";
const TRIGGER = `https://7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c.6d.environment.api.powerplatform.com:443${path}`;
const DEFAULT_TRIGGER = `https://defaulteb4abb67170c4ad7977a78b7180211.ed.environment.api.powerplatform.com:443${path}`;
const LEGACY_TRIGGER =
  "https://prod-27.westeurope.logic.azure.com:443/workflows/5f0d1c2b3a4e4f60a1b2c3d4e5f60718/triggers/manual/paths/invoke?api-version=2016-06-01";

const CALLERS = [...EVERY_KIND_CALLERS, CREATED_IDENTITY_CALLER];

const FLOWS = [
  {
    name: "invoice-intake",
    triggerUrl: TRIGGER,
    callers: ["erp", "logic-app"],
    flowId: "3b1f6a2e-8d4c-4f1a-9e2b-7c6d5e4f3a21",
    dataverseUrl: "https://Contoso-Dev.crm4.dynamics.com/",
  },
  {
    name: "customer-sync",
    triggerUrl: DEFAULT_TRIGGER,
    callers: ["func", "sap", "deploy-bot"],
    flowId: "c4d5e6f7-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
    dataverseUrl: "https://contoso.crm4.dynamics.com",
  },
  {
    name: "hr-import",
    triggerUrl: LEGACY_TRIGGER,
    callers: ["erp"],
    flowId: "e8f7a6b5-c4d3-4e2f-9a1b-2c3d4e5f6a7b",
    dataverseUrl: "https://contoso-hr.crm4.dynamics.com",
  },
];

const config = (flows: unknown[] = FLOWS, callers: unknown[] = CALLERS) => stackConfig(callers, { flows });

async function deploy(cfg: StackConfig) {
  const run = await up(new FakeAzure(FAKE), cfg, NOW);
  expect(run.failures).toEqual([]);
  return run;
}

afterEach(() => vi.restoreAllMocks());

describe("a stack's flows", () => {
  it("output each flow's facts and exactly its callers' object IDs, for callers of every kind", async () => {
    const d = await deploy(config());
    const id = {
      erp: d.one(T.sp, "erp-sp").state.objectId,
      sap: d.one(T.sp, "sap-sp").state.objectId,
      "deploy-bot": d.one(T.sp, "deploy-bot-sp").state.objectId,
      "logic-app": LOGIC_APP_PRINCIPAL,
      func: d.one(T.identity, "func-identity").state.principalId,
    };
    expect(new Set(Object.values(id)).size).toBe(5);
    expect(d.resolved.flows).toEqual({
      "invoice-intake": {
        triggerUrl: TRIGGER,
        environmentId: ENV,
        flowId: "3b1f6a2e-8d4c-4f1a-9e2b-7c6d5e4f3a21",
        dataverseUrl: "https://contoso-dev.crm4.dynamics.com",
        callers: ["erp", "logic-app"],
        allowedUsers: [id.erp, id["logic-app"]],
      },
      "customer-sync": {
        triggerUrl: DEFAULT_TRIGGER,
        environmentId: TENANT_DEFAULT_ENV,
        flowId: "c4d5e6f7-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        dataverseUrl: "https://contoso.crm4.dynamics.com",
        callers: ["func", "sap", "deploy-bot"],
        allowedUsers: [id.func, id.sap, id["deploy-bot"]],
      },
      "hr-import": {
        triggerUrl: LEGACY_TRIGGER,
        flowId: "e8f7a6b5-c4d3-4e2f-9a1b-2c3d4e5f6a7b",
        dataverseUrl: "https://contoso-hr.crm4.dynamics.com",
        callers: ["erp"],
        allowedUsers: [id.erp],
      },
    });
    // The stack's own list is every caller's, as before.
    expect(d.resolved.allowedUsers).toEqual(Object.values(id));
    expect(stackOutputsSchema.safeParse(d.resolved).error?.issues ?? []).toEqual([]);
  });

  it("warn about a legacy trigger URL: no environment, no portal link, and dead in the commercial cloud", async () => {
    const d = await deploy(config());
    const warnings = d.logs.filter((l) => l.severity === "warn").map((l) => l.message);
    expect(warnings).toContain(
      "flows hr-import: the trigger URL's host names no environment (a legacy *.logic.azure.* URL names none): its outputs have no environmentId, and the hand-off sheet no link to the flow in Power Automate",
    );
    expect(
      warnings.some((w) =>
        w.startsWith("flows hr-import: a *.logic.azure.com trigger URL: such URLs stopped working"),
      ),
    ).toBe(true);
    expect(
      warnings.filter((w) => w.startsWith("flows invoice-intake") || w.startsWith("flows customer-sync")),
    ).toEqual([]);
  });

  it("list a principal once when two of a flow's callers share it", async () => {
    const d = await deploy(
      config(
        [{ ...FLOWS[0], callers: ["logic-app", "logic-app-2"] }],
        [
          {
            name: "logic-app",
            credential: "managedIdentity",
            managedIdentity: { principalId: LOGIC_APP_PRINCIPAL },
          },
          {
            name: "logic-app-2",
            credential: "managedIdentity",
            managedIdentity: { principalId: LOGIC_APP_PRINCIPAL },
          },
        ],
      ),
    );
    expect(d.resolved.flows["invoice-intake"].allowedUsers).toEqual([LOGIC_APP_PRINCIPAL]);
    expect(stackOutputsSchema.safeParse(d.resolved).error?.issues ?? []).toEqual([]);
  });

  it("are absent from the outputs of a stack that names none, and add no resource", async () => {
    const without = await deploy(config([]));
    expect("flows" in without.resolved).toBe(false);
    const withFlows = await deploy(config());
    expect(withFlows.customNames()).toEqual(without.customNames());
  });

  it("hold no sig and no secret", async () => {
    const d = await deploy(config());
    const flows = (d.result as { flows: Record<string, { allowedUsers: pulumi.Output<string[]> }> }).flows;
    for (const f of Object.values(flows)) expect(await pulumi.isSecret(f.allowedUsers)).toBe(false);
    expect(JSON.stringify(d.resolved.flows)).not.toMatch(/[?&]sig=/i);
  });

  it("take what each caller puts into Allowed users from its kind's registry entry", async () => {
    // A kind whose callers act for signed-in people puts their object IDs there instead.
    const people = ["6a1b2c3d-0000-4000-8000-000000000001", "6a1b2c3d-0000-4000-8000-000000000002"];
    vi.spyOn(KINDS.federated, "allowedUsers").mockImplementation(() => people);
    const d = await deploy(config());
    const sap = d.one(T.sp, "sap-sp").state.objectId;
    const func = d.one(T.identity, "func-identity").state.principalId;
    expect(d.resolved.flows["customer-sync"].allowedUsers).toEqual([func, sap, ...people]);
    expect(d.resolved.allowedUsers).toContain(people[0]);
  });
});
