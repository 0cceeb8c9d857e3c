// Hash routes: #/worklist (default), #/patient/<id>, #/alerts, #/import, #/agents, #/settings,
// #/audit, #/devices.

export type ViewName = "worklist" | "patient" | "alerts" | "devices" | "import" | "agents" | "settings" | "audit";

export type Route =
  | { view: Exclude<ViewName, "patient"> }
  | { view: "patient"; id: string }
  | { view: "not_found"; hash: string };

const SIMPLE = ["worklist", "alerts", "devices", "import", "agents", "settings", "audit"] as const;

/** "#/patient/abc" -> { view: "patient", id: "abc" }; "" and "#/" -> the worklist. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/^\/+/, "").replace(/\/+$/, "");
  if (path === "") return { view: "worklist" };
  const [head, ...rest] = path.split("/");
  if (head === "patient" && rest.length === 1 && rest[0] !== "") {
    let id = rest[0];
    try {
      id = decodeURIComponent(id);
    } catch {
      return { view: "not_found", hash };
    }
    return { view: "patient", id };
  }
  const simple = SIMPLE.find((v) => v === head);
  if (simple && rest.length === 0) return { view: simple };
  return { view: "not_found", hash };
}

export function routeHash(route: Route): string {
  if (route.view === "patient") return `#/patient/${encodeURIComponent(route.id)}`;
  if (route.view === "not_found") return "#/worklist";
  return `#/${route.view}`;
}

/** The nav link to mark current: the patient screen belongs to the worklist. */
export function navSection(route: Route): ViewName | null {
  if (route.view === "not_found") return null;
  return route.view === "patient" ? "worklist" : route.view;
}

export function navigate(route: Route): void {
  const hash = routeHash(route);
  if (location.hash !== hash) location.hash = hash;
}

/** Calls `onRoute` now and on every hash change. */
export function startRouter(onRoute: (route: Route, initial: boolean) => void): void {
  window.addEventListener("hashchange", () => onRoute(parseRoute(location.hash), false));
  onRoute(parseRoute(location.hash), true);
}
