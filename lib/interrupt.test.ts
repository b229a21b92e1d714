/**
 * Interrupted means stopped: SIGINT and SIGTERM end what the command waits for and every program it
 * started, and the command prints one outcome, never half of one: with --json exactly one JSON
 * document (verdict `interrupted`, or `{"error":{"kind":"interrupted"}}`), exit 130 or 143. In-process,
 * with the fake world's interrupt (test/e2e.test.ts sends real signals to the built tool).
 */
import { spawn } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { descendantsOf } from "./io";
import { main } from "../cli/main";
import { FakeIo } from "../test/helpers/fake-io";
import { demoScenario, scenarioArgs } from "../standin/scenario";
import { createStandin, type Standin } from "../standin/standin";

const BASE = "https://127.0.0.1:8443";
let standin: Standin;
let onHang: (() => void) | undefined;

beforeAll(async () => {
  standin = await createStandin(BASE, { onHang: () => onHang?.() });
});

/** Settles everything the interrupted command left pending: its hung requests time out. */
async function drain(io: FakeIo): Promise<void> {
  for (let i = 0; i < 50; i++) {
    io.expireEarliestTimer();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("smoke", () => {
  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "%s during a hung call: exit %i, one JSON document with verdict interrupted, nothing after it",
    async (signal, exit) => {
      const s = demoScenario(standin, { mode: "users" });
      standin.failNext({ flowId: s.flowId }, 1, { network: "hang", only: "authenticated" });
      const io = new FakeIo({ FLOW_CLIENT_SECRET: s.secret });
      io.routes.set("127.0.0.1:8443", standin.fetch);
      onHang = () => io.interrupt(signal);
      const code = await main(["smoke", ...scenarioArgs(s, BASE), "--json"], io);
      onHang = undefined;
      await drain(io);
      expect(code).toBe(exit);
      const report = JSON.parse(io.stdoutText);
      expect(report.verdict).toBe("interrupted");
      expect(report.checks).toEqual([
        expect.objectContaining({
          name: "interrupted",
          ok: false,
          message: expect.stringContaining(`interrupted by ${signal}`),
        }),
      ]);
      // The checks that finished before the hang were told on stderr as they finished; nothing after.
      expect(
        io.stderrText
          .trimEnd()
          .split("\n")
          .map((l) => l.split(":")[0]),
      ).toEqual(["PASS     url", "PASS     anonymous-rejected", "PASS     token"]);
    },
  );

  it("without --json, says so on stderr with the exit code", async () => {
    const s = demoScenario(standin, { mode: "users" });
    standin.failNext({ flowId: s.flowId }, 1, { network: "hang", only: "anonymous" });
    const io = new FakeIo({ FLOW_CLIENT_SECRET: s.secret });
    io.routes.set("127.0.0.1:8443", standin.fetch);
    onHang = () => io.interrupt("SIGINT");
    const code = await main(["smoke", ...scenarioArgs(s, BASE)], io);
    onHang = undefined;
    await drain(io);
    expect(code).toBe(130);
    // The url check finished before the hang and was printed then; nothing after it on stdout.
    expect(io.stdoutText).toMatch(/^PASS {5}url: [^\n]*\n$/);
    expect(io.stderrText).toMatch(/^STOPPED {2}interrupted: interrupted by SIGINT/);
    expect(io.stderrText).toContain("verdict: interrupted (exit 130)");
  });
});

describe("commands that run the Pulumi CLI", () => {
  it.each(["handoff", "rotation-status"])(
    "%s --stack: SIGTERM while `pulumi stack output` hangs ends it; one JSON error of kind interrupted (exit 143)",
    async (command) => {
      const io = new FakeIo();
      io.pulumi.set("prod", () => {
        queueMicrotask(() => io.interrupt("SIGTERM"));
        return new Promise(() => undefined);
      });
      const code = await main([command, "--stack", "prod", "--json"], io);
      await drain(io);
      expect(code).toBe(143);
      expect(JSON.parse(io.stdoutText)).toEqual({
        error: { kind: "interrupted", message: expect.stringContaining("interrupted by SIGTERM") },
      });
      expect(io.ended).toEqual([["pulumi", "stack", "output", "--json", "--stack", "prod"]]);
    },
  );
});

describe("descendantsOf (what the tool ends at exit: also programs libraries started)", () => {
  it("finds a child's children and grandchildren", async () => {
    const shell = spawn("sh", ["-c", "sleep 300 & sleep 300 & wait"], { stdio: "ignore" });
    try {
      let found: number[] = [];
      for (let i = 0; i < 1000 && found.length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        found = descendantsOf(shell.pid!);
      }
      expect(found).toHaveLength(2);
      expect(descendantsOf(process.pid)).toEqual(expect.arrayContaining([shell.pid, ...found]));
      for (const pid of found) process.kill(pid, "SIGKILL");
    } finally {
      shell.kill("SIGKILL");
    }
  });
});
