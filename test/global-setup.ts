/**
 * Builds the command-line tool and the demo before the tests, so the few tests that run them as
 * processes (e2e, demo) run the code as it is now, as users run it (dist/flow-trigger-auth.js, dist/demo.js).
 */
export default async function setup(): Promise<void> {
  const { buildTool } = (await import("../scripts/build.mjs")) as { buildTool: () => Promise<void> };
  await buildTool();
}
