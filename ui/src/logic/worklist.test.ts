import { describe, expect, it } from "vitest";
import { news2, row } from "./fixtures";
import { compactVitals, filterRows, sortByRisk } from "./worklist";

describe("sortByRisk", () => {
  it("puts the highest risk first", () => {
    const rows = [row({ name: "A", risk_score: 0.2 }), row({ name: "B", risk_score: 0.9 }), row({ name: "C", risk_score: 0.5 })];
    expect(sortByRisk(rows).map((r) => r.name)).toEqual(["B", "C", "A"]);
  });
  it("breaks ties by NEWS2, then open alerts, then name", () => {
    const rows = [
      row({ name: "Zed", risk_score: 0.5, news2: news2(3) }),
      row({ name: "Amy", risk_score: 0.5, news2: news2(3) }),
      row({ name: "Bob", risk_score: 0.5, news2: news2(3), open_alerts: 2 }),
      row({ name: "Cat", risk_score: 0.5, news2: news2(7) }),
      row({ name: "Dan", risk_score: 0.5 }),
    ];
    expect(sortByRisk(rows).map((r) => r.name)).toEqual(["Cat", "Bob", "Amy", "Zed", "Dan"]);
  });
  it("sorts a missing score (NaN on the wire) last and leaves the input alone", () => {
    const rows = [row({ name: "N", risk_score: null }), row({ name: "L", risk_score: 0 })];
    expect(sortByRisk(rows).map((r) => r.name)).toEqual(["L", "N"]);
    expect(rows.map((r) => r.name)).toEqual(["N", "L"]);
  });
});

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
