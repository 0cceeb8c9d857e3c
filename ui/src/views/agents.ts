// Agents and models: ONNX Runtime, the specialty pools live (every 5 s while open), the model
// packages with promote and rollback behind a confirmation, candidates and rollout events.
import { commands, type AgentsView, type PackageRowView, type PoolView } from "../bindings";
import { actionDialog } from "../dialogs";
import { h, keepFocus, message, setState, viewRoot } from "../dom";
import { errorText } from "../errors";
import { absoluteTime, fixed, humanize, percent } from "../logic/format";
import { DEMONSTRATION_LABEL, eventActor, eventsNewestFirst, packageActions, promoteEffect, rollbackEffect } from "../logic/packages";
import { specialtyLabel } from "../logic/patient";
import { formatCount } from "../status";
import type { Unmount, ViewContext } from "./view";

const REFRESH_MS = 5_000;

export function mountAgents(ctx: ViewContext): Unmount {
  const state = { alive: true, data: null as AgentsView | null, timer: 0 as ReturnType<typeof setTimeout> | 0 };
  const { root, heading } = viewRoot("agents", "Agents and models");
  const runtime = h("p", { id: "runtime-status", class: "runtime" }, "ONNX Runtime: …");
  const problems = h("ul", { class: "problems", hidden: true });
  const notice = h("p", { id: "agents-message", class: "message", hidden: true, tabindex: -1 });
  const updated = h("span", { class: "muted small", "aria-live": "off" });
  const pools = h("div", { id: "pools", class: "pools" }, h("span", { class: "skeleton" }));
  const packages = h("tbody");
  const candidates = h("div", { id: "candidates" });
  const events = h("ol", { id: "model-events", class: "events", tabindex: 0, "aria-label": "Rollout events, newest first" });
  const confirm = actionDialog({ dialog: "confirm-dialog", confirm: "confirm-ok", cancel: "confirm-cancel" });
  root.append(
    h("div", { class: "view-head" }, heading, updated),
    notice,
    h("section", { class: "card" }, runtime, problems),
    h("section", { "aria-labelledby": "pools-title" }, h("h2", { id: "pools-title", class: "section-title" }, "Specialty pools"), pools),
    h(
      "section",
      { class: "card", "aria-labelledby": "packages-title" },
      h("h2", { id: "packages-title" }, "Installed model packages"),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { id: "packages", class: "grid compact" },
          h("thead", {}, h("tr", {}, ["Name", "Version", "Agent", "State", "Signer", "Installed", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
          packages,
        ),
      ),
    ),
    h("section", { class: "card", "aria-labelledby": "candidates-title" }, h("h2", { id: "candidates-title" }, "Candidates in rollout"), candidates),
    h("section", { class: "card", "aria-labelledby": "events-title" }, h("h2", { id: "events-title" }, "Rollout events"), events),
    confirm.el,
  );
  ctx.main.replaceChildren(root);

  function render(d: AgentsView): void {
    runtime.replaceChildren(
      h("strong", {}, "ONNX Runtime: "),
      d.runtime_ok ? h("span", { class: "ok" }, "✔ loaded") : h("span", { class: "warn" }, "✖ not available — agents answer with their rules"),
      h("span", { class: "muted mono small" }, ` ${d.runtime}`),
    );
    problems.hidden = d.problems.length === 0;
    problems.replaceChildren(...d.problems.map((p) => h("li", { class: "warn" }, p)));
    keepFocus(pools, () => pools.replaceChildren(...(d.pools.length ? d.pools.map(pool) : [h("p", { class: "muted" }, "No agent pools.")])));
    keepFocus(packages, () =>
      packages.replaceChildren(
        ...(d.packages.length ? d.packages.map((p) => packageRow(p, d.packages)) : [h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No model package installed."))]),
      ),
    );
    candidates.replaceChildren(
      d.candidates.length
        ? h("ul", { class: "plain" }, d.candidates.map((c) => h("li", {}, h("strong", {}, specialtyLabel(c.agent)), `: ${c.mode}${c.percent != null ? ` ${c.percent} %` : ""} · ${formatCount(c.evaluations)} evaluations · ${formatCount(c.errors)} errors · ${formatCount(c.disagreements)} disagreements`)))
        : h("p", { class: "muted" }, "No candidate in shadow or canary."),
    );
    const now = Date.now();
    events.replaceChildren(
      ...(d.events.length
        ? eventsNewestFirst(d.events).map((e) =>
            h(
              "li",
              {},
              h("span", { class: "time", title: absoluteTime(e.at_ms) }, absoluteTime(e.at_ms)),
              h("span", {}, specialtyLabel(e.agent)),
              h("strong", {}, humanize(e.kind)),
              h("span", { class: "mono" }, `${e.name} ${e.version}`),
              h("span", { class: e.automatic ? "auto" : "" }, eventActor(e)),
              h("span", { class: "muted" }, e.reason),
            ),
          )
        : [h("li", { class: "muted" }, "No rollout event yet.")]),
    );
    updated.textContent = `Live: refreshed every 5 s, last at ${new Date(now).toLocaleTimeString()}`;
  }

  function packageRow(p: PackageRowView, all: PackageRowView[]): HTMLTableRowElement {
    const can = packageActions(p, all);
    const key = `${p.name}@${p.version}`;
    return h(
      "tr",
      { "data-package": p.name, "data-version": p.version, "data-state": p.state },
      h("th", { scope: "row" }, p.name, p.demonstration ? h("span", { class: "demo-label" }, DEMONSTRATION_LABEL) : null),
      h("td", { class: "mono" }, p.version),
      h("td", {}, specialtyLabel(p.agent)),
      h("td", {}, h("span", { class: `state state-${p.state}` }, humanize(p.state))),
      h("td", { class: "mono small" }, p.signer),
      h("td", { title: `by ${p.installed_by}` }, absoluteTime(p.installed_ms)),
      h(
        "td",
        { class: "actions" },
        can.promote ? h("button", { type: "button", class: "secondary", "data-action": "promote", "data-focus-key": `promote:${key}`, onclick: () => act("promote", p, all) }, "Promote…") : null,
        can.rollback ? h("button", { type: "button", class: "danger", "data-action": "rollback", "data-focus-key": `rollback:${key}`, onclick: () => act("rollback", p, all) }, "Roll back…") : null,
      ),
    );
  }

  function act(action: "promote" | "rollback", p: PackageRowView, all: PackageRowView[]): void {
    confirm.ask({
      title: action === "promote" ? `Promote ${p.name} ${p.version}?` : `Roll back ${p.name}?`,
      body: action === "promote" ? promoteEffect(p, all) : rollbackEffect(p, all),
      confirmLabel: action === "promote" ? "Promote" : "Roll back",
      run: async () => {
        const result = action === "promote" ? await commands.promotePackage(p.name, p.version) : await commands.rollbackPackage(p.name);
        if (!state.alive) return;
        message(notice, result, "success");
        await load();
        setTimeout(() => notice.focus(), 0);
      },
    });
  }

  async function load(): Promise<void> {
    if (state.timer) clearTimeout(state.timer);
    try {
      const d = await commands.agents();
      if (!state.alive) return;
      state.data = d;
      render(d);
      if (notice.classList.contains("message-error")) message(notice, "", "info");
      setState(root, "ready");
    } catch (e) {
      if (!state.alive) return;
      message(notice, `The agents could not be read: ${errorText(e)}`, "error");
      setState(root, state.data ? "ready" : "error");
    } finally {
      // One pending refresh at a time, even when an action's reload overlaps the timer's.
      if (state.timer) clearTimeout(state.timer);
      if (state.alive) state.timer = setTimeout(() => void load(), REFRESH_MS);
    }
  }

  void load();
  return () => {
    state.alive = false;
    if (state.timer) clearTimeout(state.timer);
    if (confirm.el.open) confirm.el.close();
  };
}

function pool(p: PoolView): HTMLElement {
  return h(
    "article",
    { class: "card pool", "data-specialty": p.specialty },
    h(
      "div",
      { class: "pool-head" },
      h("h3", {}, specialtyLabel(p.specialty)),
      h("span", { class: "muted small" }, `${humanize(p.strategy)} · load ${p.load}/${p.capacity} · ${formatCount(p.fallbacks)} fallbacks`),
    ),
    h("p", { class: "small" }, "Model: ", h("span", { class: "mono" }, p.model)),
    h(
      "table",
      { class: "grid compact" },
      h("thead", {}, h("tr", {}, ["Instance", "Health", "Breaker", "Load", "p50", "p99", "Errors", "Calls"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        p.instances.map((i) =>
          h(
            "tr",
            {},
            h("th", { scope: "row", class: "mono" }, i.id),
            h("td", {}, h("span", { class: `health health-${i.health}` }, humanize(i.health))),
            h("td", {}, h("span", { class: `breaker breaker-${i.breaker}` }, humanize(i.breaker))),
            h("td", { class: "num" }, `${i.load}/${i.capacity}`),
            h("td", { class: "num" }, i.p50_ms == null ? "—" : `${fixed(i.p50_ms, 1)} ms`),
            h("td", { class: "num" }, i.p99_ms == null ? "—" : `${fixed(i.p99_ms, 1)} ms`),
            h("td", { class: "num" }, percent(i.error_rate, 1)),
            h("td", { class: "num" }, formatCount(i.calls)),
          ),
        ),
      ),
    ),
  );
}
