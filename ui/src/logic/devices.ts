// The Devices screen's and the patient screen's device rules: how a device, its kind, link,
// battery and signal read; which devices stream for the open patient; and the refresh throttle
// (the feed tells the window every second). Tested by vitest (devices.test.ts); the DOM side
// is views/devices.ts and views/patient.ts.
import type { DeviceRow, DevicesState, LinkState, LiveDevice, NearbyDevice } from "../bindings";

const KINDS: Record<string, string> = {
  heart_rate_monitor: "Heart rate monitor",
  pulse_oximeter: "Pulse oximeter",
  blood_pressure_monitor: "Blood pressure monitor",
  thermometer: "Thermometer",
  weight_scale: "Weight scale",
  wearable: "Wearable",
  glucose_meter: "Glucose meter",
};

/** "heart_rate_monitor" -> "Heart rate monitor"; an unknown kind as it came. */
export function kindText(kind: string): string {
  return KINDS[kind] ?? kind;
}

/** What a scan found a device to measure: its kinds in words, or that it says nothing. */
export function kindsText(kinds: readonly string[]): string {
  return kinds.length === 0 ? "unknown" : kinds.map(kindText).join(", ");
}

/** The name a device goes by: its advertised name, else make and model. */
export function deviceName(d: Pick<DeviceRow, "name" | "make" | "model">): string {
  const name = d.name?.trim();
  if (name) return name;
  return [d.make, d.model].filter((s) => s && s !== "unknown").join(" ") || "unnamed device";
}

const LINKS: Record<LinkState, string> = {
  connecting: "connecting",
  connected: "connected",
  reconnecting: "reconnecting",
  ended: "disconnected",
};

/** The link as words: a device the window does not stream is "not connected". */
export function linkText(live: LiveDevice | undefined): string {
  return live ? LINKS[live.state] : "not connected";
}

/** Battery: the live value, else the last stored one. */
export function batteryText(live: LiveDevice | undefined, row: Pick<DeviceRow, "battery_pct">): string {
  const pct = live?.battery_pct ?? row.battery_pct;
  return pct == null ? "—" : `${pct} %`;
}

/** Signal strength in words, from dBm. */
export function signalText(rssi: number | null | undefined): string {
  if (rssi == null) return "—";
  const words = rssi >= -60 ? "strong" : rssi >= -75 ? "fair" : "weak";
  return `${words} (${rssi} dBm)`;
}

/** A device's live state by its id. */
export function liveById(state: Pick<DevicesState, "live">): Map<string, LiveDevice> {
  return new Map(state.live.map((l) => [l.device_id, l]));
}

/** When the device last sent a value (ms): the live one when newer than the stored one. */
export function lastValueMs(live: LiveDevice | undefined, row: Pick<DeviceRow, "last_seen_ms">): number | null {
  const fromLive = live?.last_value ? Date.parse(live.last_value) : NaN;
  const stored = row.last_seen_ms ?? null;
  if (Number.isNaN(fromLive)) return stored;
  return stored === null ? fromLive : Math.max(fromLive, stored);
}

/** The counts a live device shows: "120 values · 118 stored · 2 held back". */
export function countsText(live: LiveDevice | undefined): string {
  if (!live) return "—";
  const parts = [`${live.values} values`, `${live.stored} stored`];
  if (live.duplicates > 0) parts.push(`${live.duplicates} already stored`);
  if (live.held > 0) parts.push(`${live.held} held back`);
  return parts.join(" · ");
}

/** The names of the devices streaming for `patientId` now (connected to the window). */
export function streamingFor(patientId: string, state: DevicesState): string[] {
  const live = liveById(state);
  return state.devices
    .filter((d) => d.patient_id === patientId && live.get(d.id)?.state === "connected")
    .map(deviceName);
}

/** The indicator on the patient screen: "live: DEMO HR strap", or "" when nothing streams. */
export function liveIndicator(names: readonly string[]): string {
  return names.length === 0 ? "" : `live: ${names.join(", ")}`;
}

/**
 * A throttle for refreshes driven by events: at most one run per `everyMs`; an event inside the
 * interval schedules one run at its end (so the last change is always shown).
 */
export class Throttle {
  private last = -Infinity;
  private pending = false;
  constructor(private readonly everyMs: number) {}

  /** What to do for an event at `now`: run now, run after `delay` ms, or nothing (one is pending). */
  take(now: number): { run: "now" } | { run: "later"; delay: number } | { run: "no" } {
    if (this.pending) return { run: "no" };
    const wait = this.last + this.everyMs - now;
    if (wait <= 0) {
      this.last = now;
      return { run: "now" };
    }
    this.pending = true;
    return { run: "later", delay: wait };
  }

  /** The scheduled run happened at `now`. */
  ran(now: number): void {
    this.pending = false;
    this.last = now;
  }
}

/** A scan's rows in the order shown: strongest signal first, then by address. */
export function nearbyOrder(found: readonly NearbyDevice[]): NearbyDevice[] {
  return [...found].sort((a, b) => (b.rssi ?? -999) - (a.rssi ?? -999) || a.address.localeCompare(b.address));
}
