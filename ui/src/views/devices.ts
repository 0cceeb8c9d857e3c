// The Devices screen (issue 13): a scan for nearby health devices (name, kind, signal) with
// Pair and Connect; the registered devices with their kind, address, patient (assign from the
// patient list, unassign), connection, battery, last reading and counts. Refreshed by the
// window's device feed (`devices-changed`, at most once a second); errors are shown in words.
import { commands, type DeviceRow, type DevicesState, type LiveDevice, type NearbyDevice, type WorklistRow } from "../bindings";
import { h, keepFocus, message, setState, viewRoot } from "../dom";
import { errorText } from "../errors";
import { batteryText, countsText, deviceName, kindText, kindsText, lastValueMs, linkText, liveById, nearbyOrder, signalText, Throttle } from "../logic/devices";
import { absoluteTime, relativeTime } from "../logic/format";
import { onDevicesChanged } from "../live";
import type { Unmount, ViewContext } from "./view";

export function mountDevices(ctx: ViewContext): Unmount {
  const state = { alive: true, devices: null as DevicesState | null, patients: [] as WorklistRow[], shape: "", timer: 0 };
  const { root, heading } = viewRoot("devices", "Devices");
  const error = h("p", { id: "devices-error", class: "message", hidden: true });
  const scan = h("button", { type: "button", class: "primary", id: "devices-scan" }, "Scan for devices");
  const scanNote = h("p", { id: "devices-scan-message", class: "message", hidden: true });
  const nearby = h("tbody", { id: "devices-nearby" });
  const body = h("tbody");
  const table = h(
    "table",
    { id: "devices-table", class: "grid" },
    h("caption", { class: "sr-only" }, "Registered devices"),
    h("thead", {}, h("tr", {}, ["Device", "Kind", "Address", "Patient", "Connection", "Battery", "Last reading", "Received", ""].map((c) => h("th", { scope: "col" }, c)))),
    body,
  );
  root.append(
    h("div", { class: "view-head" }, heading),
    error,
    h(
      "section",
      { class: "card", "aria-labelledby": "nearby-title" },
      h("h2", { id: "nearby-title" }, "Nearby devices"),
      h("p", { class: "muted small" }, "Turn the device on and wake it; a cuff, scale or glucose meter may need pairing first."),
      scan,
      scanNote,
      h("div", { class: "table-wrap" }, h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["Name", "Kind", "Signal", "Address", ""].map((c) => h("th", { scope: "col" }, c)))), nearby)),
    ),
    h("section", { class: "card table-card", "aria-labelledby": "registered-title" }, h("h2", { id: "registered-title" }, "Registered devices"), h("div", { class: "table-wrap" }, table)),
  );
  ctx.main.replaceChildren(root);

  const patientName = (id: string | null | undefined): string => {
    if (!id) return "nobody";
    const p = state.patients.find((r) => r.patient_id === id);
    return p ? `${p.name} (${p.mrn})` : "a patient";
  };

  async function act(what: string, run: () => Promise<unknown>): Promise<void> {
    message(error, "", "info");
    try {
      await run();
      if (state.alive) await load();
    } catch (e) {
      if (state.alive) message(error, `${what}: ${errorText(e)}`, "error");
    }
  }

  function dynamicCells(tr: HTMLElement, d: DeviceRow, live: LiveDevice | undefined): void {
    const now = Date.now();
    const link = tr.querySelector<HTMLElement>("[data-field='link']")!;
    link.dataset.state = live?.state ?? "none";
    link.replaceChildren(linkText(live), ...(live?.problem ? [h("span", { class: "muted small block" }, live.problem)] : []));
    tr.querySelector<HTMLElement>("[data-field='battery']")!.textContent = batteryText(live, d);
    const last = lastValueMs(live, d);
    const lastCell = tr.querySelector<HTMLElement>("[data-field='last']")!;
    lastCell.textContent = last === null ? "never" : relativeTime(last, now);
    lastCell.title = absoluteTime(last);
    tr.querySelector<HTMLElement>("[data-field='counts']")!.textContent = countsText(live);
    const connect = tr.querySelector<HTMLButtonElement>("button[data-action='connect']")!;
    const streaming = live !== undefined && live.state !== "ended";
    connect.textContent = streaming ? "Disconnect" : "Connect";
    connect.dataset.streaming = String(streaming);
  }

  function row(d: DeviceRow, live: LiveDevice | undefined): HTMLElement {
    const choose = h(
      "select",
      { "aria-label": `Patient for ${deviceName(d)}`, "data-focus-key": `patient-${d.id}` },
      h("option", { value: "" }, "Choose a patient…"),
      state.patients.map((p) => h("option", { value: p.patient_id, selected: p.patient_id === d.patient_id }, `${p.name} (${p.mrn})`)),
    );
    const assign = h("button", { type: "button", class: "secondary", "data-action": "assign", "data-focus-key": `assign-${d.id}` }, "Assign");
    const unassign = h("button", { type: "button", class: "secondary", "data-action": "unassign", hidden: !d.patient_id }, "Unassign");
    const connect = h("button", { type: "button", class: "secondary", "data-action": "connect", "data-focus-key": `connect-${d.id}` }, "Connect");
    assign.addEventListener("click", () => {
      if (choose.value === "") return message(error, "Choose a patient to assign the device to.", "error");
      void act("The device could not be assigned", () => commands.assignDevice(d.id, choose.value));
    });
    unassign.addEventListener("click", () => void act("The device could not be unassigned", () => commands.unassignDevice(d.id)));
    connect.addEventListener("click", () => {
      if (connect.dataset.streaming === "true") void act("The device could not be disconnected", () => commands.disconnectDevice(d.id));
      else if (d.address) void act("The device could not be connected", () => commands.connectDevice(d.address!));
      else message(error, "This device has no Bluetooth address: its data arrives by file import.", "error");
    });
    const tr = h(
      "tr",
      { "data-device-id": d.id, "data-address": d.address ?? "" },
      h("th", { scope: "row", class: "name" }, deviceName(d)),
      h("td", { "data-field": "kind" }, kindText(d.kind)),
      h("td", { class: "mono small" }, d.address ?? "—"),
      h("td", { "data-field": "patient", "data-patient-id": d.patient_id ?? "" }, h("span", { class: "block" }, patientName(d.patient_id)), choose, assign, unassign),
      h("td", { "data-field": "link" }),
      h("td", { "data-field": "battery", class: "num" }),
      h("td", { "data-field": "last" }),
      h("td", { "data-field": "counts", class: "small" }),
      h("td", {}, connect),
    );
    dynamicCells(tr, d, live);
    return tr;
  }

  function render(s: DevicesState): void {
    const live = liveById(s);
    const shape = JSON.stringify([s.devices.map((d) => [d.id, d.patient_id, d.name]), state.patients.length]);
    if (shape === state.shape) {
      for (const d of s.devices) {
        const tr = body.querySelector<HTMLElement>(`tr[data-device-id="${CSS.escape(d.id)}"]`);
        if (tr) dynamicCells(tr, d, live.get(d.id));
      }
      return;
    }
    state.shape = shape;
    keepFocus(body, () =>
      body.replaceChildren(
        ...(s.devices.length === 0
          ? [h("tr", {}, h("td", { colspan: 9, class: "muted" }, "No devices registered. Scan, then Connect a device to register it."))]
          : s.devices.map((d) => row(d, live.get(d.id)))),
      ),
    );
  }

  async function load(): Promise<void> {
    try {
      const s = await commands.devicesState();
      if (!state.alive) return;
      state.devices = s;
      render(s);
      setState(root, "ready");
    } catch (e) {
      if (!state.alive) return;
      message(error, `The devices could not be read: ${errorText(e)}`, "error");
      setState(root, "error");
    }
  }

  function nearbyRow(n: NearbyDevice): HTMLElement {
    const pair = h("button", { type: "button", class: "secondary" }, "Pair");
    const connect = h("button", { type: "button", class: "primary" }, "Connect");
    pair.addEventListener("click", () => void act(`${n.address} could not be paired`, () => commands.pairDevice(n.address)));
    connect.addEventListener("click", () => void act(`${n.address} could not be connected`, () => commands.connectDevice(n.address)));
    return h(
      "tr",
      { "data-address": n.address },
      h("th", { scope: "row" }, n.name ?? "(no name)"),
      h("td", {}, kindsText(n.kinds)),
      h("td", {}, signalText(n.rssi)),
      h("td", { class: "mono small" }, n.address),
      h("td", { class: "actions" }, pair, connect),
    );
  }

  scan.addEventListener("click", async () => {
    scan.disabled = true;
    message(scanNote, "Listening for 5 seconds…", "info");
    try {
      const found = await commands.scanDevices();
      if (!state.alive) return;
      nearby.replaceChildren(...nearbyOrder(found).map(nearbyRow));
      message(scanNote, found.length === 0 ? "No health device found: is it on, awake and not connected to a phone?" : `${found.length} found.`, "info");
    } catch (e) {
      if (state.alive) message(scanNote, `No scan: ${errorText(e)}`, "error");
    } finally {
      scan.disabled = false;
    }
  });

  const throttle = new Throttle(1000);
  const off = onDevicesChanged(() => {
    const next = throttle.take(Date.now());
    if (next.run === "now") void load();
    else if (next.run === "later")
      state.timer = window.setTimeout(() => {
        throttle.ran(Date.now());
        void load();
      }, next.delay);
  });
  void commands
    .worklist()
    .then((w) => {
      if (!state.alive) return;
      state.patients = [...w.rows].sort((a, b) => a.name.localeCompare(b.name));
      state.shape = "";
      if (state.devices) render(state.devices);
    })
    .catch((e: unknown) => {
      if (state.alive) message(error, `The patient list could not be read (assigning needs it): ${errorText(e)}`, "error");
    });
  void load();
  return () => {
    state.alive = false;
    off();
    window.clearTimeout(state.timer);
  };
}
