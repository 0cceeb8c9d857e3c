// The patient's charts: SVG rendered by the backend (plotters), one request for all six,
// re-requested on range change and on window resize (debounced).
import { commands, type ChartKind, type ChartView } from "../bindings";
import { h, message, setState } from "../dom";
import { errorText } from "../errors";
import { CHARTS, DEFAULT_RANGE, RANGES, chartRequest, debounce, type RangeValue } from "../logic/charts";
import { formatCount } from "../status";

export interface ChartPanel {
  el: HTMLElement;
  /** Draws again; `quiet`: no loading state (a live refresh every second must not flicker). */
  load(quiet?: boolean): void;
  destroy(): void;
}

export function chartPanel(patient: string): ChartPanel {
  const state = { range: DEFAULT_RANGE as RangeValue, generation: 0, width: 0, alive: true };
  const buttons = RANGES.map((r) =>
    h(
      "button",
      { type: "button", class: "toggle", "data-range": r.value, "aria-pressed": String(r.value === state.range) },
      r.label,
    ),
  );
  const error = h("p", { class: "message", hidden: true });
  const figures = new Map<ChartKind, { fig: HTMLElement; box: HTMLElement; meta: HTMLElement }>();
  const grid = h("div", { class: "chart-grid" });
  for (const c of CHARTS) {
    const box = h("div", { class: "chart-box" }, h("span", { class: "skeleton chart-skeleton" }));
    const meta = h("span", { class: "chart-meta muted" });
    const fig = h(
      "figure",
      { class: "chart card", "data-chart": c.kind, "data-state": "loading", "aria-busy": "true" },
      h("figcaption", {}, h("span", { class: "chart-title" }, c.title), meta),
      box,
    );
    figures.set(c.kind, { fig, box, meta });
    grid.append(fig);
  }
  const el = h(
    "section",
    { class: "charts", "aria-labelledby": "charts-title" },
    h(
      "div",
      { class: "section-head" },
      h("h2", { id: "charts-title" }, "Trends"),
      h("div", { class: "segmented", role: "group", "aria-label": "Chart range" }, buttons),
    ),
    error,
    grid,
  );

  function select(range: RangeValue): void {
    if (range === state.range) return;
    state.range = range;
    for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.range === range));
    load();
  }
  buttons.forEach((b) => b.addEventListener("click", () => select(b.dataset.range as RangeValue)));

  function measure(): number {
    const first = figures.values().next().value;
    return first ? first.box.clientWidth : 0;
  }

  function load(quiet = false): void {
    const generation = ++state.generation;
    const request = chartRequest(patient, state.range, measure(), new Date());
    state.width = request.width;
    if (!quiet) for (const { fig } of figures.values()) setState(fig, "loading");
    commands
      .charts(request)
      .then((views) => {
        if (!state.alive || generation !== state.generation) return;
        message(error, "", "info");
        for (const [kind, f] of figures) {
          const view = views.find((v) => v.chart === kind);
          if (view) show(f, view);
          else fail(f, "This chart was not returned.");
        }
      })
      .catch((e: unknown) => {
        if (!state.alive || generation !== state.generation) return;
        const text = errorText(e);
        message(error, `The charts could not be drawn: ${text}`, "error");
        for (const f of figures.values()) fail(f, text);
      });
  }

  const resized = debounce(() => {
    if (state.alive && measure() > 0 && Math.round(measure()) !== state.width) load();
  }, 250);
  window.addEventListener("resize", resized);

  return {
    el,
    load,
    destroy() {
      state.alive = false;
      resized.cancel();
      window.removeEventListener("resize", resized);
    },
  };
}

type Figure = { fig: HTMLElement; box: HTMLElement; meta: HTMLElement };

function show(f: Figure, view: ChartView): void {
  const svg = parseSvg(view.svg);
  if (!svg) {
    fail(f, "The chart's image could not be read.");
    return;
  }
  f.box.replaceChildren(svg);
  f.meta.textContent =
    view.points_in === 0
      ? "no data in this range"
      : `${formatCount(view.points_in)} samples · ${formatCount(view.points_drawn)} drawn`;
  f.fig.title = view.took_ms == null ? "" : `Read and drawn in ${Math.round(view.took_ms)} ms`;
  setState(f.fig, "ready");
}

function fail(f: Figure, text: string): void {
  f.box.replaceChildren(h("p", { class: "chart-error" }, `Chart not available: ${text}`));
  f.meta.textContent = "";
  setState(f.fig, "error");
}

/** The backend's SVG document as a node of this page (scripts never come with it: it is data). */
function parseSvg(text: string): SVGSVGElement | null {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (doc.getElementsByTagName("parsererror").length > 0 || svg.nodeName.toLowerCase() !== "svg") return null;
  for (const s of Array.from(svg.getElementsByTagName("script"))) s.remove();
  const node = document.importNode(svg, true) as unknown as SVGSVGElement;
  if (!node.hasAttribute("viewBox")) {
    const w = node.getAttribute("width");
    const hgt = node.getAttribute("height");
    if (w && hgt) node.setAttribute("viewBox", `0 0 ${parseFloat(w)} ${parseFloat(hgt)}`);
  }
  node.setAttribute("role", "img");
  node.setAttribute("preserveAspectRatio", "xMinYMin meet");
  return node;
}
