import { describe, expect, it } from "vitest";
import {
  absoluteTime,
  bloodPressure,
  displayUnit,
  humanize,
  news2BandLabel,
  news2Class,
  news2Parameter,
  num,
  percent,
  relativeTime,
  riskClass,
  riskRank,
  riskText,
  vitalWithUnit,
} from "./format";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const MIN = 60_000;

describe("relativeTime", () => {
  it("rounds down to minutes, hours and days", () => {
    expect(relativeTime(NOW - 10_000, NOW)).toBe("just now");
    expect(relativeTime(NOW - 3 * MIN - 59_000, NOW)).toBe("3 min ago");
    expect(relativeTime(NOW - 59 * MIN, NOW)).toBe("59 min ago");
    expect(relativeTime(NOW - 60 * MIN, NOW)).toBe("1 h ago");
    expect(relativeTime(NOW - 25 * 60 * MIN, NOW)).toBe("1 d ago");
  });
  it("says when data is missing or ahead of the clock", () => {
    expect(relativeTime(null, NOW)).toBe("no data");
    expect(relativeTime(Number.NaN, NOW)).toBe("no data");
    expect(relativeTime(NOW + 30_000, NOW)).toBe("just now");
    expect(relativeTime(NOW + 5 * MIN, NOW)).toBe("in 5 min");
  });
});

describe("absoluteTime", () => {
  it("formats in the given offset", () => {
    expect(absoluteTime(NOW, 0)).toBe("2026-11-23 12:00");
    expect(absoluteTime(NOW, 90)).toBe("2026-11-23 13:30");
    expect(absoluteTime(NOW, -13 * 60)).toBe("2026-11-22 23:00");
    expect(absoluteTime(null, 0)).toBe("no data");
  });
});

describe("vitals", () => {
  it("uses each kind's precision and unit", () => {
    expect(vitalWithUnit("body_temperature", 37.25)).toBe("37.3 °C");
    expect(vitalWithUnit("heart_rate", 71.6)).toBe("72 /min");
    expect(vitalWithUnit("spo2", 97)).toBe("97 %");
    expect(vitalWithUnit("body_weight", 80.04)).toBe("80.0 kg");
    expect(vitalWithUnit("blood_glucose", 4.9957)).toBe("5.0 mmol/L");
    expect(vitalWithUnit("heart_rate", null)).toBe("—");
  });
  it("shows UCUM units as people read them", () => {
    expect(displayUnit("Cel")).toBe("°C");
    expect(displayUnit("mm[Hg]")).toBe("mmHg");
    expect(displayUnit("/min")).toBe("/min");
    expect(vitalWithUnit("steps", 1200, "{steps}")).toBe("1200 steps");
  });
  it("joins blood pressure, marking a missing half", () => {
    expect(bloodPressure(128.4, 81.6)).toBe("128/82");
    expect(bloodPressure(128, null)).toBe("128/—");
    expect(bloodPressure(null, undefined)).toBe("—");
  });
});

describe("risk and NEWS2 bands", () => {
  it("ranks levels and maps unknown ones to low", () => {
    expect(["low", "moderate", "high", "critical"].map(riskRank)).toEqual([0, 1, 2, 3]);
    expect(riskRank("bogus")).toBe(0);
    expect(riskClass("critical")).toBe("risk risk-critical");
    expect(riskClass("")).toBe("risk risk-low");
  });
  it("always writes the level as a word beside the score", () => {
    expect(riskText("high", 0.8234)).toBe("High 0.82");
    expect(riskText("low", null)).toBe("Low —");
  });
  it("colours NEWS2 bands on the risk scale", () => {
    expect(news2Class("low")).toBe("risk risk-low");
    expect(news2Class("low_medium")).toBe("risk risk-moderate");
    expect(news2Class("medium")).toBe("risk risk-high");
    expect(news2Class("high")).toBe("risk risk-critical");
    expect(news2BandLabel("low_medium")).toBe("Low–medium");
  });
  it("names NEWS2 parameters and their charted values", () => {
    expect(news2Parameter("air_or_oxygen", 0)).toEqual({ label: "Air or oxygen", value: "Air" });
    expect(news2Parameter("consciousness", 0).value).toBe("Alert");
    expect(news2Parameter("respiration_rate", 24)).toEqual({ label: "Respiration rate", value: "24 /min" });
    expect(news2Parameter("temperature", 38.44).value).toBe("38.4 °C");
  });
});

describe("numbers", () => {
  it("keeps integers plain and trims decimals", () => {
    expect(num(92)).toBe("92");
    expect(num(0.1 + 0.2)).toBe("0.3");
    expect(num(2.456)).toBe("2.46");
    expect(num(null)).toBe("—");
    expect(percent(0.823)).toBe("82 %");
    expect(percent(0.0125, 1)).toBe("1.3 %");
    expect(humanize("possible_decompensation")).toBe("Possible decompensation");
  });
});
