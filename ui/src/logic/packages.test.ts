import { describe, expect, it } from "vitest";
import { event, pkg } from "./fixtures";
import { eventActor, eventsNewestFirst, packageActions, promoteEffect, rollbackEffect } from "./packages";

const active = pkg({ version: "1.0.0", state: "active" });
const previous = pkg({ version: "0.9.0", state: "previous" });
const canary = pkg({ version: "1.1.0", state: "canary" });
const installed = pkg({ version: "0.8.0", state: "installed" });

describe("packageActions", () => {
  it("hides promote for the active version only", () => {
    const all = [active, previous, installed];
    expect(packageActions(active, all).promote).toBe(false);
    expect(packageActions(previous, all).promote).toBe(true);
    expect(packageActions(installed, all).promote).toBe(true);
  });
  it("offers rollback on the active version when there is no candidate", () => {
    const all = [active, previous];
    expect(packageActions(active, all).rollback).toBe(true);
    expect(packageActions(previous, all).rollback).toBe(false);
  });
  it("offers rollback on the candidate, not the active version, when both exist (rollback drops the candidate first)", () => {
    const all = [active, canary];
    expect(packageActions(canary, all)).toEqual({ promote: true, rollback: true });
    expect(packageActions(active, all).rollback).toBe(false);
  });
  it("does not let another package's candidate hide this one's rollback", () => {
    const other = pkg({ name: "other", agent: "early_warning", version: "2.0.0", state: "shadow" });
    expect(packageActions(active, [active, other]).rollback).toBe(true);
  });
});

describe("what an action will do", () => {
  it("promotion names the version that steps down", () => {
    expect(promoteEffect(previous, [active, previous])).toBe(
      "early-warning-gbt 0.9.0 becomes the active model of the early warning agent. early-warning-gbt 1.0.0 stops serving and is kept as the previous version (a rollback restores it).",
    );
    expect(promoteEffect(canary, [canary])).toMatch(/^The canary rollout of early-warning-gbt 1.1.0 ends.*No model serves this agent now/);
  });
  it("rollback of the active version names what comes back, or the rules", () => {
    expect(rollbackEffect(active, [active, previous])).toMatch(/early-warning-gbt 0.9.0 becomes active again\.$/);
    expect(rollbackEffect(active, [active])).toMatch(/answers with its rules alone\.$/);
  });
  it("rollback of a candidate keeps the active version", () => {
    expect(rollbackEffect(canary, [active, canary])).toMatch(/candidate is dropped\. early-warning-gbt 1.0.0 stays active\.$/);
  });
});

describe("events", () => {
  it("lists newest first and says who acted", () => {
    const list = eventsNewestFirst([event({ at_ms: 1 }), event({ at_ms: 3, automatic: true }), event({ at_ms: 2 })]);
    expect(list.map((e) => e.at_ms)).toEqual([3, 2, 1]);
    expect(eventActor(list[0])).toBe("automatic");
    expect(eventActor(list[1])).toBe("nurse");
  });
});
