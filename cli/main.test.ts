/**
 * The habits of `az` and `gh` the tool keeps, through `main(argv, io)` in-process: `--version`,
 * `help <command>`, each command's help (usage line first, real examples last, the exit codes by
 * reference), "did you mean" for a mistyped command or option with one hint per error, conflicting
 * options refused, and `--quiet` taken by every command.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "./main";
import { fakePulumi, fixture, ROOT, runCli } from "../test/helpers/cli";
import { FakeIo } from "../test/helpers/fake-io";

const COMMANDS = ["smoke", "handoff", "rotation-status", "validate", "audit"];
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

async function tool(argv: string[]) {
  const io = new FakeIo();
  const code = await main(argv, io);
  return { code, io, stdout: io.stdoutText, stderr: io.stderrText };
}

describe("--version and help <command>", () => {
  it.each([["--version"], ["-V"]])("%s prints the package's version and exits 0", async (flag) => {
    const r = await tool([flag]);
    expect(r).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    expect((await tool([flag, "--json"])).io.json()).toEqual({ version: VERSION });
  });

  it.each(COMMANDS)("help %s prints that command's help, as %s --help does", async (command) => {
    const viaHelp = await tool(["help", command]);
    const viaOption = await tool([command, "--help"]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaOption.stdout);
    expect(viaHelp.stdout).toMatch(new RegExp(`^Usage: flow-trigger-auth ${command} \\[options\\]\\n`));
  });

  it("help alone, and --help, print the tool's help (exit 0); no command at all prints it and exits 2", async () => {
    for (const argv of [["help"], ["--help"], ["-h"]]) {
      const r = await tool(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: flow-trigger-auth <command> \[options\]/);
    }
    expect((await tool([])).code).toBe(2);
  });
});

describe("each command's help", () => {
  it.each(COMMANDS)(
    "%s: starts with its usage line, ends with real examples, and points to the one exit-code table",
    async (command) => {
      const help = (await tool([command, "--help"])).stdout;
      expect(help.startsWith(`Usage: flow-trigger-auth ${command} [options]\n`)).toBe(true);
      const [body, examplesPart] = help.split("\nExamples:\n");
      const examples = examplesPart.trimEnd().split("\n");
      expect(examples.length).toBeGreaterThanOrEqual(2);
      expect(examples.length).toBeLessThanOrEqual(3);
      // Real: each runs this command with options it has.
      const options = new Set([...body.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]));
      for (const example of examples) {
        expect(example.startsWith(`  flow-trigger-auth ${command} `)).toBe(true);
        for (const used of example.match(/(?<= )--[a-z-]+/g) ?? []) expect(options).toContain(used);
      }
      // The exit codes are explained in one place; help points there instead of restating them.
      expect(body).toContain("Exit codes: the same for every command, see docs/commands.md#exit-codes.");
      expect(body).not.toMatch(/\b(exit|Exit codes:) ?\d/);
      expect(body).toContain("-q, --quiet");
    },
  );

  it("the tool's help names every command and points to the exit-code table instead of restating it", async () => {
    const help = (await tool(["--help"])).stdout;
    for (const command of COMMANDS) expect(help).toMatch(new RegExp(`^ {2}${command} +\\S`, "m"));
    expect(help).toContain("see docs/commands.md#exit-codes");
    expect(help).not.toMatch(/\b70\b|\b143\b/);
  });
});

describe("a mistyped command or option: what was typed, the closest valid one, one hint", () => {
  it("valdate -> validate", async () => {
    const r = await tool(["valdate", "--stack", "dev"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("flow-trigger-auth: unknown command 'valdate'; did you mean validate?\n");
    expect(r.stdout).toBe("");
  });

  it("a command nothing is close to lists the commands; help <typo> suggests too", async () => {
    const r = await tool(["deploy"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "flow-trigger-auth: unknown command 'deploy'; the commands are smoke, handoff, rotation-status, validate, audit\n",
    );
    const help = await tool(["help", "rotaton-status"]);
    expect(help.code).toBe(2);
    expect(help.stderr).toContain("did you mean rotation-status?");
  });

  it("--trigger-ulr -> --trigger-url, and nothing else: no second hint", async () => {
    const r = await tool(["smoke", "--trigger-ulr", "https://example.invalid/x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "USAGE    arguments: unknown option --trigger-ulr; did you mean --trigger-url?\n" +
        r.stderr.split("\n")[1] +
        "\n",
    );
    expect(r.stderr.split("\n")[1]).toMatch(/^verdict: usage \(exit 2\), \d+ ms$/);
  });

  it.each([
    ["handoff", ["--output", "dev.json"], "unknown option --output; did you mean --outputs?"],
    ["rotation-status", ["--warn-day", "3"], "unknown option --warn-day; did you mean --warn-days?"],
    ["validate", ["--stak", "dev"], "unknown option --stak; did you mean --stack?"],
    ["audit", ["--flows", "x"], "unknown option --flows; did you mean --flow?"],
  ])("%s %s: %s", async (command, args, message) => {
    const r = await tool([command, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${command}: ${message}\n`);
  });

  it("an option nothing is close to gets the one hint: where the options are", async () => {
    const r = await tool(["handoff", "--zzz"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "handoff: unknown option --zzz\nrun 'flow-trigger-auth help handoff' for its options\n",
    );
    const value = await tool(["rotation-status", "--warn-days", "soon"]);
    expect(value.stderr).toBe(
      "rotation-status: --warn-days: must be a whole number of days, 0 or more, e.g. 30\n",
    );
  });

  it("no pointer to --help after an error that is not about the options (a file, the network)", async () => {
    const r = await runCli("handoff", ["--outputs", "missing.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/help/);
    const s = await runCli("smoke", [
      "--trigger-url",
      "https://127.0.0.1:9/x",
      "--tenant-id",
      "1f0b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      "--client-id",
      "2f0b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    ]);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain("no client secret");
    expect(s.stderr).not.toMatch(/help/);
  });
});

describe("conflicting options are refused, naming both", () => {
  it("handoff --json --format markdown: exit 2 (both choose stdout); with --out the sheet is a file and it is fine", async () => {
    const r = await runCli("handoff", [
      "--outputs",
      fixture("outputs/dev.json"),
      "--json",
      "--format",
      "markdown",
    ]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(
      /^--json and --format markdown both choose what is printed/,
    );
    const text = await runCli("handoff", [
      "--outputs",
      fixture("outputs/dev.json"),
      "--format",
      "markdown",
      "--json",
      "-q",
    ]);
    expect(text.code).toBe(2);
    const out = await runCli("handoff", [
      "--outputs",
      fixture("outputs/dev.json"),
      "--json",
      "--format",
      "markdown",
      "--out",
      "sheet.md",
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ format: "markdown", environments: 1 });
    // --json alone, or with --format json, is the sheet as JSON.
    expect(
      (await runCli("handoff", ["--outputs", fixture("outputs/dev.json"), "--json", "--format", "json"]))
        .code,
    ).toBe(0);
  });

  it("handoff --force without --out: exit 2, naming both (there is nothing to replace)", async () => {
    const r = await runCli("handoff", ["--outputs", fixture("outputs/dev.json"), "--force"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "handoff: --force goes with --out FILE: without --out nothing is replaced\n" +
        "run 'flow-trigger-auth help handoff' for its options\n",
    );
  });

  it("smoke: --stack with --outputs, and a credential source of another kind, are refused", async () => {
    const base = ["--trigger-url", "https://127.0.0.1:9/x", "--caller", "erp", "--json"];
    const both = await runCli("smoke", [...base, "--stack", "dev", "--outputs", "dev.json"]);
    expect(both.code).toBe(2);
    expect(JSON.stringify(JSON.parse(both.stdout))).toContain(
      "--stack and --outputs are alternatives: give one",
    );
    const ids = [
      "--tenant-id",
      "1f0b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      "--client-id",
      "2f0b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    ];
    for (const [args, message] of [
      [["--certificate-file", "c.pem"], "--certificate-file goes with --credential certificate"],
      [
        [
          "--credential",
          "federated",
          "--key-vault-secret-uri",
          "https://kv.vault.azure.net/secrets/erp-client-secret",
        ],
        "--key-vault-secret-uri goes with --credential secret or certificate",
      ],
      [
        [
          "--credential",
          "certificate",
          "--certificate-file",
          "c.pem",
          "--key-vault-secret-uri",
          "https://kv.vault.azure.net/secrets/erp-client-certificate",
        ],
        "--certificate-file and --key-vault-secret-uri are both where the certificate comes from: give one",
      ],
    ] as const) {
      const r = await runCli("smoke", ["--trigger-url", "https://127.0.0.1:9/x", ...ids, ...args, "--json"]);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).checks[0].message).toContain(message);
    }
  });

  it("audit reads one stack at a time: --stack with --outputs is refused", async () => {
    const r = await runCli("audit", ["--stack", "dev", "--outputs", "dev.json"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "audit: give one --outputs FILE or --stack NAME: the audit reads one stack's flows at a time\n" +
        "run 'flow-trigger-auth help audit' for its options\n",
    );
  });
});

describe("--quiet, taken by every command", () => {
  it("handoff and rotation-status --stack: no progress line for the Pulumi CLI call, the same result", async () => {
    const pulumi = await fakePulumi({ dev: fixture("outputs/dev.json") });
    const runs: Record<string, string[]> = {
      handoff: ["--stack", "dev"],
      "rotation-status": ["--stack", "dev", "--now", "2026-11-22T09:30:00Z"],
    };
    for (const [command, args] of Object.entries(runs)) {
      const loud = await runCli(command, args, { pulumi });
      expect(loud.stderr).toContain(
        "pulumi: asking for stack dev's outputs (pulumi stack output --json --stack dev)",
      );
      const quiet = await runCli(command, [...args, "--quiet"], { pulumi });
      expect(quiet.code).toBe(loud.code);
      expect(quiet.stderr).toBe("");
      expect(quiet.stdout).toBe(loud.stdout);
    }
  });

  it("validate --quiet, with no progress to silence, is accepted and keeps its warnings", async () => {
    const r = await runCli("validate", ["--stack", "dev", "--quiet", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: azure-native:subscriptionId is a placeholder");
  });
});
