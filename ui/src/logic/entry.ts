// The manual-entry forms in words: "Record vitals" and "New/Edit patient". Pure: text fields in,
// the command's form or the field that is wrong out. Ranges are the facade's (it answers with
// "invalid FIELD: ..." in words); here only the shape of what was typed is checked.
import type { PatientForm, VitalsEntry, VitalsForm } from "../bindings";
import { news2BandLabel } from "./format";

/** The vitals dialog's inputs, as typed. */
export interface VitalsFields {
  heart_rate: string;
  spo2: string;
  spo2_scale: string;
  oxygen: string;
  respiratory_rate: string;
  bp: string;
  temperature: string;
  consciousness: string;
  weight: string;
}

/** The patient dialog's inputs, as typed. */
export interface PatientFields {
  mrn: string;
  name: string;
  birth_date: string;
  sex: string;
  /** None on the edit form, which keeps the recorded consent. */
  consent: { monitoring: boolean; clinic_sync: boolean; research: boolean } | null;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; field: string; problem: string };

export const VITAL_LABELS: Record<string, string> = {
  heart_rate: "Heart rate",
  spo2: "SpO₂",
  spo2_scale: "SpO₂ scale",
  oxygen: "Air or oxygen",
  respiratory_rate: "Respiratory rate",
  bp: "Blood pressure",
  bp_systolic: "Blood pressure",
  bp_diastolic: "Blood pressure",
  temperature: "Temperature",
  consciousness: "Consciousness",
  weight: "Weight",
  at: "Time",
  vitals: "Vitals",
};

class FieldError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(problem);
  }
}

function number(field: string, text: string): number | null {
  const t = text.trim().replace(",", ".");
  if (t === "") return null;
  const v = Number(t);
  if (!Number.isFinite(v)) throw new FieldError(field, `${VITAL_LABELS[field]}: '${text.trim()}' is not a number`);
  return v;
}

/** The command's form, or the first field that is not a number (or BP not SYS/DIA). */
export function vitalsForm(f: VitalsFields): Parsed<VitalsForm> {
  try {
    let bpSystolic: number | null = null;
    let bpDiastolic: number | null = null;
    if (f.bp.trim() !== "") {
      const parts = f.bp.split("/");
      if (parts.length !== 2) throw new FieldError("bp", `Blood pressure: '${f.bp.trim()}' is not SYS/DIA (e.g. 120/80)`);
      bpSystolic = number("bp", parts[0]);
      bpDiastolic = number("bp", parts[1]);
      if (bpSystolic == null || bpDiastolic == null) throw new FieldError("bp", "Blood pressure: give both, SYS/DIA (e.g. 120/80)");
    }
    const scale = f.spo2_scale.trim();
    return {
      ok: true,
      value: {
        heart_rate: number("heart_rate", f.heart_rate),
        spo2: number("spo2", f.spo2),
        spo2_scale: scale === "" ? null : Number(scale),
        oxygen: f.oxygen.trim() === "" ? null : f.oxygen.trim(),
        respiratory_rate: number("respiratory_rate", f.respiratory_rate),
        bp_systolic: bpSystolic,
        bp_diastolic: bpDiastolic,
        temperature: number("temperature", f.temperature),
        consciousness: f.consciousness.trim() === "" ? null : f.consciousness.trim(),
        weight: number("weight", f.weight),
        at: null,
      },
    };
  } catch (e) {
    if (e instanceof FieldError) return { ok: false, field: e.field, problem: e.message };
    throw e;
  }
}

/** The form field a facade error names ("invalid spo2: ..." -> "spo2"), if any. */
export function errorField(message: string): string | null {
  const m = /^invalid ([a-z_0-9]+): /.exec(message);
  if (!m) return null;
  const field = m[1];
  if (field === "bp_systolic" || field === "bp_diastolic") return "bp";
  return field;
}

/** "NEWS2 5 — Medium: …" or why there is none. */
export function news2Summary(entry: VitalsEntry): string {
  const n = entry.news2;
  if (!n) {
    const missing = entry.news2_missing.map((k) => VITAL_LABELS[k] ?? k.replace(/_/g, " ")).join(", ");
    return `Saved. NEWS2 not scored yet: no ${missing || "values"}.`;
  }
  const assumed = n.assumptions.length ? ` (${n.assumptions.join("; ")})` : "";
  return `Saved. NEWS2 ${n.aggregate} — ${news2BandLabel(n.band)}${assumed}.`;
}

/** The patient command's form, or the field that is missing. */
export function patientForm(f: PatientFields): Parsed<PatientForm> {
  if (f.mrn.trim() === "") return { ok: false, field: "mrn", problem: "MRN: enter the medical record number" };
  if (f.name.trim() === "") return { ok: false, field: "name", problem: "Name: enter the patient's name" };
  const birth = f.birth_date.trim();
  if (birth !== "" && !/^\d{4}-\d{2}-\d{2}$/.test(birth)) {
    return { ok: false, field: "birth_date", problem: `Birth date: '${birth}' is not a date YYYY-MM-DD` };
  }
  return {
    ok: true,
    value: {
      mrn: f.mrn.trim(),
      name: f.name.trim(),
      birth_date: birth === "" ? null : birth,
      sex: f.sex || "unknown",
      consent: f.consent,
    },
  };
}
