/**
 * The program the package's `bin` starts (built into dist/, see scripts/build.mjs): the tool on the
 * process's arguments. Everything else is in ./main, which tests call in-process.
 */
import { runAsProgram } from "./main";

runAsProgram();
