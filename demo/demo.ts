/**
 * `npm run demo`: the whole loop of a stack on this machine, without a tenant, in one command. It runs
 * the built tool as a user would, against the repository's local stand-ins of Entra ID and Power
 * Automate (HTTPS on 127.0.0.1, their throw-away CA trusted only through NODE_EXTRA_CA_CERTS of the
 * tool's processes) and of Dataverse, and says at each step what happens in Azure instead:
 *
 * 1. validate the stack file and print the plan;
 * 2. the outputs the mocked program gives that stack, saved as `pulumi stack output --json` saves them;
 * 3. the hand-off sheet from those outputs;
 * 4. the stand-ins start, the flow's Allowed users set as the sheet says;
 * 5. smoke as a caller the flow allows (pass), 6. as one it refuses (fail, with the hint);
 * 7. if the stack has flows, the audit against the Dataverse stand-in (match).
 *
 * Everything it writes (the CA, outputs, sheet, the tool's HOME and TMPDIR) is in one temporary
 * folder, removed at the end unless `--keep`. It stops what it started at the end, on failure, and on
 * SIGINT or SIGTERM. Exit 0 when every step behaved as expected, 1 when one did not, 2 for bad
 * options, 130/143 when interrupted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { readStackFile, validateStackConfig } from "../commands/validate/stack-file";
import { projectRoot } from "../commands/validate/validate";
import { processIo, type Io } from "../lib/io";
import { generateCertificates } from "../standin/certs";
import { createDataverseStandin, flowDefinition } from "../standin/dataverse";
import { entraLikeSecret } from "../standin/scenario";
import { startStandin, type ServedStandin } from "../standin/standin";

const HELP = `Usage: npm run demo [-- [--stack NAME] [--dir PATH] [--keep]]

Runs a stack's whole loop on this machine, without a tenant: validate, the planned outputs, the
hand-off sheet, the smoke test against local stand-ins of Entra ID and Power Automate (a caller the
flow allows, one it refuses), and the flow audit against a local Dataverse stand-in. Each step says
what happens in Azure instead. Nothing is written outside one temporary folder, removed at the end.

  --stack NAME  the stack file to run, Pulumi.NAME.yaml (default: dev)
  --dir PATH    the folder holding the stack file (default: the repository root)
  --keep        keep the temporary folder (outputs, hand-off sheet, CA) and print where it is

Exit: 0 every step behaved as expected; 1 a step did not; 2 bad options; 130/143 interrupted.
`;

/** A step that did not behave as expected: the demo stops, cleans up and exits 1. */
class StepFailed extends Error {}

/** Everything the demo started or made, so that one cleanup ends and removes it. */
interface Started {
  folder?: string;
  children: Set<ChildProcess>;
  standin?: ServedStandin;
  interrupt: AbortController;
}

const started: Started = { children: new Set(), interrupt: new AbortController() };
let keep = false;
let cleanedUp: Promise<void> | undefined;

const out = (text = "") => process.stdout.write(`${text}\n`);
const indent = (text: string, by = "    ") =>
  text
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => `${by}${l}`)
    .join("\n");

/** Ends every process the demo started (each a process group of its own), stops the stand-ins, removes the folder. */
function cleanup(): Promise<void> {
  cleanedUp ??= (async () => {
    for (const child of started.children) {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already ended
      }
    }
    await started.standin?.close();
    if (started.folder && !keep) rmSync(started.folder, { recursive: true, force: true });
  })();
  return cleanedUp;
}

interface ToolRun {
  code: number | null;
  output: string;
}

/**
 * Runs the built tool as a process with only `env` (plus PATH), in a process group of its own, and
 * prints its output indented as it arrives.
 */
function runTool(root: string, args: string[], env: Record<string, string>): Promise<ToolRun> {
  out(`  $ flow-trigger-auth ${args.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : `'${a}'`)).join(" ")}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, "dist", "flow-trigger-auth.js"), ...args], {
      cwd: env.HOME,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    started.children.add(child);
    let output = "";
    let pending = "";
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) out(`    ${line}`);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (err) => {
      started.children.delete(child);
      resolve({ code: null, output: String(err) });
    });
    child.on("close", (code) => {
      started.children.delete(child);
      if (pending) out(`    ${pending}`);
      resolve({ code, output });
    });
  });
}

/** Says that a tool run ended with the exit code expected; any other stops the demo. */
function expectExit(run: ToolRun, expected: number, what: string): void {
  if (run.code !== expected) throw new StepFailed(`${what}: exit ${run.code}, expected ${expected}`);
  out(`  ok: ${what} (exit ${expected}, as expected)`);
}

const inAzure = (text: string) => out(`${indent(text, "  ")}\n`);

async function demo(stack: string, dir: string | undefined): Promise<number> {
  const root = projectRoot();
  const stackDir = dir ?? root;
  const folder = mkdtempSync(path.join(tmpdir(), "flow-trigger-auth-demo-"));
  started.folder = folder;
  const home = path.join(folder, "home");
  const tmp = path.join(folder, "tmp");
  mkdirSync(home);
  mkdirSync(tmp);
  const outputsFile = path.join(folder, "outputs.json");
  const sheetFile = path.join(folder, "handoff.md");
  // The tool's processes see no Azure login, no proxy and no home of the user: only this folder.
  const baseEnv = { HOME: home, TMPDIR: tmp, NO_COLOR: "1" };
  const total = 7;
  let n = 0;
  const step = (title: string) => out(`[${++n}/${total}] ${title}`);

  out(`flow-trigger-auth demo: stack ${stack}, on this machine, without a tenant; working in ${folder}\n`);

  step(`validate: Pulumi.${stack}.yaml checked offline, and the plan`);
  expectExit(
    await runTool(root, ["validate", "--stack", stack, ...(dir ? ["--dir", dir] : [])], baseEnv),
    0,
    "the stack file is valid",
  );
  inAzure(
    `In Azure: \`pulumi up --stack ${stack}\` creates these resources in your tenant and subscription,\n` +
      "once the values marked `# FILL IN:` in the stack file are real (validate warns about each one left).",
  );

  step("outputs: what the stack outputs after its first deployment, with made-up IDs");
  const input = await readStackFile(stackDir, stack);
  const { config } = validateStackConfig(input, stack);
  if (!config) throw new StepFailed(`Pulumi.${stack}.yaml has problems (validate names them)`);
  // Loaded when needed (the Pulumi SDK is heavy): the first step starts at once.
  const { plannedOutputs } = await import("./planned-outputs");
  const { json, outputs } = await plannedOutputs(config, Date.now(), stack);
  writeFileSync(outputsFile, `${JSON.stringify(json, null, 2)}\n`);
  const callers = Object.entries(outputs.callers);
  out(
    `  tenant ${outputs.tenantId}; callers: ${callers
      .map(([name, c]) => `${name} (object ID ${c.servicePrincipalObjectId})`)
      .join(", ")}`,
  );
  out(`  ok: saved as ${outputsFile}`);
  inAzure(
    `In Azure: the real IDs, from \`pulumi stack output --json --stack ${stack} > outputs.json\`\n` +
      `(every command also takes \`--stack ${stack}\` and asks Pulumi itself).`,
  );

  step("handoff: the sheet for flow makers, from the outputs");
  expectExit(
    await runTool(root, ["handoff", "--outputs", outputsFile, "--out", sheetFile], baseEnv),
    0,
    `the sheet is written to ${sheetFile}`,
  );
  inAzure(
    "In Azure: you send the sheet to the flow makers; each pastes the object IDs of its flow's section\n" +
      "into the trigger's Allowed users (Who can trigger the flow: Specific users in my tenant).",
  );

  step("stand-ins: Entra ID and Power Automate on 127.0.0.1, each flow's Allowed users as the sheet says");
  const standin = await startStandin({ certificates: await generateCertificates(folder) });
  started.standin = standin;
  const secretCallers = callers.flatMap(([name, c]) => (c.credential === "secret" ? [{ name, ...c }] : []));
  if (secretCallers.length === 0)
    throw new StepFailed(
      "the demo needs a caller with credential: secret (its secret stands in Key Vault's)",
    );
  const secrets = new Map(secretCallers.map((c) => [c.name, entraLikeSecret()]));
  // Someone in the tenant that no flow of the stack allows: refused whatever the stack's callers are.
  const stranger = {
    clientId: randomUUID(),
    servicePrincipalObjectId: randomUUID(),
    secret: entraLikeSecret(),
  };
  standin.addTenant({
    tenantId: outputs.tenantId,
    apps: [
      ...secretCallers.map((c) => ({
        clientId: c.clientId,
        servicePrincipalObjectId: c.servicePrincipalObjectId,
        secret: secrets.get(c.name),
      })),
      stranger,
    ],
  });
  const stackFlows = Object.entries(outputs.flows ?? {});
  const flows = stackFlows.length
    ? stackFlows.map(([name, f]) => ({ name, ...f }))
    : [
        {
          name: "demo",
          callers: [secretCallers[0].name],
          allowedUsers: [secretCallers[0].servicePrincipalObjectId],
          flowId: randomUUID(),
          dataverseUrl: "",
        },
      ];
  const flow = flows[0];
  const triggerUrls = new Map(
    flows.map((f) => [
      f.name,
      standin.addFlow({
        flowId: randomBytes(16).toString("hex"),
        tenantId: outputs.tenantId,
        mode: "users",
        allowedOids: f.allowedUsers,
      }),
    ]),
  );
  out(`  Entra ID and Power Automate at ${standin.baseUrl}; CA ${standin.caFile}`);
  for (const f of flows)
    out(`  flow ${f.name}: Allowed users ${f.allowedUsers.join(",")} (${f.callers.join(", ")})`);
  out("  ok: started");
  inAzure(
    "In Azure: login.microsoftonline.com issues the tokens and the flow runs in Power Automate; nothing\n" +
      "to start. Here the tool trusts the stand-ins' CA only through NODE_EXTRA_CA_CERTS.",
  );

  const smokeEnv = (secret: string) => ({
    ...baseEnv,
    NODE_EXTRA_CA_CERTS: standin.caFile,
    FLOW_CLIENT_SECRET: secret,
  });
  const allowed = secretCallers.find((c) => flow.callers.includes(c.name));
  if (!allowed) throw new StepFailed(`flow ${flow.name} lists no caller with credential: secret`);
  const allowedName = allowed.name;
  const refused = secretCallers.find((c) => !flow.callers.includes(c.name));
  const target = ["--trigger-url", triggerUrls.get(flow.name)!, "--authority-host", standin.baseUrl];

  step(`smoke as ${allowedName}, a caller flow ${flow.name} allows: expected to pass`);
  expectExit(
    await runTool(
      root,
      ["smoke", "--outputs", outputsFile, "--caller", allowedName, ...target],
      smokeEnv(secrets.get(allowedName)!),
    ),
    0,
    `${allowedName} gets a token and the flow accepts it`,
  );
  inAzure(
    `In Azure: \`npm run smoke -- --stack ${stack} --caller ${allowedName} --trigger-url <the flow's URL>\`\n` +
      "reads the caller's secret from Key Vault with your Azure login and calls the real trigger.",
  );

  step(
    `smoke as ${refused ? refused.name : "an app of the tenant"}, which flow ${flow.name} does not allow: expected to fail, with the hint`,
  );
  const refusedRun = refused
    ? await runTool(
        root,
        ["smoke", "--outputs", outputsFile, "--caller", refused.name, ...target],
        smokeEnv(secrets.get(refused.name)!),
      )
    : await runTool(
        root,
        ["smoke", "--tenant-id", outputs.tenantId, "--client-id", stranger.clientId, ...target],
        smokeEnv(stranger.secret),
      );
  expectExit(refusedRun, 1, "the flow refuses the caller's token and the tool says why");
  inAzure(
    "In Azure: Power Automate answers the same (MisMatchingOAuthClaims): the caller's object ID is not in\n" +
      "the flow's Allowed users. The fix is the sheet's value for that flow, or a caller listed for it.",
  );

  step("audit: each flow's definition read from Dataverse, compared with the outputs");
  if (!stackFlows.length) {
    out("  skipped: the stack names no flows (flow-trigger-auth:flows)");
  } else {
    const dataverse = createDataverseStandin();
    for (const f of flows) {
      dataverse.addOrg(f.dataverseUrl);
      dataverse.addWorkflow(f.dataverseUrl, {
        workflowid: randomUUID(),
        resourceid: f.flowId,
        name: f.name,
        statecode: 1,
        modifiedon: new Date().toISOString(),
        clientdata: flowDefinition({ authType: "User", allowedUsers: f.allowedUsers.join(",") }),
      });
    }
    for (const [name, c] of callers) {
      dataverse.directory.objects.set(c.servicePrincipalObjectId, {
        type: "servicePrincipal",
        displayName: "displayName" in c && c.displayName ? c.displayName : name,
        ...("clientId" in c && c.clientId ? { appId: c.clientId } : {}),
      });
    }
    // The audit runs in this process: its Dataverse hosts are the stand-in's, and nothing else is reached.
    out(
      `  $ flow-trigger-auth audit --outputs ${outputsFile}   (in-process, Dataverse answered by the stand-in)`,
    );
    const hosts = new Set(dataverse.hosts);
    const io: Io = {
      ...processIo(started.interrupt.signal),
      env: { PATH: process.env.PATH, ...baseEnv },
      cwd: home,
      stdout: (text) => out(indent(text)),
      stderr: (text) => out(indent(text)),
      fetch: (input, init) => {
        const host = new URL(input instanceof Request ? input.url : String(input)).host;
        if (hosts.has(host)) return dataverse.fetch(input, init);
        return Promise.reject(new TypeError(`fetch failed: the demo is offline (${host})`));
      },
      azureCredential: dataverse.credential,
    };
    const { audit } = await import("../commands/audit/audit");
    const code = await audit(["--outputs", outputsFile], io);
    expectExit({ code, output: "" }, 0, "every flow admits exactly its callers");
  }
  inAzure(
    `In Azure: \`npm run audit -- --stack ${stack}\` reads each flow from its environment's Dataverse with your\n` +
      "Azure login (an application user with read on the Process table); the pipeline runs it daily.",
  );

  // From the start of this process (performance's time origin), loading included.
  const seconds = (performance.now() / 1000).toFixed(1);
  out(`demo: all ${total} steps behaved as expected, in ${seconds} s.`);
  if (keep) out(`demo: kept ${folder} (outputs.json, handoff.md, ca.pem); the stand-ins are stopped.`);
  else out(`demo: stopped the stand-ins and removed ${folder}.`);
  out(
    `Next, with a tenant: fill in Pulumi.${stack}.yaml's \`# FILL IN:\` values, then the README's quick start.`,
  );
  return 0;
}

async function run(): Promise<number> {
  let stack = "dev";
  let dir: string | undefined;
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        stack: { type: "string" },
        dir: { type: "string" },
        keep: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
    if (values.help) {
      out(HELP);
      return 0;
    }
    keep = values.keep ?? false;
    if (values.stack !== undefined) {
      if (!/^[a-z0-9][a-z0-9_.-]{0,99}$/i.test(values.stack))
        throw new Error(`--stack must be a stack name such as dev, not ${JSON.stringify(values.stack)}`);
      stack = values.stack;
    }
    // `npm run` starts scripts in the repository root and keeps the caller's folder in INIT_CWD.
    if (values.dir !== undefined) dir = path.resolve(process.env.INIT_CWD ?? process.cwd(), values.dir);
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  try {
    return await demo(stack, dir);
  } catch (err) {
    // Interrupted: the signal's handler reports it (what failed then is only the interrupt's doing).
    if (started.interrupt.signal.aborted) return 1;
    const why = err instanceof StepFailed ? err.message : `unexpected error: ${(err as Error).stack ?? err}`;
    out(`  FAILED: ${why}`);
    out(
      `demo: a step did not behave as expected; stopped everything it started${keep ? "" : " and removed its folder"}.`,
    );
    return 1;
  } finally {
    await cleanup();
  }
}

function onSignal(signal: NodeJS.Signals): void {
  // Once is enough (npm passes a terminal's Ctrl-C on, and the terminal sends it to the demo too).
  if (started.interrupt.signal.aborted) return;
  started.interrupt.abort(signal);
  void cleanup().then(() => {
    process.stdout.write(
      `\ndemo: interrupted (${signal}); stopped everything it started${keep ? "" : " and removed its folder"}.\n`,
      () => process.exit(signal === "SIGINT" ? 130 : 143),
    );
  });
}

if (require.main === module) {
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  void run().then((code) => {
    if (!started.interrupt.signal.aborted) process.stdout.write("", () => process.exit(code));
  });
}
