/**
 * Key Vault's data-plane REST API as `@azure/keyvault-secrets` sees it, answered in-process through a
 * `fetch` (no network): the challenge first (401 with WWW-Authenticate), then secrets, their versions
 * (paged), 404 for what does not exist, and whatever failure a test injects.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import { hang } from "./standin";

/** One version of a secret in the fake vault. */
export interface FakeVersion {
  version: string;
  value: string;
  /** Creation time, ISO 8601. */
  created: string;
  /** `expires` attribute, ISO 8601; none when absent. */
  expires?: string;
  enabled?: boolean;
}

/** A fake vault at `vaultUrl` (e.g. `https://kv-test.vault.azure.net`). */
export interface FakeVault {
  vaultUrl: string;
  fetch: typeof fetch;
  /** Secrets by name, newest version last. */
  secrets: Map<string, FakeVersion[]>;
  /** Every request, without any credential. */
  requests: { method: string; path: string; authorized: boolean }[];
  /**
   * The next requests with a token get this status and error code instead (e.g. 403 Forbidden), hang,
   * or are redirected (302) to `redirect`.
   */
  failNext(count: number, failure: VaultFailure): void;
  /** Versions per page when listing (default 25, as Key Vault). */
  pageSize: number;
  /**
   * A misbehaving vault: the origin its paging links (`nextLink`) name instead of its own, e.g.
   * `https://collector.example`.
   */
  nextLinkOrigin?: string;
}

/** What {@link FakeVault.failNext} answers instead. */
export type VaultFailure = { status: number; code: string } | "hang" | { redirect: string };

const secs = (iso: string) => Date.parse(iso) / 1000;

export function fakeVault(vaultUrl: string, tenantId = "eb4abb67-170c-4ad7-977a-78b7180211ed"): FakeVault {
  const base = vaultUrl.replace(/\/+$/, "");
  const secrets = new Map<string, FakeVersion[]>();
  const requests: FakeVault["requests"] = [];
  const failures: VaultFailure[] = [];
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  const bundle = (name: string, v: FakeVersion, withValue: boolean) => ({
    id: `${base}/secrets/${name}/${v.version}`,
    ...(withValue ? { value: v.value } : {}),
    attributes: {
      enabled: v.enabled ?? true,
      created: secs(v.created),
      updated: secs(v.created),
      ...(v.expires ? { exp: secs(v.expires) } : {}),
      recoveryLevel: "Recoverable+Purgeable",
    },
    contentType: "text/plain; charset=utf-8; kind=entra-client-secret",
  });
  const vault: FakeVault = {
    vaultUrl: base,
    secrets,
    requests,
    pageSize: 25,
    failNext(count, failure) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      const authorized = request.headers.get("authorization")?.startsWith("Bearer ") ?? false;
      requests.push({ method: request.method, path: url.pathname, authorized });
      if (!authorized) {
        const resource = `https://${url.hostname.split(".").slice(1).join(".")}`;
        return json(
          401,
          { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer token." } },
          {
            "www-authenticate": `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="${resource}"`,
          },
        );
      }
      const failure = failures.shift();
      if (failure === "hang") return hang(request.signal);
      if (failure && "redirect" in failure)
        return new Response(null, { status: 302, headers: { location: failure.redirect } });
      if (failure)
        return json(failure.status, {
          error: { code: failure.code, message: `${failure.code} (fake vault)` },
        });
      const notFound = (name: string) =>
        json(404, {
          error: {
            code: "SecretNotFound",
            message: `A secret with (name/id) ${name} was not found in this key vault.`,
          },
        });
      let m: RegExpMatchArray | null;
      if ((m = url.pathname.match(/^\/secrets\/([^/]+)\/versions$/))) {
        const versions = secrets.get(m[1]);
        if (!versions) return notFound(m[1]);
        const page = Number(url.searchParams.get("page") ?? "0");
        const slice = versions.slice(page * vault.pageSize, (page + 1) * vault.pageSize);
        const more = (page + 1) * vault.pageSize < versions.length;
        return json(200, {
          value: slice.map((v) => bundle(m![1], v, false)),
          nextLink: more
            ? `${vault.nextLinkOrigin ?? base}/secrets/${m[1]}/versions?api-version=7.5&page=${page + 1}`
            : null,
        });
      }
      if ((m = url.pathname.match(/^\/secrets\/([^/]+)(?:\/([^/]*))?$/))) {
        const versions = secrets.get(m[1]);
        const v = m[2] ? versions?.find((x) => x.version === m![2]) : versions?.at(-1);
        if (!v) return notFound(m[1]);
        return json(200, bundle(m[1], v, true));
      }
      return json(400, { error: { code: "BadParameter", message: "unknown path" } });
    }) as typeof fetch,
  };
  return vault;
}

/** A credential that hands out a fixed token and records the scopes asked for (or fails with `fail`). */
export function fakeCredential(fail?: Error): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    async getToken(scope: string | string[]): Promise<AccessToken> {
      scopes.push(...[scope].flat());
      if (fail) throw fail;
      return { token: "fake-access-token-for-the-vault", expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

/** Points a command's world at `vault` (its host answered by the fake) with a fake ambient credential. */
export function reachVault(
  io: { azureCredential?: TokenCredential; routes: Map<string, typeof fetch> },
  vault: FakeVault,
): void {
  io.azureCredential = fakeCredential();
  io.routes.set(new URL(vault.vaultUrl).host, vault.fetch);
}

/**
 * The vault of test/fixtures/outputs/dev.json, its three callers' secrets holding `versions` (by
 * default one current version, expiring when the outputs say).
 */
export function devVault(
  versions: FakeVersion[] = [
    { version: "v1", value: "x", created: "2026-09-01T00:00:00Z", expires: "2027-03-03T00:00:00Z" },
  ],
): FakeVault {
  const vault = fakeVault("https://flow-dev-k3x9q2.vault.azure.net");
  for (const name of ["crm", "erp", "hr-sync"]) vault.secrets.set(`${name}-client-secret`, [...versions]);
  return vault;
}
