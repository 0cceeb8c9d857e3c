import { describe, expect, it } from "vitest";
import { actionsFor, alertsFor, atOrAbove, countByStatus, statusAfter } from "./alerts";
import { alert } from "./fixtures";

const alerts = [
  alert({ id: "a", status: "new", risk_level: "moderate", created_ms: 1 }),
  alert({ id: "b", status: "new", risk_level: "critical", created_ms: 3 }),
  alert({ id: "c", status: "new", risk_level: "high", created_ms: 2 }),
  alert({ id: "d", status: "acknowledged", risk_level: "low", created_ms: 4 }),
  alert({ id: "e", status: "resolved", risk_level: "high", created_ms: 5 }),
];

describe("severity floors", () => {
  it("keeps levels at or above the floor", () => {
    const ids = (floor: string) => alerts.filter((a) => atOrAbove(a, floor)).map((a) => a.id);
    expect(ids("")).toEqual(["a", "b", "c", "d", "e"]);
    expect(ids("moderate")).toEqual(["a", "b", "c", "e"]);
    expect(ids("high")).toEqual(["b", "c", "e"]);
    expect(ids("critical")).toEqual(["b"]);
  });
});

describe("alertsFor", () => {
  it("groups by status, newest first", () => {
    expect(alertsFor(alerts, "new", "").map((a) => a.id)).toEqual(["b", "c", "a"]);
    expect(alertsFor(alerts, "acknowledged", "").map((a) => a.id)).toEqual(["d"]);
    expect(alertsFor(alerts, "acknowledged", "moderate")).toEqual([]);
  });
  it("counts each tab under the floor, ignoring unknown statuses", () => {
    expect(countByStatus(alerts, "")).toEqual({ new: 3, acknowledged: 1, resolved: 1 });
    expect(countByStatus(alerts, "high")).toEqual({ new: 2, acknowledged: 0, resolved: 1 });
    expect(countByStatus([alert({ id: "x", status: "snoozed" })], "")).toEqual({ new: 0, acknowledged: 0, resolved: 0 });
  });
});

describe("actions", () => {
  it("offers acknowledge only on new alerts and resolve until resolved", () => {
    expect(actionsFor("new")).toEqual(["acknowledge", "resolve"]);
    expect(actionsFor("acknowledged")).toEqual(["resolve"]);
    expect(actionsFor("resolved")).toEqual([]);
  });
  it("moves the alert to the next tab", () => {
    expect(statusAfter("acknowledge")).toBe("acknowledged");
    expect(statusAfter("resolve")).toBe("resolved");
  });
});
