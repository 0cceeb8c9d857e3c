// The alerts inbox: tabs, severity floors, paging words, which actions an alert offers. Pure.
// Filtering, paging and the lifecycle's rules (a note to resolve; a new alert is acknowledged
// first) are the backend's: the screen sends the request and shows what comes back.

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

/** Alerts a page asks for; the backend filters and pages, newest first. */
export const PAGE_SIZE = 100;

/** The level the backend filters at: null is every level (never an unknown name). */
export function minLevel(floor: string): string | null {
  return floor === "" ? null : floor;
}

/** "12 alerts" when all are shown, "100 of 812 alerts" when more pages remain. */
export function pageSummary(shown: number, total: number): string {
  const noun = total === 1 ? "alert" : "alerts";
  return shown >= total ? `${total} ${noun}` : `${shown} of ${total} ${noun}`;
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
