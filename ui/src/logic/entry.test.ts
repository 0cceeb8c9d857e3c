import { describe, expect, it } from "vitest";
import type { VitalsEntry } from "../bindings";
import { errorField, news2Summary, patientForm, vitalsForm, type VitalsFields } from "./entry";

const blank: VitalsFields = {
  heart_rate: "",
  spo2: "",
  spo2_scale: "",
  oxygen: "",
  respiratory_rate: "",
  bp: "",
  temperature: "",
  consciousness: "",
  weight: "",
};

describe("vitals form", () => {
  it("turns typed text into the command's form, empty fields into null", () => {
    const parsed = vitalsForm({ ...blank, heart_rate: " 88 ", spo2: "95", spo2_scale: "2", oxygen: "oxygen", bp: "120/80", temperature: "37,4", consciousness: "V" });
    expect(parsed).toEqual({
      ok: true,
      value: {
        heart_rate: 88,
        spo2: 95,
        spo2_scale: 2,
        oxygen: "oxygen",
        respiratory_rate: null,
        bp_systolic: 120,
        bp_diastolic: 80,
        temperature: 37.4,
        consciousness: "V",
        weight: null,
        at: null,
      },
    });
  });
  it("names the field that is not a number, and a pressure that is not SYS/DIA", () => {
    expect(vitalsForm({ ...blank, heart_rate: "fast" })).toEqual({ ok: false, field: "heart_rate", problem: "Heart rate: 'fast' is not a number" });
    expect(vitalsForm({ ...blank, bp: "120-80" })).toMatchObject({ ok: false, field: "bp" });
    expect(vitalsForm({ ...blank, bp: "120/" })).toMatchObject({ ok: false, field: "bp" });
  });
  it("leaves ranges to the facade and finds the field its error names", () => {
    expect(vitalsForm({ ...blank, spo2: "120" })).toMatchObject({ ok: true });
    expect(errorField("invalid spo2: spo2 120 % is outside the plausible range 50..=100 %")).toBe("spo2");
    expect(errorField("invalid bp_diastolic: diastolic 95 is not below systolic 80")).toBe("bp");
    expect(errorField("no patient with MRN X in this store")).toBeNull();
  });
});

describe("NEWS2 after an entry", () => {
  const entry = (over: Partial<VitalsEntry>): VitalsEntry => ({
    patient_id: "p",
    readings: [],
    inserted: 1,
    duplicates: 0,
    news2: null,
    news2_missing: [],
    alerts: [],
    ...over,
  });
  it("says the score and band, and what was assumed", () => {
    const news2 = { aggregate: 5, band: "medium", response: "urgent", urgent_review: true, parameters: [], assumptions: [] };
    expect(news2Summary(entry({ news2 }))).toBe("Saved. NEWS2 5 — Medium.");
    const assumed = { ...news2, aggregate: 0, band: "low", assumptions: ["consciousness not recorded: scored as Alert"] };
    expect(news2Summary(entry({ news2: assumed }))).toContain("(consciousness not recorded: scored as Alert)");
  });
  it("says which measured parameters are missing", () => {
    expect(news2Summary(entry({ news2_missing: ["respiratory_rate", "bp_systolic"] }))).toBe(
      "Saved. NEWS2 not scored yet: no Respiratory rate, Blood pressure.",
    );
  });
});

describe("patient form", () => {
  const fields = { mrn: " MRN-9 ", name: "Ada Example", birth_date: "", sex: "female", consent: { monitoring: true, clinic_sync: false, research: false } };
  it("trims and maps an empty birth date to none", () => {
    expect(patientForm(fields)).toEqual({ ok: true, value: { ...fields, mrn: "MRN-9", birth_date: null } });
  });
  it("names a missing MRN or name and a malformed birth date", () => {
    expect(patientForm({ ...fields, mrn: " " })).toMatchObject({ ok: false, field: "mrn" });
    expect(patientForm({ ...fields, name: "" })).toMatchObject({ ok: false, field: "name" });
    expect(patientForm({ ...fields, birth_date: "1/2/1950" })).toMatchObject({ ok: false, field: "birth_date" });
  });
});
