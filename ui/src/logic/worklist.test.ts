import { describe, expect, it } from "vitest";
import { row } from "./fixtures";
import { compactVitals, filterRows, notMonitored, restricted } from "./worklist";

describe("filterRows", () => {
  const rows = [
    row({ name: "Ada Example", mrn: "DEMO-0001" }),
    row({ name: "Chloé Testcase", mrn: "DEMO-0003" }),
    row({ name: "Hugo Dummy", mrn: "X-77" }),
  ];
  const names = (q: string) => filterRows(rows, q).map((r) => r.name);
  it("keeps every row for an empty query", () => {
    expect(names("   ")).toHaveLength(3);
  });
  it("matches names case- and accent-insensitively", () => {
    expect(names("ADA")).toEqual(["Ada Example"]);
    expect(names("chloe")).toEqual(["Chloé Testcase"]);
    expect(names("dum")).toEqual(["Hugo Dummy"]);
  });
  it("matches MRN by prefix only", () => {
    expect(names("demo-000")).toEqual(["Ada Example", "Chloé Testcase"]);
    expect(names("0003")).toEqual([]);
    expect(names("x-7")).toEqual(["Hugo Dummy"]);
  });
  it("needs every word to match", () => {
    expect(names("ada demo-0001")).toEqual(["Ada Example"]);
    expect(names("ada demo-0003")).toEqual([]);
  });
});

describe("compactVitals", () => {
  it("shows the newest reading of each kind and blood pressure as one cell", () => {
    const v = (kind: string, value: number, at_ms: number) => ({ kind, label: kind, unit: "", value, at_ms });
    const cells = compactVitals([v("heart_rate", 80, 1), v("heart_rate", 95, 2), v("bp_systolic", 121, 1), v("bp_diastolic", 79.6, 1)]);
    expect(Object.fromEntries(cells.map((c) => [c.key, c.text]))).toEqual({
      heart_rate: "95",
      spo2: "—",
      respiratory_rate: "—",
      body_temperature: "—",
      bp: "121/80",
      body_weight: "—",
    });
  });
});

describe("notMonitored", () => {
  it("marks only rows the backend did not assess for want of monitoring consent", () => {
    expect(notMonitored(row({ name: "A", assessed: "no_consent" }))).toBe(true);
    expect(notMonitored(row({ name: "B", assessed: "none" }))).toBe(false);
    expect(notMonitored(row({ name: "C", assessed: "stored" }))).toBe(false);
  });
});

describe("restricted", () => {
  it("marks only rows of restricted records the user has not opened", () => {
    expect(restricted(row({ name: "A", assessed: "restricted", risk_level: "restricted", latest: [] }))).toBe(true);
    expect(restricted(row({ name: "B", assessed: "no_consent" }))).toBe(false);
    expect(restricted(row({ name: "C", assessed: "stored" }))).toBe(false);
  });
});
