import { describe, expect, it } from "vitest";
import { device, live } from "./fixtures";
import {
  Throttle,
  batteryText,
  countsText,
  deviceName,
  kindText,
  kindsText,
  lastValueMs,
  linkText,
  liveIndicator,
  nearbyOrder,
  signalText,
  streamingFor,
} from "./devices";

describe("device words", () => {
  it("names kinds, links, batteries and signals", () => {
    expect(kindText("heart_rate_monitor")).toBe("Heart rate monitor");
    expect(kindText("new_kind")).toBe("new_kind");
    expect(kindsText([])).toBe("unknown");
    expect(kindsText(["pulse_oximeter", "thermometer"])).toBe("Pulse oximeter, Thermometer");
    expect(linkText(undefined)).toBe("not connected");
    expect(linkText(live({ device_id: "d", state: "ended" }))).toBe("disconnected");
    expect(linkText(live({ device_id: "d", state: "reconnecting" }))).toBe("reconnecting");
    expect(batteryText(live({ device_id: "d", battery_pct: 95 }), { battery_pct: 40 })).toBe("95 %");
    expect(batteryText(undefined, { battery_pct: 40 })).toBe("40 %");
    expect(batteryText(undefined, { battery_pct: null })).toBe("—");
    expect([signalText(-50), signalText(-70), signalText(-90), signalText(null)]).toEqual(["strong (-50 dBm)", "fair (-70 dBm)", "weak (-90 dBm)", "—"]);
  });

  it("calls a device by its advertised name, else make and model", () => {
    expect(deviceName(device({ id: "a", name: "DEMO HR strap" }))).toBe("DEMO HR strap");
    expect(deviceName(device({ id: "a", name: " ", make: "Polar", model: "H10" }))).toBe("Polar H10");
    expect(deviceName(device({ id: "a", make: "unknown", model: "unknown" }))).toBe("unnamed device");
  });

  it("counts what a live device sent", () => {
    expect(countsText(undefined)).toBe("—");
    expect(countsText(live({ device_id: "d", values: 10, stored: 8 }))).toBe("10 values · 8 stored");
    expect(countsText(live({ device_id: "d", values: 10, stored: 6, duplicates: 2, held: 2 }))).toBe("10 values · 6 stored · 2 already stored · 2 held back");
  });

  it("takes the newer of the live and the stored last value", () => {
    const at = Date.parse("2026-01-01T10:00:00Z");
    expect(lastValueMs(live({ device_id: "d", last_value: "2026-01-01T10:00:00Z" }), { last_seen_ms: at - 5 })).toBe(at);
    expect(lastValueMs(live({ device_id: "d", last_value: "2026-01-01T10:00:00Z" }), { last_seen_ms: at + 5 })).toBe(at + 5);
    expect(lastValueMs(undefined, { last_seen_ms: null })).toBeNull();
    expect(lastValueMs(live({ device_id: "d" }), { last_seen_ms: 7 })).toBe(7);
  });

  it("orders a scan by signal, strongest first", () => {
    const found = nearbyOrder([
      { address: "B", name: null, rssi: -80, kinds: [] },
      { address: "A", name: null, rssi: null, kinds: [] },
      { address: "C", name: null, rssi: -40, kinds: [] },
    ]);
    expect(found.map((f) => f.address)).toEqual(["C", "B", "A"]);
  });
});

describe("streamingFor", () => {
  it("lists the open patient's connected devices only", () => {
    const state = {
      devices: [
        device({ id: "a", name: "DEMO HR strap", patient_id: "p1" }),
        device({ id: "b", name: "Cuff", patient_id: "p1" }),
        device({ id: "c", name: "Other", patient_id: "p2" }),
      ],
      live: [live({ device_id: "a" }), live({ device_id: "b", state: "reconnecting" }), live({ device_id: "c" })],
    };
    expect(streamingFor("p1", state)).toEqual(["DEMO HR strap"]);
    expect(liveIndicator(streamingFor("p1", state))).toBe("live: DEMO HR strap");
    expect(liveIndicator(streamingFor("p3", state))).toBe("");
  });
});

describe("Throttle", () => {
  it("runs at most once a second and keeps the last change", () => {
    const t = new Throttle(1000);
    expect(t.take(0)).toEqual({ run: "now" });
    expect(t.take(300)).toEqual({ run: "later", delay: 700 });
    expect(t.take(500)).toEqual({ run: "no" });
    t.ran(1000);
    expect(t.take(1500)).toEqual({ run: "later", delay: 500 });
    t.ran(2000);
    expect(t.take(3200)).toEqual({ run: "now" });
  });
});
