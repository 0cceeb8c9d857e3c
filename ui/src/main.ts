// The window: top bar with navigation, DEMO badge, error banner, and the routed views.
import { commands, type StoreStatus } from "./bindings";
import { h } from "./dom";
import { errorText, hideBanner, showBanner } from "./errors";
import { startLive } from "./live";
import { navSection, navigate, startRouter, type Route } from "./router";
import { mountAgents } from "./views/agents";
import { mountAlerts } from "./views/alerts";
import { mountImport } from "./views/import";
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
  import: "Import",
  agents: "Agents and models",
  settings: "Settings and status",
  not_found: "Not found",
};

function showDemo(status: StoreStatus): void {
  document.getElementById("demo-badge")!.hidden = !status.demo;
  document.getElementById("demo-banner")!.hidden = !status.demo;
}

function mount(route: Route): Unmount {
  switch (route.view) {
    case "worklist":
      return mountWorklist(ctx);
    case "patient":
      return mountPatient(ctx, route.id);
    case "alerts":
      return mountAlerts(ctx);
    case "import":
      return mountImport(ctx);
    case "agents":
      return mountAgents(ctx);
    case "settings":
      return mountSettings(ctx, showDemo);
    case "not_found":
      main.replaceChildren(
        h(
          "section",
          { id: "view-not-found", class: "view", "data-state": "error" },
          h("h1", { class: "view-title", tabindex: -1 }, "This screen does not exist"),
          h("p", {}, `Nothing is at “${route.hash}”. `, h("a", { href: "#/worklist" }, "Go to the worklist")),
        ),
      );
      return () => {};
  }
}

function show(route: Route, initial: boolean): void {
  unmount?.();
  unmount = mount(route);
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
// Anything a view did not catch still reaches the user in words.
window.addEventListener("unhandledrejection", (e) => showBanner(`Unexpected error: ${errorText(e.reason)}`));
window.addEventListener("error", (e) => showBanner(`Unexpected error: ${e.message}`));

commands
  .storeStatus()
  .then(showDemo)
  .catch((e: unknown) => showBanner(`The store could not be opened: ${errorText(e)}. See Settings for details.`));

startRouter(show);
startLive();
