import { describe, expect, it } from "vitest";
import type { AuditEntryView } from "../bindings";
import { auditTime, filterAudit, notable } from "./audit";

const row = (actor: string, action: string, patient_id: string | null = null): AuditEntryView => ({ at_ms: 0, at: "", actor, action, patient_id });

describe("audit trail", () => {
  const rows = [row("user:ada", "patient.read", "0193-ab"), row("user:it", "access.denied"), row("system:monitor", "monitor.pass")];
  it("filters on every word, in actor, action and patient id", () => {
    expect(filterAudit(rows, "")).toHaveLength(3);
    expect(filterAudit(rows, "ADA read")).toEqual([rows[0]]);
    expect(filterAudit(rows, "0193")).toEqual([rows[0]]);
    expect(filterAudit(rows, "denied it")).toEqual([rows[1]]);
    expect(filterAudit(rows, "nobody")).toEqual([]);
  });
  it("marks refusals, failed sign-ins, lockouts and broken glass", () => {
    expect(notable("access.denied")).toBe(true);
    expect(notable("session.login_failed")).toBe(true);
    expect(notable("user.lockout")).toBe(true);
    expect(notable("patient.break_glass")).toBe(true);
    expect(notable("patient.read")).toBe(false);
  });
  it("shows the second", () => {
    expect(auditTime(null)).toBe("—");
    expect(auditTime(Date.UTC(2026, 2, 1, 8, 5, 9))).toMatch(/^2026-03-0[12] \d\d:05:09$/);
  });
});
