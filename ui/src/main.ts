// The first window: the store's state, from the generated command bindings.
import { commands } from "./bindings";
import { statusRows } from "./status";

function show(id: string, visible: boolean): void {
  const el = document.getElementById(id);
  if (el) el.hidden = !visible;
}

async function loadStatus(): Promise<void> {
  const list = document.getElementById("store-status")!;
  const error = document.getElementById("store-error")!;
  try {
    const status = await commands.storeStatus();
    list.replaceChildren(
      ...statusRows(status).flatMap((row) => {
        const dt = document.createElement("dt");
        dt.textContent = row.label;
        const dd = document.createElement("dd");
        dd.id = `status-${row.id}`;
        dd.textContent = row.value;
        if (row.alert) dd.classList.add("alert");
        return [dt, dd];
      }),
    );
    show("demo-badge", status.demo);
    show("demo-banner", status.demo);
    show("store-error", false);
  } catch (e) {
    // Backend errors reach the clinician in words, never swallowed.
    error.textContent = `The store could not be opened: ${e instanceof Error ? e.message : String(e)}`;
    show("store-error", true);
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

void loadStatus();
