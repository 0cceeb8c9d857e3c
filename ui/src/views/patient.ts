// The patient screen: header, latest vitals, NEWS2, HRV, weight, charts, the assessment and
// the open alerts.
import { commands, type PatientView } from "../bindings";
import { h, message, setState } from "../dom";
import { errorText } from "../errors";
import { absoluteTime, relativeTime, riskClass, riskText } from "../logic/format";
import { needsReviewText } from "../logic/live";
import { consentSummary, demographics } from "../logic/patient";
import { liveIndicator, streamingFor, Throttle } from "../logic/devices";
import { onAlertsChanged, onDevicesChanged } from "../live";
import { chartPanel } from "./charts";
import { openPatientDialog, openVitalsDialog } from "./entry";
import { alertsPanel, assessmentPanel, hrvPanel, news2Panel, vitalTiles, weightPanel } from "./patient-panels";
import { riskTimelinePanel } from "./risk-timeline";
import type { Unmount, ViewContext } from "./view";

export function mountPatient(ctx: ViewContext, id: string): Unmount {
  const state = { alive: true, patient: null as PatientView | null, timer: 0 };
  const root = h("section", {
    id: "view-patient",
    class: "view",
    "data-state": "loading",
    "aria-busy": "true",
    "data-patient-id": id,
    "aria-labelledby": "patient-name",
  });
  const name = h("h1", { id: "patient-name", class: "view-title", tabindex: -1 }, "Loading patient…");
  const facts = h("p", { class: "patient-facts muted" }, "\u00a0");
  const overall = h("div", { class: "patient-risk" });
  // "live: DEMO HR strap" while a device streams for this patient.
  const liveNote = h("span", { id: "patient-live", class: "chip live", role: "status", hidden: true });
  const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
  const recordVitals = h("button", { type: "button", class: "primary", id: "record-vitals" }, "Record vitals");
  const editPatient = h("button", { type: "button", class: "secondary", id: "edit-patient" }, "Edit patient");
  const jump = h("button", { type: "button", class: "secondary alerts-jump", hidden: true });
  const error = h("p", { class: "message", hidden: true });
  const tiles = h("div", { class: "tiles-slot" }, skeletonTiles());
  const panels = h("div", { class: "panel-row" }, ...["NEWS2", "Heart rate variability", "Weight"].map(skeletonCard));
  const lower = h("div", { class: "panel-row two" }, ...["Assessment", "Open alerts"].map(skeletonCard));
  const charts = chartPanel(id);
  const history = h("div", { class: "timeline-slot" });
  root.append(
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/worklist" }, "← Worklist")),
    h("header", { class: "card patient-head" }, h("div", {}, name, facts, liveNote), jump, overall, recordVitals, editPatient, refresh),
    error,
    tiles,
    panels,
    history,
    charts.el,
    lower,
  );
  ctx.main.replaceChildren(root);

  function render(p: PatientView): void {
    const now = Date.now();
    name.textContent = p.name;
    root.dataset.patientId = p.patient_id;
    const consent = consentSummary(p.consent);
    facts.replaceChildren(
      h("span", { class: "mono" }, `MRN ${p.mrn}`),
      ` · ${demographics(p.sex, p.birth_date)} · last data `,
      h("span", { title: absoluteTime(p.last_data_ms) }, relativeTime(p.last_data_ms, now)),
      " · ",
      h("span", { id: "patient-consent", class: consent.monitored ? "" : "chip needs-review", title: consent.title }, consent.text),
    );
    const a = p.assessment;
    overall.replaceChildren(
      h("span", { class: "muted small" }, "Overall risk"),
      a
        ? h("span", { class: `${riskClass(a.risk_level)} big` }, riskText(a.risk_level, a.risk_score))
        : h("span", { class: "muted" }, consent.monitored ? "not assessed" : "not monitored (no consent)"),
      ...(p.needs_review.length > 0 ? [h("span", { class: "chip needs-review", id: "patient-needs-review" }, needsReviewText(p.needs_review))] : []),
    );
    history.replaceChildren(riskTimelinePanel(p.risk_history));
    const open = p.open_alerts.length;
    jump.hidden = open === 0;
    jump.textContent = `${open} open alert${open === 1 ? "" : "s"} ↓`;
    tiles.replaceChildren(vitalTiles(p.latest, now));
    panels.replaceChildren(news2Panel(p.news2), hrvPanel(p), weightPanel(p));
    lower.replaceChildren(assessmentPanel(a, now), alertsPanel(p.open_alerts, now));
  }

  /** `quiet`: a live refresh (a device streams), with no loading state. */
  async function load(quiet = false): Promise<void> {
    if (!quiet) setState(root, "loading");
    refresh.disabled = true;
    try {
      const p = await commands.patientView(id);
      if (!state.alive) return;
      state.patient = p;
      render(p);
      message(error, "", "info");
      setState(root, "ready");
    } catch (e) {
      if (!state.alive) return;
      message(error, `This patient could not be loaded: ${errorText(e)}`, "error");
      if (!state.patient) name.textContent = "Patient not available";
      setState(root, "error");
    } finally {
      refresh.disabled = false;
    }
  }

  // In-page anchors would change the route: scroll and focus instead.
  jump.addEventListener("click", () => {
    const target = document.getElementById("patient-alerts");
    target?.scrollIntoView({ block: "center" });
    target?.querySelector<HTMLElement>("h2")?.setAttribute("tabindex", "-1");
    target?.querySelector<HTMLElement>("h2")?.focus({ preventScroll: true });
  });
  refresh.addEventListener("click", () => {
    void load();
    charts.load();
  });
  // Manual entry: the screen reloads at once, so the new NEWS2 shows behind the dialog.
  recordVitals.addEventListener("click", () =>
    openVitalsDialog(root, state.patient?.patient_id ?? id, () => {
      void load();
      charts.load();
    }),
  );
  editPatient.addEventListener("click", () => {
    if (state.patient) openPatientDialog(root, state.patient, () => void load());
  });
  // New alerts and assessments appear without a refresh.
  const off = onAlertsChanged(() => void load());
  // A device streaming for this patient: tiles and charts follow it, at most once a second.
  async function deviceTick(): Promise<void> {
    try {
      const devices = await commands.devicesState();
      if (!state.alive) return;
      const text = liveIndicator(streamingFor(state.patient?.patient_id ?? id, devices));
      liveNote.textContent = text;
      liveNote.hidden = text === "";
      if (text !== "") {
        void load(true);
        charts.load(true);
      }
    } catch {
      // The indicator stays as it was; the screen's own refresh still works.
    }
  }
  const throttle = new Throttle(1000);
  const offDevices = onDevicesChanged(() => {
    const next = throttle.take(Date.now());
    if (next.run === "now") void deviceTick();
    else if (next.run === "later")
      state.timer = window.setTimeout(() => {
        throttle.ran(Date.now());
        void deviceTick();
      }, next.delay);
  });
  void load();
  charts.load();
  return () => {
    state.alive = false;
    off();
    offDevices();
    window.clearTimeout(state.timer);
    charts.destroy();
  };
}

function skeletonTiles(): HTMLElement {
  return h("div", { class: "tiles", "aria-hidden": "true" }, Array.from({ length: 6 }, () => h("div", { class: "tile" }, h("span", { class: "skeleton" }), h("span", { class: "skeleton tall" }))));
}

function skeletonCard(title: string): HTMLElement {
  return h("section", { class: "card panel", "aria-hidden": "true" }, h("h2", {}, title), h("span", { class: "skeleton" }), h("span", { class: "skeleton" }), h("span", { class: "skeleton short" }));
}
