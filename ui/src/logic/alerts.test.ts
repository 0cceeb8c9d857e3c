import { describe, expect, it } from "vitest";
import { actionsFor, minLevel, pageSummary, statusAfter } from "./alerts";

describe("severity floors", () => {
  it("sends no level for every severity and the level's name otherwise", () => {
    expect(minLevel("")).toBeNull();
    expect(minLevel("critical")).toBe("critical");
  });
});

describe("pageSummary", () => {
  it("says how many of the total are shown", () => {
    expect(pageSummary(12, 12)).toBe("12 alerts");
    expect(pageSummary(1, 1)).toBe("1 alert");
    expect(pageSummary(0, 0)).toBe("0 alerts");
    expect(pageSummary(100, 812)).toBe("100 of 812 alerts");
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
