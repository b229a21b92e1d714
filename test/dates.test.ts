/**
 * Impossible dates are refused everywhere a date is read, not rolled over: `Date.parse("2027-02-30")`
 * is March 2nd. The parsers (dates.ts), then each place that reads a date: --now, stack outputs, the
 * rotation state record and Retry-After.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { daysInMonth, parseHttpDate, parseIsoInstant } from "../dates";
import { decodeState, encodeState, planRotation } from "../rotation";
import { parseRetryAfter } from "../lib/retry";
import { fixture, runCli } from "./helpers/cli";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const NOW = Date.parse("2026-11-22T09:30:00Z");

describe("parseIsoInstant", () => {
  it.each(["2027-02-30", "2027-02-29", "2027-04-31", "2027-13-01", "2027-00-10", "2027-01-00"])(
    "%s does not exist",
    (day) => {
      expect(parseIsoInstant(day)).toBeUndefined();
      expect(parseIsoInstant(`${day}T00:00:00Z`)).toBeUndefined();
    },
  );

  it.each(["2027-02-28T24:00:00Z", "2027-02-28T23:60:00Z", "2027-02-28T23:59:60Z", "2027-02-28T10:00+24:00"])(
    "%s is not a time",
    (time) => expect(parseIsoInstant(time)).toBeUndefined(),
  );

  it("reads existing days and times as Date.parse does, offsets and fractions included", () => {
    for (const text of [
      "2028-02-29",
      "2027-02-28T23:59:59Z",
      "2026-11-22T09:30+01:00",
      "2026-11-22T09:30:00.250-05:30",
    ])
      expect(parseIsoInstant(text)).toBe(Date.parse(text));
  });

  it("any day that exists round-trips; one day past the month's end never does", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1970, max: 2200 }), fc.integer({ min: 1, max: 12 }), (y, m) => {
        const last = daysInMonth(y, m);
        const day = (d: number) => `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
        expect(new Date(parseIsoInstant(day(last))!).toISOString().slice(0, 10)).toBe(day(last));
        if (last < 31) expect(parseIsoInstant(day(last + 1))).toBeUndefined();
      }),
    );
  });

  it("a time without a zone, or a bare date where a time is required, is refused", () => {
    expect(parseIsoInstant("2026-11-22T09:30:00")).toBeUndefined();
    expect(parseIsoInstant("2026-11-22", { dateOnly: false })).toBeUndefined();
  });
});

describe("parseHttpDate (Retry-After)", () => {
  it("reads RFC 9110's three forms and refuses a day that does not exist", () => {
    const at = Date.parse("1994-11-06T08:49:37Z");
    expect(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", NOW)).toBe(at);
    expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", NOW)).toBe(at);
    expect(parseHttpDate("Sun Nov  6 08:49:37 1994", NOW)).toBe(at);
    expect(parseHttpDate("Sat, 30 Feb 2027 07:28:00 GMT", NOW)).toBeUndefined();
    expect(parseHttpDate("Wed, 21 Oct 2015 25:28:00 GMT", NOW)).toBeUndefined();
  });

  it("an impossible Retry-After date is no Retry-After (the backoff decides), not a wait until March", () => {
    const feb30 = "Tue, 30 Feb 2027 00:00:00 GMT";
    expect(parseRetryAfter(feb30, NOW)).toBeUndefined();
    expect(parseRetryAfter("Wed, 24 Feb 2027 00:00:00 GMT", NOW)).toBe(
      Date.parse("2027-02-24T00:00:00Z") - NOW,
    );
  });
});

describe("where dates are read", () => {
  it("--now 2027-02-30 is refused by rotation-status and validate (exit 2), not judged at March 2nd", async () => {
    for (const [command, args] of [
      ["rotation-status", ["--outputs", fixture("outputs/dev.json")]],
      ["validate", ["--stack", "dev"]],
    ] as const) {
      const r = await runCli(command, [...args, "--now", "2027-02-30T00:00:00Z"]);
      expect(r.code, command).toBe(2);
      expect(r.stderr).toContain("--now: must be an ISO 8601 time with Z or an offset, on a day that exists");
    }
  });

  it("stack outputs with an expiry on 2027-02-30 are refused, naming the field (exit 2)", async () => {
    const outputs = JSON.parse(readFileSync(fixture("outputs/dev.json"), "utf8"));
    outputs.callers.erp.secretExpiresAt = "2027-02-30T00:00:00Z";
    const file = join(mkdtempSync(join(tmpdir(), "dates-")), "dev.json");
    writeFileSync(file, JSON.stringify(outputs));
    const r = await runCli("rotation-status", ["--outputs", file, "--now", "2026-11-22T09:30:00Z"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("callers.erp.secretExpiresAt: must be an existing ISO 8601 time");
  });

  it("a rotation state record naming 2027-02-30 is damaged, not read as March 2nd", () => {
    const state = planRotation({ rotationDays: 90, offsetDays: 0 }, NOW).state;
    const text = encodeState(state);
    const spoiled = text.replace(/a=(-?\d+),(\d{4}-\d{2}-\d{2})/, "a=$1,2027-02-30");
    expect(spoiled).not.toBe(text);
    expect(() => decodeState(spoiled)).toThrow('"2027-02-30T');
  });
});
