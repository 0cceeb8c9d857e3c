import { describe, expect, it } from "vitest";
import { navSection, parseRoute, routeHash } from "./router";

describe("routes", () => {
  it("defaults to the worklist", () => {
    expect(parseRoute("")).toEqual({ view: "worklist" });
    expect(parseRoute("#/")).toEqual({ view: "worklist" });
    expect(parseRoute("#/alerts/")).toEqual({ view: "alerts" });
    expect(parseRoute("#/devices")).toEqual({ view: "devices" });
  });
  it("reads a patient id, encoded or not", () => {
    expect(parseRoute("#/patient/0193-ab")).toEqual({ view: "patient", id: "0193-ab" });
    expect(parseRoute("#/patient/DEMO%2F1")).toEqual({ view: "patient", id: "DEMO/1" });
    expect(routeHash({ view: "patient", id: "DEMO/1" })).toBe("#/patient/DEMO%2F1");
  });
  it("rejects unknown screens and malformed ids", () => {
    expect(parseRoute("#/nope").view).toBe("not_found");
    expect(parseRoute("#/patient").view).toBe("not_found");
    expect(parseRoute("#/patient/%E0%A4%A").view).toBe("not_found");
    expect(parseRoute("#/alerts/extra").view).toBe("not_found");
  });
  it("marks the worklist as the patient screen's section", () => {
    expect(navSection({ view: "patient", id: "x" })).toBe("worklist");
    expect(navSection({ view: "agents" })).toBe("agents");
  });
});
