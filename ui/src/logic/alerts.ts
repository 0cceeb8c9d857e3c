// The alerts inbox: grouping by status, severity floors, which actions an alert offers. Pure.
// The lifecycle's rules (a note to resolve; a new alert is acknowledged first) are the
// backend's: the screen sends the action and shows the answer.
import type { AlertView } from "../bindings";
import { riskRank } from "./format";

export const STATUSES = ["new", "acknowledged", "resolved"] as const;
export type AlertStatus = (typeof STATUSES)[number];

export const STATUS_LABELS: Record<AlertStatus, string> = {
  new: "New",
  acknowledged: "Acknowledged",
  resolved: "Resolved",
};

/** The severity filter: "" is every alert. */
export const SEVERITY_FLOORS = [
  { value: "", label: "All severities" },
  { value: "moderate", label: "Moderate and above" },
  { value: "high", label: "High and above" },
  { value: "critical", label: "Critical only" },
] as const;

/** At or above `floor` ("" or unknown: everything). */
export function atOrAbove(alert: AlertView, floor: string): boolean {
  if (floor === "") return true;
  return riskRank(alert.risk_level) >= riskRank(floor);
}

/** The alerts of one status at or above the floor, newest first. */
export function alertsFor(alerts: readonly AlertView[], status: AlertStatus, floor: string): AlertView[] {
  return alerts
    .filter((a) => a.status === status && atOrAbove(a, floor))
    .sort((a, b) => (b.created_ms ?? 0) - (a.created_ms ?? 0));
}

/** How many alerts each tab holds under the floor. */
export function countByStatus(alerts: readonly AlertView[], floor: string): Record<AlertStatus, number> {
  const counts: Record<AlertStatus, number> = { new: 0, acknowledged: 0, resolved: 0 };
  for (const a of alerts) {
    if (atOrAbove(a, floor) && (STATUSES as readonly string[]).includes(a.status)) {
      counts[a.status as AlertStatus] += 1;
    }
  }
  return counts;
}

export type AlertAction = "acknowledge" | "resolve";

/** New alerts can be acknowledged or resolved; acknowledged ones resolved; resolved ones nothing. */
export function actionsFor(status: string): AlertAction[] {
  if (status === "new") return ["acknowledge", "resolve"];
  if (status === "acknowledged") return ["resolve"];
  return [];
}

/** The tab an alert lands on after the action. */
export function statusAfter(action: AlertAction): AlertStatus {
  return action === "acknowledge" ? "acknowledged" : "resolved";
}
