// The window's live alerts: the badge on the Alerts link, the critical banner (it stays until
// the alert is acknowledged; escalated ones are marked), and a DOM event that tells the open
// screen to refresh. Fed by the backend's `alerts-changed` event (its monitor pass every 2 s);
// the logic is in logic/live.ts. Only while a session that may watch alerts is live
// (`enableLive`): locked or signed out, an event only marks that something changed
// (`vigil:alerts-missed`), and nothing of it is kept.
import { commands, events, type AlertView, type AlertWatch } from "./bindings";
import { h } from "./dom";
import { errorText, showBanner } from "./errors";
import { badgeText, bannerLines } from "./logic/live";

const CHANGED = "vigil:alerts-changed";
const MISSED = "vigil:alerts-missed";
const DEVICES = "vigil:devices-changed";
let current: AlertWatch | null = null;
let enabled = false;
/** Bumped by enable and disable: an answer that arrives after either is dropped. */
let generation = 0;

/** The latest watch (null before the first). */
export function currentWatch(): AlertWatch | null {
  return current;
}

/** Calls `refresh` whenever alerts change; returns the unsubscribe. */
export function onAlertsChanged(refresh: () => void): () => void {
  window.addEventListener(CHANGED, refresh);
  return () => window.removeEventListener(CHANGED, refresh);
}

/**
 * Calls `refresh` whenever the window's devices changed (every second while one streams;
 * `stored`: readings were stored). The event carries no patient data: screens read again.
 */
export function onDevicesChanged(refresh: (stored: boolean) => void): () => void {
  const listener = (e: Event) => refresh(Boolean((e as CustomEvent<{ stored: boolean }>).detail?.stored));
  window.addEventListener(DEVICES, listener);
  return () => window.removeEventListener(DEVICES, listener);
}

async function show(watch: AlertWatch): Promise<void> {
  const asked = generation;
  if (!enabled) return;
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
  // Locked (or someone else signed in) while the names were read: they are not shown.
  if (asked !== generation || !enabled) return;
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

/** Starts listening (once, at start); nothing is shown until `enableLive`. */
export function startLive(): void {
  void events.alertsChanged.listen((e) => {
    if (!enabled) {
      window.dispatchEvent(new CustomEvent(MISSED));
      return;
    }
    void show(e.payload.watch);
    window.dispatchEvent(new CustomEvent(CHANGED));
  });
  // Devices: only while a session that may see them is live; locked, nothing is passed on.
  void events.devicesChanged.listen((e) => {
    if (enabled) window.dispatchEvent(new CustomEvent(DEVICES, { detail: { stored: e.payload.stored } }));
  });
}

/** A session that may watch alerts is live: the first watch comes at once. */
export function enableLive(): void {
  generation += 1;
  enabled = true;
  const asked = generation;
  commands
    .alertWatch()
    .then((w) => {
      if (asked === generation) return show(w);
    })
    .catch((e: unknown) => {
      if (asked === generation) showBanner(`Live alerts are not available: ${errorText(e)}`);
    });
}

/** Locked, signed out, or a role that does not watch alerts: the badge and banner go, with what they held. */
export function disableLive(): void {
  generation += 1;
  enabled = false;
  current = null;
  const badge = document.getElementById("alerts-badge");
  if (badge) {
    badge.textContent = "";
    badge.hidden = true;
    badge.removeAttribute("aria-label");
  }
  const banner = document.getElementById("critical-banner");
  if (banner) {
    banner.replaceChildren();
    banner.hidden = true;
    delete banner.dataset.count;
  }
}
