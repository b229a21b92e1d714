/**
 * `smoke --credential user`: a person's delegated token by the device-code flow (the code and URL on
 * stderr, approved by the test on the stand-in) or from --access-token-file; the trigger then admits
 * the person's `oid`, never the app's. Bad token files and codes nobody approves end with clear
 * errors within the budget, and no token is printed.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { smoke } from "./smoke";
import { FakeIo } from "../../test/helpers/fake-io";
import { scenarioArgs } from "../../standin/scenario";
import { createStandin, type DeviceCodeScript, type Standin } from "../../standin/standin";

const BASE = "https://127.0.0.1:8443";
const DELEGATED_SCOPE = "https://service.flow.microsoft.com//User";
let standin: Standin;

beforeAll(async () => {
  standin = await createStandin(BASE);
});

/** A tenant with a user caller's app (public client flows as given) and a flow allowing `allowed` people. */
function world(options: { publicClientFlows?: boolean; allowed?: string[] } = {}) {
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const appObjectId = randomUUID();
  const person = randomUUID();
  standin.addTenant({
    tenantId,
    apps: [
      {
        clientId,
        servicePrincipalObjectId: appObjectId,
        publicClientFlows: options.publicClientFlows ?? true,
      },
    ],
  });
  const flowId = randomUUID().replace(/-/g, "");
  const triggerUrl = standin.addFlow({
    flowId,
    tenantId,
    mode: "users",
    allowedOids: options.allowed ?? [person],
  });
  return { tenantId, clientId, appObjectId, person, flowId, triggerUrl };
}

async function run(argv: string[], files: Record<string, string> = {}) {
  const io = new FakeIo({});
  io.routes.set("127.0.0.1:8443", standin.fetch);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(io.cwd, name), text);
  const code = await smoke(argv, io);
  return {
    code,
    io,
    report: () =>
      io.json<{
        verdict: string;
        checks: { name: string; ok: boolean; code?: string; message: string; hint?: string }[];
      }>(),
  };
}

const args = (w: ReturnType<typeof world>, ...extra: string[]) => [
  ...scenarioArgs(w, BASE),
  "--credential",
  "user",
  "--json",
  ...extra,
];

/** A person's token for the user caller, got from the stand-in by a device code the test approves. */
async function personToken(
  w: ReturnType<typeof world>,
  oid: string,
  scope = DELEGATED_SCOPE,
): Promise<string> {
  const base = `${BASE}/${w.tenantId}/oauth2/v2.0`;
  const post = (path: string, form: Record<string, string>) =>
    standin.fetch(`${base}/${path}`, { method: "POST", body: new URLSearchParams(form) });
  const code = (await (await post("devicecode", { client_id: w.clientId, scope })).json()) as Record<
    string,
    string
  >;
  expect(standin.approveDeviceCode(code.user_code, oid)).toBe(true);
  const answer = (await (
    await post("token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      client_id: w.clientId,
      device_code: code.device_code,
    })
  ).json()) as Record<string, string>;
  return answer.access_token;
}

/** A JWT with `claims` (unsigned: only its shape and claims are read before it is sent). */
function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.c2ln`;
}

describe("the device-code flow", () => {
  test("prints the code and URL on stderr, waits for the person, and passes with their oid", async () => {
    const w = world();
    standin.scriptDeviceCodes(w.tenantId, { pending: 2, then: { approve: w.person } });
    const r = await run(args(w));
    expect(r.code, r.io.allText).toBe(0);
    expect(r.io.stderrText).toMatch(
      /To sign in, open https:\/\/microsoft\.com\/devicelogin and enter the code [A-Z0-9]{9} \(waiting up to \d+ s\)/,
    );
    const token = r.report().checks.find((c) => c.name === "token")!;
    expect(token.message).toContain(`token for ${DELEGATED_SCOPE}`);
    expect(token.message).toContain(`aud https://service.flow.microsoft.com/,`);
    expect(token.message).toContain(`oid ${w.person}`);
    expect(token.message).toContain("idtyp user");
    // Polled every 5 s (Entra's interval), on the command's clock: three polls, two pending.
    expect(r.io.sleeps.filter((ms) => ms === 5000).length).toBeGreaterThanOrEqual(3);
    const polls = standin.callsFor({ tenantId: w.tenantId }).filter((c) => c.path.endsWith("/token"));
    expect(polls.map((c) => c.status)).toEqual([400, 400, 200]);
    expect(r.io.allText).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  test("slows down when Entra says slow_down (interval + 5 s, RFC 8628)", async () => {
    const w = world();
    standin.scriptDeviceCodes(w.tenantId, { slowDown: 1, pending: 1, then: { approve: w.person } });
    const r = await run(args(w));
    expect(r.code, r.io.allText).toBe(0);
    expect(r.io.sleeps.filter((ms) => ms >= 5000)).toEqual([5000, 10000, 10000]);
  });

  test.each<[string, DeviceCodeScript, string]>([
    ["declined", { pending: 1, then: "decline" }, "authorization_declined"],
    ["expired", { pending: 1, then: "expire" }, "expired_token"],
  ])("%s: the token check fails naming Entra's answer, with what to do", async (_what, script, code) => {
    const w = world();
    standin.scriptDeviceCodes(w.tenantId, script);
    const r = await run(args(w));
    expect(r.code).toBe(1);
    const token = r.report().checks.find((c) => c.name === "token")!;
    expect(token).toMatchObject({ ok: false, code });
    expect(token.message).toContain("enter the code and sign in as one of the caller's users");
  });

  test("a code nobody approves ends within --max-wait-s, saying so", async () => {
    const w = world();
    standin.scriptDeviceCodes(w.tenantId, { then: "never" });
    const r = await run(args(w, "--max-wait-s", "60"));
    expect(r.code).toBe(1);
    expect(r.report().checks.find((c) => c.name === "token")).toMatchObject({
      ok: false,
      code: "DeviceCodeNotApproved",
      message: expect.stringContaining("nobody approved the device code within the budget (--max-wait-s)"),
    });
    // Simulated time: every sleep is on the command's clock, and the sleeps stay within the budget.
    expect(r.io.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(60_000);
  });

  test("an app without public client flows (a spa caller) is refused with AADSTS7000218 and pointed to --access-token-file", async () => {
    const w = world({ publicClientFlows: false });
    standin.scriptDeviceCodes(w.tenantId, { then: { approve: w.person } });
    const r = await run(args(w));
    expect(r.code).toBe(1);
    const token = r.report().checks.find((c) => c.name === "token")!;
    expect(token.code).toBe("AADSTS7000218");
    expect(token.message).toContain("--access-token-file");
  });

  test("a person who is not in Allowed users is refused by the trigger (MisMatchingOAuthClaims)", async () => {
    const w = world({ allowed: [randomUUID()] });
    standin.scriptDeviceCodes(w.tenantId, { then: { approve: w.person } });
    const r = await run(args(w));
    expect(r.code).toBe(1);
    expect(r.report().checks.find((c) => c.name === "invoke")).toMatchObject({
      code: "MisMatchingOAuthClaims",
    });
  });
});

describe("--access-token-file", () => {
  test("sends the person's token as it is, never printing it", async () => {
    const w = world();
    const token = await personToken(w, w.person);
    const r = await run(args(w, "--access-token-file", "token.txt"), { "token.txt": `${token}\n` });
    expect(r.code, r.io.allText).toBe(0);
    expect(r.io.allText).not.toContain(token.split(".")[1]);
    expect(r.io.allText).not.toContain(token.split(".")[2]);
    // No device code was asked for.
    expect(
      standin.callsFor({ tenantId: w.tenantId }).filter((c) => c.path.endsWith("/devicecode")),
    ).toHaveLength(1);
  });

  test("the single-slash scope gives a token without the audience's trailing slash: refused locally, naming the scope", async () => {
    const w = world();
    const token = await personToken(w, w.person, "https://service.flow.microsoft.com/User");
    const r = await run(args(w, "--access-token-file", "token.txt"), { "token.txt": token });
    expect(r.code).toBe(2);
    const secret = r.report().checks.find((c) => c.name === "secret")!;
    expect(secret.message).toContain(
      `holds a token for https://service.flow.microsoft.com, not for the trigger's audience https://service.flow.microsoft.com/: ask for the scope ${DELEGATED_SCOPE} exactly`,
    );
    expect(r.io.allText).not.toContain(token.split(".")[2]);
  });

  test.each([
    ["empty", "", "is empty"],
    ["not a JWT", "not-a-token", "does not hold a JWT"],
    [
      "expired",
      jwt({
        aud: "https://service.flow.microsoft.com/",
        scp: "User",
        exp: Date.parse("2020-01-01T00:00:00Z") / 1000,
      }),
      "holds an expired token (it expired at 2020-01-01T00:00:00.000Z)",
    ],
    [
      "app-only",
      jwt({ aud: "https://service.flow.microsoft.com/", exp: Date.parse("2099-01-01T00:00:00Z") / 1000 }),
      "holds an app-only token (no scp claim)",
    ],
  ])(
    "%s: a local error (exit 2) before any request, the token never printed",
    async (_what, content, message) => {
      const w = world();
      const r = await run(args(w, "--access-token-file", "token.txt"), { "token.txt": content });
      expect(r.code).toBe(2);
      expect(r.report().checks.find((c) => c.name === "secret")?.message).toContain(message);
      expect(standin.callsFor({ tenantId: w.tenantId, flowId: w.flowId })).toEqual([]);
      if (content.includes(".")) expect(r.io.allText).not.toContain(content.split(".")[1]);
    },
  );
});

describe("--outputs with a user caller", () => {
  test("takes tenant, client ID and kind from the outputs and asks for the cloud's delegated scope", async () => {
    const w = world();
    const token = await personToken(w, w.person);
    const outputs = {
      tenantId: w.tenantId,
      cloud: "public",
      audience: "https://service.flow.microsoft.com/",
      scope: "https://service.flow.microsoft.com//.default",
      tokenEndpoint: `https://login.microsoftonline.com/${w.tenantId}/oauth2/v2.0/token`,
      callers: {
        portal: {
          credential: "user",
          displayName: "flow-dev-portal",
          clientId: w.clientId,
          applicationObjectId: randomUUID(),
          servicePrincipalObjectId: w.appObjectId,
          platform: "publicClient",
          redirectUris: ["http://localhost"],
          scope: DELEGATED_SCOPE,
          users: [w.person],
        },
      },
      allowedUsers: [w.person],
    };
    const r = await run(
      [
        "--trigger-url",
        w.triggerUrl,
        "--outputs",
        "dev.json",
        "--caller",
        "portal",
        "--authority-host",
        BASE,
        "--access-token-file",
        "token.txt",
        "--json",
      ],
      { "dev.json": JSON.stringify(outputs), "token.txt": token },
    );
    expect(r.code, r.io.allText).toBe(0);
    expect(r.report().checks.find((c) => c.name === "token")!.message).toContain(
      `token for ${DELEGATED_SCOPE}`,
    );
  });
});
