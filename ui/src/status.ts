// View logic for the store card: pure functions from the generated StoreStatus type to what
// the window shows. Tested by vitest (status.test.ts).
import type { StoreStatus } from "./bindings";

export interface StatusRow {
  /** Stable id used by the end-to-end tests. */
  id: string;
  label: string;
  value: string;
  /** Rows that need the clinician's attention are emphasised. */
  alert?: boolean;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** 1536 -> "1.5 KiB"; whole bytes below 1 KiB. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes) || bytes < 0) return "unknown";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** 36048 -> "36,048": counts read at a glance; "—" for a missing count (NaN travels as null). */
export function formatCount(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "—";
  return Math.trunc(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function statusRows(s: StoreStatus): StatusRow[] {
  return [
    { id: "data-dir", label: "Data directory", value: s.data_dir },
    { id: "store-path", label: "Store file", value: `${s.store_path} (${formatBytes(s.size_bytes)})` },
    {
      id: "encryption",
      label: "Encryption",
      value: s.encrypted ? `On (SQLCipher, 256-bit key in ${s.key_source})` : "OFF: this store is not encrypted",
      alert: !s.encrypted,
    },
    { id: "schema-version", label: "Schema version", value: String(s.schema_version) },
    { id: "patients", label: "Patients", value: formatCount(s.patients) },
    { id: "observations", label: "Observations", value: formatCount(s.observations) },
    { id: "app-version", label: "Vigil version", value: s.app_version },
  ];
}
