/** Builds dist/flow-trigger-auth.js from cli/main.ts. */
export function buildTool(): Promise<void>;
/** The built file. */
export const OUTFILE: string;
