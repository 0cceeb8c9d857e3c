// Read-model builders for the tests: a valid value with the fields a test cares about.
import type { AlertView, ConsentView, DeviceRow, ImportProgressView, ImportReportView, LiveDevice, ModelEventView, PackageRowView, WorklistRow } from "../bindings";

export function row(over: Partial<WorklistRow> & { name: string }): WorklistRow {
  return {
    patient_id: `id-${over.name}`,
    mrn: "MRN-0",
    latest: [],
    news2: null,
    risk_score: 0,
    risk_level: "low",
    event: null,
    top_finding: null,
    open_alerts: 0,
    last_data_ms: null,
    needs_review: [],
    assessed: "now",
    ...over,
  };
}

export function alert(over: Partial<AlertView> & { id: string }): AlertView {
  return {
    patient_id: "p1",
    mrn: "DEMO-0001",
    name: "Ada Example",
    event: "hypoxia",
    risk_level: "high",
    risk_score: 0.7,
    confidence: 0.8,
    status: "new",
    created_ms: 1_000,
    event_ms: 900,
    evidence: [],
    recommendations: [],
    acknowledged: null,
    resolved: null,
    ...over,
  };
}

export function progress(over: Partial<ImportProgressView>): ImportProgressView {
  return { file_index: 0, files: 1, file: "a.csv", bytes_read: 0, bytes_total: 0, records: 0, ...over };
}

export function report(over: Partial<ImportReportView>): ImportReportView {
  return {
    file: "/data/a.csv",
    format: "csv",
    accepted: 0,
    duplicates: 0,
    added: 0,
    rejected_total: 0,
    rejected: [],
    by_kind: [],
    patients_created: 0,
    error: null,
    alerts: [],
    ...over,
  };
}

export function pkg(over: Partial<PackageRowView> & { version: string; state: string }): PackageRowView {
  return {
    name: "early-warning-gbt",
    agent: "early_warning",
    demonstration: true,
    signer: "vigil-demo",
    installed_ms: 0,
    installed_by: "root",
    ...over,
  };
}

export function event(over: Partial<ModelEventView>): ModelEventView {
  return { at_ms: 0, agent: "early_warning", kind: "promoted", name: "early-warning-gbt", version: "1.0.0", automatic: false, reason: "", actor: "nurse", ...over };
}

export function consent(over: Partial<ConsentView>): ConsentView {
  return {
    monitoring: false,
    clinic_sync: false,
    research: false,
    version: 1,
    changed_at_ms: 1_000,
    changed_by: "os:nurse",
    ...over,
  };
}

export function device(over: Partial<DeviceRow> & { id: string }): DeviceRow {
  return {
    kind: "heart_rate_monitor",
    name: null,
    make: "Vigil DEMO",
    model: "HR replay",
    address: "02:56:49:47:49:4C",
    patient_id: null,
    battery_pct: null,
    last_seen_ms: null,
    firmware: null,
    ...over,
  };
}

export function live(over: Partial<LiveDevice> & { device_id: string }): LiveDevice {
  return { state: "connected", battery_pct: null, last_value: null, values: 0, stored: 0, duplicates: 0, held: 0, problem: null, ...over };
}
