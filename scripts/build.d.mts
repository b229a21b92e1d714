/** Builds dist/flow-trigger-auth.js from cli/main.ts and dist/demo.js from demo/demo.ts. */
export function buildTool(): Promise<void>;
/** The built tool. */
export const OUTFILE: string;
/** The built demo. */
export const DEMO_OUTFILE: string;
