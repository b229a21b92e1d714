import { describe, expect, it } from "vitest";
import { authorityHostForVault, flowPortalUrl, CLOUDS, tokenEndpoint } from "../clouds";

describe("per-cloud facts", () => {
  it("give every cloud a scope of its audience plus /.default, hence the double slash", () => {
    for (const cloud of Object.values(CLOUDS)) {
      expect(cloud.audience.endsWith("/")).toBe(true);
      expect(cloud.scope).toBe(`${cloud.audience}/.default`);
      expect(cloud.scope).toContain("//.default");
    }
  });

  it("build the v2.0 token endpoint of a tenant, with or without a trailing slash on the authority", () => {
    expect(tokenEndpoint(CLOUDS.public, "t1")).toBe("https://login.microsoftonline.com/t1/oauth2/v2.0/token");
    expect(tokenEndpoint(CLOUDS.dod, "t1", "https://127.0.0.1:8443/")).toBe(
      "https://127.0.0.1:8443/t1/oauth2/v2.0/token",
    );
  });

  it.each([
    ["https://kv.vault.azure.net/", undefined],
    ["https://kv.vault.usgovcloudapi.net/", "https://login.microsoftonline.us"],
    ["https://kv.vault.azure.cn/secrets/x", "https://login.chinacloudapi.cn"],
    ["not a url", undefined],
  ])("take the authority for vault %s from its DNS suffix", (uri, authority) => {
    expect(authorityHostForVault(uri)).toBe(authority);
  });

  it.each([
    ["public", "https://make.powerautomate.com/environments/Default-t1/flows/f1"],
    ["gcc", "https://make.gov.powerautomate.us/environments/Default-t1/flows/f1"],
    ["gcchigh", "https://make.high.powerautomate.us/environments/Default-t1/flows/f1"],
    ["dod", "https://make.powerautomate.appsplatform.us/environments/Default-t1/flows/f1"],
    ["china", undefined],
  ] as const)("give a flow's address in the %s maker portal where Learn documents it", (cloud, url) => {
    expect(flowPortalUrl(cloud, "Default-t1", "f1")).toBe(url);
  });
});
