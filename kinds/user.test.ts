/** `credential: user`: its config, every problem at once by key path, and the redirect URIs Entra takes. */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../config";
import { GUID, NS, problems, raw } from "../test/helpers/config";
import { redirectUriProblem } from "./user";

const PERSON = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d";
const spa = {
  name: "portal",
  credential: "user",
  platform: "spa",
  redirectUris: ["https://portal.contoso.com/"],
};

describe("credential: user", () => {
  it("takes a spa and a public client, people by object ID, consent settled true", () => {
    const c = parseStackConfig(
      raw({
        [`${NS}:callers`]: [
          { ...spa, users: [PERSON], owners: [GUID] },
          {
            name: "desk",
            credential: "user",
            platform: "publicClient",
            redirectUris: [
              "http://localhost",
              "ms-appx-web://microsoft.aad.brokerplugin/00000000-0000-0000-0000-000000000000",
              "msalapp://auth",
            ],
            consent: true,
          },
        ],
      }),
      "dev",
    );
    expect(c.callers).toEqual([
      {
        name: "portal",
        description: undefined,
        credential: "user",
        owners: [GUID],
        platform: "spa",
        redirectUris: ["https://portal.contoso.com/"],
        users: [PERSON],
        consent: true,
      },
      {
        name: "desk",
        description: undefined,
        credential: "user",
        owners: [],
        platform: "publicClient",
        redirectUris: [
          "http://localhost",
          "ms-appx-web://microsoft.aad.brokerplugin/00000000-0000-0000-0000-000000000000",
          "msalapp://auth",
        ],
        users: [],
        consent: true,
      },
    ]);
  });

  it("refuses a user caller without platform or redirect URIs, naming both keys", () => {
    expect(problems({ [`${NS}:callers`]: [{ name: "portal", credential: "user" }] })).toEqual([
      {
        path: `${NS}:callers[0].platform`,
        message:
          "is required for credential: user: spa (a browser app: auth code with PKCE) or publicClient (a desktop, mobile or agent app)",
      },
      {
        path: `${NS}:callers[0].redirectUris`,
        message:
          "is required for credential: user: a list of 1 to 20 redirect URIs, where Entra sends people back after sign-in",
      },
    ]);
  });

  it("refuses every bad redirect URI, user and key at once, each by key path", () => {
    const found = problems({
      [`${NS}:callers`]: [
        {
          ...spa,
          redirectUris: [
            "http://portal.contoso.com/",
            "https://*.contoso.com/",
            "https://portal.contoso.com/#/home",
            "https://portal.contoso.com/",
            "https://portal.contoso.com/",
            "https://portal.contoso.com",
          ],
          users: ["lisa@contoso.com"],
          secretReaders: [],
          federatedCredentials: [],
          managedIdentity: { create: true },
        },
      ],
    });
    const at = (key: string) =>
      found.filter((p) => p.path === `${NS}:callers[0].${key}`).map((p) => p.message);
    expect(at("redirectUris[0]")).toEqual([
      expect.stringContaining("uses http: Entra takes http only for localhost"),
    ]);
    expect(at("redirectUris[1]")).toEqual([expect.stringContaining("has a wildcard")]);
    expect(at("redirectUris[2]")).toEqual([expect.stringContaining("has a fragment")]);
    expect(at("redirectUris[4]")).toEqual([
      '"https://portal.contoso.com/" is redirectUris[3] again; list each URI once',
    ]);
    expect(at("redirectUris[5]")).toEqual([expect.stringContaining("has no path: add the trailing slash")]);
    expect(at("users[0]")).toEqual([expect.stringContaining("must be an object ID (a GUID")]);
    expect(at("secretReaders")).toEqual([
      "a user caller has no secret in Key Vault (its people sign in): remove secretReaders, and list the people in users",
    ]);
    // The misplaced key's value is checked too, so that one run says everything.
    expect(at("federatedCredentials")).toEqual([
      expect.stringContaining("a user caller has no credential of its own"),
      "must list at least 1 federated credential",
    ]);
    expect(at("managedIdentity")).toEqual([expect.stringContaining("not a managed identity")]);
    expect(found).toHaveLength(10);
  });

  it("refuses consent: false, and a stack consent of false the caller does not override", () => {
    expect(problems({ [`${NS}:callers`]: [{ ...spa, consent: false }] })).toEqual([
      {
        path: `${NS}:callers[0].consent`,
        message: expect.stringMatching(
          /^must be true for credential: user: its delegated tokens need admin consent/,
        ),
      },
    ]);
    expect(problems({ [`${NS}:consent`]: false, [`${NS}:callers`]: [{ name: "erp" }, spa] })).toEqual([
      {
        path: `${NS}:callers[1].consent`,
        message: expect.stringMatching(
          /^the stack's flow-trigger-auth:consent is false, and this caller's consent must be true for credential: user: .*Set consent: true on this caller/,
        ),
      },
    ]);
    // The caller's own consent: true overrides the stack's false.
    const c = parseStackConfig(
      raw({ [`${NS}:consent`]: false, [`${NS}:callers`]: [{ ...spa, consent: true }] }),
      "dev",
    );
    expect(c.callers[0].consent).toBe(true);
  });

  it("refuses more than 20 redirect URIs and more than 100 users", () => {
    const uris = Array.from({ length: 21 }, (_, i) => `https://portal.contoso.com/${i}`);
    const users = Array.from({ length: 101 }, () => PERSON);
    expect(problems({ [`${NS}:callers`]: [{ ...spa, redirectUris: uris, users }] })).toEqual([
      { path: `${NS}:callers[0].redirectUris`, message: "must list at most 20 redirect URIs" },
      { path: `${NS}:callers[0].users`, message: "must list at most 100 people" },
    ]);
  });
});

describe("redirect URIs as Entra and the azuread provider take them", () => {
  it.each([
    ["spa", "https://portal.contoso.com/"],
    ["spa", "https://portal.contoso.com/auth/callback?tenant=1"],
    ["spa", "http://localhost:3000/"],
    ["spa", "http://localhost/app"],
    ["publicClient", "http://localhost"],
    ["publicClient", "http://localhost:5000/signin"],
    ["publicClient", "https://login.microsoftonline.com/common/oauth2/nativeclient"],
    ["publicClient", "ms-appx-web://microsoft.aad.brokerplugin/0b8f3c1e-0000-4000-8000-000000000000"],
    ["publicClient", "msal0b8f3c1e-0000-4000-8000-000000000000://auth"],
  ] as const)("%s takes %s", (platform, uri) => {
    expect(redirectUriProblem(uri, platform)).toBeUndefined();
  });

  it.each([
    ["spa", "http://127.0.0.1:3000/", "http only for localhost"],
    ["spa", "http://portal.contoso.com/", "http only for localhost"],
    ["spa", "ms-appx-web://microsoft.aad.brokerplugin/x", "is not a web address"],
    ["spa", "https://portal.contoso.com", "has no path"],
    ["spa", "https://portal.contoso.com/a b", "a space"],
    ["spa", "https://portal.contoso.com/a\u200bb", "an invisible character"],
    ["spa", "https://portal.contoso.com/a\u00adb", "an invisible character"],
    ["publicClient", "http://localhost/\u2060", "an invisible character"],
    ["publicClient", "http://localhost/\u0085", "a control"],
    ["spa", "https://portal.contoso.com/cb;x", "! $ ' ( ) , ;"],
    ["spa", "https://portal.contoso.com/`x`", "unescaped"],
    ["spa", `https://portal.contoso.com/${"a".repeat(240)}`, "longer than 256 characters"],
    ["publicClient", "myapp:callback", "not an absolute URI with a host"],
    ["publicClient", "file://host/share", "is a file: URI"],
    ["publicClient", "https://*.contoso.com/", "wildcard"],
    ["publicClient", "msalapp://auth#x", "fragment"],
  ] as const)("%s refuses %s", (platform, uri, why) => {
    expect(redirectUriProblem(uri, platform)).toContain(why);
  });
});
