// The audit trail for auditors: the newest events (who, what, whose record), filterable.
import { commands, type AuditEntryView } from "../bindings";
import { h, message, setState, viewRoot } from "../dom";
import { errorText } from "../errors";
import { auditTime, filterAudit, notable } from "../logic/audit";
import { formatCount } from "../status";
import type { Unmount, ViewContext } from "./view";

const LIMITS = [200, 1000, 5000];

export function mountAudit(ctx: ViewContext): Unmount {
  const state = { alive: true, rows: [] as AuditEntryView[], query: "" };
  const { root, heading } = viewRoot("audit", "Audit trail");
  const search = h("input", { id: "audit-search", type: "search", placeholder: "Actor, action or patient id", autocomplete: "off", spellcheck: "false" });
  const limit = h("select", { id: "audit-limit", "aria-label": "Events to read" }, LIMITS.map((n) => h("option", { value: n }, `newest ${formatCount(n)}`)));
  const refresh = h("button", { type: "button", class: "secondary", id: "audit-refresh" }, "Refresh");
  const count = h("span", { id: "audit-count", class: "muted", "aria-live": "polite" });
  const error = h("p", { id: "audit-error", class: "message", hidden: true });
  const body = h("tbody");
  root.append(
    h("div", { class: "view-head" }, heading, h("label", { class: "search", for: "audit-search" }, h("span", {}, "Filter"), search), limit, count, refresh),
    h("p", { class: "muted small" }, "Newest first. Reads are chained into the trail at the next change to the store, so the newest reads may appear a little later."),
    error,
    h(
      "div",
      { class: "card table-card" },
      h(
        "table",
        { id: "audit-table", class: "grid compact" },
        h("caption", { class: "sr-only" }, "Audit events, newest first"),
        h("thead", {}, h("tr", {}, ["Time", "Actor", "Action", "Patient id"].map((c) => h("th", { scope: "col" }, c)))),
        body,
      ),
    ),
  );
  ctx.main.replaceChildren(root);

  function render(): void {
    const shown = filterAudit(state.rows, state.query);
    body.replaceChildren(
      ...(shown.length === 0
        ? [h("tr", { class: "empty" }, h("td", { colspan: 4 }, state.rows.length === 0 ? "No audit events." : "No event matches the filter."))]
        : shown.map((r) =>
            h(
              "tr",
              { "data-action": r.action, class: notable(r.action) ? "notable" : "" },
              h("td", { class: "time", title: r.at }, auditTime(r.at_ms)),
              h("td", { class: "mono" }, r.actor),
              h("td", { class: "mono" }, r.action),
              h("td", { class: "mono small" }, r.patient_id ?? "—"),
            ),
          )),
    );
    count.textContent = state.query.trim() ? `${shown.length} of ${formatCount(state.rows.length)} events` : `${formatCount(state.rows.length)} events`;
  }

  async function load(): Promise<void> {
    setState(root, "loading");
    refresh.disabled = true;
    try {
      const rows = await commands.auditTrail(Number(limit.value));
      if (!state.alive) return;
      state.rows = rows;
      render();
      message(error, "", "info");
      setState(root, "ready");
    } catch (e) {
      if (!state.alive) return;
      message(error, `The audit trail could not be read: ${errorText(e)}`, "error");
      setState(root, "error");
    } finally {
      refresh.disabled = false;
    }
  }

  search.addEventListener("input", () => {
    state.query = search.value;
    render();
  });
  limit.addEventListener("change", () => void load());
  refresh.addEventListener("click", () => void load());
  void load();
  return () => {
    state.alive = false;
  };
}
