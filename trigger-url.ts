/**
 * What a flow's HTTP-trigger URL may be, as pure checks shared by the stack config
 * (`flow-trigger-auth:smokeTest.triggerUrl`) and the smoke test (`--trigger-url`), so that `validate`
 * refuses exactly what the smoke test would refuse inside `pulumi up`. docs/smoke-test.md explains them.
 */
import type { CloudName } from "./clouds";

/** Host suffixes of Power Automate trigger URLs in each cloud: the current form, then the legacy one. */
export const TRIGGER_HOST_SUFFIXES: Readonly<Record<CloudName, { current: string; legacy: string }>> = {
  public: { current: ".environment.api.powerplatform.com", legacy: ".logic.azure.com" },
  gcc: { current: ".environment.api.gov.powerplatform.microsoft.us", legacy: ".logic.azure.us" },
  gcchigh: { current: ".environment.api.high.powerplatform.microsoft.us", legacy: ".logic.azure.us" },
  dod: { current: ".environment.api.appsplatform.us", legacy: ".logic.azure.us" },
  china: { current: ".environment.api.powerplatform.partner.microsoftonline.cn", legacy: ".logic.azure.cn" },
};

/** Hosts a test stand-in may listen on. */
const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** What a trigger URL is, or why it cannot be used. */
export type TriggerUrlCheck =
  | {
      outcome: "ok";
      url: URL;
      /** Facts worth telling the caller (legacy host, internationalised host name). */
      notes: string[];
    }
  | { outcome: "insecure"; code: "sig"; message: string }
  | { outcome: "invalid"; message: string };

/** What the check may accept beyond the cloud's own hosts. */
export interface TriggerUrlPolicy {
  /** The cloud whose Power Automate hosts are accepted; any cloud's when undefined. */
  cloud?: CloudName;
  /** Extra host names trusted explicitly (`--trust-host`), lower case. */
  trustedHosts?: readonly string[];
  /** Accept loopback hosts (a local stand-in); the smoke test does, the stack config does not. */
  allowLoopback?: boolean;
  /** How the user trusts another host, e.g. `--trust-host HOST`; said in the refusal when given. */
  trustOption?: string;
}

/**
 * Checks a trigger URL without any network: HTTPS, no user name or password, no `sig` (an "Anyone"
 * trigger, whatever the case of the parameter), and a host of Power Automate in the stack's cloud
 * (or trusted explicitly). The messages never repeat the URL: it may carry a secret.
 */
export function checkTriggerUrl(raw: string, policy: TriggerUrlPolicy = {}): TriggerUrlCheck {
  if (!URL.canParse(raw)) {
    return { outcome: "invalid", message: "is not a URL: copy the HTTP URL from the flow's trigger" };
  }
  const url = new URL(raw);
  if (url.protocol !== "https:") {
    return {
      outcome: "invalid",
      message: `must be an https:// URL (got ${url.protocol}//): copy the HTTP URL from the flow's trigger`,
    };
  }
  if (url.username || url.password) {
    return { outcome: "invalid", message: "must not carry a user name or password (user:password@)" };
  }
  if ([...url.searchParams.keys()].some((k) => k.toLowerCase() === "sig")) {
    return {
      outcome: "insecure",
      code: "sig",
      message:
        'carries a "sig" parameter: an "Anyone" trigger, callable by whoever holds the URL; set "Who can trigger the flow" to "Specific users in my tenant" and use the new URL',
    };
  }
  const host = url.hostname.toLowerCase();
  const notes: string[] = [];
  const trusted = policy.trustedHosts?.includes(host) ?? false;
  const loopback = policy.allowLoopback === true && LOOPBACK.has(host);
  const clouds = policy.cloud ? [policy.cloud] : (Object.keys(TRIGGER_HOST_SUFFIXES) as CloudName[]);
  const match = clouds.flatMap((c) => {
    const { current, legacy } = TRIGGER_HOST_SUFFIXES[c];
    if (host.endsWith(current) && host.length > current.length) return [{ cloud: c, legacy: false }];
    if (host.endsWith(legacy) && host.length > legacy.length) return [{ cloud: c, legacy: true }];
    return [];
  })[0];
  if (!match && !trusted && !loopback) {
    const expected = clouds.map((c) => `*${TRIGGER_HOST_SUFFIXES[c].current}`).join(", ");
    return {
      outcome: "invalid",
      message:
        `has a host that is not Power Automate's${policy.cloud ? ` in cloud ${policy.cloud}` : ""} (expected ${expected}): ` +
        `the bearer token would be sent to it. Copy the URL from the trigger${policy.trustOption ? `, or trust the host explicitly with ${policy.trustOption}` : ""}`,
    };
  }
  if (host.split(".").some((label) => label.startsWith("xn--"))) {
    notes.push(
      `the host name is internationalised (${host}): check that it is the one you expect, letter by letter`,
    );
  }
  if (match?.legacy && match.cloud === "public") {
    notes.push(
      "a *.logic.azure.com trigger URL: such URLs stopped working on 2025-11-30 in the commercial cloud; copy the current URL " +
        "(https://<environment>.environment.api.powerplatform.com/powerautomate/...) from the trigger (admins list affected flows with Get-AdminFlowWithMigratingTriggerUrl)",
    );
  }
  return { outcome: "ok", url, notes };
}

/**
 * The Power Platform environment a trigger URL belongs to, read from its host: the host of the current
 * form is the environment ID in lower case without dashes, split by a dot before its last 2 characters
 * (1 in the sovereign clouds), then `.environment.` and the cloud's API domain, e.g.
 * `0f3c...9a.b7.environment.api.powerplatform.com` for `0f3c...-...9ab7`. The default environment's ID
 * is `Default-<tenant ID>`. Source: microsoft/Agents-for-js,
 * packages/agents-copilotstudio-client/src/powerPlatformEnvironment.ts (getEnvironmentEndpoint,
 * getIdSuffixLength). Undefined for a legacy `*.logic.azure.*` host or any other host.
 */
export function environmentIdOfTriggerUrl(raw: string, cloud: CloudName): string | undefined {
  if (!URL.canParse(raw)) return undefined;
  const host = new URL(raw).hostname.toLowerCase();
  const suffix = TRIGGER_HOST_SUFFIXES[cloud].current;
  if (!host.endsWith(suffix)) return undefined;
  const labels = host.slice(0, -suffix.length).split(".");
  const tail = cloud === "public" ? 2 : 1;
  if (labels.length !== 2 || labels[1].length !== tail) return undefined;
  const m = /^(default)?([0-9a-f]{32})$/.exec(labels.join(""));
  if (!m) return undefined;
  const h = m[2];
  const guid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  return m[1] ? `Default-${guid}` : guid;
}
