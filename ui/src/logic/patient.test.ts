import { describe, expect, it } from "vitest";
import { consent } from "./fixtures";
import { consentSummary, demographics, evidenceOrder, evidenceText, featureLabel, hrvRows, signed, weightRows } from "./patient";

const ev = (feature: string, triggered: boolean) => ({ feature, value: 88, threshold: 92, comparison: "<", triggered, source: "NEWS2" });

describe("patient panels", () => {
  it("writes evidence with its comparison", () => {
    expect(evidenceText({ ...ev("spo2_min", true), comparison: ">=" })).toBe("SpO₂ min 88 ≥ 92");
    expect(evidenceText({ ...ev("heart_rate_mean", false), value: 101.456 })).toBe("Heart rate mean 101.46 < 92");
  });
  it("names features with their clinical abbreviations", () => {
    expect(featureLabel("rr_interval_nrmssd")).toBe("RR interval nRMSSD");
    expect(featureLabel("news2_spo2")).toBe("NEWS2 SpO₂");
    expect(featureLabel("hr_mean")).toBe("HR mean");
    expect(featureLabel("weight_trend_kg_per_week")).toBe("Weight trend kg per week");
    expect(featureLabel("")).toBe("");
  });
  it("puts triggered evidence first, stable within groups", () => {
    const order = evidenceOrder([ev("a", false), ev("b", true), ev("c", false), ev("d", true)]);
    expect(order.map((e) => e.feature)).toEqual(["b", "d", "a", "c"]);
  });
  it("says when LF/HF needs a longer recording", () => {
    const rows = hrvRows({ beats: 300, minutes: 4.9, sdnn_ms: 42.13, rmssd_ms: 30, pnn50: 12.5, mean_hr: 72.4, lf_hf: null, artefacts: 1 });
    expect(rows.find((r) => r.label === "LF/HF")?.value).toMatch(/too short/);
    expect(rows.find((r) => r.label === "SDNN")?.value).toBe("42.1 ms");
    expect(rows.find((r) => r.label === "Beats")?.value).toBe("300 over 5 min");
  });
  it("shows the weight level with its sd and a signed trend", () => {
    const rows = weightRows({ weights: 30, latest_kg: 82.34, level_kg: 82.1, level_sd_kg: 0.3, trend_kg_per_week: 1.25, trend_sd_kg_per_week: 0.2, flags: [] });
    expect(rows.map((r) => r.value)).toEqual(["82.3 kg", "82.1 ± 0.3 kg", "+1.25 ± 0.20 kg/week", "30"]);
    expect(weightRows({ weights: 1, latest_kg: 80, level_kg: null, level_sd_kg: null, trend_kg_per_week: null, trend_sd_kg_per_week: null, flags: [] })[1].value).toMatch(/too few/);
  });
  it("signs numbers without a negative zero", () => {
    expect(signed(-0.004, 2)).toBe("0.00");
    expect(signed(0, 1)).toBe("0.0");
    expect(signed(0.004, 2)).toBe("0.00");
    expect(signed(0.006, 2)).toBe("+0.01");
    expect(signed(-1.5, 1)).toBe("-1.5");
    expect(demographics("female", "1948-03-14")).toBe("Female, born 1948-03-14");
    expect(demographics("", null)).toBe("Unknown, birth date unknown");
  });
});

describe("consent", () => {
  it("names the flags in force and their version", () => {
    const c = consentSummary(consent({ version: 3, monitoring: true, clinic_sync: true }));
    expect(c.text).toBe("Consent v3: monitoring, clinic sync");
    expect(c.monitored).toBe(true);
    expect(c.title).toContain("by os:nurse");
    expect(c.title).toContain("Sent to the clinic.");
  });
  it("says a patient without monitoring consent is not monitored and not sent", () => {
    const c = consentSummary(consent({ version: 1 }));
    expect(c.text).toBe("Consent v1: none");
    expect(c.monitored).toBe(false);
    expect(c.title).toContain("Not monitored");
    expect(c.title).toContain("Nothing is sent to the clinic.");
  });
});
