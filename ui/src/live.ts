// The window's live alerts: the badge on the Alerts link, the critical banner (it stays until
// the alert is acknowledged; escalated ones are marked), and a DOM event that tells the open
// screen to refresh. Fed by the backend's `alerts-changed` event (its monitor pass every 2 s);
// the logic is in logic/live.ts.
import { commands, events, type AlertView, type AlertWatch } from "./bindings";
import { h } from "./dom";
import { errorText, showBanner } from "./errors";
import { badgeText, bannerLines } from "./logic/live";

const CHANGED = "vigil:alerts-changed";
let current: AlertWatch | null = null;

/** The latest watch (null before the first). */
export function currentWatch(): AlertWatch | null {
  return current;
}

/** Calls `refresh` whenever alerts change; returns the unsubscribe. */
export function onAlertsChanged(refresh: () => void): () => void {
  window.addEventListener(CHANGED, refresh);
  return () => window.removeEventListener(CHANGED, refresh);
}

async function show(watch: AlertWatch): Promise<void> {
  current = watch;
  const badge = document.getElementById("alerts-badge")!;
  const text = badgeText(watch.new_alerts);
  badge.textContent = text;
  badge.hidden = text === "";
  badge.setAttribute("aria-label", `${watch.new_alerts} new alerts`);
  let named: AlertView[] = [];
  if (watch.critical.length > 0) {
    try {
      named = (await commands.alerts(["new"], "critical", 0, 200)).alerts;
    } catch {
      // The banner still says which alerts, without names.
    }
  }
  const banner = document.getElementById("critical-banner")!;
  const lines = bannerLines(watch, named);
  banner.hidden = lines.length === 0;
  banner.dataset.count = String(lines.length);
  banner.replaceChildren(
    h("strong", {}, `${lines.length} critical alert${lines.length === 1 ? "" : "s"} not acknowledged`),
    h(
      "ul",
      {},
      lines.slice(0, 5).map((l) =>
        h(
          "li",
          { "data-alert-id": l.id, class: l.escalated ? "escalated" : "" },
          l.text,
          " ",
          h("a", { href: `#/patient/${encodeURIComponent(l.patientId)}` }, "Open patient"),
        ),
      ),
      lines.length > 5 ? h("li", {}, `and ${lines.length - 5} more`) : null,
    ),
    h("a", { href: "#/alerts", class: "banner-action" }, "Acknowledge in the inbox"),
  );
}

/** Starts listening; the first watch comes at once. */
export function startLive(): void {
  void events.alertsChanged.listen((e) => {
    void show(e.payload.watch);
    window.dispatchEvent(new CustomEvent(CHANGED));
  });
  commands
    .alertWatch()
    .then(show)
    .catch((e: unknown) => showBanner(`Live alerts are not available: ${errorText(e)}`));
}
