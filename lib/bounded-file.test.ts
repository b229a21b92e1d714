/**
 * Every file the tool reads is read with a bound: a FIFO nobody writes to, a device such as /dev/zero
 * and a file whose size stat() does not tell are refused or cut at the limit, with a message naming the
 * file (exit 2), never a hang or unbounded memory. Real FIFOs (mkfifo) in temporary directories.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkRegularFile, FileReadError, readBoundedFile, readBoundedText } from "./bounded-file";
import { runCli } from "../test/helpers/cli";
import { offlineSmokeArgs } from "../standin/scenario";

/** A temporary directory with a FIFO named `name` that nobody ever writes to. */
function fifo(name = "pipe"): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "fifo-"));
  const path = join(dir, name);
  execFileSync("mkfifo", [path]);
  return { dir, path };
}

async function refusal(read: Promise<unknown>): Promise<FileReadError> {
  const err = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FileReadError);
  return err as FileReadError;
}

describe("readBoundedFile", () => {
  it("refuses a FIFO nobody writes to at once, without waiting for a writer", async () => {
    const err = await refusal(readBoundedFile(fifo().path, { what: "the token file", maxBytes: 1024 }));
    expect(err.reason).toBe("not-regular");
    expect(err.message).toBe(
      "the token file is a named pipe (FIFO), not a regular file: save the content to a file and give its path",
    );
  });

  it("refuses /dev/zero (a device that never ends) and a directory", async () => {
    const zero = await refusal(readBoundedFile("/dev/zero", { what: "--outputs /dev/zero", maxBytes: 1024 }));
    expect(zero.message).toContain("--outputs /dev/zero is a character device, not a regular file");
    const dir = await refusal(readBoundedFile(tmpdir(), { what: "x", maxBytes: 1024 }));
    expect(dir.message).toContain("is a directory");
  });

  it("enforces the limit while reading: a file whose stat() size says 0 but holds more is cut at the limit", async () => {
    // /proc files are regular files that stat() reports as empty: what a stat-then-read lets through,
    // like a file that grows after it was looked at.
    const err = await refusal(readBoundedFile("/proc/self/smaps", { what: "smaps", maxBytes: 1024 }));
    expect(err).toMatchObject({ reason: "too-large", message: "smaps is larger than 1 KiB" });
  });

  it("reads a regular file up to exactly its limit, and says which file is missing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bounded-"));
    writeFileSync(join(dir, "ok"), "x".repeat(1024));
    expect((await readBoundedFile(join(dir, "ok"), { what: "ok", maxBytes: 1024 })).length).toBe(1024);
    const over = await refusal(readBoundedFile(join(dir, "ok"), { what: "ok", maxBytes: 1023 }));
    expect(over.reason).toBe("too-large");
    const missing = await refusal(
      readBoundedFile(join(dir, "nope"), { what: "--outputs nope", maxBytes: 1 }),
    );
    expect(missing.message).toBe("cannot read --outputs nope: no such file (ENOENT)");
  });

  it("gives up when the budget's signal has ended", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bounded-"));
    writeFileSync(join(dir, "ok"), "x");
    const controller = new AbortController();
    controller.abort();
    const err = await refusal(
      readBoundedFile(join(dir, "ok"), { what: "ok", maxBytes: 10, signal: controller.signal }),
    );
    expect(err.reason).toBe("timeout");
  });

  it("text: invalid UTF-8 is an error naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bounded-"));
    writeFileSync(join(dir, "latin1"), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    const err = await refusal(readBoundedText(join(dir, "latin1"), { what: "the PEM", maxBytes: 10 }));
    expect(err.message).toBe("the PEM is not UTF-8 text");
  });

  it("checkRegularFile (files a library reads itself) refuses a FIFO and a file over the limit", async () => {
    expect((await refusal(checkRegularFile(fifo().path, { what: "f", maxBytes: 10 }))).reason).toBe(
      "not-regular",
    );
    const dir = mkdtempSync(join(tmpdir(), "bounded-"));
    writeFileSync(join(dir, "big"), "x".repeat(11));
    expect((await refusal(checkRegularFile(join(dir, "big"), { what: "f", maxBytes: 10 }))).reason).toBe(
      "too-large",
    );
  });
});

describe("the commands refuse what they cannot read with a bound (exit 2, naming the file), and never hang", () => {
  it("handoff and rotation-status --outputs: a FIFO and /dev/zero", async () => {
    const { path } = fifo("outputs.json");
    for (const command of ["handoff", "rotation-status"]) {
      for (const file of [path, "/dev/zero"]) {
        const r = await runCli(command, ["--outputs", file, "--json"]);
        expect(r.code).toBe(2);
        expect(JSON.parse(r.stdout).error.message).toMatch(
          new RegExp(
            `^--outputs ${file.replace(/[/.]/g, "\\$&")} is a (named pipe \\(FIFO\\)|character device)`,
          ),
        );
      }
    }
  });

  it("validate: a stack file that is a FIFO", async () => {
    const { dir } = fifo("Pulumi.dev.yaml");
    const r = await runCli("validate", ["--stack", "dev", "--dir", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Pulumi.dev.yaml is a named pipe (FIFO), not a regular file");
  });

  it("smoke: a federated token file or a certificate file that is a FIFO or /dev/zero, before any request", async () => {
    const { path } = fifo("token");
    const base = [...offlineSmokeArgs(), "--json"];
    for (const [kind, option] of [
      ["federated", "--federated-token-file"],
      ["certificate", "--certificate-file"],
    ]) {
      for (const file of [path, "/dev/zero"]) {
        const r = await runCli("smoke", [...base, "--credential", kind, option, file]);
        expect(r.code, r.stdout).toBe(2);
        const report = JSON.parse(r.stdout);
        expect(report.checks).toEqual([
          expect.objectContaining({ name: "secret", ok: false, message: expect.stringContaining(file) }),
        ]);
        expect(report.checks[0].message).toMatch(
          /is a (named pipe \(FIFO\)|character device), not a regular file/,
        );
      }
    }
    // AZURE_FEDERATED_TOKEN_FILE is read the same way.
    const env = await runCli("smoke", [...base, "--credential", "federated"], {
      env: { AZURE_FEDERATED_TOKEN_FILE: path },
    });
    expect(env.code).toBe(2);
    expect(JSON.parse(env.stdout).checks[0].message).toContain("AZURE_FEDERATED_TOKEN_FILE");
  });
});

describe("files a server's answer names", () => {
  it("Azure Arc's challenge (WWW-Authenticate: Basic realm=<file>): a FIFO is refused before MSAL's blocking read", async () => {
    const { boundedHttpClient } = await import("./azure-http");
    const { createHttpHeaders, createPipelineRequest } = await import("@azure/core-rest-pipeline");
    const dir = mkdtempSync(join(tmpdir(), "arc-"));
    const key = join(dir, "ok.key");
    writeFileSync(key, "a".repeat(64));
    for (const [realm, refused] of [
      [fifo("x.key").path, true],
      [key, false],
    ] as const) {
      const scope = {
        origins: ["http://127.0.0.1:40342"],
        what: "the managed-identity endpoint",
        arcChallenge: true,
      };
      const client = boundedHttpClient(
        {
          fetch: (async () =>
            new Response(null, {
              status: 401,
              headers: { "www-authenticate": `Basic realm=${realm}` },
            })) as typeof fetch,
          timer: () => ({ signal: new AbortController().signal, cancel: () => undefined }),
        },
        scope,
      );
      const request = createPipelineRequest({
        url: "http://127.0.0.1:40342/metadata/identity/oauth2/token?api-version=2019-11-01",
        headers: createHttpHeaders({ metadata: "true" }),
      });
      const outcome = await client.sendRequest(request).then(
        (r) => r.status,
        (e: Error) => e.message,
      );
      if (refused) {
        expect(outcome).toContain("is a named pipe (FIFO), not a regular file");
        expect((scope as { fileProblem?: FileReadError }).fileProblem?.reason).toBe("not-regular");
      } else {
        expect(outcome).toBe(401);
      }
    }
  });
});

describe("files the Azure SDK reads itself for the ambient credential", () => {
  it("rotation-status --live: AZURE_FEDERATED_TOKEN_FILE that is a FIFO is refused naming the variable, before the SDK's whole-file read", async () => {
    const { vi } = await import("vitest");
    const { fakeVault } = await import("../standin/key-vault");
    const { fixture } = await import("../test/helpers/cli");
    const token = fifo("token").path;
    const env = {
      AZURE_TENANT_ID: randomUUID(),
      AZURE_CLIENT_ID: randomUUID(),
      AZURE_FEDERATED_TOKEN_FILE: token,
    };
    // The SDK reads process.env; the command reads its io.env: the same in a real run.
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    try {
      const vault = fakeVault("https://flow-dev-k3x9q2.vault.azure.net");
      const r = await runCli(
        "rotation-status",
        ["--outputs", fixture("outputs/dev.json"), "--live", "--json"],
        {
          env,
          setup: (io) => io.routes.set("flow-dev-k3x9q2.vault.azure.net", vault.fetch),
        },
      );
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error.message).toBe(
        `AZURE_FEDERATED_TOKEN_FILE (${token}) is a named pipe (FIFO), not a regular file: save the content to a file and give its path`,
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
