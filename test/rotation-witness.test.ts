/**
 * A caller's rotation state has two records: the tags of its Key Vault secret and the stack's own
 * outputs (read back with a StackReference to the stack). Whatever happens to one of them (deleted,
 * edited, an old version restored, the Pulumi state rolled back), the published secret stays valid
 * and undeleted for at least G = R/2 after it stops being published, across many daily runs under the
 * mocked engine; a disagreement no rule settles stops the run before anything is replaced.
 */
import { describe, expect, it } from "vitest";
import type { StackConfig } from "../config";
import { defineStack } from "../program";
import { DAY_MS, decodeState, encodeState, STATE_TAG } from "../rotation";
import { FakeAzure, T, type RunChanges } from "./helpers/fake-azure";
import { stackConfig } from "./helpers/stack";

const R = 30;
const G = (R / 2) * DAY_MS;
/** Daily runs at 09:30; R = 30 puts slot A's boundaries on 2026-11-03 and 2026-12-03, slot B's on 2026-11-18 and 2026-12-18. */
const START = Date.parse("2026-11-01T09:30:00Z");
const BOUNDARY_RUN = Date.parse("2026-12-03T09:30:00Z");
/** Runs watched after an incident: three rotations. */
const AFTER = 46 * DAY_MS;
const SECRET = "erp-client-secret";

function config(extra: Record<string, unknown> = {}): StackConfig {
  return stackConfig([{ name: "erp" }], { rotation: { rotationDays: R, offsetDays: 0 }, ...extra });
}

const passwordsReplaced = (c: RunChanges) => c.replaced.filter((k) => k.startsWith(`${T.password} `));

/** Daily `pulumi up --refresh` runs from `from` (inclusive) to `to` (exclusive); returns every run's failures. */
async function daily(fake: FakeAzure, from: number, to: number, cfg = config()) {
  const failures: string[][] = [];
  for (let t = from; t < to; t += DAY_MS) {
    const run = await fake.run(() => defineStack(cfg, t, "dev"), "dev", t);
    failures.push(run.failures);
    expect(passwordsReplaced(run.changes).length).toBeLessThanOrEqual(1);
  }
  return failures;
}

/**
 * Every value Key Vault published stayed valid (not deleted, not expired) while published, and at
 * least G after the run that published the next one; the last one is valid at `lastRun`.
 */
function expectPromisesKept(fake: FakeAzure, lastRun: number, grace = G): void {
  const pubs = fake.publications
    .filter((p) => p.secretName === SECRET)
    .filter((p, i, all) => i === 0 || all[i - 1].value !== p.value);
  expect(pubs.length).toBeGreaterThan(2);
  const credentials = [...fake.credentials.values()];
  pubs.forEach((p, i) => {
    const credential = credentials.find((c) => c.value === p.value)!;
    expect(credential, `published value ${i} is a client secret of the app`).toBeDefined();
    const until = i + 1 < pubs.length ? pubs[i + 1].t + grace : lastRun + 1;
    expect(credential.deletedMs ?? Infinity, `value ${i} deleted too early`).toBeGreaterThanOrEqual(until);
    expect(credential.endMs, `value ${i} expired too early`).toBeGreaterThanOrEqual(until);
  });
}

const INCIDENTS: Record<string, (fake: FakeAzure) => void> = {
  "the Key Vault secret deleted by hand": (fake) => fake.deleteSecretByHand(SECRET),
  "its state tag edited into something unreadable": (fake) =>
    fake.editSecretTags(SECRET, (tags) => {
      tags[STATE_TAG] = "v1;pub=a;edited by hand";
    }),
  "its state tag edited back to an older state": (fake) =>
    fake.editSecretTags(SECRET, (tags) => {
      const state = decodeState(tags[STATE_TAG]);
      const older = {
        ...state,
        [state.published]: { ...state[state.published], endMs: state[state.published].endMs - 5 * DAY_MS },
      };
      tags[STATE_TAG] = encodeState(older);
    }),
  "its state tag removed": (fake) =>
    fake.editSecretTags(SECRET, (tags) => {
      delete tags[STATE_TAG];
      delete tags.slot;
    }),
  "an old version of the secret restored": (fake) => fake.restoreOlderVersion(SECRET, 1),
};

describe.each([
  ["during a steady schedule", BOUNDARY_RUN - 8 * DAY_MS, []],
  ["just before a rotation boundary", BOUNDARY_RUN, ["erp-secret-a"]],
])("a lost or wrong Key Vault record %s", (_, incidentAt, scheduled) => {
  it.each(Object.keys(INCIDENTS))(
    "%s: the run follows the stack's outputs, writes the record back, and cuts no caller off",
    async (incident) => {
      const fake = new FakeAzure();
      expect((await daily(fake, START, incidentAt)).flat()).toEqual([]);
      const before = fake.savedOutputs();
      INCIDENTS[incident](fake);
      const next = await fake.run(() => defineStack(config(), incidentAt, "dev"), "dev", incidentAt);
      expect(next.failures).toEqual([]);
      // Against what is deployed: the run after the incident replaces only what the schedule replaces.
      expect(passwordsReplaced(next.changes)).toEqual(scheduled.map((n) => `${T.password} ${n}`));
      expect(
        next.logs.some((l) => /following the stack's outputs|no rotation state|written back/.test(l.message)),
      ).toBe(true);
      // The log says what is replaced and why, against what is deployed (the stack's outputs).
      const said = next.logs.map((l) => l.message).join("\n");
      expect(said).toMatch(
        scheduled.length
          ? /erp-client-secret: new secret in slot a \(period \d+, until [\dT:-]+Z\), its next boundary having come \(against the stack's outputs\); slot a published/
          : /erp-client-secret: nothing replaced \(against the stack's outputs\); next rotation due /,
      );
      // The record is Azure's again, and agrees with the stack's outputs.
      const state = fake.vaultSecretTags(SECRET)?.[STATE_TAG];
      expect(state).toBe((fake.savedOutputs().rotationState as Record<string, string>).erp);
      expect(before.rotationState).toBeDefined();
      expect((await daily(fake, incidentAt + DAY_MS, incidentAt + AFTER)).flat()).toEqual([]);
      expectPromisesKept(fake, incidentAt + AFTER - DAY_MS);
    },
  );
});

it("after a schedule change, a lost record follows the stack's outputs: a fresh start on the new grid would replace both slots", async () => {
  const fake = new FakeAzure();
  await daily(fake, START, BOUNDARY_RUN - 10 * DAY_MS);
  const changed = { rotationDays: 20, offsetDays: 7 };
  const cfg = config({ rotation: changed });
  await daily(fake, BOUNDARY_RUN - 10 * DAY_MS, BOUNDARY_RUN - 8 * DAY_MS, cfg);
  fake.deleteSecretByHand(SECRET);
  const next = await fake.run(
    () => defineStack(cfg, BOUNDARY_RUN - 8 * DAY_MS, "dev"),
    "dev",
    BOUNDARY_RUN - 8 * DAY_MS,
  );
  expect(next.failures).toEqual([]);
  expect(passwordsReplaced(next.changes).length).toBeLessThanOrEqual(1);
  expect((await daily(fake, BOUNDARY_RUN - 7 * DAY_MS, BOUNDARY_RUN + 40 * DAY_MS, cfg)).flat()).toEqual([]);
  // G is half the shorter rotationDays: 10 days once the schedule is 20.
  expectPromisesKept(fake, BOUNDARY_RUN + 39 * DAY_MS, 10 * DAY_MS);
});

describe("a Pulumi state rolled back (the stack's outputs and resources older than Azure and Entra)", () => {
  it("by one rotation, around a boundary: the record one step ahead is followed, and no caller is cut off", async () => {
    const fake = new FakeAzure();
    await daily(fake, START, BOUNDARY_RUN);
    const checkpoint = fake.checkpoint();
    await daily(fake, BOUNDARY_RUN, BOUNDARY_RUN + 2 * DAY_MS); // slot B rotates at the boundary run
    fake.rollBack(checkpoint);
    const back = await fake.run(
      () => defineStack(config(), BOUNDARY_RUN + 2 * DAY_MS, "dev"),
      "dev",
      BOUNDARY_RUN + 2 * DAY_MS,
    );
    expect(back.failures).toEqual([]);
    expect(back.logs.some((l) => l.message.includes("one rotation ahead of the stack's outputs"))).toBe(true);
    expect((await daily(fake, BOUNDARY_RUN + 3 * DAY_MS, BOUNDARY_RUN + AFTER)).flat()).toEqual([]);
    expectPromisesKept(fake, BOUNDARY_RUN + AFTER - DAY_MS);
  });

  it("by more, during a steady schedule: the run stops before anything is replaced, naming both records and the way out; the reset then goes on", async () => {
    const fake = new FakeAzure();
    const rolledAt = BOUNDARY_RUN - 8 * DAY_MS;
    await daily(fake, START, rolledAt);
    const checkpoint = fake.checkpoint();
    await daily(fake, rolledAt, rolledAt + 40 * DAY_MS); // two rotations
    fake.rollBack(checkpoint);
    const t = rolledAt + 40 * DAY_MS;
    const stopped = await fake.run(() => defineStack(config(), t, "dev"), "dev", t);
    const message = stopped.failures.join("\n");
    expect(message).toContain("caller erp (erp-client-secret)");
    expect(message).toMatch(
      /Key Vault record: slot a: period \d+ from .* slot \w published\. Stack outputs: slot a: period/,
    );
    expect(message).toContain("flow-trigger-auth:rotationReset");
    expect(message).toContain("Nothing was replaced");
    expect(stopped.changes.replaced).toEqual([]);
    expect(stopped.declared.filter((d) => d.type === T.password)).toEqual([]);

    // The documented way out: follow Key Vault once (it is what Entra has), then remove the setting.
    const reset = config({ rotationReset: [{ caller: "erp", follow: "keyVault" }] });
    const resumed = await fake.run(() => defineStack(reset, t + DAY_MS, "dev"), "dev", t + DAY_MS);
    expect(resumed.failures).toEqual([]);
    expect(resumed.logs.some((l) => l.severity === "warn" && l.message.includes("following keyVault"))).toBe(
      true,
    );
    const leftOver = await fake.run(() => defineStack(reset, t + 2 * DAY_MS, "dev"), "dev", t + 2 * DAY_MS);
    expect(
      leftOver.logs.some((l) => l.severity === "warn" && l.message.includes("it does nothing; remove it")),
    ).toBe(true);
    expect((await daily(fake, t + 3 * DAY_MS, t + AFTER)).flat()).toEqual([]);
    expectPromisesKept(fake, t + AFTER - DAY_MS);
  });
});

describe("the second record itself", () => {
  it("is the stack's rotationState output, kept only by runs that succeed, and read back through a StackReference to the stack", async () => {
    const fake = new FakeAzure();
    const first = await fake.run(() => defineStack(config(), START, "dev"), "dev", START);
    expect(first.failures).toEqual([]);
    const ref = first.declared.find((d) => d.type === T.stackReference)!;
    expect(ref.inputs.name).toBe("organization/flow-trigger-auth/dev");
    const saved = fake.savedOutputs().rotationState as Record<string, string>;
    expect(saved.erp).toBe(fake.vaultSecretTags(SECRET)?.[STATE_TAG]);
    // A run that fails leaves the outputs as they were.
    const failing = new FakeAzure({
      getSecretError: 'Status=500 Code="InternalServerError" Message="try again"',
    });
    await failing.run(() => defineStack(config(), START, "dev"), "dev", START);
    expect(failing.savedOutputs()).toEqual({});
  });

  it("lets a stack deployed before it existed (Key Vault record only) upgrade without replacing anything", async () => {
    const fake = new FakeAzure();
    await daily(fake, START, START + 5 * DAY_MS);
    fake.rollBack({ ...fake.checkpoint(), stackOutputs: "{}" });
    const run = await fake.run(
      () => defineStack(config(), START + 5 * DAY_MS, "dev"),
      "dev",
      START + 5 * DAY_MS,
    );
    expect(run.failures).toEqual([]);
    expect(run.changes.replaced).toEqual([]);
    expect(fake.savedOutputs().rotationState).toEqual({ erp: fake.vaultSecretTags(SECRET)?.[STATE_TAG] });
  });
});
