/**
 * Ready-made stand-in setups: one tenant, one caller app, one flow, with fresh GUIDs and secret, so
 * each test (and the benchmark) gets its own isolated world on a shared stand-in.
 */
import { randomBytes, randomUUID } from "node:crypto";
import * as selfsigned from "selfsigned";
import type { Standin, StandinApp, StandinFlow, StandinTenant } from "./standin";

/** What a test needs to call the smoke CLI against a scenario. */
export interface Scenario {
  tenantId: string;
  clientId: string;
  /** The caller's client secret value (realistic: 40 characters, as Entra generates). */
  secret: string;
  /** Object ID of the caller's enterprise app: the token's `oid`. */
  servicePrincipalObjectId: string;
  flowId: string;
  triggerUrl: string;
}

/** Tweaks of a scenario; everything else gets a working default. */
export interface ScenarioOptions {
  mode?: StandinFlow["mode"];
  /** Flow settings beyond the defaults (e.g. `allowedOids`, `response`, `acceptAnonymous`). */
  flow?: Partial<Omit<StandinFlow, "flowId" | "tenantId">>;
  /** App settings beyond the defaults (e.g. `notReplicatedForRequests`). */
  app?: Partial<Omit<StandinApp, "clientId" | "secret" | "servicePrincipalObjectId">>;
  tenant?: Partial<Omit<StandinTenant, "tenantId" | "apps">>;
  /** The caller's client secret; default {@link entraLikeSecret}. */
  secret?: string;
}

/** A certificate and its private key (PEM), as a certificate caller holds them; `certificate` alone is what the app trusts. */
export async function callerCertificate(): Promise<{ pem: string; certificate: string }> {
  const generated = await selfsigned.generate(
    [{ name: "commonName", value: "flow-trigger-auth test caller" }],
    {
      keySize: 2048,
      algorithm: "sha256",
      notBeforeDate: new Date(Date.now() - 60_000),
      notAfterDate: new Date(Date.now() + 24 * 3600_000),
    },
  );
  return { pem: `${generated.cert}\n${generated.private}`, certificate: generated.cert };
}

/** A secret shaped like Entra's: 40 characters of letters, digits and `~._-`. */
export function entraLikeSecret(): string {
  return `${randomBytes(30).toString("base64url").slice(0, 37)}~Q.`.slice(0, 40);
}

/**
 * Registers a tenant with one caller and one flow on `standin`. In "users" mode the caller is in
 * Allowed users unless `flow.allowedOids` says otherwise.
 */
export function demoScenario(standin: Standin, options: ScenarioOptions = {}): Scenario {
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const servicePrincipalObjectId = randomUUID();
  const secret = options.secret ?? entraLikeSecret();
  const flowId = randomUUID().replace(/-/g, "");
  const mode = options.mode ?? "users";
  standin.addTenant({
    tenantId,
    apps: [{ clientId, secret, servicePrincipalObjectId, ...options.app }],
    ...options.tenant,
  });
  const triggerUrl = standin.addFlow({
    flowId,
    tenantId,
    mode,
    ...(mode === "users" ? { allowedOids: [randomUUID(), servicePrincipalObjectId] } : {}),
    ...(mode === "anyone" ? { sig: randomBytes(32).toString("base64url") } : {}),
    ...options.flow,
  });
  return { tenantId, clientId, secret, servicePrincipalObjectId, flowId, triggerUrl };
}

/**
 * The smoke test's options that name a scenario's flow and caller, with the stand-in at
 * `authorityHost` as Entra, e.g. `["--trigger-url", url, "--tenant-id", id, ...]`.
 */
export function scenarioArgs(
  s: Pick<Scenario, "triggerUrl" | "tenantId" | "clientId">,
  authorityHost: string,
): string[] {
  return [
    "--trigger-url",
    s.triggerUrl,
    "--tenant-id",
    s.tenantId,
    "--client-id",
    s.clientId,
    "--authority-host",
    authorityHost,
  ];
}

/** A tenant whose flow allows a managed identity's principal; the identity is registered unless `assigned` is false. */
export function managedIdentityScenario(standin: Standin, assigned = true) {
  const tenantId = randomUUID();
  const identity = { tenantId, clientId: randomUUID(), principalId: randomUUID() };
  if (assigned) standin.addManagedIdentity(identity);
  standin.addTenant({ tenantId, apps: [] });
  const flowId = randomUUID().replace(/-/g, "");
  const triggerUrl = standin.addFlow({
    flowId,
    tenantId,
    mode: "users",
    allowedOids: [identity.principalId],
  });
  return { tenantId, identity, triggerUrl };
}

/**
 * The smoke test's options for a caller that must be refused before any request: a loopback trigger
 * URL and fresh tenant and client IDs (then `--json` and what is under test).
 */
export function offlineSmokeArgs(): string[] {
  return [
    "--trigger-url",
    "https://127.0.0.1:8443/powerautomate/automations/direct/workflows/x/triggers/manual/paths/invoke?api-version=1",
    "--tenant-id",
    randomUUID(),
    "--client-id",
    randomUUID(),
  ];
}
