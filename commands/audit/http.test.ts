/**
 * The audit's token call within the run's budget: a credential that never answers is given up at the
 * end of the budget, on the command's timer, and the reason names the budget's option.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { tokenWithin, type CallDeps } from "./http";

/** Deps whose one timer is fired by the test; records what it was asked for and whether it was cancelled. */
function budget(nowMs: number, deadline: number) {
  const controller = new AbortController();
  const asked: number[] = [];
  let cancelled = false;
  const deps: CallDeps = {
    fetch: () => Promise.reject(new Error("no HTTP in this test")),
    timer: (ms) => {
      asked.push(ms);
      return { signal: controller.signal, cancel: () => (cancelled = true) };
    },
    now: () => nowMs,
    sleep: async () => undefined,
    random: () => 0.5,
    deadline,
  };
  return { deps, asked, fire: () => controller.abort(), cancelled: () => cancelled };
}

describe("tokenWithin", () => {
  it("gives up on a credential that never answers when the budget's timer fires, naming --max-wait-s", async () => {
    const b = budget(1_000, 61_000);
    const seen: ({ aborted: boolean } | undefined)[] = [];
    const silent: TokenCredential = {
      getToken: (_scope, options) => {
        seen.push(options?.abortSignal);
        return new Promise<AccessToken>(() => undefined);
      },
    };
    const result = tokenWithin(silent, "https://contoso.crm4.dynamics.com/.default", b.deps);
    b.fire();
    expect(await result).toEqual({
      ok: false,
      unavailable: false,
      message: "no token within the time budget (--max-wait-s)",
    });
    expect(b.asked).toEqual([60_000]);
    expect(seen[0]?.aborted).toBe(true);
    expect(b.cancelled()).toBe(true);
  });

  it("returns the token and stops the timer when the credential answers in time", async () => {
    const b = budget(1_000, 61_000);
    const ready: TokenCredential = {
      getToken: async () => ({ token: "fake-access-token", expiresOnTimestamp: 0 }),
    };
    expect(await tokenWithin(ready, "https://graph.microsoft.com/.default", b.deps)).toEqual({
      ok: true,
      token: "fake-access-token",
    });
    expect(b.cancelled()).toBe(true);
  });
});
