// The window: top bar with navigation (only the screens the signed-in role may use), who is
// signed in with Lock and Sign out, the DEMO badge, the error banner, and the routed views.
// Nothing of the app is mounted before someone signs in (session.ts); when the session locks or
// ends, `forget` removes every patient datum the page holds.
import type { SessionInfo, StoreStatus } from "./bindings";
import { askBreakGlass, closeBreakGlass } from "./breakglass";
import { h } from "./dom";
import { errorText, hideBanner, showBanner } from "./errors";
import { guardCommands } from "./guard";
import { disableLive, enableLive, startLive } from "./live";
import { canOpen, deniedText, endsSession, landing, readsAgents, routeScreen, screensFor, watchesAlerts, whoText } from "./logic/session";
import { navSection, navigate, parseRoute, routeHash, startRouter, type Route } from "./router";
import { activeSession, commandFailed, lock, signOut, startSession } from "./session";
import { startSyncBar } from "./syncbar";
import { mountAgents } from "./views/agents";
import { mountAlerts } from "./views/alerts";
import { mountAudit } from "./views/audit";
import { mountDevices } from "./views/devices";
import { forgetImport, mountImport } from "./views/import";
import { mountPatient } from "./views/patient";
import { mountSettings } from "./views/settings";
import type { Unmount, ViewContext } from "./views/view";
import { mountWorklist } from "./views/worklist";

const main = document.getElementById("view-root")!;
const ctx: ViewContext = { main, go: navigate };
let unmount: Unmount | null = null;

const TITLES: Record<string, string> = {
  worklist: "Worklist",
  patient: "Patient",
  alerts: "Alerts",
  devices: "Devices",
  import: "Import",
  agents: "Agents and models",
  settings: "Settings and status",
  audit: "Audit trail",
  not_found: "Not found",
};

function showDemo(on: boolean): void {
  document.getElementById("demo-badge")!.hidden = !on;
  document.getElementById("demo-banner")!.hidden = !on;
}

function message(id: string, title: string, ...body: (Node | string)[]): void {
  main.replaceChildren(
    h(
      "section",
      { id: `view-${id}`, class: "view", "data-state": "error" },
      h("h1", { class: "view-title", tabindex: -1 }, title),
      h("p", { class: "message message-error", role: "alert" }, ...body),
    ),
  );
}

function mount(route: Route, session: SessionInfo): Unmount {
  const screen = routeScreen(route);
  if (screen !== null && !canOpen(session.role, screen)) {
    message("denied", "Not available for your role", deniedText(session.role, screen));
    return () => {};
  }
  switch (route.view) {
    case "worklist":
      return mountWorklist(ctx);
    case "patient":
      return mountPatient(ctx, route.id);
    case "alerts":
      return mountAlerts(ctx);
    case "devices":
      return mountDevices(ctx);
    case "import":
      return mountImport(ctx);
    case "agents":
      return mountAgents(ctx);
    case "settings":
      return mountSettings(ctx, (s: StoreStatus) => showDemo(s.demo), readsAgents(session.role));
    case "audit":
      return mountAudit(ctx);
    case "not_found":
      message("not-found", "This screen does not exist", `Nothing is at “${route.hash}”. `, h("a", { href: "#/" }, "Go to the first screen"));
      return () => {};
  }
}

function show(route: Route, initial: boolean): void {
  const session = activeSession();
  // Locked or signed out: the sign-in or lock screen stays; no screen is mounted.
  if (!session) return;
  unmount?.();
  unmount = mount(route, session);
  const section = navSection(route);
  for (const link of document.querySelectorAll<HTMLAnchorElement>("a[data-view]")) {
    if (link.dataset.view === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${TITLES[route.view]} · Vigil`;
  window.scrollTo(0, 0);
  // After a navigation, focus the new screen's title so screen readers announce it; the
  // worklist search keeps focus when `/` brought the user here.
  if (!initial && !pendingSearch) main.querySelector<HTMLElement>(".view-title")?.focus();
  if (pendingSearch) focusSearch();
}

/** Someone is signed in (or unlocked): their navigation, their name, their first screen. */
function activate(session: SessionInfo): void {
  const screens = screensFor(session.role);
  for (const link of document.querySelectorAll<HTMLAnchorElement>("a[data-view]")) {
    link.hidden = !screens.includes(link.dataset.view as never);
  }
  document.getElementById("main-nav")!.hidden = false;
  document.getElementById("session-user")!.textContent = whoText(session);
  document.getElementById("session-bar")!.hidden = false;
  if (watchesAlerts(session.role)) enableLive();
  const route = landing(session.role, parseRoute(location.hash));
  if (routeHash(route) !== location.hash) history.replaceState(null, "", routeHash(route));
  show(route, true);
}

/**
 * The session locked or ended: every patient datum goes from the DOM and from memory. The
 * screen is unmounted (its timers, listeners and pending answers stop), dialogs close, the
 * import's remembered form and reports, the live badge and banner (with the names they read)
 * and the error banner are cleared, and the address no longer names a patient.
 */
function forget(): void {
  unmount?.();
  unmount = null;
  pendingSearch = false;
  closeBreakGlass();
  for (const d of document.querySelectorAll("dialog")) if (d.open) d.close();
  main.replaceChildren();
  forgetImport();
  disableLive();
  hideBanner();
  document.getElementById("error-banner-text")!.textContent = "";
  document.getElementById("main-nav")!.hidden = true;
  document.getElementById("session-bar")!.hidden = true;
  document.getElementById("session-user")!.textContent = "";
  for (const link of document.querySelectorAll("a[data-view]")) link.removeAttribute("aria-current");
  if (location.hash !== "" && location.hash !== "#/") history.replaceState(null, "", "#/");
  document.title = "Vigil";
}

let pendingSearch = false;
function focusSearch(): void {
  const search = document.getElementById("worklist-search");
  pendingSearch = search === null;
  if (search) {
    search.focus();
    (search as HTMLInputElement).select();
  } else {
    navigate({ view: "worklist" });
  }
}

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

document.addEventListener("keydown", (e) => {
  const session = activeSession();
  if (!session || !canOpen(session.role, "worklist")) return;
  if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.target) && !document.querySelector("dialog[open]")) {
    e.preventDefault();
    focusSearch();
  }
});
document.getElementById("error-banner-close")!.addEventListener("click", hideBanner);
document.getElementById("skip-link")!.addEventListener("click", (e) => {
  e.preventDefault();
  main.querySelector<HTMLElement>(".view-title")?.focus();
});
document.getElementById("lock-button")!.addEventListener("click", () => void lock());
document.getElementById("sign-out-button")!.addEventListener("click", () => void signOut());
// Anything a view did not catch still reaches the user in words (a session that ended is
// already on screen as the lock or sign-in screen).
window.addEventListener("unhandledrejection", (e) => {
  const text = errorText(e.reason);
  if (activeSession() && !endsSession(text)) showBanner(`Unexpected error: ${text}`);
});
window.addEventListener("error", (e) => showBanner(`Unexpected error: ${e.message}`));

guardCommands({
  failed: commandFailed,
  restricted: (patient) =>
    askBreakGlass(patient, () => {
      // The grant is given: the record opens (the screen reads it again).
      const route = parseRoute(location.hash);
      if (route.view === "patient") show(route, true);
    }),
});
startLive();
startSyncBar();
startRouter(show);
void startSession({ main, activate, forget, demo: showDemo });
