// The patient screen's panels in words: HRV, weight, evidence, findings. Pure.
import type { ConsentView, EvidenceView, FindingView, HrvView, WeightView } from "../bindings";
import { absoluteTime, fixed, humanize, num, percent } from "./format";

export interface Row {
  label: string;
  value: string;
}

export function hrvRows(h: HrvView): Row[] {
  return [
    { label: "SDNN", value: `${fixed(h.sdnn_ms, 1)} ms` },
    { label: "RMSSD", value: `${fixed(h.rmssd_ms, 1)} ms` },
    { label: "pNN50", value: `${fixed(h.pnn50, 1)} %` },
    { label: "Mean HR", value: `${fixed(h.mean_hr, 0)} /min` },
    { label: "LF/HF", value: h.lf_hf == null ? "— (recording too short)" : fixed(h.lf_hf, 2) },
    { label: "Beats", value: `${h.beats} over ${fixed(h.minutes, 0)} min` },
    { label: "Artefacts", value: String(h.artefacts) },
  ];
}

/** "+0.42 kg/week" with its sign; "—" when missing. */
export function signed(value: number | null | undefined, decimals: number): string {
  if (value == null || !Number.isFinite(value)) return "—";
  const text = value.toFixed(decimals);
  if (Number(text) === 0) return (0).toFixed(decimals);
  return value > 0 ? `+${text}` : text;
}

export function weightRows(w: WeightView): Row[] {
  const level =
    w.level_kg == null ? "— (too few weights)" : `${fixed(w.level_kg, 1)} ± ${fixed(w.level_sd_kg, 1)} kg`;
  const trend =
    w.trend_kg_per_week == null
      ? "—"
      : `${signed(w.trend_kg_per_week, 2)} ± ${fixed(w.trend_sd_kg_per_week, 2)} kg/week`;
  return [
    { label: "Latest", value: `${fixed(w.latest_kg, 1)} kg` },
    { label: "Level (Kalman)", value: level },
    { label: "Trend", value: trend },
    { label: "Weights", value: String(w.weights) },
  ];
}

const COMPARISONS: Record<string, string> = { "<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=" };

const TOKENS: Record<string, string> = {
  hr: "HR",
  rr: "RR",
  spo2: "SpO₂",
  news2: "NEWS2",
  bp: "BP",
  hrv: "HRV",
  sdnn: "SDNN",
  rmssd: "RMSSD",
  nrmssd: "nRMSSD",
  pnn50: "pNN50",
  lf: "LF",
  hf: "HF",
  kg: "kg",
};

/** A feature code in words: "rr_interval_nrmssd" -> "RR interval nRMSSD". */
export function featureLabel(code: string): string {
  const words = code.split("_").filter(Boolean).map((w) => TOKENS[w.toLowerCase()] ?? w.toLowerCase());
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "SpO₂ min 88 < 92". */
export function evidenceText(e: EvidenceView): string {
  return `${featureLabel(e.feature)} ${num(e.value)} ${COMPARISONS[e.comparison] ?? e.comparison} ${num(e.threshold)}`;
}

/** Triggered evidence first, keeping the order within each group. */
export function evidenceOrder(evidence: readonly EvidenceView[]): EvidenceView[] {
  return [...evidence.filter((e) => e.triggered), ...evidence.filter((e) => !e.triggered)];
}

/** "Model early-warning-gbt 1.0.0 · confidence 82 %". */
export function findingMethod(f: FindingView): string {
  return `${f.method} · confidence ${percent(f.confidence)}`;
}

const SPECIALTIES: Record<string, string> = {
  cardiology: "Cardiology",
  pulmonary: "Pulmonary",
  heart_failure: "Heart failure",
  early_warning: "Early warning",
  infection_screen: "Infection screen",
};

export function specialtyLabel(code: string): string {
  return SPECIALTIES[code] ?? humanize(code);
}

/** "Female, born 1948-03-14". */
export function demographics(sex: string, birth: string | null | undefined): string {
  const s = humanize(sex || "unknown");
  return birth ? `${s}, born ${birth}` : `${s}, birth date unknown`;
}

/** The consent in force, in words: "Consent v3: monitoring, clinic sync" (or "none"), who recorded
 * it when, and whether the patient is monitored at all (issue 12). */
export function consentSummary(c: ConsentView): { text: string; title: string; monitored: boolean } {
  const given = [c.monitoring ? "monitoring" : null, c.clinic_sync ? "clinic sync" : null, c.research ? "research" : null].filter((x): x is string => x !== null);
  const recorded = c.changed_at_ms == null ? "" : `Recorded ${absoluteTime(c.changed_at_ms)}${c.changed_by ? ` by ${c.changed_by}` : ""}. `;
  const sync = c.clinic_sync ? "Sent to the clinic." : "Nothing is sent to the clinic.";
  return {
    text: `Consent v${c.version}: ${given.length > 0 ? given.join(", ") : "none"}`,
    title: `${recorded}${c.monitoring ? "Monitored." : "Not monitored: readings are refused and nothing is assessed."} ${sync}`,
    monitored: c.monitoring,
  };
}
