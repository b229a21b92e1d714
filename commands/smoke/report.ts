/**
 * What a smoke test run reports: its verdict and exit code, each check's result, the one JSON object
 * of `--json` (docs/smoke-test.md) and the text people read. Pure functions of the result.
 */
import { printable } from "../../printable";
import type { CheckName } from "./hints";

/**
 * Overall result: exit code 0, 1, 3, 2 and 70 respectively (`error`: the tool itself failed);
 * `interrupted`: stopped by SIGINT (130) or SIGTERM (143), checks not finished.
 */
export type Verdict = "pass" | "fail" | "insecure" | "usage" | "error" | "interrupted";

/**
 * Names in a report: the four checks, plus `arguments` (bad options), `secret` (no credential could
 * be obtained) and `outputs` (stack outputs could not be read), which only appear with the verdict
 * `usage`, and `internal` (the tool failed: verdict `error`).
 */
export type ReportCheckName = CheckName | "arguments" | "secret" | "outputs" | "internal" | "interrupted";

/** The result of one check. */
export interface CheckResult {
  name: ReportCheckName;
  ok: boolean;
  /** HTTP status of the deciding answer, e.g. `401`. */
  status?: number;
  /** Error code of the deciding answer, e.g. `MisMatchingOAuthClaims`, `AADSTS7000215`, `sig`. */
  code?: string;
  /** What happened, secret-free. */
  message: string;
  /** What to do about a failure. */
  hint?: string;
  /** Requests made (0 for checks without network). */
  attempts: number;
  /** Time spent in this check, retries and waits included. */
  durationMs: number;
}

/** The result of a run. */
export interface SmokeResult {
  verdict: Verdict;
  /** The verdict's exit code (VERDICT_EXIT, lib/exit.ts). */
  exitCode: number;
  /** The checks that ran, in order; a run stops at the first check that does not pass. */
  checks: CheckResult[];
  /** `x-ms-workflow-run-id` of the run the call started, when the trigger accepted it. */
  runId?: string;
  durationMs: number;
}

/** The `--json` report (docs/smoke-test.md): `{ verdict, checks: [{ name, ok, status?, code?, message }], runId?, durationMs }`. */
export interface JsonReport {
  verdict: Verdict;
  checks: { name: ReportCheckName; ok: boolean; status?: number; code?: string; message: string }[];
  runId?: string;
  durationMs: number;
}

/** The `--json` object of a result: each check's hint is appended to its message. */
export function toJsonReport(result: SmokeResult): JsonReport {
  const report: JsonReport = {
    verdict: result.verdict,
    checks: result.checks.map((c) => {
      const check: JsonReport["checks"][number] = { name: c.name, ok: c.ok, message: messageWithHint(c) };
      if (c.status !== undefined) check.status = c.status;
      if (c.code !== undefined) check.code = c.code;
      return check;
    }),
    durationMs: result.durationMs,
  };
  if (result.runId !== undefined) report.runId = result.runId;
  return report;
}

/** A check's message followed by its hint, if any. */
export function messageWithHint(check: CheckResult): string {
  // One period between them: a message's own final period is dropped (an ellipsis is kept).
  return check.hint ? `${check.message.replace(/(?<!\.)\.$/, "")}. Hint: ${check.hint}` : check.message;
}

/**
 * One check's lines of the readable report: its result (tagged after `verdict` when it failed), and
 * its hint on the next line. The command prints them as the check finishes.
 */
export function formatCheck(check: CheckResult, verdict: Verdict): string {
  const tag = check.ok
    ? "PASS"
    : verdict === "interrupted"
      ? "STOPPED"
      : verdict === "insecure"
        ? "INSECURE"
        : verdict === "usage"
          ? "USAGE"
          : "FAIL";
  // Messages carry what servers said: each stays on its line, escaped (printable.ts).
  const lines = [`${tag.padEnd(8)} ${check.name}: ${printable(check.message)}`];
  if (check.hint) lines.push(`${" ".repeat(9)}hint: ${printable(check.hint)}`);
  return `${lines.join("\n")}\n`;
}

/**
 * The readable report: one line per check (with its hint on the next line), then the verdict; the
 * first `printed` checks are left out (printed already, as they finished).
 */
export function formatText(result: SmokeResult, printed = 0): string {
  const lines: string[] = result.checks.slice(printed).map((c) => formatCheck(c, result.verdict).trimEnd());
  const run = result.runId ? `, run ${result.runId}` : "";
  lines.push(
    `verdict: ${result.verdict} (exit ${result.exitCode})${printable(run)}, ${result.durationMs} ms`,
  );
  return `${lines.join("\n")}\n`;
}
