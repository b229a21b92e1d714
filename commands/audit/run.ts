/**
 * The audit as a library: from stack outputs with `flows`, read each environment's flows from
 * Dataverse (one query per environment), name unexpected entries through Microsoft Graph, and judge
 * each flow (findings.ts). Reads only; writes nothing anywhere. The `audit` command calls
 * {@link runAudit}; everything outside comes in through {@link AuditDeps}.
 */
import type { TokenCredential } from "@azure/identity";
import { dataverseOriginOf, GRAPH_HOST } from "../../clouds";
import type { StackOutputs } from "../../outputs";
import { readEnvironment } from "./dataverse";
import {
  auditFlow,
  entriesToResolve,
  overallVerdict,
  type CallerFacts,
  type FlowExpectation,
  type FlowSource,
} from "./findings";
import { resolveDirectory } from "./graph";
import { tokenWithin, type CallDeps } from "./http";
import type { AuditReport } from "./render";

/** An audit that cannot run: bad selection, no flows, no credential (exit 2). */
export class AuditSetupError extends Error {
  override readonly name = "AuditSetupError";
  /** The runner reports it as a usage error. */
  readonly kind = "usage";
}

/** What the audit needs from the outside world. */
export interface AuditDeps extends CallDeps {
  /** The ambient Azure credential: tokens for Dataverse and Microsoft Graph. */
  credential: TokenCredential;
  /** Told of every token obtained, so that nothing printed can contain it. */
  onToken(token: string): void;
}

/** How to give a stack flows, for an outputs file without them. */
export function noFlowsMessage(source: string): string {
  return (
    `${source} has no flows to audit: list the flows the stack's callers may trigger in the stack configuration ` +
    "(`flow-trigger-auth:flows`, each with name, triggerUrl, callers, flowId and dataverseUrl; see docs/audit.md#setting-it-up), " +
    "run `pulumi up`, then save the outputs again (`pulumi stack output --json > FILE`)"
  );
}

/** Every caller of the stack, as the audit names them. */
export function callersOf(outputs: StackOutputs): CallerFacts[] {
  return Object.entries(outputs.callers).map(([name, c]) => ({
    name,
    objectId: c.servicePrincipalObjectId,
    clientId: c.clientId,
    ...("applicationObjectId" in c && c.applicationObjectId
      ? { applicationObjectId: c.applicationObjectId }
      : {}),
    displayName: c.displayName,
  }));
}

/**
 * What each selected flow must admit, in the outputs' order; `only` (names, from `--flow`) selects.
 * @throws {AuditSetupError} when the outputs name no flows or `only` names an unknown one.
 */
export function expectationsOf(
  outputs: StackOutputs,
  source: string,
  only: readonly string[] = [],
): FlowExpectation[] {
  const flows = outputs.flows ?? {};
  const names = Object.keys(flows);
  if (names.length === 0) throw new AuditSetupError(noFlowsMessage(source));
  const unknown = only.filter((n) => !Object.hasOwn(flows, n));
  if (unknown.length) {
    throw new AuditSetupError(
      `--flow ${unknown.join(", ")}: no such flow in ${source} (its flows: ${names.join(", ")})`,
    );
  }
  const callers = new Map(callersOf(outputs).map((c) => [c.name, c]));
  return names
    .filter((n) => only.length === 0 || only.includes(n))
    .map((name) => {
      const f = flows[name];
      return {
        name,
        flowId: f.flowId.toLowerCase(),
        dataverseUrl: dataverseOriginOf(f.dataverseUrl, outputs.cloud) ?? f.dataverseUrl,
        callers: f.callers.flatMap((c) => callers.get(c) ?? []),
        allowedUsers: f.allowedUsers,
      };
    });
}

/** Runs the audit of `expected` flows of a stack with `outputs`; never writes anything. */
export async function runAudit(
  outputs: StackOutputs,
  expected: readonly FlowExpectation[],
  source: string,
  deps: AuditDeps,
): Promise<AuditReport> {
  const started = deps.now();
  const stackCallers = callersOf(outputs);
  const requests = { dataverse: 0, graph: 0 };
  const byOrigin = new Map<string, FlowExpectation[]>();
  for (const f of expected) byOrigin.set(f.dataverseUrl, [...(byOrigin.get(f.dataverseUrl) ?? []), f]);

  const sources = new Map<string, FlowSource>();
  for (const [origin, flows] of byOrigin) {
    const ids = [...new Set(flows.map((f) => f.flowId))];
    deps.progress?.(`dataverse: reading ${flows.length} flow(s) from ${origin}`);
    const token = await tokenWithin(deps.credential, `${origin}/.default`, deps);
    if (!token.ok && token.unavailable) {
      throw new AuditSetupError(
        `no Azure credential to read ${origin} with: sign in (\`az login\`), or provide AZURE_* variables, a workload or a managed identity (${token.message})`,
      );
    }
    if (!token.ok) {
      for (const f of flows) {
        sources.set(f.name, { kind: "unreadable", message: `no token for ${origin}: ${token.message}` });
      }
      continue;
    }
    deps.onToken(token.token);
    const read = await readEnvironment(deps, origin, ids, token.token, () => requests.dataverse++);
    for (const f of flows) sources.set(f.name, read.get(f.flowId) ?? { kind: "not-found" });
  }

  const toResolve = expected.map((f) =>
    entriesToResolve(sources.get(f.name) ?? { kind: "not-found" }, stackCallers),
  );
  const { directory, notes } = await resolveDirectory(
    deps,
    GRAPH_HOST[outputs.cloud],
    deps.credential,
    toResolve.flatMap((r) => r.ids),
    toResolve.flatMap((r) => r.names),
    { count: () => requests.graph++, token: deps.onToken },
  );
  const flows = expected.map((f) =>
    auditFlow(f, sources.get(f.name) ?? { kind: "not-found" }, stackCallers, directory),
  );
  return {
    verdict: overallVerdict(flows),
    flows,
    source,
    environments: byOrigin.size,
    requests,
    durationMs: deps.now() - started,
    notes,
  };
}
