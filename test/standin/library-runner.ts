/**
 * Calls the smoke library (`runSmoke`) in a child process, so it runs with NODE_EXTRA_CA_CERTS
 * trusting the stand-in (Node reads that variable only at start-up). Usage:
 *   FLOW_CLIENT_SECRET=... ts-node --transpile-only test/standin/library-runner.ts '<SmokeOptions JSON without clientSecret>'
 * Prints the SmokeResult as JSON on stdout.
 */
import { runSmoke, type SmokeOptions } from "../../smoke/checks";

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? "{}") as Omit<SmokeOptions, "clientSecret">;
  const result = await runSmoke({ ...options, clientSecret: process.env.FLOW_CLIENT_SECRET ?? "" });
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

void main();
