/**
 * TLS verification stays on: with NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment (Node then skips
 * every certificate check), commands that would send a secret or token refuse with exit 2 naming the
 * variable and saying how to trust a test CA instead (NODE_EXTRA_CA_CERTS); the others run as usual.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { fixture, runCli } from "../test/helpers/cli";
import { demoScenario, scenarioArgs } from "../standin/scenario";
import { createStandin, type Standin } from "../standin/standin";

const BASE = "https://127.0.0.1:8443";
const OFF = { NODE_TLS_REJECT_UNAUTHORIZED: "0" };
let standin: Standin;

beforeAll(async () => {
  standin = await createStandin(BASE);
});

describe("NODE_TLS_REJECT_UNAUTHORIZED=0", () => {
  it("smoke refuses before any call (exit 2), naming the variable and NODE_EXTRA_CA_CERTS", async () => {
    const s = demoScenario(standin);
    const r = await runCli("smoke", [...scenarioArgs(s, BASE), "--json"], {
      env: { ...OFF, FLOW_CLIENT_SECRET: s.secret },
      setup: (io) => io.routes.set("127.0.0.1:8443", standin.fetch),
    });
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report.verdict).toBe("usage");
    expect(report.checks[0].message).toContain("NODE_TLS_REJECT_UNAUTHORIZED=0 is set");
    expect(report.checks[0].message).toContain("NODE_EXTRA_CA_CERTS");
    expect(standin.callsFor({ tenantId: s.tenantId, flowId: s.flowId })).toEqual([]);
  });

  it("rotation-status refuses --live (a Key Vault token), and judges the outputs without it", async () => {
    const args = ["--outputs", fixture("outputs/dev.json"), "--now", "2026-11-22T09:30:00Z"];
    const live = await runCli("rotation-status", [...args, "--live"], { env: OFF });
    expect(live.code).toBe(2);
    expect(live.stderr).toContain("NODE_TLS_REJECT_UNAUTHORIZED=0 is set");
    expect((await runCli("rotation-status", args, { env: OFF })).code).toBe(0);
  });

  it("handoff sends no secret: it runs as usual", async () => {
    expect((await runCli("handoff", ["--outputs", fixture("outputs/dev.json")], { env: OFF })).code).toBe(0);
  });

  it("any other value is not Node's switch: the smoke test runs", async () => {
    const s = demoScenario(standin);
    const r = await runCli("smoke", [...scenarioArgs(s, BASE), "--json"], {
      env: { NODE_TLS_REJECT_UNAUTHORIZED: "1", FLOW_CLIENT_SECRET: s.secret },
      setup: (io) => io.routes.set("127.0.0.1:8443", standin.fetch),
    });
    expect(r.code, r.stdout).toBe(0);
  });
});
