/**
 * Nothing from a file or a server reaches a terminal or a sheet raw: control characters (C0, C1, ESC
 * sequences such as OSC 52 clipboard writes and screen clears), bidirectional controls and zero-width
 * characters are shown as escapes, in normal output, in the hand-off sheet (both formats, on stdout and
 * in --out files) and inside error messages.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { printable, printableJson } from "../printable";
import { fixture, runCli, runLiveRotationStatus } from "./helpers/cli";
import { demoScenario, scenarioArgs } from "../standin/scenario";
import { createStandin, HOSTILE_TEXT, type Standin } from "../standin/standin";

/** Every character that must never be printed raw (line feed and tab excepted: reports are lines). */
const RAW = /(?![\n\t])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

function expectPrintable(text: string): void {
  const found = RAW.exec(text);
  expect(
    found,
    found ? `raw U+${found[0].codePointAt(0)!.toString(16)} in ${JSON.stringify(text)}` : "",
  ).toBe(null);
}

const dev = JSON.parse(readFileSync(fixture("outputs/dev.json"), "utf8"));

async function outputsFile(spoil: (o: any) => void, name = "dev.json"): Promise<string> {
  const outputs = structuredClone(dev);
  spoil(outputs);
  const file = join(await mkdtemp(join(tmpdir(), "printable-")), name);
  await writeFile(file, JSON.stringify(outputs), "utf8");
  return file;
}

describe("printable, the one escaping function", () => {
  it.each([
    ["an OSC 52 clipboard write", "\u001b]52;c;ZXZpbA==\u0007", "\\u001b]52;c;ZXZpbA==\\u0007"],
    ["a screen clear (CSI 2J)", "\u001b[2J", "\\u001b[2J"],
    ["a C1 CSI", "\u009b31m", "\\u009b31m"],
    ["DEL and a carriage return", "a\u007fb\rc", "a\\u007fb\\u000dc"],
    [
      "bidirectional overrides and isolates",
      "\u202atxt\u202e\u2066x\u2069",
      "\\u202atxt\\u202e\\u2066x\\u2069",
    ],
    [
      "zero-width characters",
      "a\u200bb\u200cc\u200dd\u2060e\ufeff",
      "a\\u200bb\\u200cc\\u200dd\\u2060e\\ufeff",
    ],
    ["line and paragraph separators", "a\u2028b\u2029c", "a\\u2028b\\u2029c"],
    ["a tag character beyond the BMP", "a\u{e0041}", "a\\u{e0041}"],
  ])("shows %s as escapes", (_, raw, shown) => {
    expect(printable(raw)).toBe(shown);
  });

  it("keeps a value on its line; a whole report keeps its line feeds and tabs", () => {
    expect(printable("a\nb\tc")).toBe("a\\u000ab\\u0009c");
    expect(printable("a\nb\tc\u001b", { lines: true })).toBe("a\nb\tc\\u001b");
  });

  it("leaves ordinary text of any script alone", () => {
    expect(printable('Zürich – 東京 (ok) \\ "q" emoji 🙂')).toBe('Zürich – 東京 (ok) \\ "q" emoji 🙂');
  });

  it("any string: printed it holds nothing raw; as JSON it parses back to the same value", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        expect(RAW.test(printable(s))).toBe(false);
        const json = printableJson({ s }, 2);
        expect(RAW.test(json.replace(/\n/g, ""))).toBe(false);
        expect(JSON.parse(json)).toEqual({ s });
      }),
    );
  });
});

describe("outputs files: hostile keys and values", () => {
  it("a key name with terminal escapes is shown escaped in the error message (exit 2)", async () => {
    const file = await outputsFile((o) => (o.callers[`x${HOSTILE_TEXT}`] = o.callers.erp));
    for (const json of [false, true]) {
      const r = await runCli("handoff", ["--outputs", file, ...(json ? ["--json"] : [])]);
      expect(r.code).toBe(2);
      expectPrintable(r.stdout + r.stderr);
      expect(r.stdout + r.stderr).toContain("\\u001b]52;c;");
      if (json) expect(JSON.parse(r.stdout).error.message).toContain("callers.x\\u001b]52;c;");
    }
  });

  it("a display name with bidi overrides, C1 and zero-width characters is escaped in both sheet formats, on stdout and in --out", async () => {
    const file = await outputsFile((o) => (o.callers.erp.displayName = `erp\u202eexe.txt\u009b2J\u200b`));
    const dir = await mkdtemp(join(tmpdir(), "printable-"));
    for (const format of ["markdown", "json"]) {
      const printed = await runCli("handoff", ["--outputs", file, "--format", format]);
      expect(printed.code, printed.stderr).toBe(0);
      expectPrintable(printed.stdout);
      expect(printed.stdout).toContain("\\u202e");
      const out = join(dir, `sheet.${format}`);
      const written = await runCli("handoff", ["--outputs", file, "--format", format, "--out", out]);
      expect(written.code, written.stderr).toBe(0);
      expectPrintable(await readFile(out, "utf8"));
    }
    const json = await runCli("handoff", ["--outputs", file, "--json"]);
    const erp = JSON.parse(json.stdout).environments[0].callers.find(
      (c: { name: string }) => c.name === "erp",
    );
    expect(erp.displayName).toBe(`erp\u202eexe.txt\u009b2J\u200b`);
  });

  it("rotation-status names an environment after its file: a file name with escapes is shown escaped", async () => {
    const file = await outputsFile(() => undefined, `dev\u001b[2J\u202e.json`);
    const r = await runCli("rotation-status", ["--outputs", file, "--now", "2026-11-22T09:30:00Z"]);
    expectPrintable(r.stdout + r.stderr);
    expect(r.stdout).toContain("dev\\u001b[2J\\u202e");
  });
});

describe("validate: keys and values of a stack file", () => {
  it("an unknown key with escapes is named escaped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "printable-"));
    await writeFile(
      join(dir, "Pulumi.dev.yaml"),
      `config:\n  flow-trigger-auth:callers:\n    - name: erp\n      "x\\e[2J\\u202e": 1\n`,
    );
    const r = await runCli("validate", ["--stack", "dev", "--dir", dir]);
    expect(r.code).toBe(1);
    expectPrintable(r.stdout + r.stderr);
    expect(r.stderr).toContain("\\u001b[2J");
  });
});

describe("smoke: what servers answer", () => {
  const BASE = "https://127.0.0.1:8443";
  let standin: Standin;
  beforeAll(async () => {
    standin = await createStandin(BASE);
  });
  const run = (argv: string[], secret: string) =>
    runCli("smoke", argv, {
      env: { FLOW_CLIENT_SECRET: secret },
      setup: (io) => io.routes.set("127.0.0.1:8443", standin.fetch),
    });

  it("a trigger's error code and message with escapes are shown escaped, in text and in JSON", async () => {
    const s = demoScenario(standin, { mode: "users" });
    for (const json of [false, true]) {
      standin.failNext({ flowId: s.flowId }, 1, { misbehave: "hostile-text", only: "authenticated" });
      const r = await run([...scenarioArgs(s, BASE), ...(json ? ["--json"] : [])], s.secret);
      expect(r.code).toBe(1);
      expectPrintable(r.stdout + r.stderr);
      expect(r.stdout).toContain("\\u001b]52;c;");
      if (json) {
        const invoke = JSON.parse(r.stdout).checks.find((c: { name: string }) => c.name === "invoke");
        expect(invoke.message).toContain("\u202etxt.exe");
      }
    }
  });

  it("Entra's error description with escapes is shown escaped", async () => {
    const s = demoScenario(standin, { mode: "users" });
    standin.failNext({ tenantId: s.tenantId }, 1, { misbehave: "hostile-text" });
    const r = await run(scenarioArgs(s, BASE), s.secret);
    expect(r.code).toBe(1);
    expectPrintable(r.stdout + r.stderr);
    expect(r.stdout).toContain("\\u202etxt.exe");
  });
});

describe("the Azure SDKs' own log lines (AZURE_LOG_LEVEL) go through the command's output, redacted and escaped", () => {
  it("rotation-status --live: Key Vault's request log is on the command's stderr, without the token", async () => {
    const { setLogLevel, getLogLevel } = await import("@azure/logger");
    const { devVault } = await import("../standin/key-vault");
    const before = getLogLevel();
    setLogLevel("verbose");
    try {
      const r = await runLiveRotationStatus(devVault());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("azure:keyvault-secrets:info Request:");
      expect(r.stderr).not.toContain("fake-access-token-for-the-vault");
      expectPrintable(r.stderr);
    } finally {
      setLogLevel(before);
    }
  });
});
