// Settings and status: the store card and the ONNX Runtime line.
import { commands, type StoreStatus } from "../bindings";
import { h, setState, viewRoot } from "../dom";
import { errorText } from "../errors";
import { statusRows } from "../status";
import type { Unmount, ViewContext } from "./view";

/** `agents`: whether the role may read the agents (the ONNX Runtime line); the auditor may not. */
export function mountSettings(ctx: ViewContext, onStatus: (s: StoreStatus) => void, agents: boolean): Unmount {
  const state = { alive: true };
  const { root, heading } = viewRoot("settings", "Settings and status");
  const error = h("div", { id: "store-error", class: "error", role: "alert", hidden: true });
  const list = h("dl", { id: "store-status", class: "status", "aria-busy": "true" }, skeletonRows());
  const runtime = h("p", { id: "settings-runtime", "aria-busy": "true" }, "ONNX Runtime: checking…");
  root.append(
    h("div", { class: "view-head" }, heading),
    h("section", { class: "card", "aria-labelledby": "store-title" }, h("h2", { id: "store-title" }, "Store"), error, list),
    ...(agents ? [h("section", { class: "card", "aria-labelledby": "models-title" }, h("h2", { id: "models-title" }, "Models"), runtime)] : []),
  );
  ctx.main.replaceChildren(root);

  const store = commands
    .storeStatus()
    .then((status) => {
      if (!state.alive) return;
      list.replaceChildren(
        ...statusRows(status).flatMap((row) => [
          h("dt", {}, row.label),
          h("dd", { id: `status-${row.id}`, class: row.alert ? "alert" : "" }, row.value),
        ]),
      );
      error.hidden = true;
      onStatus(status);
    })
    .catch((e: unknown) => {
      if (!state.alive) return;
      // Backend errors reach the clinician in words, never swallowed.
      error.textContent = `The store could not be opened: ${errorText(e)}`;
      error.hidden = false;
      list.replaceChildren();
      throw e;
    })
    .finally(() => list.setAttribute("aria-busy", "false"));

  const models = (agents ? commands.agents() : Promise.resolve(null))
    .then((a) => {
      if (!state.alive || a === null) return;
      runtime.replaceChildren(
        h("strong", {}, "ONNX Runtime: "),
        a.runtime_ok ? h("span", { class: "ok" }, "✔ loaded") : h("span", { class: "warn" }, "✖ not available — agents answer with their rules"),
        h("span", { class: "muted mono small" }, ` ${a.runtime}`),
      );
    })
    .catch((e: unknown) => {
      if (!state.alive) return;
      runtime.replaceChildren(h("span", { class: "warn" }, `ONNX Runtime: the agents could not be read: ${errorText(e)}`));
      throw e;
    })
    .finally(() => runtime.setAttribute("aria-busy", "false"));

  Promise.allSettled([store, models]).then((results) => {
    if (state.alive) setState(root, results.every((r) => r.status === "fulfilled") ? "ready" : "error");
  });
  return () => {
    state.alive = false;
  };
}

function skeletonRows(): HTMLElement[] {
  return Array.from({ length: 7 }, () => [h("dt", {}, h("span", { class: "skeleton" })), h("dd", {}, h("span", { class: "skeleton" }))]).flat();
}
