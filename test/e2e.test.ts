/**
 * The built tool as users run it: `node dist/flow-trigger-auth.js` and the `npm run` aliases, as real
 * processes, against the stand-in over real HTTPS on 127.0.0.1 (trusted only through
 * NODE_EXTRA_CA_CERTS). Everything else is tested in-process; these few prove the built tool works.
 * Nothing here asserts on time.
 */
import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, ROOT } from "./helpers/cli";
import {
  callerCertificate,
  demoScenario,
  managedIdentityScenario,
  scenarioArgs,
  type Scenario,
} from "../standin/scenario";
import { MANAGED_IDENTITY_HEADER, startStandin, type ServedStandin } from "../standin/standin";

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

  it("prints each wait and each finished check on stderr as it happens, not at the end; stdout stays one JSON document", async () => {
    const s = demoScenario(standin, { mode: "users" });
    // Entra throttles the first token request; the authenticated call is held by the stand-in until
    // the test has read what the running tool printed so far.
    standin.failNext({ tenantId: s.tenantId }, 1, { status: 429, retryAfter: "1" });
    let arrived = false;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    standin.failNext({ flowId: s.flowId }, 1, {
      hold: { arrived: () => (arrived = true), release: released },
      only: "authenticated",
    });
    const child = spawn(process.execPath, [TOOL, ...smokeArgs(s, "--json")], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_EXTRA_CA_CERTS: standin.caFile,
        FLOW_CLIENT_SECRET: s.secret,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    let partial = "";
    child.stderr.on("data", (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      lines.push(...parts);
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    let exited = false;
    const done = new Promise<number | null>((resolve) =>
      child.on("close", (code) => {
        exited = true;
        resolve(code);
      }),
    );
    try {
      expect(await until(() => arrived && lines.some((l) => l.startsWith("PASS     token:")))).toBe(true);
      // The tool is still waiting for the held call: everything below arrived while it ran.
      expect(exited).toBe(false);
      expect(stdout).toBe("");
      expect(lines.map((l) => l.split(":")[0])).toEqual([
        "PASS     url",
        "PASS     anonymous-rejected",
        "token",
        "PASS     token",
      ]);
      expect(lines[2]).toMatch(
        /^token: 429 AADSTS50196 from Entra, retrying in [\d.]+ s \(attempt 2, \d+ s of budget left\)$/,
      );
    } finally {
      release();
    }
    expect(await done).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ verdict: "pass" });
    expect(lines.at(-1)).toMatch(/^PASS {5}invoke: accepted with the token \(202\)/);
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

  describe("verbose logging on every other credential path leaks nothing secret either", () => {
    const verbose = () => ({
      NODE_EXTRA_CA_CERTS: standin.caFile,
      AZURE_LOG_LEVEL: "verbose",
      NODE_DEBUG: "http",
    });
    /** Nothing in `r` holds any of `secrets`, a JWT, or PEM key material; the SDK did log. */
    const expectClean = (r: Run, ...secrets: string[]) => {
      const all = r.stdout + r.stderr;
      expect(r.stderr.length).toBeGreaterThan(0);
      for (const secret of secrets) expect(all.includes(secret), "output holds a secret").toBe(false);
      expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);
      expect(all).not.toMatch(/PRIVATE KEY-----\s*[A-Za-z0-9+/]{20}/);
    };
    const world = (app: { certificatePem?: string; federated?: { issuer: string; subject: string }[] }) => {
      const tenantId = randomUUID();
      const clientId = randomUUID();
      const oid = randomUUID();
      standin.addTenant({ tenantId, apps: [{ clientId, servicePrincipalObjectId: oid, ...app }] });
      const flowId = randomUUID().replace(/-/g, "");
      const triggerUrl = standin.addFlow({ flowId, tenantId, mode: "users", allowedOids: [oid] });
      return { tenantId, clientId, oid, triggerUrl };
    };

    it("a certificate caller: neither the key nor the signed client assertion", async () => {
      const { pem, certificate } = await callerCertificate();
      const w = world({ certificatePem: certificate });
      const dir = mkdtempSync(join(tmpdir(), "e2e-cert-"));
      writeFileSync(join(dir, "caller.pem"), pem, { mode: 0o600 });
      const r = await tool(["smoke", ...scenarioArgs(w, standin.baseUrl), "--credential", "certificate"], {
        ...verbose(),
        FLOW_CLIENT_CERTIFICATE: pem,
      });
      expect(r.code, r.stderr).toBe(0);
      expectClean(r, pem.split("\n").slice(-3, -2)[0]!);
    });

    it("a federated caller: not the platform's token", async () => {
      const subject = "repo:contoso/erp-sync:environment:prod";
      const w = world({ federated: [{ issuer: standin.federatedIssuer, subject }] });
      const token = await standin.federatedToken(subject);
      const dir = mkdtempSync(join(tmpdir(), "e2e-fed-"));
      writeFileSync(join(dir, "token"), token);
      const r = await tool(["smoke", ...scenarioArgs(w, standin.baseUrl), "--credential", "federated"], {
        ...verbose(),
        AZURE_FEDERATED_TOKEN_FILE: join(dir, "token"),
      });
      expect(r.code, r.stderr).toBe(0);
      expectClean(r, token, token.split(".")[2]!);
    });

    it("a managed identity, accepted and refused: not the platform's IDENTITY_HEADER", async () => {
      const { tenantId, identity, triggerUrl } = managedIdentityScenario(standin);
      const env = {
        ...verbose(),
        IDENTITY_ENDPOINT: standin.managedIdentityEndpoint,
        IDENTITY_HEADER: MANAGED_IDENTITY_HEADER,
      };
      const args = (clientId: string) => [
        "smoke",
        "--trigger-url",
        triggerUrl,
        "--tenant-id",
        tenantId,
        "--client-id",
        clientId,
        "--credential",
        "managed-identity",
      ];
      const ok = await tool(args(identity.clientId), env);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain(`from ${standin.managedIdentityEndpoint}`);
      expectClean(ok, MANAGED_IDENTITY_HEADER);
      const refused = await tool(args(randomUUID()), env);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain("ManagedIdentityRefused");
      expectClean(refused, MANAGED_IDENTITY_HEADER);
    });

    it("an authority naming another token endpoint: the run stops (exit 2) and the secret is in no output", async () => {
      const s = demoScenario(standin, { tenant: { tokenEndpointOrigin: "https://collector.example" } });
      const r = await tool(smokeArgs(s), { ...verbose(), FLOW_CLIENT_SECRET: s.secret });
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).toContain("pointed to collector.example");
      expectClean(r, s.secret);
    });
  });

  it("runs `pulumi stack output` for --stack, and names the commands and where the exit codes are in its help", async () => {
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
    expect(help.stdout).toContain("Exit codes: the same for every command, see docs/commands.md#exit-codes.");
    expect((await tool(["deploy"])).code).toBe(2);
  });

  it("a user caller: the device code on stderr, approved by the test, then a pass with the person's token; the same token from a file", async () => {
    const tenantId = randomUUID();
    const clientId = randomUUID();
    const person = randomUUID();
    standin.addTenant({
      tenantId,
      apps: [{ clientId, servicePrincipalObjectId: randomUUID(), publicClientFlows: true }],
    });
    const triggerUrl = standin.addFlow({
      flowId: randomUUID().replace(/-/g, ""),
      tenantId,
      mode: "users",
      allowedOids: [person],
    });
    standin.setDeviceCodeInterval(1);
    const args = [
      "smoke",
      ...scenarioArgs({ triggerUrl, tenantId, clientId }, standin.baseUrl),
      "--credential",
      "user",
      "--json",
      "--max-wait-s",
      "60",
    ];
    const device = start(args, { NODE_EXTRA_CA_CERTS: standin.caFile });
    let stderr = "";
    device.child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    expect(await until(() => /enter the code ([A-Z0-9]+)/.test(stderr))).toBe(true);
    expect(standin.approveDeviceCode(/enter the code ([A-Z0-9]+)/.exec(stderr)![1], person)).toBe(true);
    const r = await device.exited;
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.checks.find((c: { name: string }) => c.name === "token").message).toContain(
      `oid ${person}`,
    );
    expect(r.stdout + r.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);

    // A token the person obtained (here from the stand-in), from --access-token-file.
    const base = `${standin.baseUrl}/${tenantId}/oauth2/v2.0`;
    const post = async (path: string, form: Record<string, string>) =>
      (await (
        await standin.fetch(`${base}/${path}`, { method: "POST", body: new URLSearchParams(form) })
      ).json()) as Record<string, string>;
    const code = await post("devicecode", {
      client_id: clientId,
      scope: "https://service.flow.microsoft.com//User",
    });
    standin.approveDeviceCode(code.user_code, person);
    const token = (
      await post("token", {
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        client_id: clientId,
        device_code: code.device_code,
      })
    ).access_token;
    const dir = mkdtempSync(join(tmpdir(), "user-token-"));
    writeFileSync(join(dir, "token.txt"), token);
    const fromFile = await tool([...args, "--access-token-file", join(dir, "token.txt")], {
      NODE_EXTRA_CA_CERTS: standin.caFile,
    });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout + fromFile.stderr).not.toContain(token.split(".")[2]);
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

/** True while `pid` runs (a zombie, ended but not yet reaped by its parent, counts as ended). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Waits until `done()` holds; gives up after many short rounds (a failing test, never a hanging one). */
async function until(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 1500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return done();
}

/**
 * A fake `pulumi` on PATH that starts a grandchild holding the output pipe open, writes both PIDs,
 * and never answers: what a Pulumi CLI stuck on its backend (with a helper it started) looks like.
 */
function hangingPulumi(then: "wait" | "exit" = "wait"): { path: string; pids: () => number[] } {
  const dir = mkdtempSync(join(tmpdir(), "hanging-pulumi-"));
  writeFileSync(
    join(dir, "pulumi"),
    `#!/bin/sh\nsleep 300 &\necho $! > '${dir}/grandchild.pid'\necho $$ > '${dir}/child.pid'\n${then === "wait" ? "wait" : "exit 0"}\n`,
  );
  chmodSync(join(dir, "pulumi"), 0o755);
  const pidFiles = ["child.pid", "grandchild.pid"].map((f) => join(dir, f));
  return {
    path: `${dir}:${process.env.PATH}`,
    pids: () =>
      pidFiles.every((f) => existsSync(f) && readFileSync(f, "utf8").trim())
        ? pidFiles.map((f) => Number(readFileSync(f, "utf8")))
        : [],
  };
}

/** Starts the built tool; `exited` resolves with its exit code and output. */
function start(args: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [TOOL, ...args], {
    env: { PATH: env.PATH ?? process.env.PATH, HOME: process.env.HOME, ...env } as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exited };
}

describe("interrupts and time limits end every program the tool started, and whatever those started", () => {
  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)(
    "%s while `pulumi stack output` hangs: exit %i, one JSON document, `pulumi` and its child ended",
    async (signal, exit) => {
      const pulumi = hangingPulumi();
      const tool = start(["handoff", "--stack", "dev", "--json"], { PATH: pulumi.path });
      expect(await until(() => pulumi.pids().length === 2)).toBe(true);
      tool.child.kill(signal);
      const r = await tool.exited;
      expect(r.code).toBe(exit);
      expect(JSON.parse(r.stdout)).toEqual({
        error: { kind: "interrupted", message: expect.stringContaining(`interrupted by ${signal}`) },
      });
      expect(await until(() => !pulumi.pids().some(alive))).toBe(true);
    },
  );

  it("a `pulumi` that exits leaving a child holding its output: the limit ends the child, the command ends (exit 2)", async () => {
    const pulumi = hangingPulumi("exit");
    const r = await start(["handoff", "--stack", "dev", "--max-wait-s", "1"], { PATH: pulumi.path }).exited;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("gave no answer within 1 s (--max-wait-s)");
    expect(await until(() => !pulumi.pids().some(alive))).toBe(true);
  });

  it("the --max-wait-s limit ends `pulumi` and its child too: the command ends (exit 2) instead of waiting on the pipe", async () => {
    const pulumi = hangingPulumi();
    const r = await start(["handoff", "--stack", "dev", "--max-wait-s", "1"], { PATH: pulumi.path }).exited;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("`pulumi stack output` gave no answer within 1 s (--max-wait-s)");
    expect(await until(() => !pulumi.pids().some(alive))).toBe(true);
  });
});
