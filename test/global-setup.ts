/**
 * Builds the command-line tool before the tests, so the few tests that run it as a process (e2e)
 * run the code as it is now, as users run it (dist/flow-trigger-auth.js).
 */
export default async function setup(): Promise<void> {
  const { buildTool } = (await import("../scripts/build.mjs")) as { buildTool: () => Promise<void> };
  await buildTool();
}
