/**
 * A stack's outputs as `pulumi stack output --json` would print them after its first `pulumi up`,
 * without a tenant: the program evaluated with the engine mocked, as `validate` evaluates it, except
 * that what only a deployment knows (tenant, client and object IDs, the vault's random suffix) gets
 * made-up values of the real shape instead of validate's `<placeholders>`, so that the tool's other
 * commands accept the outputs.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { StackConfig } from "../config";
import { resolveDeep, type FakeCloud, type ResourceAnswer } from "../engine/mock-engine";
import { PlaceholderCloud, planStack } from "../engine/offline-engine";
import { stackOutputsSchema, type StackOutputs } from "../outputs";

/** Lowercase letters and digits, as the program's `RandomString` for the vault name asks for. */
function randomSuffix(length: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join("");
}

/**
 * {@link PlaceholderCloud}'s answers with each placeholder replaced by a made-up value, the same one
 * wherever the same placeholder appears (the tenant, a principal's object ID).
 */
class MadeUpCloud implements FakeCloud {
  private readonly placeholders = new PlaceholderCloud();
  private readonly made = new Map<string, string>();

  private valueFor(placeholder: string): string {
    let value = this.made.get(placeholder);
    if (value === undefined) {
      value =
        placeholder === "<random>"
          ? randomSuffix(6)
          : placeholder === "<version>"
            ? randomBytes(16).toString("hex")
            : randomUUID();
      this.made.set(placeholder, value);
    }
    return value;
  }

  private fill<T>(value: T): T {
    if (typeof value === "string") return value.replace(/<[^<>]+>/g, (p) => this.valueFor(p)) as T;
    if (Array.isArray(value)) return value.map((v) => this.fill(v)) as T;
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.fill(v)])) as T;
    return value;
  }

  resource(type: string, name: string, inputs: Record<string, unknown>, custom: boolean): ResourceAnswer {
    return this.fill(this.placeholders.resource(type, name, inputs, custom));
  }

  invoke(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
    return this.fill(this.placeholders.invoke(token, inputs));
  }
}

/**
 * The outputs of `config` deployed for the first time at `nowMs`: `json`, as `pulumi stack output
 * --json` prints them, and `outputs`, as every command reads them (checked by the same schema).
 */
export async function plannedOutputs(
  config: StackConfig,
  nowMs: number,
  stackName: string,
): Promise<{ json: unknown; outputs: StackOutputs }> {
  const plan = await planStack(config, nowMs, stackName, new MadeUpCloud());
  const json: unknown = JSON.parse(JSON.stringify(await resolveDeep(plan.outputs)));
  return { json, outputs: stackOutputsSchema.parse(json) };
}
