/**
 * A certificate caller over three simulated years of `pulumi up`, against the fake Azure: the program
 * replaces a slot's key, certificate and Entra credential exactly when the shared planner (checked run
 * by run in rotation.test.ts) replaces the slot, and Key Vault always holds the published slot's key and
 * certificate. Runs are taken at each rotation (not daily: the planner's daily behaviour is simulated
 * in rotation.test.ts), plus quiet re-runs, a pipeline gap and a schedule change.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig, type StackConfig } from "../config";
import { resolveDeep } from "../engine/mock-engine";
import { defineStack } from "../program";
import { DAY_MS, decodeState, isoTime, STATE_TAG, type RotationPolicy, type SlotName } from "../rotation";
import { declarations, FakeAzure, T } from "./helpers/fake-azure";
import { CallerModel } from "./helpers/rotation-sim";

const START = Date.parse("2026-11-22T09:30:00Z");
const HOUR = 3_600_000;
const YEARS_3 = 3 * 365 * DAY_MS;

function config(rotation: RotationPolicy): StackConfig {
  return parseStackConfig(
    {
      "azure-native:location": "westeurope",
      "azure-native:subscriptionId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      "flow-trigger-auth:callers": JSON.stringify([{ name: "sap", credential: "certificate" }]),
      "flow-trigger-auth:rotation": JSON.stringify(rotation),
    },
    "dev",
  );
}

const slotResources = (s: SlotName) => [
  `${T.key} sap-certificate-${s}-key`,
  `${T.cert} sap-certificate-${s}-cert`,
  `${T.appCert} sap-certificate-${s}`,
];

describe("a certificate caller over three years", () => {
  it("replaces a slot's key, certificate and credential exactly when the planner replaces the slot, and always publishes a valid one", async () => {
    const fake = new FakeAzure();
    const model = new CallerModel();
    const slow: RotationPolicy = { rotationDays: 180, offsetDays: 0, maxLifetimeDays: 730 };
    const fast: RotationPolicy = { rotationDays: 90, offsetDays: 7, maxLifetimeDays: 730 };
    let t = START;
    let runs = 0;
    let rotations = 0;
    let previous = START;
    for (let step = 0; t < START + YEARS_3; step++) {
      // The schedule changes after a year; the pipeline stops for 50 days in the second year.
      const policy = t < START + 365 * DAY_MS ? slow : fast;
      const run = await fake.run(() => defineStack(config(policy), t, "dev"), "dev", t);
      runs++;
      expect(run.failures, isoTime(t)).toEqual([]);
      const d = declarations(run.declared);
      const sim = model.run(t, policy);
      model.checkCoveredSince(previous, t);
      previous = t;

      // What the engine replaced is what the planner replaced, slot by slot, and nothing else.
      const changed = runs === 1 ? run.changes.created : run.changes.replaced;
      const expected = (runs === 1 ? (["a", "b"] as SlotName[]) : sim.replaced).flatMap(slotResources);
      expect(changed.filter((k) => !k.startsWith(T.secret)).sort(), isoTime(t)).toEqual(
        runs === 1 ? expect.arrayContaining(expected) : expected.sort(),
      );
      rotations += runs === 1 ? 0 : sim.replaced.length;

      // Key Vault holds the published slot's key and certificate, expiring with its Entra credential.
      const published = sim.plan.published.slot;
      const secret = d.one(T.secret, "sap-certificate-kv").inputs;
      const key = d.one(T.key, `sap-certificate-${published}-key`).state;
      const cert = d.one(T.cert, `sap-certificate-${published}-cert`).state;
      expect(secret.properties.value).toBe(`${key.privateKeyPemPkcs8}${cert.certPem}`);
      expect(secret.properties.attributes.expires * 1000).toBe(sim.plan.published.endMs);
      expect(decodeState(secret.tags[STATE_TAG])).toEqual(sim.plan.state);
      for (const s of ["a", "b"] as const) {
        const credential = d.one(T.appCert, `sap-certificate-${s}`).inputs;
        const itsCert = d.one(T.cert, `sap-certificate-${s}-cert`).state;
        expect(credential.endDate).toBe(isoTime(sim.plan[s].endMs));
        expect(credential.value).toBe(itsCert.certPem);
        // The certificate outlives its credential: the TLS provider never re-issues it on its own.
        expect(Date.parse(itsCert.validityEndTime)).toBeGreaterThan(Math.max(t, sim.plan[s].endMs));
      }
      const outputs = (await resolveDeep(run.result)) as any;
      expect(outputs.callers.sap.secretExpiresAt).toBe(isoTime(sim.plan.published.endMs));

      // A quiet re-run a day later now and then: nothing changes.
      if (step % 6 === 1) {
        const quiet = await fake.run(() => defineStack(config(policy), t + DAY_MS, "dev"), "dev", t + DAY_MS);
        model.run(t + DAY_MS, policy);
        runs++;
        expect(quiet.changes, isoTime(t + DAY_MS)).toEqual({ created: [], replaced: [], updated: [] });
        previous = t + DAY_MS;
      }
      const next = Date.parse(outputs.callers.sap.nextRotationAt);
      const gap = t > START + 500 * DAY_MS && t < START + 560 * DAY_MS ? 50 * DAY_MS : 0;
      t = Math.max(next + HOUR, t + DAY_MS) + gap;
    }
    expect(model.violations).toEqual([]);
    expect(rotations).toBeGreaterThanOrEqual(15);
    expect(runs).toBeLessThanOrEqual(30);
  });
});
