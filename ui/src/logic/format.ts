// Formatting for the screens: times, vitals with units, risk and NEWS2 bands. Pure.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "3 min ago", "5 h ago", "2 d ago"; "no data" without a time. */
export function relativeTime(ms: number | null | undefined, now: number): string {
  if (ms == null || !Number.isFinite(ms)) return "no data";
  const diff = now - ms;
  if (diff < -MINUTE) return `in ${span(-diff)}`;
  if (diff < MINUTE) return "just now";
  return `${span(diff)} ago`;
}

function span(d: number): string {
  if (d < HOUR) return `${Math.floor(d / MINUTE)} min`;
  if (d < DAY) return `${Math.floor(d / HOUR)} h`;
  return `${Math.floor(d / DAY)} d`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * "2026-11-23 08:46" in the screen's time zone; `offsetMin` (east of UTC) is given in tests,
 * otherwise the local offset at that instant.
 */
export function absoluteTime(ms: number | null | undefined, offsetMin?: number): string {
  if (ms == null || !Number.isFinite(ms)) return "no data";
  const offset = offsetMin ?? -new Date(ms).getTimezoneOffset();
  const d = new Date(ms + offset * MINUTE);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** UCUM units as people read them. */
export function displayUnit(ucum: string): string {
  const units: Record<string, string> = { Cel: "°C", "mm[Hg]": "mmHg", "{steps}": "steps" };
  return units[ucum] ?? ucum;
}

interface VitalSpec {
  short: string;
  label: string;
  unit: string;
  decimals: number;
}

/** The vitals of the screens, keyed by observation kind. */
export const VITALS: Record<string, VitalSpec> = {
  heart_rate: { short: "HR", label: "Heart rate", unit: "/min", decimals: 0 },
  spo2: { short: "SpO₂", label: "SpO₂", unit: "%", decimals: 0 },
  respiratory_rate: { short: "RR", label: "Respiratory rate", unit: "/min", decimals: 0 },
  body_temperature: { short: "Temp", label: "Temperature", unit: "°C", decimals: 1 },
  bp_systolic: { short: "Sys", label: "Systolic BP", unit: "mmHg", decimals: 0 },
  bp_diastolic: { short: "Dia", label: "Diastolic BP", unit: "mmHg", decimals: 0 },
  body_weight: { short: "Wt", label: "Weight", unit: "kg", decimals: 1 },
  blood_glucose: { short: "Glu", label: "Blood glucose", unit: "mmol/L", decimals: 1 },
};

/** A number with fixed decimals, or "—" when missing. */
export function fixed(value: number | null | undefined, decimals: number): string {
  if (value == null || !Number.isFinite(value)) return "—";
  return value.toFixed(decimals);
}

/** A vital's value with the kind's precision, without unit: "37.2". */
export function vitalValue(kind: string, value: number | null | undefined): string {
  const spec = VITALS[kind];
  return spec ? fixed(value, spec.decimals) : num(value);
}

/** A vital with its unit: "37.2 °C", "97 %". */
export function vitalWithUnit(kind: string, value: number | null | undefined, ucum?: string): string {
  const text = vitalValue(kind, value);
  if (text === "—") return text;
  const unit = VITALS[kind]?.unit ?? displayUnit(ucum ?? "");
  return unit ? `${text} ${unit}` : text;
}

/** Blood pressure "128/82" from systolic and diastolic, "—" parts when missing. */
export function bloodPressure(sys: number | null | undefined, dia: number | null | undefined): string {
  if (sys == null && dia == null) return "—";
  return `${fixed(sys, 0)}/${fixed(dia, 0)}`;
}

/** Evidence and other free numbers: integers plain, otherwise at most 2 decimals. */
export function num(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return "—";
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(2)));
}

/** 0.823 -> "82 %". */
export function percent(share: number | null | undefined, decimals = 0): string {
  if (share == null || !Number.isFinite(share)) return "—";
  return `${(share * 100).toFixed(decimals)} %`;
}

/** "possible_decompensation" -> "Possible decompensation". */
export function humanize(code: string): string {
  const words = code.replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const RISK_LEVELS = ["low", "moderate", "high", "critical"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** 0 low .. 3 critical; an unknown level ranks as low. */
export function riskRank(level: string): number {
  return Math.max(0, RISK_LEVELS.indexOf(level as RiskLevel));
}

/** CSS class of a risk band (colour is never the only signal: the label goes with it). */
export function riskClass(level: string): string {
  return `risk risk-${RISK_LEVELS[riskRank(level)]}`;
}

/** "High 0.82". */
export function riskText(level: string, score: number | null | undefined): string {
  return `${humanize(level)} ${fixed(score, 2)}`;
}

const NEWS2_BANDS: Record<string, string> = {
  low: "Low",
  low_medium: "Low–medium",
  medium: "Medium",
  high: "High",
};

export function news2BandLabel(band: string): string {
  return NEWS2_BANDS[band] ?? humanize(band);
}

/** NEWS2 bands share the risk palette: low, low–medium (moderate), medium (high), high (critical). */
export function news2Class(band: string): string {
  const map: Record<string, string> = { low: "low", low_medium: "moderate", medium: "high", high: "critical" };
  return `risk risk-${map[band] ?? "low"}`;
}

const RESPONSES: Record<string, string> = {
  routine: "Routine monitoring",
  ward_based: "Ward-based response",
  urgent_ward_based: "Urgent ward-based response",
  urgent: "Urgent response",
  emergency: "Emergency response",
};

export function news2Response(response: string): string {
  return RESPONSES[response] ?? humanize(response);
}

const PARAMETERS: Record<string, string> = {
  respiration_rate: "Respiration rate",
  spo2: "SpO₂",
  air_or_oxygen: "Air or oxygen",
  systolic_bp: "Systolic BP",
  pulse: "Pulse",
  consciousness: "Consciousness",
  temperature: "Temperature",
};

/** A NEWS2 parameter's name and its charted value in words. */
export function news2Parameter(name: string, value: number | null): { label: string; value: string } {
  const label = PARAMETERS[name] ?? humanize(name);
  if (name === "air_or_oxygen") return { label, value: value === 0 ? "Air" : "Oxygen" };
  if (name === "consciousness") return { label, value: value === 0 ? "Alert" : "CVPU" };
  if (name === "temperature") return { label, value: `${fixed(value, 1)} °C` };
  if (name === "spo2") return { label, value: `${fixed(value, 0)} %` };
  if (name === "systolic_bp") return { label, value: `${fixed(value, 0)} mmHg` };
  return { label, value: `${fixed(value, 0)} /min` };
}
