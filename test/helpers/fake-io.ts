/**
 * The outside world of a command, faked for in-process tests: a clock that only moves when the
 * command sleeps (or a timeout is due), timers that fire on that clock, captured output, a `fetch`
 * routed to in-process stand-ins by host, and a scripted Pulumi CLI. No wall-clock time anywhere.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TokenCredential } from "@azure/identity";
import type { ExecResult, Io } from "../../lib/io";
import type { Timer } from "../../lib/http";

/** What the fake Pulumi CLI answers for one stack (a promise: it answers when that settles). */
export type FakePulumiAnswer =
  Partial<ExecResult> | ((args: readonly string[]) => Partial<ExecResult> | Promise<Partial<ExecResult>>);

export class FakeIo implements Io {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Milliseconds since the Unix epoch, on the fake clock. */
  nowMs = Date.parse("2026-11-22T09:30:00Z");
  readonly sleeps: number[] = [];
  private out = "";
  private err = "";
  private timers: { deadline: number; controller: AbortController; ms: number }[] = [];
  /** Hosts and what answers them, e.g. `127.0.0.1:8443` → a stand-in's fetch. */
  readonly routes = new Map<string, typeof fetch>();
  /** What `pulumi stack output --json --stack NAME` answers, by stack. */
  readonly pulumi = new Map<string, FakePulumiAnswer>();
  /** Every program the command ran, with its arguments. */
  readonly execs: string[][] = [];
  /** The ambient Azure credential for Key Vault reads (a test gives a fake one). */
  azureCredential?: TokenCredential;
  private readonly interruption = new AbortController();
  /** Aborts when the test calls {@link interrupt}. */
  readonly interrupted = this.interruption.signal;
  /** Every program the command ran that was still running when it was interrupted, ended (as the real io does). */
  readonly ended: string[][] = [];

  /** What SIGINT or SIGTERM does to the real tool: the command's interrupt signal aborts. */
  interrupt = (signal: "SIGINT" | "SIGTERM") => {
    this.interruption.abort(signal);
  };

  constructor(env: Record<string, string | undefined> = {}, cwd?: string) {
    this.env = env;
    this.cwd = cwd ?? mkdtempSync(join(tmpdir(), "fta-cwd-"));
  }

  /** Every write to either stream, in the order it happened. */
  readonly writes: { to: "stdout" | "stderr"; text: string }[] = [];

  stdout = (text: string) => {
    this.out += text;
    this.writes.push({ to: "stdout", text });
  };
  stderr = (text: string) => {
    this.err += text;
    this.writes.push({ to: "stderr", text });
  };

  /** Both streams' lines in the order they were written, each prefixed `out: ` or `err: `. */
  get lines(): string[] {
    return this.writes.flatMap((w) =>
      w.text
        .replace(/\n$/, "")
        .split("\n")
        .map((line) => `${w.to === "stdout" ? "out" : "err"}: ${line}`),
    );
  }
  now = () => this.nowMs;
  random = () => 0.5;

  sleep = async (ms: number) => {
    this.sleeps.push(ms);
    this.nowMs += ms;
    this.fireDue();
  };

  timer = (ms: number): Timer => {
    const entry = { deadline: this.nowMs + ms, controller: new AbortController(), ms };
    this.timers.push(entry);
    return {
      signal: entry.controller.signal,
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== entry);
      },
    };
  };

  /** A request hangs: time passes until the earliest timeout, which fires. */
  expireEarliestTimer = () => {
    const earliest = [...this.timers].sort((a, b) => a.deadline - b.deadline)[0];
    if (!earliest) return;
    this.nowMs = Math.max(this.nowMs, earliest.deadline);
    this.fireDue();
  };

  private fireDue(): void {
    for (const t of this.timers.filter((x) => x.deadline <= this.nowMs)) {
      this.timers = this.timers.filter((x) => x !== t);
      t.controller.abort(new DOMException(`no answer within ${t.ms} ms`, "TimeoutError"));
    }
  }

  fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const route = this.routes.get(url.host);
    if (!route) {
      throw new TypeError("fetch failed", {
        cause: Object.assign(new Error(`getaddrinfo ENOTFOUND ${url.hostname}`), { code: "ENOTFOUND" }),
      });
    }
    return route(input, init);
  }) as typeof fetch;

  exec = async (file: string, args: readonly string[]): Promise<ExecResult> => {
    this.execs.push([file, ...args]);
    if (file !== "pulumi") return { code: null, stdout: "", stderr: "", failure: "not-found" };
    const stack = args[args.indexOf("--stack") + 1];
    const answer = this.pulumi.get(stack);
    if (!answer) return { code: 255, stdout: "", stderr: `error: no stack named '${stack}' found` };
    const pending = typeof answer === "function" ? answer(args) : answer;
    // Like the real io: an interrupt ends the program at once.
    const interrupted = new Promise<Partial<ExecResult>>((resolve) => {
      const end = () => {
        this.ended.push([file, ...args]);
        resolve({ code: null, failure: "interrupted" });
      };
      if (this.interrupted.aborted) end();
      else this.interrupted.addEventListener("abort", end, { once: true });
    });
    const a = await Promise.race([Promise.resolve(pending), interrupted]);
    return { code: 0, stdout: "", stderr: "", ...a };
  };

  /** Everything written to stdout. */
  get stdoutText(): string {
    return this.out;
  }
  /** Everything written to stderr. */
  get stderrText(): string {
    return this.err;
  }
  /** Both streams. */
  get allText(): string {
    return this.out + this.err;
  }
  /** Stdout parsed as the one JSON object it must be. */
  json<T = any>(): T {
    return JSON.parse(this.out) as T;
  }
}
