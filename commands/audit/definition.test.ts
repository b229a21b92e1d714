/**
 * Reading the HTTP trigger from flow definitions as they really come: Dataverse's `clientdata`, solution
 * exports, and the variants public tools write or read (mode absent, `All`/`Anyone`, `User`/
 * `SpecificAccounts`, entries joined by `;` or `,`, any case, spaces, a renamed trigger).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { flowDefinition } from "../../standin/dataverse";
import { modeOf, readTrigger, splitAllowedUsers } from "./definition";

const SP1 = "8cfbd535-b7a8-4037-854e-6d026b3795d6";
const SP2 = "a51022d1-0172-4711-a6de-885b7e274a7b";

describe("the trigger's mode", () => {
  it.each([
    [undefined, "anyone"],
    [null, "anyone"],
    ["", "anyone"],
    ["All", "anyone"],
    ["all", "anyone"],
    ["Anyone", "anyone"],
    ["ANYONE", "anyone"],
    ["Tenant", "tenant"],
    ["tenant", "tenant"],
    ["User", "specific-users"],
    ["user", "specific-users"],
    ["SpecificAccounts", "specific-users"],
    ["specificaccounts", "specific-users"],
    [" User ", "specific-users"],
  ])("triggerAuthenticationType %j reads as %s", (value, mode) => {
    expect(modeOf(value)).toBe(mode);
  });

  it.each([["Everyone"], ["Users"], [3], [true], [{}]])("%j is no mode Power Automate writes", (value) => {
    expect(modeOf(value)).toBeUndefined();
  });
});

describe("the Allowed users entries", () => {
  it.each([
    ["one object ID", SP1, [SP1]],
    ["separated by ;", `${SP1};${SP2}`, [SP1, SP2]],
    ["separated by ,", `${SP1},${SP2}`, [SP1, SP2]],
    ["with spaces and a trailing separator", ` ${SP1} ; ${SP2} ;`, [SP1, SP2]],
    ["both separators mixed", `${SP1}, ${SP2}; erp@contoso.com`, [SP1, SP2, "erp@contoso.com"]],
    ["a repeat in another case, kept once", `${SP1};${SP1.toUpperCase()}`, [SP1]],
    [
      "e-mail addresses as the designer joins them",
      "a@contoso.com;b@contoso.com",
      ["a@contoso.com", "b@contoso.com"],
    ],
    ["empty text", "", []],
    ["only separators", " ; , ", []],
  ])("%s", (_name, value, entries) => {
    expect(splitAllowedUsers(value)).toEqual(entries);
  });

  it("whatever separators, spaces and case a maker types, the entries are the IDs listed, each once, in order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uuid(), { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.constantFrom(",", ";", " ,", "; ", " ; ", ",,"), fc.boolean()), {
          minLength: 8,
          maxLength: 8,
        }),
        (ids, seps) => {
          const typed = ids
            .map((id, i) => (seps[i][1] ? id.toUpperCase() : id))
            .reduce((a, id, i) => `${a}${seps[i][0]}${id}`, "");
          const expected = [...new Map(ids.map((id) => [id.toLowerCase(), id])).keys()];
          expect(splitAllowedUsers(typed)?.map((e) => e.toLowerCase())).toEqual(expected);
        },
      ),
    );
  });

  it("absent is no entry at all; an array of strings is read entry by entry; anything else is unreadable", () => {
    expect(splitAllowedUsers(undefined)).toEqual([]);
    expect(splitAllowedUsers([SP1, `${SP2};x@y.z`])).toEqual([SP1, SP2, "x@y.z"]);
    expect(splitAllowedUsers(42)).toBeUndefined();
    expect(splitAllowedUsers([SP1, 7])).toBeUndefined();
  });
});

describe("reading a flow's definition", () => {
  it("finds the Request/Http trigger of a solution export and its mode and entries", () => {
    const r = readTrigger(flowDefinition({ authType: "User", allowedUsers: `${SP1};${SP2}` }));
    expect(r).toEqual({
      ok: true,
      triggerName: "manual",
      mode: "specific-users",
      rawMode: "User",
      entries: [SP1, SP2],
    });
  });

  it("finds the HTTP trigger whatever its name, and whatever the case of type and kind", () => {
    const r = readTrigger(
      flowDefinition({
        name: "When_a_HTTP_request_is_received",
        type: "request",
        kind: "http",
        authType: "Tenant",
      }),
    );
    expect(r).toMatchObject({ ok: true, triggerName: "When_a_HTTP_request_is_received", mode: "tenant" });
  });

  it("reads a definition without the properties wrapper (a bare workflow definition, or one with triggers at the top)", () => {
    const inner = JSON.parse(flowDefinition({ authType: "All" })).properties.definition;
    expect(readTrigger(JSON.stringify({ definition: inner }))).toMatchObject({ ok: true, mode: "anyone" });
    expect(readTrigger(JSON.stringify(inner))).toMatchObject({ ok: true, mode: "anyone" });
  });

  it("takes a missing triggerAuthenticationType as Anyone", () => {
    expect(readTrigger(flowDefinition({}))).toStrictEqual({
      ok: true,
      triggerName: "manual",
      mode: "anyone",
      entries: [],
    });
  });

  it("reports a flow whose Request trigger is no HTTP trigger (a button, Power Apps) as having none, naming what it has", () => {
    for (const kind of ["Button", "PowerAppV2"]) {
      const r = readTrigger(flowDefinition({ kind }));
      expect(r).toMatchObject({ ok: false, code: "no-http-trigger" });
      expect(!r.ok && r.message).toContain(`manual (Request/${kind})`);
    }
    const recurrence = JSON.parse(flowDefinition({}));
    recurrence.properties.definition.triggers = {
      Recurrence: { type: "Recurrence", recurrence: { frequency: "Day" } },
    };
    const r = readTrigger(JSON.stringify(recurrence));
    expect(!r.ok && r.message).toContain("Recurrence (Recurrence)");
  });

  it.each([
    ["clientdata that is not JSON", "{not json", "is not JSON"],
    ["empty clientdata", "", "has no definition"],
    ["no clientdata at all", null, "has no definition"],
    [
      "JSON without triggers",
      JSON.stringify({ properties: { definition: { actions: {} } } }),
      "holds no properties.definition.triggers",
    ],
    ["JSON that is no object", "[1,2]", "holds no properties.definition.triggers"],
    [
      "a mode Power Automate never writes",
      flowDefinition({ authType: "Everyone" }),
      'triggerAuthenticationType "Everyone"',
    ],
    [
      "Allowed users that are not text",
      flowDefinition({ authType: "User", allowedUsers: { id: SP1 } }),
      "is not text",
    ],
  ])("reports %s as unreadable, never throwing", (_name, clientdata, says) => {
    const r = readTrigger(clientdata);
    expect(r).toMatchObject({ ok: false, code: "unreadable" });
    expect(!r.ok && r.message).toContain(says);
  });
});
