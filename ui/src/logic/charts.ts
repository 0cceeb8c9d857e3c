// The patient charts: which, over which range, at which size. Pure.
import type { ChartKind, ChartRequest_Deserialize } from "../bindings";

export const CHARTS: readonly { kind: ChartKind; title: string }[] = [
  { kind: "heart_rate", title: "Heart rate" },
  { kind: "spo2", title: "SpO₂" },
  { kind: "respiratory_rate", title: "Respiratory rate" },
  { kind: "body_temperature", title: "Temperature" },
  { kind: "blood_pressure", title: "Blood pressure" },
  { kind: "weight", title: "Weight" },
];

export const RANGES = [
  { value: "1h", label: "1 h" },
  { value: "24h", label: "24 h" },
  { value: "7d", label: "7 d" },
  { value: "30d", label: "30 d" },
] as const;
export type RangeValue = (typeof RANGES)[number]["value"];
export const DEFAULT_RANGE: RangeValue = "24h";
export const CHART_HEIGHT = 220;

/** The backend draws 100..4000 px; a hidden container (0 px) asks for the smallest. */
export function clampWidth(px: number): number {
  if (!Number.isFinite(px)) return 100;
  return Math.min(4000, Math.max(100, Math.round(px)));
}

/** Seconds east of UTC at `date`, for the axis labels. */
export function utcOffsetSeconds(date: Date): number {
  return -date.getTimezoneOffset() * 60;
}

export function chartRequest(patient: string, range: RangeValue, widthPx: number, now: Date): ChartRequest_Deserialize {
  return {
    patient,
    charts: CHARTS.map((c) => c.kind),
    range,
    width: clampWidth(widthPx),
    height: CHART_HEIGHT,
    utc_offset_s: utcOffsetSeconds(now),
    until_ms: null,
  };
}

/** Calls `fn` once `ms` after the last call. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): ((...args: A) => void) & { cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = (...args: A) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      fn(...args);
    }, ms);
  };
  run.cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return run;
}
