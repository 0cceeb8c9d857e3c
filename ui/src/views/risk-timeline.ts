// The patient screen's risk timeline: the monitor's stored assessments as a line of the overall
// score (0-1) over event time, with the points where a specialty could not answer marked.
import type { RiskPoint } from "../bindings";
import { h } from "../dom";
import { absoluteTime, riskClass } from "../logic/format";
import { timeline } from "../logic/live";

const W = 800;
const H = 120;
const SVG = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string>): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

export function riskTimelinePanel(history: RiskPoint[]): HTMLElement {
  const section = h("section", { class: "card panel", id: "risk-timeline", "data-points": String(history.length) }, h("h2", {}, "Risk timeline"));
  const g = timeline(history, W, H);
  if (!g) {
    section.append(h("p", { class: "muted" }, "No stored assessment yet: the monitor stores one as readings arrive."));
    return section;
  }
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "risk-timeline", role: "img", preserveAspectRatio: "none" });
  const title = svg("title", {});
  const last = history[history.length - 1];
  title.textContent = `Risk over ${history.length} stored assessments, newest ${last.risk_level}`;
  chart.append(title);
  chart.append(svg("polyline", { points: g.points, class: "score", fill: "none" }));
  for (const p of g.review) chart.append(svg("circle", { cx: String(p.x), cy: String(p.y), r: "3", class: "review" }));
  section.append(
    chart,
    h(
      "p",
      { class: "muted small" },
      `${absoluteTime(g.from)} – ${absoluteTime(g.to)} · newest `,
      h("span", { class: riskClass(last.risk_level) }, last.risk_level),
      g.review.length > 0 ? ` · ${g.review.length} point(s) needing review (specialty unavailable)` : "",
    ),
  );
  return section;
}
