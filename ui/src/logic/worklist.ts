// The worklist's search and vitals cells. Pure. The order is the backend's (`sort_by_risk`,
// the one place it is decided): the screen shows the rows as sent.
import type { VitalReading, WorklistRow } from "../bindings";
import { bloodPressure, vitalValue } from "./format";

/** Lower case without accents, so "chloe" finds "Chloé". */
function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
}

/**
 * Rows whose name contains, or whose MRN starts with, every word of `query` (case and accent
 * insensitive). An empty query keeps every row, in order.
 */
export function filterRows(rows: readonly WorklistRow[], query: string): WorklistRow[] {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...rows];
  return rows.filter((r) => {
    const name = fold(r.name);
    const mrn = fold(r.mrn);
    return words.every((w) => name.includes(w) || mrn.startsWith(w));
  });
}

/** The latest reading of each kind. */
export function latestByKind(latest: readonly VitalReading[]): Map<string, VitalReading> {
  const map = new Map<string, VitalReading>();
  for (const r of latest) {
    const seen = map.get(r.kind);
    if (!seen || (r.at_ms ?? -Infinity) > (seen.at_ms ?? -Infinity)) map.set(r.kind, r);
  }
  return map;
}

/** The compact vitals cells of a row: HR, SpO₂, RR, Temp, BP, weight ("—" when missing). */
export function compactVitals(latest: readonly VitalReading[]): { key: string; text: string }[] {
  const by = latestByKind(latest);
  const cell = (kind: string) => ({ key: kind, text: vitalValue(kind, by.get(kind)?.value) });
  return [
    cell("heart_rate"),
    cell("spo2"),
    cell("respiratory_rate"),
    cell("body_temperature"),
    { key: "bp", text: bloodPressure(by.get("bp_systolic")?.value, by.get("bp_diastolic")?.value) },
    cell("body_weight"),
  ];
}

/** A patient without monitoring consent is not assessed: their row shows no risk (issue 12). */
export function notMonitored(r: WorklistRow): boolean {
  return r.assessed === "no_consent";
}

/**
 * A restricted record this user has not opened (break the glass): the row names the patient and
 * counts their open alerts; the backend sends no values, risk or alert text (issue 12).
 */
export function restricted(r: WorklistRow): boolean {
  return r.assessed === "restricted";
}
