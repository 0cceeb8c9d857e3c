// The alerts inbox: tabs by status, a severity floor, pages of alerts, acknowledge and resolve
// with a note. The backend filters, pages and holds the lifecycle's rules; this shows them.
import { commands, type AlertView, type StatusCounts } from "../bindings";
import { actionDialog } from "../dialogs";
import { h, keepFocus, message, setState, viewRoot } from "../dom";
import { errorText } from "../errors";
import {
  PAGE_SIZE,
  SEVERITY_FLOORS,
  STATUSES,
  STATUS_LABELS,
  actionsFor,
  minLevel,
  pageSummary,
  statusAfter,
  type AlertAction,
  type AlertStatus,
} from "../logic/alerts";
import { absoluteTime, humanize, percent, relativeTime, riskClass, riskText } from "../logic/format";
import { evidenceText } from "../logic/patient";
import { currentWatch, onAlertsChanged } from "../live";
import { escalatedIds } from "../logic/live";
import type { Unmount, ViewContext } from "./view";

export function mountAlerts(ctx: ViewContext): Unmount {
  const state = {
    alerts: [] as AlertView[],
    total: 0,
    counts: null as StatusCounts | null,
    status: "new" as AlertStatus,
    floor: "",
    alive: true,
    loaded: false,
    // Answers to an older request (another tab or floor) are dropped.
    request: 0,
  };
  const { root, heading } = viewRoot("alerts", "Alerts");
  const tabs = STATUSES.map((s) =>
    h("button", { type: "button", class: "toggle", "data-status": s, "aria-pressed": String(s === state.status), "aria-controls": "alert-list" }, STATUS_LABELS[s]),
  );
  const severity = h(
    "select",
    { id: "alert-severity" },
    SEVERITY_FLOORS.map((f) => h("option", { value: f.value }, f.label)),
  );
  const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
  const notice = h("p", { id: "alerts-message", class: "message", hidden: true, tabindex: -1 });
  const list = h("ul", { id: "alert-list", class: "alert-list", "aria-live": "polite" });
  const summary = h("span", { id: "alert-total", class: "muted", "aria-live": "polite" });
  const more = h("button", { type: "button", id: "alert-more", class: "secondary", hidden: true }, "Show more");
  const dialog = actionDialog({ dialog: "alert-note-dialog", note: "alert-note", confirm: "alert-note-confirm", cancel: "alert-note-cancel" });
  root.append(
    h(
      "div",
      { class: "view-head" },
      heading,
      h("div", { class: "segmented", role: "group", "aria-label": "Alert status" }, tabs),
      h("label", { class: "inline", for: "alert-severity" }, "Severity ", severity),
      refresh,
    ),
    notice,
    list,
    h("div", { class: "list-foot" }, summary, more),
    dialog.el,
  );
  ctx.main.replaceChildren(root);
  list.replaceChildren(...Array.from({ length: 3 }, () => h("li", { class: "card alert-item", "aria-hidden": "true" }, h("span", { class: "skeleton" }), h("span", { class: "skeleton short" }))));

  function render(): void {
    for (const t of tabs) {
      const s = t.dataset.status as AlertStatus;
      t.setAttribute("aria-pressed", String(s === state.status));
      t.replaceChildren(STATUS_LABELS[s], " ", h("span", { class: "tab-count" }, state.counts ? String(state.counts[s]) : "…"));
    }
    keepFocus(list, () => {
      list.replaceChildren(
        ...(state.alerts.length
          ? state.alerts.map((a) => item(a, ask))
          : [h("li", { class: "empty card" }, `No ${STATUS_LABELS[state.status].toLowerCase()} alerts${state.floor ? " at this severity" : ""}.`)]),
      );
    });
    summary.textContent = pageSummary(state.alerts.length, state.total);
    summary.dataset.total = String(state.total);
    more.hidden = state.alerts.length >= state.total;
  }

  /** The first page (`append`: the next one) of the current tab at the current floor. */
  async function load(append = false): Promise<void> {
    const request = ++state.request;
    setState(root, "loading");
    refresh.disabled = true;
    more.disabled = true;
    try {
      const offset = append ? state.alerts.length : 0;
      const page = await commands.alerts([state.status], minLevel(state.floor), offset, PAGE_SIZE);
      if (!state.alive || request !== state.request) return;
      state.alerts = append ? [...state.alerts, ...page.alerts] : page.alerts;
      state.total = page.total;
      state.counts = page.counts;
      state.loaded = true;
      render();
      setState(root, "ready");
    } catch (e) {
      if (!state.alive || request !== state.request) return;
      message(notice, `The alerts could not be loaded: ${errorText(e)}`, "error");
      if (!state.loaded) list.replaceChildren();
      setState(root, "error");
    } finally {
      if (request === state.request) {
        refresh.disabled = false;
        more.disabled = false;
      }
    }
  }

  function ask(alert: AlertView, action: AlertAction): void {
    const who = alert.name ? `${alert.name} (${alert.mrn})` : alert.patient_id;
    const event = humanize(alert.event).toLowerCase();
    dialog.ask({
      title: action === "acknowledge" ? "Acknowledge alert" : "Resolve alert",
      body:
        action === "acknowledge"
          ? `Acknowledge the ${event} alert of ${who}: it moves to Acknowledged and stays open until resolved.`
          : alert.status === "new"
            ? `Resolve the ${event} alert of ${who}: it is acknowledged and resolved with this note in one step, moves to Resolved and is closed.`
            : `Resolve the ${event} alert of ${who}: it moves to Resolved and is closed.`,
      noteLabel: action === "acknowledge" ? "Note (optional)" : "Note (required): what was done",
      confirmLabel: action === "acknowledge" ? "Acknowledge" : "Resolve",
      // The backend refuses a resolve without a note, in words the dialog shows.
      run: async (note) => {
        if (action === "acknowledge") await commands.acknowledgeAlert(alert.id, note);
        else await commands.resolveAlert(alert.id, note);
        if (!state.alive) return;
        message(notice, `Alert ${action === "acknowledge" ? "acknowledged" : "resolved"}: it is now under ${STATUS_LABELS[statusAfter(action)]}.`, "success");
        await load();
        // The button that opened the dialog is gone with its alert: keep focus on the outcome.
        setTimeout(() => notice.focus(), 0);
      },
    });
  }

  tabs.forEach((t) =>
    t.addEventListener("click", () => {
      state.status = t.dataset.status as AlertStatus;
      void load();
    }),
  );
  severity.addEventListener("change", () => {
    state.floor = severity.value;
    void load();
  });
  refresh.addEventListener("click", () => void load());
  more.addEventListener("click", () => void load(true));
  // New alerts appear without a refresh; the list keeps its place (the first page reloads).
  const off = onAlertsChanged(() => void load());
  void load();
  return () => {
    state.alive = false;
    off();
    if (dialog.el.open) dialog.el.close();
  };
}

function item(a: AlertView, ask: (a: AlertView, action: AlertAction) => void): HTMLLIElement {
  const now = Date.now();
  const fired = a.evidence.filter((e) => e.triggered);
  const escalated = escalatedIds(currentWatch()).has(a.id);
  const transitions = [
    a.acknowledged ? `Acknowledged by ${a.acknowledged.by} ${relativeTime(a.acknowledged.at_ms, now)}${a.acknowledged.note ? `: “${a.acknowledged.note}”` : ""}` : null,
    a.resolved ? `Resolved by ${a.resolved.by} ${relativeTime(a.resolved.at_ms, now)}${a.resolved.note ? `: “${a.resolved.note}”` : ""}` : null,
  ].filter((t): t is string => t !== null);
  return h(
    "li",
    { class: `card alert-item${escalated ? " escalated" : ""}`, "data-alert-id": a.id, "data-risk-level": a.risk_level, "data-escalated": String(escalated) },
    h(
      "div",
      { class: "alert-head" },
      h("span", { class: riskClass(a.risk_level) }, riskText(a.risk_level, a.risk_score)),
      escalated ? h("span", { class: "chip escalated", title: "Critical and unacknowledged past the escalation delay (Settings: escalation_minutes)" }, "Escalated") : null,
      h("h2", {}, humanize(a.event)),
      h("a", { href: `#/patient/${encodeURIComponent(a.patient_id)}`, class: "patient-link" }, a.name || "Unknown patient", a.mrn ? h("span", { class: "mono muted" }, ` ${a.mrn}`) : null),
      h("span", { class: "muted time", title: `Raised ${absoluteTime(a.created_ms)}; data of ${absoluteTime(a.event_ms)}` }, `${relativeTime(a.created_ms, now)} · confidence ${percent(a.confidence)}`),
    ),
    h(
      "div",
      { class: "alert-body" },
      h(
        "div",
        {},
        h("h3", {}, "Evidence"),
        fired.length
          ? h("ul", { class: "evidence" }, fired.map((e) => h("li", { class: "triggered" }, evidenceText(e), h("span", { class: "source" }, ` — ${e.source}`))))
          : h("p", { class: "muted small" }, "None recorded."),
      ),
      h(
        "div",
        {},
        h("h3", {}, "Recommendations"),
        a.recommendations.length
          ? h("ul", { class: "recommendations" }, a.recommendations.map((r) => h("li", {}, r)))
          : h("p", { class: "muted small" }, "None."),
      ),
      h(
        "div",
        { class: "actions" },
        actionsFor(a.status).map((action) =>
          h(
            "button",
            { type: "button", class: action === "resolve" ? "primary" : "secondary", "data-action": action, "data-focus-key": `${a.id}:${action}`, onclick: () => ask(a, action) },
            action === "acknowledge" ? "Acknowledge…" : "Resolve…",
          ),
        ),
      ),
    ),
    transitions.length ? h("p", { class: "muted small" }, transitions.join(" · ")) : null,
  );
}
