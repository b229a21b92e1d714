/**
 * The hand-off sheet's section per flow: the exact Allowed users value of that flow on one line, which
 * flow it is (name, environment, flow ID, its address in Power Automate where documented), and the
 * command that checks it; escaped like everything else, in Markdown and JSON.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import flows from "../../test/fixtures/outputs/flows.json";
import { parseStackOutputs } from "../../lib/stack-outputs";
import { fakePulumi, fixture, runCli } from "../../test/helpers/cli";
import { buildHandoff, renderJson, renderMarkdown } from "./sheet";

/** The Markdown section of flow `name` (up to the next heading of its level or above). */
function section(markdown: string, name: string): string {
  const start = markdown.indexOf(`### Flow \`${name}\``);
  expect(start, `a section for flow ${name}`).toBeGreaterThanOrEqual(0);
  const body = markdown.indexOf("\n", start);
  const end = markdown.slice(body).search(/^#{2,3} /m);
  return markdown.slice(start, end < 0 ? undefined : body + end);
}

/** The flows fixture with `change` applied, saved to a file. */
async function changed(change: (o: any) => void): Promise<string> {
  const o = structuredClone(flows) as any;
  change(o);
  const file = join(await mkdtemp(join(tmpdir(), "handoff-flows-")), "dev.json");
  await writeFile(file, JSON.stringify(o), "utf8");
  return file;
}

describe("handoff: a section per flow", () => {
  it("says what to paste into which flow, on one line, and how to check it", async () => {
    const pulumi = await fakePulumi({ dev: fixture("outputs/flows.json") });
    const r = await runCli("handoff", ["--stack", "dev"], { pulumi });
    expect(r.code).toBe(0);
    // Each flow once, by name, between the stack's Allowed users and its callers.
    expect([...r.stdout.matchAll(/^### Flow `([a-z-]+)`$/gm)].map((m) => m[1])).toEqual([
      "customer-sync",
      "hr-import",
      "invoice-intake",
    ]);
    expect(r.stdout.indexOf("### Allowed users")).toBeLessThan(r.stdout.indexOf("### Flow "));
    expect(r.stdout.indexOf("### Flow ")).toBeLessThan(r.stdout.indexOf("### Callers"));
    const f = flows.flows["customer-sync"];
    const s = section(r.stdout, "customer-sync");
    expect(s).toContain(`| Environment | \`${f.environmentId}\` |`);
    expect(s).toContain(`| Flow ID | \`${f.flowId}\` |`);
    expect(s).toContain(
      `| Open in Power Automate | <https://make.powerautomate.com/environments/${f.environmentId}/flows/${f.flowId}> |`,
    );
    expect(s).toContain(`| Dataverse | \`${f.dataverseUrl}\` |`);
    expect(s).toContain(`| Trigger URL | \`${f.triggerUrl}\` |`);
    expect(s).toContain("| Callers | `crm`, `erp` |");
    expect(s).toContain('"Specific users in my tenant" → "Allowed users", replacing what is there');
    // The exact value, one line, comma-separated, in the callers' order: what `audit` prints.
    expect(s).toContain(["```text", f.allowedUsers.join(","), "```"].join("\n"));
    expect(f.allowedUsers.join(",")).toBe(
      "a51022d1-0172-4711-a6de-885b7e274a7b,8cfbd535-b7a8-4037-854e-6d026b3795d6",
    );
    expect(s).toContain("Check it: `flow-trigger-auth audit --stack dev --flow customer-sync`");
    // Only this flow's callers: not the hr-sync caller of another flow.
    expect(s).not.toContain(flows.callers["hr-sync"].servicePrincipalObjectId);
    // The stack-wide list says a listed flow takes its own.
    expect(r.stdout).toContain("Every caller's object ID; a flow listed below takes its own list instead:");
  });

  it("gives the same facts as JSON", async () => {
    const r = await runCli("handoff", ["--outputs", fixture("outputs/flows.json"), "--format", "json"]);
    expect(r.code).toBe(0);
    const env = JSON.parse(r.stdout).environments[0];
    expect(env.flows.map((x: { name: string }) => x.name)).toEqual([
      "customer-sync",
      "hr-import",
      "invoice-intake",
    ]);
    const f = flows.flows["invoice-intake"];
    expect(env.flows[2]).toEqual({
      name: "invoice-intake",
      environmentId: f.environmentId,
      flowId: f.flowId,
      portalUrl: `https://make.powerautomate.com/environments/${f.environmentId}/flows/${f.flowId}`,
      dataverseUrl: f.dataverseUrl,
      triggerUrl: f.triggerUrl,
      callers: ["erp"],
      allowedUsers: f.allowedUsers,
      allowedUsersLine: f.allowedUsers.join(","),
      check: "flow-trigger-auth audit --stack flows --flow invoice-intake",
    });
  });

  it("has no flow section, and an empty list in JSON, for a stack without flows", async () => {
    const md = await runCli("handoff", ["--outputs", fixture("outputs/dev.json")]);
    expect(md.stdout).not.toContain("### Flow ");
    expect(md.stdout).not.toContain("a flow listed below");
    const json = await runCli("handoff", ["--outputs", fixture("outputs/dev.json"), "--format", "json"]);
    expect(JSON.parse(json.stdout).environments[0].flows).toEqual([]);
  });

  it("names no environment and links nowhere for a legacy trigger URL", async () => {
    const file = await changed((o) => {
      o.flows["hr-import"].triggerUrl =
        "https://prod-27.westeurope.logic.azure.com:443/workflows/0e1d2c3b4a5f46e7a8b9c0d1e2f3a4b5/triggers/manual/paths/invoke?api-version=2016-06-01";
      delete o.flows["hr-import"].environmentId;
    });
    const r = await runCli("handoff", ["--outputs", file]);
    expect(r.code).toBe(0);
    const s = section(r.stdout, "hr-import");
    expect(s).toContain("| Environment | not in its trigger URL: see the flow's address in Power Automate |");
    expect(s).not.toContain("Open in Power Automate");
    expect(s).toContain("16bc54e7-97ad-47e8-ac22-6c5a39fc3433");
  });

  it("links to the flow in its cloud's portal (US Government), and to none where Learn documents none (China)", () => {
    const gcc = structuredClone(flows) as any;
    gcc.cloud = "gcc";
    gcc.audience = "https://gov.service.flow.microsoft.us/";
    gcc.scope = "https://gov.service.flow.microsoft.us//.default";
    gcc.flows = {
      intake: {
        ...gcc.flows["invoice-intake"],
        triggerUrl:
          "https://7c1e2d5a3b4f4e6a9d8c1f2e3a4b5c6.d.environment.api.gov.powerplatform.microsoft.us/powerautomate/automations/direct/workflows/5f0d/triggers/manual/paths/invoke?api-version=1",
        dataverseUrl: "https://contoso.crm9.dynamics.com",
      },
    };
    const outputs = parseStackOutputs(gcc, "gcc.json");
    const sheet = buildHandoff([{ label: "gcc", source: "gcc.json", outputs }]);
    expect(sheet.environments[0].flows[0].portalUrl).toBe(
      "https://make.gov.powerautomate.us/environments/7c1e2d5a-3b4f-4e6a-9d8c-1f2e3a4b5c6d/flows/3b1f6a2e-8d4c-4f1a-9e2b-7c6d5e4f3a21",
    );
    const china = buildHandoff([{ label: "cn", source: "cn.json", outputs: { ...outputs, cloud: "china" } }]);
    expect(china.environments[0].flows[0].portalUrl).toBeUndefined();
    expect(renderMarkdown(china)).not.toContain("Open in Power Automate");
  });

  it("escapes what it prints: a trigger URL cannot break the table, add Markdown or hide characters", async () => {
    const file = await changed((o) => {
      o.flows["invoice-intake"].triggerUrl += "&x=a|b`c**d**\u202eexe.txt";
    });
    const md = await runCli("handoff", ["--outputs", file]);
    expect(md.code).toBe(0);
    const row = section(md.stdout, "invoice-intake")
      .split("\n")
      .find((l) => l.startsWith("| Trigger URL |"))!;
    expect(row).toContain("&x=a\\|b'c**d**\\u202eexe.txt` |");
    expect(row.split(/(?<!\\)\|/)).toHaveLength(4);
    expect(md.stdout).not.toContain("\u202e");
    const json = await runCli("handoff", ["--outputs", file, "--format", "json"]);
    expect(json.stdout).not.toContain("\u202e");
    expect(json.stdout).toContain("\\u202e");
    expect(JSON.parse(json.stdout).environments[0].flows[2].triggerUrl).toMatch(/\u202eexe\.txt$/);
  });

  it("renders from the outputs alone: JSON and Markdown hold the same lists", () => {
    const outputs = parseStackOutputs(flows, "flows.json");
    const sheet = buildHandoff([{ label: "dev", source: "flows.json", outputs }]);
    const json = JSON.parse(renderJson(sheet));
    const md = renderMarkdown(sheet);
    for (const f of json.environments[0].flows) expect(md).toContain(`\n${f.allowedUsersLine}\n`);
  });
});
