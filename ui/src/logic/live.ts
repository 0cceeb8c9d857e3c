// What the window shows of its live alerts: the badge, the critical banner, escalation marks,
// the needs-review chip and the risk timeline's geometry. Pure. Which alerts are escalated is
// the backend's decision (the `escalation_minutes` setting); the screen shows it.
import type { AlertView, AlertWatch, RaisedAlert, RiskPoint } from "../bindings";

/** The badge on the Alerts link: "" (hidden) at 0, "99+" above 99. */
export function badgeText(newAlerts: number): string {
  if (!Number.isFinite(newAlerts) || newAlerts <= 0) return "";
  return newAlerts > 99 ? "99+" : String(Math.floor(newAlerts));
}

/** The ids the backend marks escalated. */
export function escalatedIds(watch: AlertWatch | null): Set<string> {
  return new Set((watch?.critical ?? []).filter((a) => a.escalated).map((a) => a.id));
}

export interface BannerLine {
  id: string;
  patientId: string;
  text: string;
  escalated: boolean;
}

/**
 * One line per critical alert still new, escalated ones first, then newest first. Names come
 * from `named` (the inbox's alerts) when it has the alert, else the line says "a patient".
 */
export function bannerLines(watch: AlertWatch | null, named: AlertView[]): BannerLine[] {
  const byId = new Map(named.map((a) => [a.id, a]));
  return [...(watch?.critical ?? [])]
    .sort((a, b) => Number(b.escalated) - Number(a.escalated) || (b.created_ms ?? 0) - (a.created_ms ?? 0))
    .map((a) => {
      const who = byId.get(a.id);
      const patient = who ? `${who.name} (${who.mrn})` : "a patient";
      const event = a.event.replace(/_/g, " ");
      return {
        id: a.id,
        patientId: a.patient_id,
        text: `${a.escalated ? "ESCALATED: " : ""}Critical ${event} alert for ${patient}`,
        escalated: a.escalated,
      };
    });
}

/** The import report's line for the alerts a file raised. */
export function raisedSummary(alerts: RaisedAlert[]): string {
  if (alerts.length === 0) return "No alert raised";
  const levels = new Map<string, number>();
  for (const a of alerts) levels.set(a.risk_level, (levels.get(a.risk_level) ?? 0) + 1);
  const parts = ["critical", "high", "moderate", "low"].filter((l) => levels.has(l)).map((l) => `${levels.get(l)} ${l}`);
  return `${alerts.length} ${alerts.length === 1 ? "alert" : "alerts"} raised (${parts.join(", ")})`;
}

/** The chip's words: "" when every specialty answered. */
export function needsReviewText(specialties: string[]): string {
  if (specialties.length === 0) return "";
  return `Needs review: ${specialties.map((s) => s.replace(/_/g, " ")).join(", ")} unavailable`;
}

export interface TimelineGeometry {
  /** SVG polyline points of the score (0-1) over time. */
  points: string;
  /** Dots where a specialty could not answer. */
  review: { x: number; y: number }[];
  /** The first and last instants, for the axis labels. */
  from: number;
  to: number;
}

/** The risk timeline in a `width` x `height` box (score 1 at the top); null with no points. */
export function timeline(history: RiskPoint[], width: number, height: number): TimelineGeometry | null {
  const points = history.filter((p) => p.at_ms != null && p.risk_score != null) as (RiskPoint & { at_ms: number; risk_score: number })[];
  if (points.length === 0) return null;
  const from = points[0].at_ms;
  const to = points[points.length - 1].at_ms;
  const span = to - from || 1;
  const x = (t: number) => Math.round(((t - from) / span) * width * 10) / 10;
  const y = (s: number) => Math.round((1 - Math.min(1, Math.max(0, s))) * height * 10) / 10;
  return {
    points: points.map((p) => `${x(p.at_ms)},${y(p.risk_score)}`).join(" "),
    review: points.filter((p) => p.needs_review.length > 0).map((p) => ({ x: x(p.at_ms), y: y(p.risk_score) })),
    from,
    to,
  };
}
