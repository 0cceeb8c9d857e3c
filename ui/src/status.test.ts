import { describe, expect, it } from "vitest";
import type { StoreStatus } from "./bindings";
import { formatBytes, formatCount, statusRows } from "./status";

const status: StoreStatus = {
  data_dir: "/var/lib/vigil",
  store_path: "/var/lib/vigil/vigil.db",
  schema_version: 3,
  encrypted: true,
  key_source: "key file /etc/vigil/vigil.key",
  patients: 8,
  observations: 36048,
  demo: true,
  purpose: "demo",
  size_bytes: 6_186_598,
  store_id: "01a206ff-9e9d-71a1-a9ea-cd9315c372c0",
  app_version: "0.1.0",
};

describe("formatBytes", () => {
  it("keeps bytes whole and scales by 1024", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(6_186_598)).toBe("5.9 MiB");
  });
  it("says unknown for nonsense", () => {
    expect(formatBytes(-1)).toBe("unknown");
    expect(formatBytes(Number.NaN)).toBe("unknown");
  });
});

describe("formatCount", () => {
  it("groups thousands", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(36048)).toBe("36,048");
    expect(formatCount(1_000_000)).toBe("1,000,000");
  });
  it("marks a count that travelled as null (NaN)", () => {
    expect(formatCount(null)).toBe("—");
    expect(formatBytes(null)).toBe("unknown");
  });
});

describe("statusRows", () => {
  it("shows every fact of the store in order", () => {
    const rows = statusRows(status);
    expect(rows.map((r) => r.id)).toEqual([
      "data-dir",
      "store-path",
      "encryption",
      "schema-version",
      "patients",
      "observations",
      "app-version",
    ]);
    expect(rows.find((r) => r.id === "observations")?.value).toBe("36,048");
    expect(rows.find((r) => r.id === "store-path")?.value).toBe("/var/lib/vigil/vigil.db (5.9 MiB)");
  });
  it("flags an unencrypted store", () => {
    const enc = statusRows({ ...status, encrypted: false }).find((r) => r.id === "encryption");
    expect(enc?.alert).toBe(true);
    expect(enc?.value).toMatch(/^OFF/);
    expect(statusRows(status).find((r) => r.id === "encryption")?.alert).toBe(false);
  });
});
