/**
 * Runs a stand-in by hand, for trying the smoke CLI without a tenant:
 *   node_modules/.bin/ts-node --transpile-only standin/serve.ts
 * prints the environment and the command line to use, then serves until Ctrl-C.
 */
import { startStandin } from "./standin";
import { demoScenario } from "./scenario";

async function main(): Promise<void> {
  const standin = await startStandin();
  const demo = demoScenario(standin, { mode: "users" });
  console.log(`stand-in at ${standin.baseUrl}`);
  console.log(
    [
      `NODE_EXTRA_CA_CERTS=${standin.caFile} FLOW_CLIENT_SECRET='${demo.secret}'`,
      "npm run smoke --",
      `--trigger-url '${demo.triggerUrl}'`,
      `--tenant-id ${demo.tenantId} --client-id ${demo.clientId}`,
      `--authority-host ${standin.baseUrl}`,
    ].join(" "),
  );
  process.on("SIGINT", () => void standin.close().then(() => process.exit(0)));
}

void main();
