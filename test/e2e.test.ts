/**
 * The built tool as users run it: `node dist/flow-trigger-auth.js` and the `npm run` aliases, as real
 * processes, against the stand-in over real HTTPS on 127.0.0.1 (trusted only through
 * NODE_EXTRA_CA_CERTS). Everything else is tested in-process; these few prove the built tool works.
 * Nothing here asserts on time.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, ROOT } from "./helpers/cli";
import { demoScenario, scenarioArgs, type Scenario } from "./standin/scenario";
import { startStandin, type ServedStandin } from "./standin/standin";

const TOOL = join(ROOT, "dist/flow-trigger-auth.js");
let standin: ServedStandin;

beforeAll(async () => {
  standin = await startStandin();
});
afterAll(async () => {
  await standin?.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `file args` with only the environment given (plus PATH and HOME). */
function run(
  file: string,
  args: string[],
  env: Record<string, string | undefined> = {},
  cwd = ROOT,
): Promise<Run> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...env }))
    if (v !== undefined) childEnv[k] = v;
  return new Promise((resolve) =>
    execFile(
      file,
      args,
      { cwd, env: childEnv, timeout: 60_000, maxBuffer: 8 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }),
    ),
  );
}

const tool = (args: string[], env: Record<string, string | undefined> = {}) =>
  run(process.execPath, [TOOL, ...args], env);

/** `smoke` with the options that name scenario `s`'s flow and caller, plus `extra`. */
const smokeArgs = (s: Scenario, ...extra: string[]) => [
  "smoke",
  ...scenarioArgs(s, standin.baseUrl),
  ...extra,
];

describe("the built tool, as a process", () => {
  it("passes against a secured trigger, in text and as one JSON object, with exit 0", async () => {
    const s = demoScenario(standin, { mode: "users" });
    const args = smokeArgs(s);
    const env = { NODE_EXTRA_CA_CERTS: standin.caFile, FLOW_CLIENT_SECRET: s.secret };
    const text = await tool(args, env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^verdict: pass \(exit 0\), run 0858/m);
    const json = await tool([...args, "--json"], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ verdict: "pass" });
    for (const out of [text, json]) {
      expect(out.stdout + out.stderr).not.toContain(s.secret);
      expect(out.stdout + out.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);
    }
  });

  it("exits 3 for a trigger that runs the flow without a token, and 1 for a caller it refuses", async () => {
    const open = demoScenario(standin, { mode: "tenant", flow: { acceptAnonymous: true } });
    const refused = demoScenario(standin, {
      mode: "users",
      flow: { allowedOids: [] as string[], mismatchStatus: 403, audience: "https://other/" },
    });
    const env = (secret: string) => ({ NODE_EXTRA_CA_CERTS: standin.caFile, FLOW_CLIENT_SECRET: secret });
    const argsOf = (s: typeof open) => smokeArgs(s, "--json");
    expect((await tool(argsOf(open), env(open.secret))).code).toBe(3);
    const r = await tool(argsOf(refused), env(refused.secret));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).checks.at(-1)).toMatchObject({
      name: "invoke",
      code: "MisMatchingOAuthClaims",
    });
  });

  it("without NODE_EXTRA_CA_CERTS refuses the stand-in's certificate, with a hint naming that variable", async () => {
    const s = demoScenario(standin, { mode: "users" });
    const r = await tool(smokeArgs(s, "--json", "--max-wait-s", "1"), { FLOW_CLIENT_SECRET: s.secret });
    expect(r.code).toBe(1);
    const anonymous = JSON.parse(r.stdout).checks[1];
    expect(anonymous.code).toMatch(/CERT|SIGNATURE/);
    expect(anonymous.message).toContain("NODE_EXTRA_CA_CERTS");
  });

  it("verbose Azure SDK logging (AZURE_LOG_LEVEL=verbose) leaks neither secret nor token", async () => {
    const s = demoScenario(standin, { mode: "users" });
    const r = await tool(smokeArgs(s), {
      NODE_EXTRA_CA_CERTS: standin.caFile,
      FLOW_CLIENT_SECRET: s.secret,
      AZURE_LOG_LEVEL: "verbose",
      NODE_DEBUG: "http",
    });
    expect(r.code).toBe(0);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(r.stdout + r.stderr).not.toContain(s.secret);
    expect(r.stdout + r.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);
  });

  it("runs `pulumi stack output` for --stack, and names the commands and exit codes in its help", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fake-pulumi-"));
    const pulumi = join(dir, "pulumi");
    writeFileSync(
      pulumi,
      `#!/bin/sh\n[ "$*" = "stack output --json --stack dev" ] || { echo "unexpected: $*" >&2; exit 1; }\ncat '${fixture("outputs/dev.json")}'\n`,
    );
    chmodSync(pulumi, 0o755);
    const r = await tool(["handoff", "--stack", "dev", "--json"], { PATH: `${dir}:${process.env.PATH}` });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).environments[0].name).toBe("dev");
    const help = await tool(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("smoke");
    expect(help.stdout).toMatch(/^ {2}audit +prove from each flow's definition/m);
    expect(help.stdout).toContain("70 internal error");
    expect((await tool(["deploy"])).code).toBe(2);
  });
});

describe("the npm run aliases", () => {
  it("resolve paths from where the command was typed, and keep npm's own errors visible", async () => {
    const r = await run(
      "npm",
      ["run", "handoff", "--", "--outputs", "outputs/dev.json"],
      {},
      join(ROOT, "test", "fixtures"),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("# HTTP-triggered flows: hand-off sheet");
    const missing = await run("npm", ["run", "doesnotexist"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("Missing script");
  });

  it("npm run audit runs the built audit: outputs without flows are a usage error saying how to add them", async () => {
    const r = await run(
      "npm",
      ["run", "-s", "audit", "--", "--outputs", "outputs/dev.json", "--json"],
      {},
      join(ROOT, "test", "fixtures"),
    );
    expect(r.code).toBe(2);
    const json = JSON.parse(r.stdout);
    expect(json).toMatchObject({ verdict: "usage", flows: [] });
    expect(json.message).toContain("outputs/dev.json has no flows to audit");
  });

  it("npm run -s prints exactly one JSON object on stdout with --json", async () => {
    const r = await run("npm", ["run", "-s", "validate", "--", "--stack", "dev", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true });
  });
});
