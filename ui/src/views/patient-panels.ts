// The patient screen's panels, each a function from its read model to elements.
import type { AlertView, AssessmentView, EvidenceView, FindingView, News2View, PatientView, VitalReading } from "../bindings";
import { h } from "../dom";
import {
  VITALS,
  absoluteTime,
  bloodPressure,
  humanize,
  news2BandLabel,
  news2Class,
  news2Parameter,
  news2Response,
  relativeTime,
  riskClass,
  riskText,
  vitalValue,
} from "../logic/format";
import { evidenceOrder, evidenceText, findingMethod, hrvRows, specialtyLabel, weightRows, type Row } from "../logic/patient";
import { DEMONSTRATION_LABEL } from "../logic/packages";
import { latestByKind } from "../logic/worklist";

export function card(id: string, title: string, ...content: (Node | null)[]): HTMLElement {
  return h("section", { id, class: "card panel", "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title), ...content);
}

function rows(list: Row[]): HTMLDListElement {
  return h("dl", { class: "facts" }, list.flatMap((r) => [h("dt", {}, r.label), h("dd", {}, r.value)]));
}

function demoLabel(): HTMLElement {
  return h("span", { class: "demo-label" }, DEMONSTRATION_LABEL);
}

/** The tiles of the latest vitals (blood pressure as one tile). */
export function vitalTiles(latest: readonly VitalReading[], now: number): HTMLElement {
  const by = latestByKind(latest);
  const tile = (label: string, value: string, unit: string, at: number | null | undefined, kind: string) =>
    h(
      "div",
      { class: "tile", "data-vital": kind },
      h("span", { class: "tile-label" }, label),
      h("span", { class: "tile-value" }, value, h("span", { class: "unit" }, unit)),
      h("span", { class: "tile-time", title: absoluteTime(at) }, at == null ? "no data" : relativeTime(at, now)),
    );
  const single = (kind: string) => {
    const r = by.get(kind);
    return tile(VITALS[kind].label, vitalValue(kind, r?.value), VITALS[kind].unit, r?.at_ms, kind);
  };
  const sys = by.get("bp_systolic");
  const dia = by.get("bp_diastolic");
  return h(
    "div",
    { class: "tiles", role: "list", "aria-label": "Latest vitals" },
    [
      single("heart_rate"),
      single("spo2"),
      single("respiratory_rate"),
      single("body_temperature"),
      tile("Blood pressure", bloodPressure(sys?.value, dia?.value), "mmHg", sys?.at_ms ?? dia?.at_ms, "bp"),
      single("body_weight"),
    ].map((t) => {
      t.setAttribute("role", "listitem");
      return t;
    }),
  );
}

export function news2Panel(n: News2View | null | undefined): HTMLElement {
  if (!n) {
    return card("news2-panel", "NEWS2", h("p", { class: "muted" }, "Not scored: NEWS2 needs respiration rate, SpO₂, systolic BP, pulse and temperature."));
  }
  return card(
    "news2-panel",
    "NEWS2",
    h(
      "p",
      { class: "news2-head" },
      h("span", { class: `${news2Class(n.band)} big` }, String(n.aggregate)),
      h("span", {}, h("strong", {}, news2BandLabel(n.band)), h("br"), news2Response(n.response)),
    ),
    n.urgent_review ? h("p", { class: "flag-line" }, "▲ A single parameter scored 3: urgent review.") : null,
    h(
      "table",
      { class: "grid compact" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Parameter"), h("th", { scope: "col" }, "Value"), h("th", { scope: "col", class: "num" }, "Score"))),
      h(
        "tbody",
        {},
        n.parameters.map((p) => {
          const { label, value } = news2Parameter(p.name, p.value);
          return h("tr", { class: p.score >= 3 ? "param-urgent" : "" }, h("th", { scope: "row" }, label), h("td", { class: "num" }, value), h("td", { class: "num" }, h("span", { class: `score score-${p.score}` }, String(p.score))));
        }),
      ),
    ),
    n.assumptions.length ? h("p", { class: "assumptions muted" }, `Assumed: ${n.assumptions.join("; ")}.`) : null,
  );
}

export function hrvPanel(p: PatientView): HTMLElement {
  if (!p.hrv) return card("hrv-panel", "Heart rate variability", h("p", { class: "muted" }, p.hrv_absent ?? "Not available."));
  return card("hrv-panel", "Heart rate variability", h("p", { class: "muted small" }, "Last 24 h of RR intervals (Task Force 1996)"), rows(hrvRows(p.hrv)));
}

export function weightPanel(p: PatientView): HTMLElement {
  if (!p.weight) return card("weight-panel", "Weight", h("p", { class: "muted" }, "No weights recorded."));
  const flags = p.weight.flags;
  return card(
    "weight-panel",
    "Weight",
    rows(weightRows(p.weight)),
    flags.length
      ? h("ul", { class: "flags" }, flags.map((f) => h("li", {}, h("strong", {}, "Flag: "), f)))
      : h("p", { class: "muted small" }, "No heart-failure weight flag."),
  );
}

function finding(f: FindingView): HTMLLIElement {
  return h(
    "li",
    { class: "finding", "data-specialty": f.specialty },
    h(
      "div",
      { class: "finding-head" },
      h("h3", {}, specialtyLabel(f.specialty)),
      h("span", { class: riskClass(f.risk_level) }, riskText(f.risk_level, f.risk_score)),
    ),
    h("p", { class: "method" }, findingMethod(f), f.demonstration_model ? demoLabel() : null),
    f.note ? h("p", { class: "note" }, f.note) : null,
    evidenceList(f.evidence),
    f.recommendations.length ? h("ul", { class: "recommendations", "aria-label": "Recommendations" }, f.recommendations.map((r) => h("li", {}, r))) : null,
  );
}

/** Triggered evidence in full; the criteria that did not fire folded away under a count. */
function evidenceList(evidence: readonly EvidenceView[]): HTMLElement | null {
  if (evidence.length === 0) return null;
  const item = (e: EvidenceView) =>
    h(
      "li",
      { class: e.triggered ? "triggered" : "" },
      e.triggered ? h("strong", {}, "Triggered: ") : h("span", { class: "sr-only" }, "Not triggered: "),
      evidenceText(e),
      h("span", { class: "source" }, ` — ${e.source}`),
    );
  const ordered = evidenceOrder(evidence);
  const fired = ordered.filter((e) => e.triggered);
  const quiet = ordered.filter((e) => !e.triggered);
  return h(
    "div",
    { class: "evidence-block" },
    fired.length ? h("ul", { class: "evidence", "aria-label": "Triggered evidence" }, fired.map(item)) : null,
    quiet.length
      ? h("details", { class: "quiet" }, h("summary", {}, `${quiet.length} criteria not met`), h("ul", { class: "evidence", "aria-label": "Criteria not met" }, quiet.map(item)))
      : null,
  );
}

export function assessmentPanel(a: AssessmentView | null | undefined, now: number): HTMLElement {
  if (!a) return card("assessment", "Assessment", h("p", { class: "muted" }, "No data to assess yet."), h("ul", { id: "findings" }));
  return card(
    "assessment",
    "Assessment",
    h(
      "p",
      { class: "overall" },
      "Overall ",
      h("span", { class: riskClass(a.risk_level) }, riskText(a.risk_level, a.risk_score)),
      a.event ? ` · ${humanize(a.event)}` : "",
      h("span", { class: "muted", title: absoluteTime(a.time_ms) }, ` · on data up to ${relativeTime(a.time_ms, now)}`),
    ),
    h("ul", { id: "findings", class: "findings" }, a.findings.map(finding)),
  );
}

export function alertsPanel(alerts: readonly AlertView[], now: number): HTMLElement {
  const list = alerts.length
    ? h(
        "ul",
        { class: "alert-mini" },
        alerts.map((a) =>
          h(
            "li",
            { "data-alert-id": a.id },
            h("span", { class: riskClass(a.risk_level) }, humanize(a.risk_level)),
            h("strong", {}, ` ${humanize(a.event)}`),
            h("span", { class: "muted", title: absoluteTime(a.created_ms) }, ` · ${relativeTime(a.created_ms, now)} · ${humanize(a.status)}`),
          ),
        ),
      )
    : h("p", { class: "muted" }, "No open alerts.");
  return card("patient-alerts", `Open alerts (${alerts.length})`, list, h("p", {}, h("a", { href: "#/alerts" }, "Go to the alerts inbox to acknowledge or resolve")));
}
