/**
 * The audit's two outputs, as pure functions of its report: the text people read, and the one JSON
 * document scripts read (docs/audit.md#findings).
 */
import type { TriggerMode } from "./definition";
import { VERDICT_EXIT } from "../../lib/exit";
import { LIST_CODES, type FlowReport, type Severity, type Verdict } from "./findings";

/** What a whole audit found. */
export interface AuditReport {
  verdict: Verdict;
  flows: FlowReport[];
  /** Where the outputs came from, e.g. `outputs/dev.json` or `stack dev`. */
  source: string;
  /** Dataverse environments read. */
  environments: number;
  /** Requests sent to Dataverse and to Microsoft Graph. */
  requests: { dataverse: number; graph: number };
  durationMs: number;
  /** Facts worth knowing that are no finding (e.g. Graph could not name entries). */
  notes: string[];
}

/** The `--json` document: `{ verdict, flows: [{ name, flowId, mode?, allowedUsers?, findings }] }`. */
export interface AuditJson {
  verdict: Verdict;
  flows: {
    name: string;
    flowId: string;
    mode?: TriggerMode;
    allowedUsers?: string[];
    findings: { code: string; severity: Severity; message: string; entry?: string }[];
  }[];
  /** Only for the verdicts `usage` and `error`: what went wrong. */
  message?: string;
}

/** The label people read for a mode. */
const MODE_LABEL: Record<TriggerMode, string> = {
  anyone: "Anyone",
  tenant: "Any user in my tenant",
  "specific-users": "Specific users in my tenant",
};

/** The JSON document of a report. A finding about the Allowed users list ends with the value to paste. */
export function toJson(report: Pick<AuditReport, "verdict" | "flows">): AuditJson {
  return {
    verdict: report.verdict,
    flows: report.flows.map((f) => ({
      name: f.name,
      flowId: f.flowId,
      ...(f.mode ? { mode: f.mode } : {}),
      ...(f.allowedUsers ? { allowedUsers: f.allowedUsers } : {}),
      findings: f.findings.map((x) => ({
        code: x.code,
        severity: x.severity,
        message:
          f.paste && LIST_CODES.has(x.code) ? `${x.message}. Allowed users value: ${f.paste}` : x.message,
        ...(x.entry !== undefined ? { entry: x.entry } : {}),
      })),
    })),
  };
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** The report as text: one block per flow, its findings and the value to paste, then the verdict. */
export function renderText(report: AuditReport): string {
  const lines: string[] = [
    `Flow audit of ${report.source}: ${plural(report.flows.length, "flow")} in ${plural(report.environments, "Dataverse environment")}`,
    "",
  ];
  const width = Math.max(8, ...report.flows.map((f) => f.name.length));
  for (const f of report.flows) {
    const what = f.mode
      ? `${MODE_LABEL[f.mode]}${f.allowedUsers ? `, ${plural(f.allowedUsers.length, "entry", "entries")}` : ""}`
      : "";
    lines.push(`  ${f.name.padEnd(width)}  ${f.verdict.toUpperCase().padEnd(8)}  ${what}`.trimEnd());
    for (const x of f.findings) lines.push(`    ${x.severity.padEnd(8)}  ${x.code}: ${x.message}`);
    if (f.paste) lines.push(`    Allowed users value: ${f.paste}`);
  }
  for (const note of report.notes) lines.push("", `note: ${note}`);
  const count = (v: "match" | Severity) => report.flows.filter((f) => f.verdict === v).length;
  lines.push(
    "",
    `verdict: ${report.verdict} (exit ${VERDICT_EXIT[report.verdict]}): ${count("match")} match, ${count("drift")} drift, ` +
      `${count("fail")} fail, ${count("insecure")} insecure; ${plural(report.requests.dataverse, "Dataverse request")}, ` +
      `${plural(report.requests.graph, "Graph request")}, ${report.durationMs} ms`,
  );
  return `${lines.join("\n")}\n`;
}
