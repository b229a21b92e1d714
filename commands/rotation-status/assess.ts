/**
 * `rotation-status` logic: is each caller's published client secret safe, given the stack outputs
 * (and, with `--live`, what Key Vault says)? Pure: the time is an argument and Key Vault is read
 * through an injected {@link LiveSecretReader}, so every rule is testable without a network.
 *
 * A caller is at risk when its published secret expires within `warnDays` days (or has expired),
 * when its rotation is overdue by more than a day (`nextRotationAt + 1 day < now`: the schedule
 * stopped), or, with `--live`, when Key Vault has no usable current version of its secret.
 */
import { DAY_MS, isoTime } from "../../rotation";
import {
  isVaultedCaller,
  KINDS,
  type CallerOutputs,
  type CallerOutputsOf,
  type VaultedKind,
} from "../../kinds/registry";
import { printable } from "../../printable";
import type { LoadedOutputs } from "../../lib/stack-outputs";

/** How late a rotation may be before the schedule counts as stopped: the pipeline runs daily. */
export const OVERDUE_GRACE_MS = DAY_MS;

/**
 * A caller's state, worst first: `missing` (Key Vault has no usable current version), `expired`,
 * `expiring` (within the warning window), `overdue` (rotation late by more than a day), `ok`; and
 * `nothing-to-rotate` for callers that keep nothing in Key Vault.
 */
export type CallerStatus = "missing" | "expired" | "expiring" | "overdue" | "ok" | "nothing-to-rotate";

const SEVERITY: Record<CallerStatus, number> = {
  missing: 4,
  expired: 3,
  expiring: 2,
  overdue: 1,
  ok: 0,
  "nothing-to-rotate": 0,
};

/** What Key Vault says about a secret's current (newest) version; never its value. */
export interface LiveSecret {
  /** The version's `expires` attribute as ISO 8601, or undefined when it has none. */
  expiresAt?: string;
  /** False when the current version is disabled: callers cannot read it. */
  enabled: boolean;
  /** Version ID, e.g. `4f1c...`, for the report. */
  version?: string;
}

/** Which secret to look up. */
export interface SecretRef {
  /** Vault data-plane URI, e.g. `https://flow-dev-k3x9q2.vault.azure.net/`. */
  vaultUri: string;
  /** Secret name, e.g. `erp-client-secret`. */
  secretName: string;
}

/** Reads a secret's current version from Key Vault; resolves `undefined` when the secret does not exist. */
export type LiveSecretReader = (ref: SecretRef) => Promise<LiveSecret | undefined>;

/** Inputs of {@link classifyCaller}; times in ms since the Unix epoch. */
export interface ClassifyInput {
  /** What is published (default a client secret); names it in the problems. */
  credential?: VaultedKind;
  /** When the published secret expires; `null` when it has no expiry. */
  expiresAtMs: number | null;
  /** When the next rotation is due (`nextRotationAt`). */
  nextRotationAtMs: number;
  nowMs: number;
  /** Warn when the secret expires within this many days. */
  warnDays: number;
  /** Key Vault has no usable current version (not found, or disabled). */
  missingReason?: string;
}

/** A caller's status and every problem found, each a sentence for the person who has to act. */
export interface Classification {
  status: CallerStatus;
  problems: string[];
}

/** Classifies one caller. Every applicable problem is listed; the status is the worst of them. */
export function classifyCaller(input: ClassifyInput): Classification {
  const { expiresAtMs, nextRotationAtMs, nowMs, warnDays } = input;
  const published = `published ${KINDS[input.credential ?? "secret"].rotation.published}`;
  const found: { status: CallerStatus; problem: string }[] = [];
  if (input.missingReason) found.push({ status: "missing", problem: input.missingReason });
  if (expiresAtMs !== null) {
    if (expiresAtMs <= nowMs) {
      found.push({
        status: "expired",
        problem: `${published} expired ${isoTime(expiresAtMs)} (${days(nowMs - expiresAtMs)} ago)`,
      });
    } else if (expiresAtMs - nowMs <= warnDays * DAY_MS) {
      found.push({
        status: "expiring",
        problem: `${published} expires ${isoTime(expiresAtMs)}, in ${days(expiresAtMs - nowMs)} (within ${warnDays} days)`,
      });
    }
  }
  if (nextRotationAtMs + OVERDUE_GRACE_MS < nowMs) {
    found.push({
      status: "overdue",
      problem:
        `rotation overdue by ${days(nowMs - nextRotationAtMs)} (was due ${isoTime(nextRotationAtMs)}): ` +
        "the scheduled `pulumi up` has stopped or is failing",
    });
  }
  const status = found.reduce<CallerStatus>(
    (worst, f) => (SEVERITY[f.status] > SEVERITY[worst] ? f.status : worst),
    "ok",
  );
  return { status, problems: found.map((f) => f.problem) };
}

/** One caller's line in the report. */
export interface CallerReport {
  /** Environment label: the stack name, or the outputs file's name. */
  environment: string;
  caller: string;
  credential: CallerOutputs["credential"];
  /** Absent for callers with nothing to rotate. */
  keyVaultSecretName?: string;
  keyVaultSecretUri?: string;
  /** `secretExpiresAt` from the stack outputs. */
  publishedExpiresAt?: string;
  /** With `--live`: Key Vault's `expires` of the current version (`null`: none set; absent: not read). */
  liveExpiresAt?: string | null;
  /** The expiry the status is based on: Key Vault's when read and set, else the outputs'. */
  expiresAt: string | null;
  expirySource?: "outputs" | "key-vault";
  /** With `--live`: Key Vault's expiry differs from the outputs' (by a second or more, or is missing). */
  expiryDiffers?: boolean;
  nextRotationAt?: string;
  /** Days until `expiresAt`, a day begun counting whole (negative once expired); `null` when it never expires. */
  daysUntilExpiry: number | null;
  /** Days since `nextRotationAt` passed, a day begun counting whole; 0 when it is still ahead. */
  daysRotationLate: number;
  status: CallerStatus;
  atRisk: boolean;
  problems: string[];
  /** Facts worth knowing that are not a risk by themselves (e.g. Key Vault differs from the outputs). */
  notes: string[];
}

/** The whole report, as `--json` prints it. */
export interface RotationReport {
  now: string;
  warnDays: number;
  live: boolean;
  callers: CallerReport[];
  /** `environment/caller` of every caller at risk. */
  atRisk: string[];
  /** 1 when any caller is at risk, else 0. */
  exitCode: 0 | 1;
}

/** Options of {@link assessRotation}. */
export interface AssessOptions {
  /** "Now", in ms since the Unix epoch. */
  nowMs: number;
  /** Warn when a published secret expires within this many days (default 30). */
  warnDays: number;
  /** Given: read each secret from Key Vault (`--live`) and trust it over the outputs. */
  readLive?: LiveSecretReader;
}

/** Assesses every caller of every environment, in the order given (callers by name). */
export async function assessRotation(
  environments: readonly LoadedOutputs[],
  options: AssessOptions,
): Promise<RotationReport> {
  const callers: CallerReport[] = [];
  for (const env of environments) {
    const names = Object.keys(env.outputs.callers).sort();
    for (const caller of names) {
      const c = env.outputs.callers[caller];
      if (!isVaultedCaller(c)) {
        callers.push(nothingToRotate(env.label, caller, c));
        continue;
      }
      const live =
        options.readLive && env.outputs.keyVaultUri
          ? await readLiveSecret(options.readLive, {
              vaultUri: env.outputs.keyVaultUri,
              secretName: c.keyVaultSecretName,
            })
          : undefined;
      callers.push(assessCaller(env.label, caller, c, live, options));
    }
  }
  const atRisk = callers.filter((c) => c.atRisk).map((c) => `${c.environment}/${c.caller}`);
  return {
    now: isoTime(options.nowMs),
    warnDays: options.warnDays,
    live: Boolean(options.readLive),
    callers,
    atRisk,
    exitCode: atRisk.length ? 1 : 0,
  };
}

type OutputsCaller = CallerOutputsOf<VaultedKind>;

function nothingToRotate(
  environment: string,
  caller: string,
  c: Exclude<CallerOutputs, OutputsCaller>,
): CallerReport {
  return {
    environment,
    caller,
    credential: c.credential,
    expiresAt: null,
    daysUntilExpiry: null,
    daysRotationLate: 0,
    status: "nothing-to-rotate",
    atRisk: false,
    problems: [],
    notes: [KINDS[c.credential].rotation.nothingToRotate],
  };
}
type LiveResult = { found: false } | { found: true; secret: LiveSecret };

async function readLiveSecret(read: LiveSecretReader, ref: SecretRef): Promise<LiveResult> {
  const secret = await read(ref);
  return secret ? { found: true, secret } : { found: false };
}

function assessCaller(
  environment: string,
  caller: string,
  c: OutputsCaller,
  live: LiveResult | undefined,
  options: AssessOptions,
): CallerReport {
  const publishedMs = Date.parse(c.secretExpiresAt);
  const nextMs = Date.parse(c.nextRotationAt);
  const notes: string[] = [];
  let expiresAtMs: number | null = publishedMs;
  let expirySource: CallerReport["expirySource"] = "outputs";
  let missingReason: string | undefined;
  let liveExpiresAt: string | null | undefined;
  let expiryDiffers: boolean | undefined;

  if (live && !live.found) {
    missingReason = `Key Vault has no secret ${c.keyVaultSecretName} (${c.keyVaultSecretUri}): callers cannot fetch their credential`;
  } else if (live?.found) {
    const { secret } = live;
    if (!secret.enabled) {
      missingReason = `the current version of ${c.keyVaultSecretName} is disabled in Key Vault: callers cannot read it`;
    }
    liveExpiresAt = secret.expiresAt ?? null;
    const liveMs = secret.expiresAt ? Date.parse(secret.expiresAt) : null;
    expiryDiffers = liveMs === null || Math.abs(liveMs - publishedMs) >= 1000;
    if (liveMs !== null) {
      expiresAtMs = liveMs;
      expirySource = "key-vault";
    }
    if (expiryDiffers) {
      notes.push(
        liveMs === null
          ? `Key Vault's current version has no expiry date; the outputs say ${c.secretExpiresAt} (judged by the outputs)`
          : `Key Vault says the secret expires ${isoTime(liveMs)}, the outputs say ${c.secretExpiresAt}: ` +
              "it was changed outside the stack, or the last `pulumi up` did not finish (judged by Key Vault)",
      );
    }
  }

  const { status, problems } = classifyCaller({
    credential: c.credential,
    expiresAtMs,
    nextRotationAtMs: nextMs,
    nowMs: options.nowMs,
    warnDays: options.warnDays,
    missingReason,
  });
  return {
    environment,
    caller,
    credential: c.credential,
    keyVaultSecretName: c.keyVaultSecretName,
    keyVaultSecretUri: c.keyVaultSecretUri,
    publishedExpiresAt: c.secretExpiresAt,
    ...(live ? { liveExpiresAt: liveExpiresAt ?? null, expiryDiffers: expiryDiffers ?? false } : {}),
    expiresAt: expiresAtMs === null ? null : isoTime(expiresAtMs),
    expirySource,
    nextRotationAt: c.nextRotationAt,
    daysUntilExpiry: expiresAtMs === null ? null : daysBetween(options.nowMs, expiresAtMs),
    daysRotationLate: Math.max(0, daysBetween(nextMs, options.nowMs)),
    status,
    atRisk: status !== "ok",
    problems,
    notes,
  };
}

/** The report for people: one line per caller, then every caller at risk with its problems. */
export function renderText(report: RotationReport): string {
  const source = report.live ? "Key Vault (--live), outputs as fallback" : "stack outputs";
  const lines = [
    `Rotation status at ${report.now}: warn when a published secret expires within ${report.warnDays} days; expiry from ${source}.`,
  ];
  const nameWidth = Math.max(6, ...report.callers.map((c) => c.caller.length));
  let environment: string | undefined;
  for (const c of report.callers) {
    if (c.environment !== environment) {
      environment = c.environment;
      lines.push("", `${printable(environment)}:`);
    }
    if (c.nextRotationAt === undefined) {
      lines.push(`  ${c.caller.padEnd(nameWidth)}  ${"-".padEnd(8)}  nothing to rotate (${c.credential})`);
      continue;
    }
    const expiry =
      c.expiresAt === null ? "never expires" : `expires ${c.expiresAt} (${relative(c.daysUntilExpiry ?? 0)})`;
    const late =
      c.daysRotationLate > 0
        ? `${c.daysRotationLate} day(s) late`
        : relative(daysUntil(c.nextRotationAt, report.now));
    lines.push(
      `  ${c.caller.padEnd(nameWidth)}  ${c.status.toUpperCase().padEnd(8)}  ${expiry}; next rotation ${c.nextRotationAt} (${late})`,
    );
    for (const note of c.notes) lines.push(`  ${"".padEnd(nameWidth)}  note: ${printable(note)}`);
  }
  lines.push("");
  if (report.atRisk.length === 0) {
    const rotating = report.callers.filter((c) => c.status !== "nothing-to-rotate").length;
    lines.push(`All ${rotating} caller(s) with a secret or certificate OK.`);
  } else {
    lines.push(`${report.atRisk.length} caller(s) AT RISK:`);
    for (const c of report.callers.filter((r) => r.atRisk)) {
      lines.push(`  ${printable(`${c.environment}/${c.caller}`)}: ${printable(c.problems.join("; "))}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function relative(wholeDays: number): string {
  if (wholeDays === 0) return "today";
  return wholeDays > 0 ? `in ${wholeDays} day(s)` : `${-wholeDays} day(s) ago`;
}

function daysUntil(iso: string, nowIso: string): number {
  return daysBetween(Date.parse(nowIso), Date.parse(iso));
}

/**
 * Whole days from `fromMs` to `toMs`, negative when `toMs` is earlier, counted the one way every day
 * count of the report is (docs/commands.md#rotation-status): a day begun counts as a whole day, so
 * 29 days and 1 hour ahead is 30, and 3 hours ago is -1. Hence a credential is at risk exactly when its
 * count is at most --warn-days, and a rotation is overdue exactly when it is more than 1 day late.
 */
export function daysBetween(fromMs: number, toMs: number): number {
  const d = (toMs - fromMs) / DAY_MS;
  return d >= 0 ? Math.ceil(d) : -Math.ceil(-d);
}

/** A positive duration as a day count ({@link daysBetween}'s rule). */
function days(ms: number): string {
  return `${daysBetween(0, ms)} day(s)`;
}
