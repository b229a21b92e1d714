/**
 * `npm run bench:audit`: how long `flow-trigger-auth audit` takes for 50 flows in 5 Dataverse
 * environments against the in-process stand-in (standin/dataverse.ts), on the real clock, and
 * how many requests it sends: when every flow matches, and when 10 flows list an entry only
 * Microsoft Graph can name. Prints figures; asserts nothing. Options: --runs N (default 20).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processIo, type Io } from "../lib/io";
import { main } from "../cli/main";
import { auditWorld, createDataverseStandin, flowDefinition } from "../standin/dataverse";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function scenario(label: string, drifted: number): Promise<void> {
  const standin = createDataverseStandin();
  const world = auditWorld(standin, { environments: 5, flowsPerEnvironment: 10, callers: 8 });
  for (const f of world.flows.slice(0, drifted)) {
    const ids = f.callers.map((n) => world.callers.find((c) => c.name === n)!.servicePrincipalObjectId);
    f.row.clientdata = flowDefinition({
      authType: "User",
      allowedUsers: [...ids, "0b944de3-e0fc-4774-a49a-b135213725ef"].join(";"),
    });
  }
  const dir = mkdtempSync(join(tmpdir(), "fta-bench-audit-"));
  writeFileSync(join(dir, "dev.json"), JSON.stringify(world.outputs));
  const times: number[] = [];
  let code = -1;
  let requests = { dataverse: 0, graph: 0 };
  for (let i = 0; i < RUNS + 1; i++) {
    const before = standin.requests.length;
    const io: Io = {
      ...processIo(),
      cwd: dir,
      stdout: () => undefined,
      stderr: () => undefined,
      fetch: standin.fetch,
      azureCredential: standin.credential,
    };
    const started = process.hrtime.bigint();
    code = await main(["audit", "--outputs", "dev.json", "--json"], io);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const sent = standin.requests.slice(before);
    requests = {
      dataverse: sent.filter((r) => r.host.endsWith(".dynamics.com")).length,
      graph: sent.filter((r) => r.host === "graph.microsoft.com").length,
    };
    // The first run loads the modules; it is not counted.
    if (i > 0) times.push(ms);
  }
  console.log(
    `  ${label.padEnd(34)} exit ${code}; median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, ` +
      `max ${Math.max(...times).toFixed(1)}); ${requests.dataverse} Dataverse request(s), ${requests.graph} Graph request(s)`,
  );
}

async function run(): Promise<void> {
  console.log(
    `audit of 50 flows in 5 environments, in-process stand-in, ${RUNS} runs each (node ${process.version}, ${process.platform})`,
  );
  await scenario("every flow matches", 0);
  await scenario("10 flows list an unknown entry", 10);
}

void run();
