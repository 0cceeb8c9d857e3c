// The worklist: every patient, highest risk first, with search.
import { commands, type WorklistRow } from "../bindings";
import { h, keepFocus, message, setState, viewRoot } from "../dom";
import { errorText } from "../errors";
import { absoluteTime, news2BandLabel, news2Class, relativeTime, riskClass, riskText } from "../logic/format";
import { needsReviewText } from "../logic/live";
import { compactVitals, filterRows, notMonitored, restricted } from "../logic/worklist";
import { onAlertsChanged } from "../live";
import { onSyncPulled } from "../syncbar";
import { formatCount } from "../status";
import { openPatientDialog } from "./entry";
import type { Unmount, ViewContext } from "./view";

const COLUMNS: [string, string?][] = [
  ["Patient"],
  ["MRN"],
  ["HR", "/min"],
  ["SpO₂", "%"],
  ["RR", "/min"],
  ["Temp", "°C"],
  ["BP", "mmHg"],
  ["Weight", "kg"],
  ["NEWS2"],
  ["Risk"],
  ["Alerts"],
  ["Last data"],
];

export function mountWorklist(ctx: ViewContext): Unmount {
  const state = { rows: [] as WorklistRow[], query: "", alive: true, loaded: false, tookMs: 0 };
  const { root, heading } = viewRoot("worklist", "Worklist");
  const search = h("input", {
    id: "worklist-search",
    type: "search",
    placeholder: "Name or MRN",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "worklist-count",
  });
  const count = h("span", { id: "worklist-count", class: "muted", "aria-live": "polite" });
  const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
  const newPatient = h("button", { type: "button", class: "primary", id: "new-patient" }, "New patient");
  const error = h("p", { class: "message", hidden: true });
  const body = h("tbody");
  const table = h(
    "table",
    { id: "worklist", class: "grid worklist" },
    h("caption", { class: "sr-only" }, "Patients, highest risk first. Press Enter on a row to open the patient."),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        COLUMNS.map(([label, unit], i) =>
          h("th", { scope: "col", class: (i >= 2 && i <= 8) || i === 10 ? "num" : "" }, label, unit ? h("span", { class: "unit" }, unit) : null),
        ),
      ),
    ),
    body,
  );
  root.append(
    h(
      "div",
      { class: "view-head" },
      heading,
      h("label", { class: "search", for: "worklist-search" }, h("span", {}, "Search"), search, h("kbd", { "aria-hidden": "true", title: "Press / to search" }, "/")),
      count,
      newPatient,
      refresh,
    ),
    error,
    h("div", { class: "card table-card" }, table),
  );
  ctx.main.replaceChildren(root);
  skeleton(body);

  const open = (id: string) => ctx.go({ view: "patient", id });

  function render(): void {
    const shown = filterRows(state.rows, state.query);
    keepFocus(body, () => {
      if (state.rows.length === 0) {
        body.replaceChildren(emptyRow("No patients yet. Import files (Import) or seed the demo store with `vigil demo`."));
      } else if (shown.length === 0) {
        body.replaceChildren(emptyRow(`No patient matches “${state.query.trim()}”.`));
      } else {
        body.replaceChildren(...shown.map((r) => row(r, open)));
      }
    });
    const total = formatCount(state.rows.length);
    const counted = state.query.trim() ? `${shown.length} of ${total} patients` : `${total} patients`;
    count.textContent = `${counted} · took ${Math.round(state.tookMs)} ms`;
  }

  async function load(): Promise<void> {
    setState(root, "loading");
    refresh.disabled = true;
    try {
      const list = await commands.worklist();
      if (!state.alive) return;
      // Highest risk first, as the backend sorted them (one order, decided there).
      state.rows = list.rows;
      state.loaded = true;
      state.tookMs = list.took_ms ?? 0;
      render();
      message(error, "", "info");
      setState(root, "ready");
    } catch (e) {
      if (!state.alive) return;
      message(error, `The worklist could not be loaded: ${errorText(e)}`, "error");
      if (!state.loaded) body.replaceChildren(emptyRow("No worklist: see the message above."));
      setState(root, "error");
    } finally {
      refresh.disabled = false;
    }
  }

  search.addEventListener("input", () => {
    state.query = search.value;
    if (state.loaded) render();
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && search.value !== "") {
      search.value = "";
      state.query = "";
      if (state.loaded) render();
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      body.querySelector<HTMLElement>("tr[data-patient-id]")?.focus();
    } else if (e.key === "Enter") {
      const first = body.querySelector<HTMLElement>("tr[data-patient-id]");
      const only = body.querySelectorAll("tr[data-patient-id]").length === 1;
      if (first && only) open(first.dataset.patientId!);
    }
  });
  refresh.addEventListener("click", () => void load());
  newPatient.addEventListener("click", () => openPatientDialog(root, null, () => void load()));
  // Relative times age while the screen is open.
  const tick = setInterval(() => state.loaded && render(), 30_000);
  // New alerts appear without a refresh (the backend's monitor pass tells the window).
  const off = onAlertsChanged(() => void load());
  // So do patients the background sync brought from the clinic.
  const offSync = onSyncPulled(() => void load());
  void load();
  return () => {
    state.alive = false;
    off();
    offSync();
    clearInterval(tick);
  };
}

function row(r: WorklistRow, open: (id: string) => void): HTMLTableRowElement {
  const now = Date.now();
  const news2 = r.news2;
  const tr = h(
    "tr",
    {
      tabindex: 0,
      class: "clickable",
      "data-patient-id": r.patient_id,
      "data-risk-score": r.risk_score == null ? "" : String(r.risk_score),
      "data-focus-key": r.patient_id,
    },
    h("th", { scope: "row", class: "name" }, h("a", { href: `#/patient/${encodeURIComponent(r.patient_id)}`, tabindex: -1 }, r.name)),
    h("td", { class: "mono" }, r.mrn),
    compactVitals(r.latest).map((c) => h("td", { class: "num", "data-vital": c.key }, c.text)),
    h(
      "td",
      { class: "num" },
      news2
        ? h(
            "span",
            { class: news2Class(news2.band), title: `NEWS2 ${news2.aggregate}: ${news2BandLabel(news2.band)}` },
            `${news2.aggregate} `,
            h("small", {}, news2BandLabel(news2.band)),
            news2.urgent_review ? h("span", { class: "flag", title: "A single parameter scored 3" }, " ▲3") : null,
          )
        : h("span", { class: "muted", title: "NEWS2 needs all five measured parameters" }, "—"),
    ),
    h(
      "td",
      {},
      restricted(r)
        ? h("span", { class: "muted restricted", title: "Restricted record: open it with a reason (break the glass) to see its data" }, "Restricted")
        : notMonitored(r)
        ? h("span", { class: "muted", title: "No consent to monitoring: readings are refused and nothing is assessed" }, "Not monitored")
        : h("span", { class: riskClass(r.risk_level), title: r.event ? `Event: ${r.event.replace(/_/g, " ")}` : undefined }, riskText(r.risk_level, r.risk_score)),
      r.needs_review.length > 0 ? h("span", { class: "chip needs-review", title: needsReviewText(r.needs_review) }, " Needs review") : null,
    ),
    h("td", { class: "num", "data-open-alerts": String(r.open_alerts) }, r.open_alerts > 0 ? h("span", { class: "count-badge" }, String(r.open_alerts)) : h("span", { class: "muted" }, "0")),
    h("td", { class: "time", title: absoluteTime(r.last_data_ms) }, relativeTime(r.last_data_ms, now)),
  );
  tr.addEventListener("click", () => open(r.patient_id));
  tr.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      open(r.patient_id);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = e.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
      if (next instanceof HTMLElement) next.focus();
      else if (e.key === "ArrowUp") document.getElementById("worklist-search")?.focus();
    }
  });
  return tr;
}

function emptyRow(text: string): HTMLTableRowElement {
  return h("tr", { class: "empty" }, h("td", { colspan: COLUMNS.length }, text));
}

/** Placeholder rows while loading, so the table does not jump. */
function skeleton(body: HTMLElement): void {
  const rows = Array.from({ length: 8 }, () =>
    h("tr", { class: "skeleton-row", "aria-hidden": "true" }, COLUMNS.map(() => h("td", {}, h("span", { class: "skeleton" })))),
  );
  body.replaceChildren(...rows);
}
