/**
 * How the stand-in's Entra ID answers: JSON, AADSTS errors in Entra's shape, and the checks the token
 * and device-code endpoints share (unknown tenant, unknown resource, the audience of a scope).
 */
import { randomUUID } from "node:crypto";
import type { StandinTenant } from "./standin";

/** Resources (v1 identifier URIs, compared without trailing slash) the stand-in knows tokens for. */
export const KNOWN_RESOURCES = [
  "https://vault.azure.net",
  "https://service.flow.microsoft.com",
  "https://gov.service.flow.microsoft.us",
  "https://high.service.flow.microsoft.us",
  "https://service.flow.appsplatform.us",
  "https://service.powerautomate.cn",
];

/** Whether the stand-in knows tokens for `resource` (with or without its trailing slash). */
export function isKnownResource(resource: string): boolean {
  return KNOWN_RESOURCES.includes(resource.replace(/\/$/, ""));
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function aadstsError(status: number, error: string, code: number, text: string): Response {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  return json(status, {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

/** Entra's answer for a tenant that does not exist (AADSTS90002), from its metadata and token endpoints. */
export function unknownTenant(tenantId: string): Response {
  return aadstsError(
    400,
    "invalid_tenant",
    90002,
    `Tenant '${tenantId}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  );
}

/**
 * Entra's AADSTS500011 when a token is asked for a resource the stand-in does not know, or in a tenant
 * without the Flow service principal; undefined when the resource is there.
 */
export function resourceRefusal(tenant: StandinTenant, audience: string): Response | undefined {
  if (isKnownResource(audience) && tenant.flowServicePrincipal !== false) return undefined;
  return aadstsError(
    400,
    "invalid_resource",
    500011,
    `The resource principal named ${audience} was not found in the tenant named ${tenant.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  );
}

/**
 * The `aud` Entra's v2 endpoint puts in a token for a v1 resource: the scope cut at its LAST slash.
 * `https://service.flow.microsoft.com//.default` gives `https://service.flow.microsoft.com/`; the
 * single-slash mistake `https://service.flow.microsoft.com/.default` gives no trailing slash.
 */
export function audienceOfScope(scope: string): string {
  return scope.slice(0, scope.lastIndexOf("/"));
}
