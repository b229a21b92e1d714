/**
 * Runs the Pulumi program with the engine mocked: no cloud, no credentials, no Pulumi CLI. One engine
 * for `validate` (which answers with placeholders) and the tests (which answer like Azure and Entra).
 * It records every registration, waits for the runtime to drain its RPCs, and collects the errors
 * the program raised inside Outputs (the SDK reports those as unhandled rejections).
 */
import * as pulumi from "@pulumi/pulumi";

/** One resource the program declared. */
export interface Declared {
  type: string;
  name: string;
  /** True for cloud resources, false for this project's components. */
  custom: boolean;
  /** Inputs with Pulumi's secret wrappers removed, for reading values. */
  inputs: Record<string, any>;
  /** Inputs as the engine received them: secrets still wrapped (see {@link isSecretAt}). */
  rawInputs: Record<string, any>;
  id: string;
  state: Record<string, any>;
}

/** An invoke that failed the way a provider fails one: the engine passes `details` to the program. */
export class InvokeError extends Error {
  override readonly name = "InvokeError";
  /** What the SDK turns into the program's Error message. */
  readonly details: string;
  constructor(token: string, message: string) {
    const details = `invocation of ${token} returned an error: ${message}`;
    super(details);
    this.details = details;
  }
}

/** How the mocked cloud answers a registration: the resource's ID and state. */
export type ResourceAnswer = { id: string; state: Record<string, any> };

/** How the mocked cloud answers; what each fake knows about Azure and Entra lives in its implementation. */
export interface FakeCloud {
  /** ID and state of a registered resource; `inputs` have secrets unwrapped. */
  resource(type: string, name: string, inputs: Record<string, any>, custom: boolean): ResourceAnswer;
  /** The answer to an invoke; throw {@link InvokeError} to fail it as a provider would. */
  invoke(token: string, inputs: Record<string, any>): Record<string, any>;
}

/** `value` without Pulumi's secret wrappers (the SDK's own marker constants). */
export function unwrapSecrets(value: unknown): unknown {
  if (pulumi.runtime.isRpcSecret(value)) return unwrapSecrets(pulumi.runtime.unwrapRpcSecret(value));
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  return value;
}

/** `value` with every secret replaced by `[secret]`: what anyone reading state or logs would see. */
export function redactSecrets(value: unknown): unknown {
  if (pulumi.runtime.isRpcSecret(value)) return "[secret]";
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v)]));
  return value;
}

/** True when the engine received the input at `path` (or an object around it) as a Pulumi secret. */
export function isSecretAt(d: Declared, path: readonly string[]): boolean {
  let v: unknown = d.rawInputs;
  for (const key of path) {
    if (pulumi.runtime.isRpcSecret(v)) return true;
    v = (v as Record<string, unknown> | undefined)?.[key];
  }
  return pulumi.runtime.isRpcSecret(v);
}

/** One message the program logged (`pulumi.log`). */
export interface LoggedMessage {
  severity: "debug" | "info" | "warn" | "error";
  message: string;
}

/** What a mocked run produced. */
export interface MockRun<T> {
  /** What the program function returned or resolved to (Outputs still wrapped). */
  result: T;
  declared: Declared[];
  /** Messages of the errors raised inside Outputs, without the engine's serialization prefixes. */
  failures: string[];
  /** What the program logged, in order (without an engine the SDK would print it to stdout). */
  logs: LoggedMessage[];
}

/** The runtime's own drain (it waits until no RPC is pending); exported by the SDK, not in its typings. */
const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs;

/**
 * Runs `program` under mocks answered by `cloud`, as stack `stack` of `project`, and resolves once
 * every registration and invoke it caused has settled. `dryRun` runs it as a preview.
 */
export async function runMocked<T>(
  cloud: FakeCloud,
  program: () => T | Promise<T>,
  options: { project?: string; stack: string; dryRun?: boolean },
): Promise<MockRun<Awaited<T>>> {
  const declared: Declared[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const rawInputs = args.inputs as Record<string, any>;
        const inputs = unwrapSecrets(rawInputs) as Record<string, any>;
        const custom = args.custom ?? true;
        const answer = cloud.resource(args.type, args.name, inputs, custom);
        // Providers never answer with undefined properties: drop them as the engine would.
        const state = JSON.parse(JSON.stringify(answer.state)) as Record<string, any>;
        declared.push({ type: args.type, name: args.name, custom, inputs, rawInputs, id: answer.id, state });
        return { id: answer.id, state };
      },
      call(args) {
        return cloud.invoke(args.token, unwrapSecrets(args.inputs) as Record<string, any>);
      },
    },
    options.project ?? "flow-trigger-auth",
    options.stack,
    options.dryRun ?? false,
    // What a DIY backend names every organization (pulumi/pulumi pkg/backend/diy/backend.go).
    "organization",
  );
  // The SDK's mock monitor cannot register resource or error hooks (hooks never run under mocks):
  // accept the registrations so that resources carrying hooks are declared as in a deployment.
  const monitor = pulumi.runtime.getMonitor() as unknown as Record<string, unknown>;
  monitor.registerErrorHook ??= (_req: unknown, done: (err: null, res: object) => void) => done(null, {});
  monitor.registerResourceHook ??= (_req: unknown, done: (err: null, res: object) => void) => done(null, {});

  // Without an engine the SDK prints log messages to the console; keep them for the caller instead.
  const logs: LoggedMessage[] = [];
  const log = pulumi.log as unknown as Record<LoggedMessage["severity"], (message: string) => Promise<void>>;
  const originalLog = { ...log };
  for (const severity of ["debug", "info", "warn", "error"] as const) {
    log[severity] = (message: string) => {
      logs.push({ severity, message });
      return Promise.resolve();
    };
  }

  // The SDK takes a stack trace for every promise and resource it creates (for leak reports and the
  // source positions an engine would show). Under mocks nobody reads them, and formatting them
  // (through source maps, under ts-node or vitest) was over half of a run's time. Errors the program
  // throws keep their messages.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const failures: unknown[] = [];
  const others = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const collect = (reason: unknown) => failures.push(reason);
  process.on("unhandledRejection", collect);
  try {
    // A program that throws (a refused config) throws here, after nothing was declared.
    const result = await program();
    // Outputs resolve through promise chains the RPC queue does not see: drain until nothing moves.
    for (let quiet = 0, seen = -1; quiet < 3;) {
      await waitForRPCs();
      await new Promise((resolve) => setImmediate(resolve));
      if (declared.length === seen) quiet++;
      else [quiet, seen] = [0, declared.length];
    }
    return { result, declared, failures: [...new Set(failures.map(innermostMessage))], logs };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    Object.assign(log, originalLog);
    process.off("unhandledRejection", collect);
    for (const listener of others)
      process.on("unhandledRejection", listener as NodeJS.UnhandledRejectionListener);
  }
}

/** The cause without the engine's `error serializing property "x": ` wrappers. */
function innermostMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^(error serializing property "[^"]*": )+/, "");
}

/** Resolves every Output nested in `value` (all known under mocks outside a preview). */
export async function resolveDeep(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    const inner = await new Promise((resolve) => (value as pulumi.Output<unknown>).apply((v) => resolve(v)));
    return resolveDeep(inner);
  }
  if (Array.isArray(value)) return Promise.all(value.map(resolveDeep));
  if (value && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await resolveDeep(v)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}
