import { describe, expect, it } from "vitest";
import type { SyncView } from "../bindings";
import { clockTime, syncLine } from "./sync";

// 2026-11-23 14:05 UTC; the tests read times in UTC+1.
const NOW = Date.UTC(2026, 10, 23, 14, 5);
const CET = 60;

const online: SyncView = {
  enrolled: true,
  clinic_name: "North",
  online: true,
  last_success_ms: Date.UTC(2026, 10, 23, 13, 58),
  offline_since_ms: null,
  last_error: null,
  pending: 3,
  conflicts: 0,
};

describe("clockTime", () => {
  it("is HH:MM today and carries the date on another day", () => {
    expect(clockTime(Date.UTC(2026, 10, 23, 8, 4), NOW, CET)).toBe("09:04");
    expect(clockTime(Date.UTC(2026, 10, 22, 23, 30), NOW, CET)).toBe("00:30");
    expect(clockTime(Date.UTC(2026, 10, 22, 22, 30), NOW, CET)).toBe("2026-11-22 23:30");
  });
});

describe("syncLine", () => {
  it("says when the workstation is not enrolled", () => {
    expect(syncLine({ ...online, enrolled: false, online: false, clinic_name: null, last_success_ms: null }, NOW, CET)).toMatchObject({
      text: "Not enrolled",
      tone: "none",
    });
  });
  it("shows the last sync and what waits while online", () => {
    const line = syncLine(online, NOW, CET);
    expect(line.text).toBe("Online · last sync 14:58 · 3 pending");
    expect(line.tone).toBe("online");
    expect(line.detail).toBe("Clinic: North");
    expect(syncLine({ ...online, last_success_ms: null, pending: 0 }, NOW, CET).text).toBe("Online · not synced yet · 0 pending");
  });
  it("shows since when it is offline, that it retries, and why on hover", () => {
    const offline: SyncView = {
      ...online,
      online: false,
      offline_since_ms: Date.UTC(2026, 10, 23, 12, 58),
      last_error: "the clinic server is unreachable (connection refused)",
      pending: 12,
    };
    const line = syncLine(offline, NOW, CET);
    expect(line.text).toBe("Offline since 13:58 · 12 pending · retrying");
    expect(line.tone).toBe("offline");
    expect(line.detail).toBe("Clinic: North\nLast error: the clinic server is unreachable (connection refused)");
    expect(syncLine({ ...offline, offline_since_ms: null }, NOW, CET).text).toBe("Offline · 12 pending · retrying");
  });
  it("counts the conflicts to review only when there are any", () => {
    expect(syncLine({ ...online, conflicts: 1 }, NOW, CET).text).toBe("Online · last sync 14:58 · 3 pending · 1 conflict to review");
    expect(syncLine({ ...online, online: false, conflicts: 4 }, NOW, CET).text).toMatch(/· retrying · 4 conflicts to review$/);
  });
  it("says when the status cannot be read", () => {
    expect(syncLine(null, NOW)).toEqual({ text: "Sync status not available", tone: "unknown", detail: "" });
  });
});
